//! Data and FIN in: RecvQ and the out-of-order queue, D-SACK, the receiver's MSS estimate
//! and window growth, quick-ACK and pingpong modes, and what is owed to the sender.

use crate::socket::{seq_gt, seq_lt, Socket};
use crate::state::State;
use crate::tcp::context::Cx;
use crate::tcp::segment::send_ack;
use crate::tcp::transition::set_state;
use crate::tcp::window::{compute_window, grow_window, measure_rcv_mss};
use crate::wire::Wire;

/// What the receiver owes the sender after a segment.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum AckNeed {
    None,
    Delayed,
    /// Now if the socket is still in quick-ACK mode once the whole segment (data and FIN)
    /// has been processed, else delayed: Linux decides once, in `__tcp_ack_snd_check()`,
    /// after `tcp_fin()` may have entered pingpong mode.
    Quick,
    Now,
}

/// In-order data joins RecvQ (out-of-order data waits aside). Returns what ACK is owed.
pub(crate) fn receive_data(s: &mut Socket, cx: &mut Cx<'_>, wire: &Wire) -> AckNeed {
    let now = cx.now;
    let tcp = cx.tcp.clone();
    let socket = &mut *s;
    let rcvbuf = socket.rcvbuf;
    let used = socket.recv_used();
    let tcb = &mut socket.tcb;
    let mut seq = wire.seq;
    let mut data = wire.payload();
    if seq_lt(seq, tcb.rcv_nxt) {
        let skip = tcb.rcv_nxt.wrapping_sub(seq) as usize;
        if skip >= data.len() {
            // Entirely a duplicate: our ACK was lost or late (or the sender probed), so
            // repeat it at once, report the duplicate in a D-SACK block when SACK is on,
            // and acknowledge the next segments at once too (tcp_data_queue():
            // tcp_dsack_set(), tcp_enter_quickack_mode(), which also ends pingpong mode).
            tcb.dsack_pending = tcb.sack_ok;
            let quickacks = match tcb.rcv_wnd / (2 * tcb.ack_rcv_mss.max(1)) {
                0 => 2,
                n => n,
            };
            tcb.quick = tcb.quick.max(quickacks.min(tcp.max_quickacks));
            tcb.pingpong = false;
            return AckNeed::Now;
        }
        data = &data[skip..];
        seq = tcb.rcv_nxt;
    }
    let free = rcvbuf.saturating_sub(used) as usize;
    if seq != tcb.rcv_nxt {
        let offset = seq.wrapping_sub(tcb.rcv_nxt) as usize;
        if offset < free {
            let keep = data.len().min(free - offset);
            let entry = tcb.ooo.get_or_insert_with(seq, Vec::new);
            if entry.len() < keep {
                *entry = data[..keep].to_vec();
            }
        }
        // A gap: a duplicate ACK at once tells the sender (RFC 5681 4.2).
        return AckNeed::Now;
    }
    // Bytes beyond the free space are dropped; the sender will resend them.
    let take = data.len().min(free);
    if take == 0 {
        // Nothing fits (zero window): Linux drops the segment and acknowledges at once,
        // showing the window (tcp_data_queue(), LINUX_MIB_TCPZEROWINDOWDROP).
        return AckNeed::Now;
    }
    tcb.recv_buf.extend(&data[..take]);
    tcb.recv_skbs.push_back(take as u32);
    tcb.rcv_nxt = tcb.rcv_nxt.wrapping_add(take as u32);
    // The out-of-order segments the new data reaches move to the queue in order; they are
    // taken off the front of the map in one go, so a long run of them costs linear time.
    let mut drained = 0;
    for (&start, chunk) in tcb.ooo.iter() {
        if seq_gt(start, tcb.rcv_nxt) {
            break;
        }
        let skip = tcb.rcv_nxt.wrapping_sub(start) as usize;
        if skip < chunk.len() {
            tcb.recv_buf.extend(&chunk[skip..]);
            tcb.recv_skbs.push_back((chunk.len() - skip) as u32);
            tcb.rcv_nxt = tcb.rcv_nxt.wrapping_add((chunk.len() - skip) as u32);
        }
        drained += 1;
    }
    tcb.ooo.remove_first(drained);
    let filled_gap = drained > 0;
    // tcp_event_data_recv(): measure the segment, then perhaps let the window grow.
    let segment_len = wire.payload().len() as u32;
    // TCP_REMNANT: flags a full-sized segment would not carry (URG is not modelled).
    let remnant = wire.flags.psh || wire.flags.fin || wire.flags.syn;
    measure_rcv_mss(s, cx, segment_len, remnant);
    if segment_len >= 128 {
        grow_window(s, cx, segment_len);
    }
    let tcb = &mut s.tcb;
    // Quick-ACK mode at the start, and again after a long silence (tcp_event_data_recv()).
    let first = tcb.rcv_mss == 0;
    let gap = tcb.last_rcv_at.map_or(u64::MAX, |at| now.saturating_sub(at));
    tcb.rcv_mss = tcb.rcv_mss.max(wire.payload().len() as u32);
    if first || gap > tcb.rto_us {
        // tcp_incr_quickack(): half a window's worth of segments, 2 only when that comes
        // to zero, at most TCP_MAX_QUICKACKS. The segment size is icsk_ack.rcv_mss, which
        // tcp_measure_rcv_mss() has just updated from this very segment, so a first segment
        // as large as 24 KB on loopback leaves room for a single quick ACK.
        let quickacks = match tcb.rcv_wnd / (2 * tcb.ack_rcv_mss.max(1)) {
            0 => 2,
            n => n,
        };
        let quickacks = quickacks.min(tcp.max_quickacks);
        tcb.quick = tcb.quick.max(quickacks);
    }
    tcb.last_rcv_at = Some(now);
    let ooo_fin = tcb.ooo_fin;
    let rcv_nxt = tcb.rcv_nxt;
    let unacked = tcb.rcv_nxt.wrapping_sub(tcb.rcv_wup);
    let quick = tcb.quick > 0 && !tcb.pingpong;
    let full_frames = unacked > tcb.ack_rcv_mss;
    let rcv_wnd = tcb.rcv_wnd;
    let ooo_pending = !tcb.ooo.is_empty();
    cx.queues_changed(s);
    if ooo_fin == Some(rcv_nxt) {
        receive_fin(s, cx, rcv_nxt);
        return AckNeed::Now;
    }
    // __tcp_ack_snd_check(): more than one full frame, measured by icsk_ack.rcv_mss, and
    // an ACK that would move the window's right edge (a receiver whose RecvQ is filling
    // lets the ACK wait instead: tcp_recvmsg() will send it when the program reads).
    let more_than_one_segment = full_frames && compute_window(s) >= rcv_wnd;
    if filled_gap || ooo_pending || !tcp.delayed_ack || more_than_one_segment {
        AckNeed::Now
    } else if quick {
        AckNeed::Quick
    } else {
        AckNeed::Delayed
    }
}

