//! Setting up a connection: the sender's and receiver's initial state from the ISN and
//! the peer's SYN, the handshake's completion, SendQ's first size, and the options a
//! listener's new connection inherits.

use crate::socket::{seq_lt, Socket};
use crate::tcp::congestion::{rtt_sample, update_pacing_rate};
use crate::tcp::context::Cx;
use crate::tcp::linux::*;
use crate::tcp::timers::{arm_timer, cancel_timer};
use crate::tcp::window::{init_buffer_space, win_from_space};
use crate::time::ms_to_us;
use crate::trace::{Proto, TimerKind};
use crate::wire::Wire;

/// Sets up the sending side for a new connection with initial sequence number `iss`.
pub(crate) fn init_sender(s: &mut Socket, cx: &mut Cx<'_>, iss: u32, mtu: u32) {
    let tcp = cx.tcp.clone();
    let mut adv_mss = tcp.mss.map_or_else(|| mtu.min(65_535) - 40, u32::from);
    // tcp_advertise_mss(), tcp_mss_clamp(): TCP_MAXSEG lowers what the SYN announces.
    if s.user_mss != 0 {
        adv_mss = adv_mss.min(u32::from(s.user_mss));
    }
    let (rcvbuf, rcvbuf_locked) = (s.rcvbuf, s.rcvbuf_locked);
    let tcb = &mut s.tcb;
    tcb.iss = iss;
    tcb.snd_una = iss;
    tcb.snd_nxt = iss.wrapping_add(1);
    tcb.snd_max = tcb.snd_nxt;
    tcb.write_seq = tcb.snd_nxt;
    tcb.snd_sml = iss;
    tcb.pushed_seq = iss.wrapping_add(1);
    tcb.adv_mss = adv_mss as u16;
    tcb.rcv_wscale = match (tcp.window_scaling, rcvbuf_locked) {
        (false, _) => 0,
        (true, false) => tcp.wscale,
        // With SO_RCVBUF set, Linux clamps the window to the buffer's share, tcp_full_space()
        // (half of it on a fresh socket), and picks the smallest shift that covers that:
        // ilog2(clamp) - 15, at most the shift its tcp_rmem[2] gives (tcp_connect_init(),
        // tcp_openreq_init_rwin(), tcp_select_initial_window()).
        (true, true) => {
            let full = win_from_space(tcb.scaling_ratio, i64::from(rcvbuf)).max(1) as u32;
            (full.ilog2().saturating_sub(15).min(TCP_MAX_WSCALE) as u8).min(tcp.wscale)
        }
    };
    tcb.rto_us = ms_to_us(tcp.rto_initial_ms);
    tcb.ssthresh = u32::MAX;
}

/// Takes the peer's SYN: its sequence number and options (RFC 793 3.4, RFC 7323).
pub(crate) fn init_receiver(s: &mut Socket, cx: &mut Cx<'_>, syn: &Wire, mtu: u32) {
    let tcp = cx.tcp.clone();
    let now = cx.now;
    let tcb = &mut s.tcb;
    tcb.irs = syn.seq;
    tcb.rcv_nxt = syn.seq.wrapping_add(1);
    tcb.rcv_wup = tcb.rcv_nxt;
    match syn.options.wscale {
        Some(shift) if tcp.window_scaling => tcb.snd_wscale = shift.min(14),
        _ => {
            tcb.snd_wscale = 0;
            tcb.rcv_wscale = 0;
        }
    }
    tcb.timestamps = tcp.timestamps && syn.options.ts.is_some();
    tcb.sack_ok = tcp.sack && syn.options.sack_ok;
    if let Some((value, _)) = syn.options.ts {
        tcb.ts_recent = value;
    }
    let mut peer_mss = syn.options.mss.map_or(TCP_MSS_DEFAULT, u32::from);
    // tcp_parse_options(): TCP_MAXSEG also caps the MSS taken from the peer.
    if s.user_mss != 0 {
        peer_mss = peer_mss.min(u32::from(s.user_mss));
    }
    tcb.mss_clamp = peer_mss;
    let path_mss = mtu.min(65_535) - 40;
    let overhead = if tcb.timestamps { TIMESTAMPS_LEN } else { 0 };
    tcb.mss = peer_mss.min(path_mss).saturating_sub(overhead).max(1);
    tcb.snd_wnd = u32::from(syn.win);
    // The window of a SYN is never scaled; it is the first `max_window`
    // (tcp_rcv_synsent_state_process(), tcp_create_openreq_child()).
    tcb.max_window = tcb.snd_wnd;
    tcb.snd_wl1 = syn.seq;
    tcb.snd_wl2 = syn.ack;
    tcb.cwnd = tcp.initial_cwnd.saturating_mul(tcb.mss);
    tcb.last_heard_at = now;
}

