//! Windows: the one we offer (Linux 6.x's memory-based `tcp_select_window()`), the SYN's,
//! the receiver's MSS estimate that bounds it, and the sender's view of the peer's window
//! (`tcp_bound_to_half_wnd()`, segment and skb sizes).
//!
//! A window is buffer memory turned into payload bytes by a per-socket `scaling_ratio`
//! (`tcp_win_from_space()`), starting at 50% and re-measured as len/truesize when a segment
//! larger than the receiver's MSS estimate arrives (`tcp_measure_rcv_mss()`). What this
//! leaves out is in docs/fidelity.md.

use crate::socket::{seq_le, Socket, SKB_OVERHEAD};
use crate::tcp::context::Cx;
use crate::tcp::linux::*;

/// Which of the handshake's two SYNs a socket sends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SynKind {
    /// Our own SYN (an active open).
    Syn,
    /// The SYN+ACK that answers the peer's SYN.
    SynAck,
}

/// Payload bytes that `space` bytes of buffer memory hold at `ratio` 256ths
/// (`__tcp_win_from_space()`); negative space gives a negative window.
pub(crate) fn win_from_space(ratio: u32, space: i64) -> i64 {
    (space * i64::from(ratio)) >> TCP_RMEM_TO_WIN_SCALE
}

/// `tcp_bound_to_half_wnd()`: once the peer has offered more than `TCP_MSS_DEFAULT` bytes,
/// no segment is larger than half of the largest window it offered (smaller peers get
/// segments up to their whole window), but never below 68 bytes minus the TCP header.
pub(crate) fn bound_to_half_window(max_window: u32, size: u32, timestamps: bool) -> u32 {
    let cutoff = if max_window > TCP_MSS_DEFAULT { max_window / 2 } else { max_window };
    if cutoff > 0 && size > cutoff {
        let header = if timestamps { 20 + TIMESTAMPS_LEN } else { 20 };
        cutoff.max(68 - header)
    } else {
        size
    }
}

impl crate::socket::Tcb {
    /// Bytes written by the application and not yet sent (negative once a FIN has been sent
    /// past them, as the FIN takes a sequence number).
    pub(crate) fn unsent(&self) -> i32 {
        self.write_seq.wrapping_sub(self.snd_nxt) as i32
    }

    /// Whether a FIN is queued and not yet sent.
    pub(crate) fn fin_unsent(&self) -> bool {
        self.fin_queued && seq_le(self.snd_nxt, self.write_seq)
    }

    /// The segment size the sender uses now (`tcp_current_mss()`): the MSS, bounded by half
    /// the peer's largest window.
    pub(crate) fn mss_now(&self) -> u32 {
        bound_to_half_window(self.max_window, self.mss, self.timestamps)
    }

    /// How much one send buffer (skb) holds (`tcp_xmit_size_goal()`): as many whole segments
    /// as fit in a 64 KB GSO packet and in half of the peer's largest window.
    pub(crate) fn size_goal(&self) -> u32 {
        let mss_now = self.mss_now().max(1);
        let limit = bound_to_half_window(self.max_window, SK_GSO_MAX_SIZE, self.timestamps);
        (limit / mss_now).max(1) * mss_now
    }
}

/// The window we advertise on a SYN: never scaled (RFC 7323 2.2). It is chosen once, by
/// the first SYN or SYN+ACK, and repeated on retransmissions.
pub(crate) fn syn_window(s: &mut Socket, cx: &Cx<'_>, kind: SynKind) -> u16 {
    if s.tcb.window_clamp == 0 {
        choose_initial_window(s, cx, kind);
    }
    let tcb = &mut s.tcb;
    tcb.rcv_wup = tcb.rcv_nxt;
    // tcp_transmit_skb(): a SYN carries min(rcv_wnd, 65535).
    tcb.rcv_wnd.min(65_535) as u16
}

/// `tcp_select_initial_window()` as `tcp_connect_init()` (active open) and
/// `tcp_openreq_init_rwin()` (SYN+ACK) call it: the buffer's share, `tcp_full_space()`,
/// within the window clamp, rounded down to a multiple of the MSS. That MSS is the one we
/// announce, less the 12 timestamp bytes on a SYN+ACK answering a SYN with timestamps, so
/// on loopback a SYN says 65495 and a SYN+ACK 65483, and on a 1460-byte-MSS path 64240.
/// The scenario's `window_clamp` plays TCP_WINDOW_CLAMP (or a route's `window`), except
/// that the shift announced stays the scenario's `wscale`; SO_RCVBUF clamps the window to
/// the buffer's share.
pub(crate) fn choose_initial_window(s: &mut Socket, cx: &Cx<'_>, kind: SynKind) {
    let answering = kind == SynKind::SynAck;
    let socket = &*s;
    let setting = cx.tcp.window_clamp.unwrap_or(0);
    let tcb = &socket.tcb;
    let full = win_from_space(tcb.scaling_ratio, i64::from(socket.rcvbuf)).max(0) as u32;
    let mut clamp = setting;
    if socket.rcvbuf_locked && (clamp == 0 || clamp > full) {
        clamp = full;
    }
    if clamp == 0 {
        clamp = 65_535 << TCP_MAX_WSCALE;
    }
    let overhead = if answering && tcb.timestamps { TIMESTAMPS_LEN } else { 0 };
    let mss = u32::from(tcb.adv_mss).saturating_sub(overhead).max(1);
    let mut space = full.min(clamp);
    if space > mss {
        space -= space % mss;
    }
    let tcb = &mut s.tcb;
    tcb.rcv_wnd = space;
    tcb.rcv_ssthresh = space;
    tcb.window_clamp = clamp.min(65_535u32 << tcb.rcv_wscale).max(1);
}