/// A FIN at sequence number `fin_seq`. Returns what ACK is owed.
pub(crate) fn receive_fin(s: &mut Socket, cx: &mut Cx<'_>, fin_seq: u32) -> AckNeed {
    let tcp_delayed = cx.tcp.delayed_ack;
    let socket = &mut *s;
    let tcb = &mut socket.tcb;
    if tcb.fin_rcvd {
        // A retransmitted FIN: our ACK was lost.
        return AckNeed::Now;
    }
    if fin_seq != tcb.rcv_nxt {
        if seq_gt(fin_seq, tcb.rcv_nxt) {
            tcb.ooo_fin = Some(fin_seq);
        }
        return AckNeed::Now;
    }
    tcb.rcv_nxt = tcb.rcv_nxt.wrapping_add(1);
    tcb.fin_rcvd = true;
    tcb.ooo_fin = None;
    let state = socket.state;
    let fin_acked = socket.fin_acked();
    cx.queues_changed(s);
    match state {
        State::Established | State::SynRecv => {
            // tcp_fin(): the ACK of a FIN waits in pingpong mode, hoping the application
            // closes soon so that its FIN can carry the ACK.
            s.tcb.pingpong = true;
            set_state(s, cx, State::CloseWait, "the peer's FIN arrived: it has finished sending, recv() will return 0");
            if tcp_delayed {
                AckNeed::Delayed
            } else {
                AckNeed::Now
            }
        }
        State::FinWait1 if fin_acked => {
            set_state(s, cx, State::TimeWait, "the peer's FIN arrived with the ACK of ours: wait 2MSL");
            AckNeed::Now
        }
        State::FinWait1 => {
            set_state(s, cx, State::Closing, "the peer's FIN crossed ours: simultaneous close");
            AckNeed::Now
        }
        State::FinWait2 => {
            set_state(s, cx, State::TimeWait, "the peer's FIN arrived: ACK it and wait 2MSL");
            AckNeed::Now
        }
        _ => AckNeed::Now,
    }
}

/// After the application read some bytes (`tcp_cleanup_rbuf()`): an owed ACK goes out at
/// once if more than one full segment is unacknowledged, or if the read emptied the queue
/// after a small (pushed) segment and the connection is not interactive (pingpong) — or,
/// with two small segments waiting, even when it is. Otherwise a window that has at least
/// doubled is announced, so a sender stalled on a small window can go on.
pub(crate) fn ack_after_read(s: &mut Socket, cx: &mut Cx<'_>) {
    let socket = &*s;
    let tcb = &socket.tcb;
    if tcb.ack_pending {
        let unacked = tcb.rcv_nxt.wrapping_sub(tcb.rcv_wup);
        let pushed = tcb.ack_pushed == 2 || (tcb.ack_pushed == 1 && !tcb.pingpong);
        if unacked > tcb.ack_rcv_mss || (pushed && socket.rmem_alloc() == 0) {
            send_ack(s, cx);
            return;
        }
    }
    let socket = &*s;
    if !matches!(socket.state, State::Established | State::FinWait1 | State::FinWait2) || socket.tcb.fin_rcvd {
        return;
    }
    let tcb = &socket.tcb;
    let now_window = tcb.rcv_wup.wrapping_add(tcb.rcv_wnd).wrapping_sub(tcb.rcv_nxt) as i32;
    let now_window = now_window.max(0) as u32;
    if 2 * now_window <= tcb.window_clamp {
        let new_window = compute_window(s);
        if new_window > 0 && new_window >= 2 * now_window {
            send_ack(s, cx);
        }
    }
}
