//! Building and sending one segment: SYNs and their options, ACKs, RSTs and probes, and
//! the fields every segment takes from the socket as it leaves (window, timestamps, ACK).

use std::collections::VecDeque;

use crate::socket::Socket;
use crate::tcp::congestion::ts_clock;
use crate::tcp::context::Cx;
use crate::tcp::timers::cancel_timer;
pub(crate) use crate::tcp::window::SynKind;
use crate::tcp::window::{select_window, syn_window};
use crate::trace::{Flags, Proto, TcpOptions, TimerKind};
use crate::wire::Wire;

/// Whether a segment is sent for the first time or again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transmission {
    First,
    Retransmission,
}

/// `len` bytes of a queue from `start`, copied slice by slice rather than byte by byte.
pub(crate) fn copy_range(queue: &VecDeque<u8>, start: usize, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    append_range(queue, start, len, &mut out);
    out
}

/// Appends `len` bytes of a queue from `start` to `out`.
pub(crate) fn append_range(queue: &VecDeque<u8>, start: usize, len: usize, out: &mut Vec<u8>) {
    let (front, back) = queue.as_slices();
    if start < front.len() {
        let end = (start + len).min(front.len());
        out.extend_from_slice(&front[start..end]);
        out.extend_from_slice(&back[..len - (end - start)]);
    } else {
        let start = start - front.len();
        out.extend_from_slice(&back[start..start + len]);
    }
}

/// A data or FIN segment built by `write_xmit()`, waiting for the rest of its TSO packet.
pub(crate) struct Outgoing {
    pub flags: Flags,
    pub seq: u32,
    pub payload: Vec<u8>,
    pub transmission: Transmission,
    pub why: Option<&'static str>,
}

impl Outgoing {
    /// Where it ends in sequence space, a FIN counting one.
    pub fn end(&self) -> u32 {
        self.seq.wrapping_add(self.payload.len() as u32).wrapping_add(u32::from(self.flags.fin))
    }
}

pub(crate) fn syn_options(s: &Socket, cx: &Cx<'_>, kind: SynKind) -> TcpOptions {
    let tcp = cx.tcp;
    let tcb = &s.tcb;
    let answering = kind == SynKind::SynAck;
    // On a SYN+ACK only what the peer offered is echoed back.
    let scaling = tcp.window_scaling && (!answering || tcb.snd_wscale > 0 || tcb.rcv_wscale > 0);
    TcpOptions {
        mss: Some(tcb.adv_mss),
        sack_ok: if answering { tcb.sack_ok } else { tcp.sack },
        ts: None,
        wscale: scaling.then_some(tcb.rcv_wscale),
    }
}

/// Sends (or resends) our SYN or our SYN+ACK.
pub(crate) fn send_syn(s: &mut Socket, cx: &mut Cx<'_>, kind: SynKind, transmission: Transmission) {
    let mut options = syn_options(s, cx, kind);
    if kind == SynKind::SynAck && s.tcb.rcv_wscale == 0 && s.tcb.snd_wscale == 0 {
        options.wscale = None;
    }
    let flags = match kind {
        SynKind::Syn => Flags::SYN,
        SynKind::SynAck => Flags::SYN_ACK,
    };
    let seq = s.tcb.iss;
    if transmission == Transmission::First {
        s.tcb.rtt_probe = Some((seq.wrapping_add(1), cx.now));
    }
    let segment = Outgoing { flags, seq, payload: Vec::new(), transmission, why: None };
    send_outgoing(s, cx, segment, options);
}

/// An empty segment with these flags at `seq`, sent for the first time.
pub(crate) fn send_empty(s: &mut Socket, cx: &mut Cx<'_>, flags: Flags, seq: u32) {
    let segment = Outgoing { flags, seq, payload: Vec::new(), transmission: Transmission::First, why: None };
    send_outgoing(s, cx, segment, TcpOptions::default());
}

