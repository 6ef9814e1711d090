//! A segment as it crosses the simulated network, between the sender's TCP (or UDP) and the
//! receiver's.

use crate::addr::SockAddr;
use crate::trace::{Flags, Proto, TcpOptions};

/// A segment on the wire.
#[derive(Clone, Debug)]
pub(crate) struct Wire {
    pub id: u64,
    pub proto: Proto,
    pub from: SockAddr,
    pub to: SockAddr,
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub payload: Vec<u8>,
    pub options: TcpOptions,
    pub retransmission: bool,
    /// The sender's initial sequence number, so faults can name relative sequence numbers.
    pub isn: Option<u32>,
    /// Why the segment was sent, when that is not the ordinary flow of data (a tail loss
    /// probe); the trace shows it as the sent segment's `reason`.
    pub why: Option<&'static str>,
    /// The ACK reports a duplicate segment in a D-SACK block (RFC 2883). SACK blocks are not
    /// drawn in the trace; the sender only uses this to end a tail loss probe episode.
    pub dsack: bool,
}

impl Wire {
    /// A segment with no payload, options or history, to be filled in by the sender.
    pub fn bare(proto: Proto, from: SockAddr, to: SockAddr, flags: Flags) -> Wire {
        Wire {
            id: 0,
            proto,
            from,
            to,
            flags,
            seq: 0,
            ack: 0,
            win: 0,
            payload: Vec::new(),
            options: TcpOptions::default(),
            retransmission: false,
            isn: None,
            why: None,
            dsack: false,
        }
    }

    /// Sequence space the segment occupies: payload plus one for SYN and one for FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload.len() as u32 + u32::from(self.flags.syn) + u32::from(self.flags.fin)
    }

    /// The segment as the trace shows it, with its fate.
    pub fn traced(&self, fate: crate::trace::Fate, reason: Option<String>) -> crate::trace::Segment {
        crate::trace::Segment {
            id: self.id,
            fate,
            proto: self.proto,
            from: self.from,
            to: self.to,
            flags: self.flags,
            seq: self.seq,
            ack: self.ack,
            win: self.win,
            len: self.payload.len() as u32,
            options: self.options,
            reason,
            retransmission: self.retransmission,
        }
    }
}