/// Our SYN is acknowledged: take an RTT sample (Karn: only if it was never resent).
pub(crate) fn handshake_acked(s: &mut Socket, cx: &mut Cx<'_>, wire: &Wire) {
    let now = cx.now;
    let tcp = cx.tcp.clone();
    let tcb = &mut s.tcb;
    tcb.snd_una = tcb.iss.wrapping_add(1);
    if seq_lt(tcb.snd_nxt, tcb.snd_una) {
        tcb.snd_nxt = tcb.snd_una;
    }
    if !wire.flags.syn {
        tcb.snd_wnd = u32::from(wire.win) << tcb.snd_wscale;
        tcb.max_window = tcb.max_window.max(tcb.snd_wnd);
        tcb.snd_wl1 = wire.seq;
        tcb.snd_wl2 = wire.ack;
    }
    if let Some((_, sent)) = tcb.rtt_probe.take() {
        if tcb.retransmits == 0 {
            rtt_sample(tcb, now - sent, &tcp);
        }
    }
    tcb.retransmits = 0;
    // The handshake's ACK sets the first pacing rate: tcp_ack() -> tcp_cong_control()
    // for an active open, tcp_rcv_state_process() after tcp_synack_rtt_meas() for a
    // passive one.
    update_pacing_rate(tcb);
    cancel_timer(s, cx, TimerKind::Retransmit);
    init_buffer_space(s);
    // tcp_init_buffer_space() sizes SendQ for the new connection.
    sndbuf_expand(s, cx);
}

/// Linux grows SendQ as a connection is established and as its congestion window grows
/// (`tcp_sndbuf_expand()`): room for `factor` windows of at least ten segments, each
/// costing a power-of-two buffer plus its `sk_buff`, up to `tcp_wmem[2]` — unless the
/// program fixed SO_SNDBUF. The factor is the congestion-control module's
/// (`bbr_sndbuf_expand()` asks for 3, the default for others is 2).
pub(crate) fn sndbuf_expand(s: &mut Socket, cx: &mut Cx<'_>) {
    let tcp = cx.tcp;
    let (factor, limit) = (if tcp.congestion_control == "bbr" { 3 } else { 2 }, tcp.wmem_max);
    let socket = &mut *s;
    if socket.sndbuf_locked || socket.proto != Proto::Tcp {
        return;
    }
    let tcb = &socket.tcb;
    // MAX_TCP_HEADER and the aligned skb_shared_info are 320 bytes each on x86-64, and
    // an sk_buff takes 256 (SKB_DATA_ALIGN(sizeof(struct sk_buff))).
    let per_mss = u64::from(tcb.mss_clamp.max(tcb.mss) + 320 + 320).next_power_of_two() + 256;
    let segments = u64::from((tcb.cwnd / tcb.mss.max(1)).max(10));
    let wanted = (factor * segments * per_mss).min(u64::from(limit)) as u32;
    if wanted > socket.sndbuf {
        socket.sndbuf = wanted;
        cx.queues_changed(s);
    }
}

pub(crate) fn start_keepalive(s: &mut Socket, cx: &mut Cx<'_>) {
    if s.keepalive {
        let idle = ms_to_us(cx.tcp.keepalive_time_ms);
        arm_timer(s, cx, TimerKind::Keepalive, cx.now + idle);
    }
}

/// Socket options a listener's new connections inherit (TLPI 61.11).
pub(crate) struct InheritedOptions {
    reuseaddr: bool,
    reuseport: bool,
    rcvbuf_locked: bool,
    sndbuf_locked: bool,
    linger: Option<u32>,
    nodelay: bool,
    cork: bool,
    inq: bool,
    user_mss: u16,
    user_timeout_ms: u32,
    keepalive: bool,
    sndbuf: u32,
    rcvbuf: u32,
}

impl crate::socket::Socket {
    pub(crate) fn clone_options(&self) -> InheritedOptions {
        InheritedOptions {
            reuseaddr: self.reuseaddr,
            reuseport: self.reuseport,
            rcvbuf_locked: self.rcvbuf_locked,
            sndbuf_locked: self.sndbuf_locked,
            linger: self.linger,
            nodelay: self.nodelay,
            cork: self.cork,
            inq: self.inq,
            user_mss: self.user_mss,
            user_timeout_ms: self.user_timeout_ms,
            keepalive: self.keepalive,
            sndbuf: self.sndbuf,
            rcvbuf: self.rcvbuf,
        }
    }
}

impl InheritedOptions {
    pub(crate) fn apply_to(&self, socket: &mut crate::socket::Socket) {
        socket.reuseaddr = self.reuseaddr;
        socket.reuseport = self.reuseport;
        socket.rcvbuf_locked = self.rcvbuf_locked;
        socket.sndbuf_locked = self.sndbuf_locked;
        socket.linger = self.linger;
        socket.nodelay = self.nodelay;
        socket.cork = self.cork;
        socket.inq = self.inq;
        socket.user_mss = self.user_mss;
        socket.user_timeout_ms = self.user_timeout_ms;
        socket.keepalive = self.keepalive;
        socket.sndbuf = self.sndbuf;
        socket.rcvbuf = self.rcvbuf;
    }
}