/// `tcp_init_buffer_space()`, when the connection is established: the clamp becomes at most
/// the buffer's share, less one segment's room when it would otherwise fill it
/// (`tcp_app_win` = 31, "force reservation of one segment"); rcv_ssthresh follows.
pub(crate) fn init_buffer_space(s: &mut Socket) {
    let socket = &*s;
    let maxwin = win_from_space(socket.tcb.scaling_ratio, i64::from(socket.rcvbuf)).max(0) as u32;
    let advmss = own_mss(s);
    let tcb = &mut s.tcb;
    let mut clamp = tcb.window_clamp.min(maxwin);
    if clamp > 2 * advmss && clamp + advmss > maxwin {
        clamp = (2 * advmss).max(maxwin.saturating_sub(advmss));
    }
    tcb.window_clamp = clamp.max(1);
    tcb.rcv_ssthresh = tcb.rcv_ssthresh.min(tcb.window_clamp);
    // tcp_initialize_rcv_mss(): before any data, guess the peer's MSS as at most our MSS,
    // its MSS, half our window and TCP_MSS_DEFAULT.
    tcb.ack_rcv_mss = advmss.min(tcb.mss).min(tcb.rcv_wnd / 2).clamp(TCP_MIN_MSS, TCP_MSS_DEFAULT);
}

/// Linux's `tp->advmss`: the MSS we announced, less the timestamp option once both sides
/// use it.
pub(crate) fn own_mss(s: &Socket) -> u32 {
    let tcb = &s.tcb;
    let overhead = if tcb.timestamps { TIMESTAMPS_LEN } else { 0 };
    u32::from(tcb.adv_mss).saturating_sub(overhead).max(1)
}

/// `tcp_space()`: payload bytes the free buffer memory would hold (negative when the
/// queue is charged more than SO_RCVBUF).
pub(crate) fn rcv_space(s: &Socket) -> i64 {
    let socket = s;
    let free = i64::from(socket.rcvbuf) - i64::from(socket.rmem_alloc());
    win_from_space(socket.tcb.scaling_ratio, free)
}

/// The window Linux would offer now (`__tcp_select_window()`), before the no-shrink rule:
/// the free buffer's share, at most rcv_ssthresh; nothing at all when that is under a
/// sixteenth of the buffer's share or under one segment and less than half the window
/// could be (receiver-side silly window avoidance, RFC 1122 4.2.3.3).
pub(crate) fn compute_window(s: &Socket) -> u32 {
    let socket = s;
    let tcb = &socket.tcb;
    let allowed = win_from_space(tcb.scaling_ratio, i64::from(socket.rcvbuf));
    let clamp = if tcb.window_clamp == 0 { 65_535i64 << tcb.rcv_wscale } else { i64::from(tcb.window_clamp) };
    let full = clamp.min(allowed);
    let mut mss = i64::from(if tcb.ack_rcv_mss > 0 {
        tcb.ack_rcv_mss
    } else {
        tcb.rcv_mss.max(TCP_MSS_DEFAULT.min(u32::from(tcb.adv_mss)))
    });
    if mss > full {
        mss = full;
        if mss <= 0 {
            return 0;
        }
    }
    let unit = 1i64 << tcb.rcv_wscale;
    let mut free = rcv_space(s);
    if free < full / 2 {
        // Do not let the scale's rounding raise a window that may become the new one.
        free = free.div_euclid(unit) * unit;
        if free < allowed >> 4 || free < mss {
            return 0;
        }
    }
    free = free.min(i64::from(tcb.rcv_ssthresh));
    let window = if tcb.rcv_wscale > 0 {
        // Round up so that the scaling does not turn a small window into 0.
        (free + unit - 1) / unit * unit
    } else {
        // Without scaling: a multiple of the MSS, kept as it is while within one MSS.
        let window = i64::from(tcb.rcv_wnd);
        if window <= free - mss || window > free {
            free / mss * mss
        } else if mss == full && free > window + full / 2 {
            free
        } else {
            window
        }
    };
    window.clamp(0, i64::from(u32::MAX)) as u32
}

