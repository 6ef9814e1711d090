//! The numbers a segment shows: one numbering for every view.
//!
//! tcpdump, the sequence diagram and the narration all print a segment's sequence and
//! acknowledgement numbers and its window. They take them from one [`SegmentNumbers`], so a
//! segment reads the same everywhere: either as `tcpdump -n` prints it (the handshake's initial
//! sequence numbers in full, every later number relative to them) or as `tcpdump -n -S` prints
//! it (every number absolute). The window is the header's field scaled by the shift the sender
//! announced on its SYN, when both SYNs carried the window scale option (RFC 7323 2.3).

use crate::addr::SockAddr;
use crate::trace::{Fate, Proto, Segment};
use crate::vecmap::VecMap;

/// How sequence and acknowledgement numbers are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Numbering {
    /// As tcpdump prints them by default: the SYNs' numbers in full, and from the first
    /// segment that carries an ACK on, each number less that direction's initial sequence
    /// number, so that the first data byte is 1 (print-tcp.c).
    #[default]
    Relative,
    /// As `tcpdump -S` prints them: the numbers carried in the header.
    Absolute,
}

impl Numbering {
    /// The tcpdump command whose output uses this numbering.
    pub fn tcpdump_command(self) -> &'static str {
        match self {
            Numbering::Relative => "tcpdump -n",
            Numbering::Absolute => "tcpdump -n -S",
        }
    }
}

/// What every view prints for one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown {
    pub seq: u32,
    pub ack: u32,
    /// The window field as carried in the header (tcpdump's `win`).
    pub win: u16,
    /// The shift the receiver applies to `win`: the sender's window scale once both SYNs
    /// offered the option, 0 on a SYN (whose window is never scaled) or without scaling.
    pub window_shift: u8,
}

impl Shown {
    /// The window in bytes: `win << window_shift`.
    pub fn window_bytes(&self) -> u32 {
        u32::from(self.win) << self.window_shift.min(14)
    }
}

/// Follows the segments of a trace in order and gives each the numbers every view prints.
///
/// Feed it every segment event (sent, delivered or dropped) in trace order. A segment's
/// delivery and loss show the numbers its sending showed, even when a new connection on the
/// same addresses has changed the reference numbers meanwhile.
#[derive(Clone, Debug, Default)]
pub struct SegmentNumbers {
    numbering: Numbering,
    /// tcpdump's table of conversations, keyed by the lower address first: the initial
    /// sequence numbers of the lower address's direction and of the other direction.
    conversations: VecMap<(SockAddr, SockAddr), (u32, u32)>,
    /// The window scale each direction's latest SYN offered (`None`: no option).
    syn_wscale: VecMap<(SockAddr, SockAddr), Option<u8>>,
    /// The numbers shown when each segment was sent, by segment id. Kept after a delivery,
    /// because a duplicated segment is delivered twice.
    sent: VecMap<u64, Shown>,
}

impl SegmentNumbers {
    pub fn new(numbering: Numbering) -> SegmentNumbers {
        SegmentNumbers { numbering, ..SegmentNumbers::default() }
    }

    pub fn numbering(&self) -> Numbering {
        self.numbering
    }

    /// The numbers of a segment event; `sent` events also update the reference numbers.
    pub fn shown(&mut self, segment: &Segment) -> Shown {
        if segment.fate != Fate::Sent {
            // A segment whose sending the trace does not hold (a hand-edited trace) is shown
            // with the reference numbers of now.
            return self.sent.get(&segment.id).copied().unwrap_or_else(|| self.numbers(segment));
        }
        if segment.proto == Proto::Tcp && segment.flags.syn {
            self.syn_wscale.insert((segment.from, segment.to), segment.options.wscale);
        }
        let shown = self.numbers_updating(segment);
        self.sent.insert(segment.id, shown);
        shown
    }

    /// The numbers tcpdump prints for a segment on the wire, remembering its conversation the
    /// way print-tcp.c does: from the first segment with an ACK, and again at every SYN+ACK.
    fn numbers_updating(&mut self, segment: &Segment) -> Shown {
        let window_shift = self.window_shift(segment);
        let (mut seq, mut ack) = (segment.seq, segment.ack);
        if segment.proto == Proto::Tcp && segment.flags.ack {
            let reverse = segment.from > segment.to;
            let key = if reverse { (segment.to, segment.from) } else { (segment.from, segment.to) };
            match self.conversations.get(&key) {
                Some(&(lower_isn, upper_isn)) if !segment.flags.syn => {
                    if self.numbering == Numbering::Relative {
                        let (own, peer) = if reverse { (upper_isn, lower_isn) } else { (lower_isn, upper_isn) };
                        seq = seq.wrapping_sub(own);
                        ack = ack.wrapping_sub(peer);
                    }
                }
                _ => {
                    let entry = if reverse { (ack.wrapping_sub(1), seq) } else { (seq, ack.wrapping_sub(1)) };
                    self.conversations.insert(key, entry);
                }
            }
        }
        Shown { seq, ack, win: segment.win, window_shift }
    }