/// Transmits `segment` with `options` (the timestamp is added here); its `why` goes into
/// the trace. Every ACK we send settles the ACK we owed (`tcp_event_ack_sent()`).
pub(crate) fn send_outgoing(s: &mut Socket, cx: &mut Cx<'_>, segment: Outgoing, mut options: TcpOptions) {
    let Outgoing { flags, seq, payload, transmission, why } = segment;
    let win = if flags.syn {
        let kind = if flags.ack { SynKind::SynAck } else { SynKind::Syn };
        syn_window(s, cx, kind)
    } else {
        select_window(s)
    };
    let offer_ts = flags.syn && !flags.ack && cx.tcp.timestamps;
    let socket = &mut *s;
    let tcb = &mut socket.tcb;
    if tcb.timestamps || offer_ts {
        let echo = if flags.ack { tcb.ts_recent } else { 0 };
        options.ts = Some((ts_clock(cx.now, cx.host_addr), echo));
    }
    let ack = if flags.ack { tcb.rcv_nxt } else { 0 };
    // A D-SACK block rides on the next ACK only (tcp_dsack_set(), cleared once sent).
    let dsack = flags.ack && std::mem::take(&mut tcb.dsack_pending);
    if flags.ack {
        // tcp_event_ack_sent(): the delayed-ACK state is cleared (icsk_ack.pending = 0).
        tcb.ack_pending = false;
        tcb.ack_pushed = 0;
        tcb.quick = tcb.quick.saturating_sub(1);
    }
    let mut wire = Wire::bare(Proto::Tcp, socket.local.unwrap_or_default(), socket.peer.unwrap_or_default(), flags);
    wire.header_mut().seq = seq;
    wire.header_mut().ack = ack;
    wire.header_mut().win = win;
    wire.set_payload(payload);
    wire.header_mut().options = options;
    wire.retransmission = transmission == Transmission::Retransmission;
    wire.isn = Some(tcb.iss);
    wire.why = why;
    wire.dsack = dsack;
    if flags.ack {
        cancel_timer(s, cx, TimerKind::DelayedAck);
    }
    cx.transmit(wire);
}

pub(crate) fn send_ack(s: &mut Socket, cx: &mut Cx<'_>) {
    // As for an RST: the highest sequence number sent, which is Linux's snd_nxt (ours
    // moves back after a timeout), so the peer finds the ACK acceptable.
    let seq = s.tcb.snd_max;
    send_empty(s, cx, Flags::ACK, seq);
}

/// An abortive RST from a connection (tcp_send_active_reset()).
pub(crate) fn send_rst(s: &mut Socket, cx: &mut Cx<'_>) {
    // Linux's snd_nxt never moves back on a timeout; ours does (go-back-N), so the
    // highest sequence number sent is the one Linux would use (tcp_acceptable_seq()).
    let seq = s.tcb.snd_max;
    send_empty(s, cx, Flags::RST_ACK, seq);
}

/// A probe with an old sequence number: the peer must answer with an ACK that shows its
/// window (zero-window probe) or that it is alive (keepalive).
pub(crate) fn send_probe(s: &mut Socket, cx: &mut Cx<'_>) {
    let seq = s.tcb.snd_una.wrapping_sub(1);
    send_empty(s, cx, Flags::ACK, seq);
}

/// The RST that answers a segment belonging to no connection (tcp_v4_send_reset(), RFC 793
/// 3.4); none for an RST.
pub(crate) fn reset_for(to: &Wire) -> Option<Wire> {
    if to.flags.rst {
        return None;
    }
    let (flags, seq, ack) =
        if to.flags.ack { (Flags::RST, to.ack, 0) } else { (Flags::RST_ACK, 0, to.seq.wrapping_add(to.seq_len())) };
    let mut wire = Wire::bare(Proto::Tcp, to.to, to.from, flags);
    wire.header_mut().seq = seq;
    wire.header_mut().ack = ack;
    Some(wire)
}

/// Answers a segment that this socket cannot take with the RST a closed port would send.
pub(crate) fn reply_rst(cx: &mut Cx<'_>, to: &Wire) {
    if let Some(reset) = reset_for(to) {
        cx.transmit(reset);
    }
}