/// Chooses and records the window to advertise now (`tcp_select_window()`): the right
/// edge we promised never moves left.
pub(crate) fn select_window(s: &mut Socket) -> u16 {
    let mut window = compute_window(s);
    let tcb = &mut s.tcb;
    let promised = tcb.rcv_wup.wrapping_add(tcb.rcv_wnd).wrapping_sub(tcb.rcv_nxt) as i32;
    let unit = 1u32 << tcb.rcv_wscale;
    if promised > 0 && window < promised as u32 {
        window = (promised as u32).div_ceil(unit) * unit;
    }
    window = window.min(65_535u32 << tcb.rcv_wscale);
    tcb.rcv_wnd = window;
    tcb.rcv_wup = tcb.rcv_nxt;
    (window >> tcb.rcv_wscale) as u16
}

/// `tcp_measure_rcv_mss()`: a segment larger than the current estimate of the peer's MSS
/// re-measures the scaling ratio as len/truesize (truesize = len + [`SKB_OVERHEAD`]); a
/// changed ratio moves the window clamp to the buffer's new share (`tcp_set_window_clamp()`,
/// never below SOCK_MIN_RCVBUF / 2), and rcv_ssthresh with it. The scenario's own
/// `window_clamp` stays a bound.
pub(crate) fn measure_rcv_mss(s: &mut Socket, cx: &Cx<'_>, len: u32, remnant: bool) {
    let setting = cx.tcp.window_clamp.unwrap_or(u32::MAX);
    let advmss = own_mss(s);
    let socket = &mut *s;
    let rcvbuf = socket.rcvbuf;
    let tcb = &mut socket.tcb;
    let estimate = tcb.ack_rcv_mss;
    let lss = std::mem::take(&mut tcb.last_seg_size);
    if len < estimate {
        // A smaller segment: the peer pushed what it had. With its header it may still
        // look like a full segment of a smaller MSS (at least TCP_MSS_DEFAULT, or at least
        // TCP_MIN_MSS without PSH, URG, FIN or SYN); two of one size in a row lower the
        // estimate to that size. Otherwise the ACK owed is marked pushed.
        let header = TCP_HEADER_LEN + if tcb.timestamps { TIMESTAMPS_LEN } else { 0 };
        let whole = len + header;
        if whole >= TCP_MSS_DEFAULT + TCP_HEADER_LEN || (whole >= TCP_MIN_MSS + TCP_HEADER_LEN && !remnant) {
            tcb.last_seg_size = len;
            if len == lss {
                tcb.ack_rcv_mss = len;
                return;
            }
        }
        tcb.ack_pushed = if tcb.ack_pushed > 0 { 2 } else { 1 };
        return;
    }
    tcb.ack_rcv_mss = len.min(advmss);
    if len == estimate {
        return;
    }
    let ratio = ((u64::from(len) << TCP_RMEM_TO_WIN_SCALE) / u64::from(len + SKB_OVERHEAD)).max(1) as u32;
    if ratio == tcb.scaling_ratio {
        return;
    }
    tcb.scaling_ratio = ratio;
    let share = win_from_space(ratio, i64::from(rcvbuf)).max(0) as u32;
    let clamp = share.max(MIN_RCVBUF / 2).min(setting);
    if clamp < tcb.window_clamp {
        tcb.rcv_ssthresh = tcb.rcv_ssthresh.min(clamp);
    } else {
        tcb.rcv_ssthresh = tcb.rcv_ssthresh.max(tcb.rcv_wnd.min(clamp));
    }
    tcb.window_clamp = clamp;
}

/// `tcp_grow_window()`: a segment of at least 128 bytes lets rcv_ssthresh grow toward the
/// free buffer's share, by two segments when such segments would fit the buffer (or, at
/// an unfavourable ratio, only while the window is small: `__tcp_grow_window()`), and by
/// at least twice the segment.
pub(crate) fn grow_window(s: &mut Socket, cx: &Cx<'_>, len: u32) {
    let space = rcv_space(s);
    let advmss = own_mss(s);
    let rmem_max = 1i64 << (u32::from(cx.tcp.wscale) + 15).min(40);
    let tcb = &mut s.tcb;
    let room = i64::from(tcb.window_clamp).min(space) - i64::from(tcb.rcv_ssthresh);
    if room <= 0 {
        return;
    }
    let truesize = i64::from(len + SKB_OVERHEAD);
    let len64 = i64::from(len);
    let mut incr = if win_from_space(tcb.scaling_ratio, truesize) <= len64 {
        2 * i64::from(advmss)
    } else {
        let mut truesize = win_from_space(tcb.scaling_ratio, truesize) >> 1;
        let mut window = win_from_space(tcb.scaling_ratio, rmem_max) >> 1;
        let mut incr = 0;
        while i64::from(tcb.rcv_ssthresh) <= window {
            if truesize <= len64 {
                incr = 2 * i64::from(tcb.ack_rcv_mss);
                break;
            }
            truesize >>= 1;
            window >>= 1;
        }
        incr
    };
    if incr > 0 {
        incr = incr.max(2 * len64);
        tcb.rcv_ssthresh += room.min(incr) as u32;
    }
}