    /// The numbers of a segment with the reference numbers of now, changing nothing.
    fn numbers(&self, segment: &Segment) -> Shown {
        let mut scratch = SegmentNumbers {
            numbering: self.numbering,
            conversations: self.conversations.clone(),
            syn_wscale: self.syn_wscale.clone(),
            sent: VecMap::new(),
        };
        scratch.numbers_updating(segment)
    }

    fn window_shift(&self, segment: &Segment) -> u8 {
        if segment.proto != Proto::Tcp || segment.flags.syn {
            return 0;
        }
        match (self.syn_wscale.get(&(segment.from, segment.to)), self.syn_wscale.get(&(segment.to, segment.from))) {
            (Some(Some(shift)), Some(Some(_))) => *shift,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Flags, SegmentHeader, TcpOptions};

    fn segment(id: u64, from: &str, to: &str, flags: &str, seq: u32, ack: u32) -> Segment {
        Segment {
            id,
            fate: Fate::Sent,
            header: SegmentHeader {
                proto: Proto::Tcp,
                from: from.parse().expect("an address"),
                to: to.parse().expect("an address"),
                flags: Flags::parse_letters(flags).expect("tcpdump letters"),
                seq,
                ack,
                win: 502,
                len: 0,
                options: TcpOptions::default(),
            },
            reason: None,
            retransmission: false,
        }
    }

    #[test]
    fn relative_numbers_start_after_the_syn_and_ack() {
        let (client, server) = ("10.0.0.1:45678", "10.0.0.2:9877");
        let mut syn = segment(1, client, server, "S", 1000, 0);
        syn.header.options.wscale = Some(7);
        let mut syn_ack = segment(2, server, client, "S.", 5000, 1001);
        syn_ack.header.options.wscale = Some(7);
        let ack = segment(3, client, server, ".", 1001, 5001);
        let mut relative = SegmentNumbers::new(Numbering::Relative);
        let mut absolute = SegmentNumbers::new(Numbering::Absolute);
        let numbers = |numbers: &mut SegmentNumbers| {
            [&syn, &syn_ack, &ack].map(|segment| {
                let shown = numbers.shown(segment);
                (shown.seq, shown.ack, shown.window_bytes())
            })
        };
        assert_eq!(numbers(&mut relative), [(1000, 0, 502), (5000, 1001, 502), (1, 1, 502 * 128)]);
        assert_eq!(numbers(&mut absolute), [(1000, 0, 502), (5000, 1001, 502), (1001, 5001, 502 * 128)]);
    }

    #[test]
    fn a_delivery_repeats_what_the_sending_showed() {
        let (client, server) = ("10.0.0.1:45678", "10.0.0.2:9877");
        let mut numbers = SegmentNumbers::new(Numbering::Relative);
        numbers.shown(&segment(1, server, client, "S.", 5000, 1001));
        let data = segment(2, client, server, "P.", 1001, 5001);
        assert_eq!(numbers.shown(&data).seq, 1);
        // A new connection on the same addresses starts a new conversation before the
        // old segment arrives.
        numbers.shown(&segment(3, server, client, "S.", 9000, 7001));
        let delivered = Segment { fate: Fate::Delivered, ..data };
        assert_eq!(numbers.shown(&delivered).seq, 1);
    }

    #[test]
    fn without_scaling_on_both_syns_the_window_is_the_field() {
        let (client, server) = ("10.0.0.1:45678", "10.0.0.2:9877");
        let mut numbers = SegmentNumbers::new(Numbering::Relative);
        let mut syn = segment(1, client, server, "S", 1000, 0);
        syn.header.options.wscale = Some(7);
        numbers.shown(&syn);
        numbers.shown(&segment(2, server, client, "S.", 5000, 1001));
        let shown = numbers.shown(&segment(3, client, server, ".", 1001, 5001));
        assert_eq!((shown.window_shift, shown.window_bytes()), (0, 502));
    }
}
