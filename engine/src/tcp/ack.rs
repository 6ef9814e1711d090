//! The ACK field and window of an arriving segment: what it acknowledges, the RTT sample
//! it gives, the congestion window, duplicate ACKs, the end of a loss probe episode, and the
//! state changes an acknowledged FIN brings.

use crate::socket::{seq_ge, seq_gt, seq_le, seq_lt, Socket};
use crate::state::State;
use crate::tcp::congestion::{reno_cong_avoid, rto_from_estimate, rtt_sample, update_pacing_rate};
use crate::tcp::context::Cx;
use crate::tcp::open::sndbuf_expand;
use crate::tcp::recovery::fast_retransmit;
use crate::tcp::rto::{probe_interval, set_xmit_timer};
use crate::tcp::segment::send_ack;
use crate::tcp::timers::{arm_timer, cancel_timer};
use crate::tcp::transition::{orphan_fin_wait2, set_state};
use crate::trace::TimerKind;
use crate::wire::Wire;

/// The ACK field and the window of an arriving segment. Returns false when the segment
/// must not be processed further.
pub(crate) fn process_ack(s: &mut Socket, cx: &mut Cx<'_>, wire: &Wire) -> bool {
    let now = cx.now;
    let tcp = cx.tcp.clone();
    let socket = &mut *s;
    let tcb = &mut socket.tcb;
    if seq_gt(wire.ack, tcb.snd_max) {
        // It acknowledges something never sent: answer with an ACK and drop it.
        send_ack(s, cx);
        return false;
    }
    let window = u32::from(wire.win) << tcb.snd_wscale;
    let had_outstanding = tcb.snd_una != tcb.snd_max;
    if seq_gt(wire.ack, tcb.snd_una) {
        let acked = wire.ack.wrapping_sub(tcb.snd_una);
        let fin_now_acked = socket.tcb.fin_queued
            && seq_gt(wire.ack, socket.tcb.write_seq)
            && !seq_gt(socket.tcb.snd_una, socket.tcb.write_seq);
        let tcb = &mut socket.tcb;
        let data = (acked - u32::from(fin_now_acked)).min(tcb.send_buf.len() as u32);
        tcb.send_buf.drain(..data as usize);
        tcb.snd_una = wire.ack;
        while tcb.record_ends.front().is_some_and(|&end| seq_le(end, wire.ack)) {
            tcb.record_ends.pop_front();
        }
        if seq_lt(tcb.snd_nxt, wire.ack) {
            tcb.snd_nxt = wire.ack;
        }
        if let Some((end, sent)) = tcb.rtt_probe {
            if seq_ge(wire.ack, end) {
                tcb.rtt_probe = None;
                if tcb.retransmits == 0 {
                    rtt_sample(tcb, now - sent, &tcp);
                }
            }
        }
        tcb.retransmits = 0;
        tcb.first_retransmit_at = None;
        tcb.dupacks = 0;
        tcb.rto_us = rto_from_estimate(tcb, &tcp);
        // The segments now acknowledged leave the retransmission queue.
        let mut acked_segments = 0u32;
        while tcb.unacked_segments.front().is_some_and(|&(end, _)| seq_le(end, wire.ack)) {
            tcb.unacked_segments.pop_front();
            acked_segments += 1;
        }
        reno_cong_avoid(tcb, acked_segments);
        // Loss recovery ends once everything outstanding when it began is acknowledged
        // (the Loss or Recovery state returns to Open, tcp_fastretrans_alert()).
        if tcb.recovery_until.is_some_and(|until| seq_ge(wire.ack, until)) {
            tcb.recovery_until = None;
        }
        // A bigger congestion window gets a bigger SendQ (tcp_new_space()).
        sndbuf_expand(s, cx);
        process_tlp_ack(s, cx, wire, true);
        set_xmit_timer(s, cx);
        if data > 0 {
            cx.queues_changed(s);
        }
    } else if wire.ack == tcb.snd_una
        && wire.payload().is_empty()
        && !wire.flags.fin
        && window == tcb.snd_wnd
        && tcb.snd_una != tcb.snd_max
    {
        tcb.dupacks += 1;
        if tcb.dupacks == 3 {
            fast_retransmit(s, cx);
        }
    }
    process_tlp_ack(s, cx, wire, false);
    let tcb = &mut s.tcb;
    if had_outstanding {
        // tcp_ack() ends in tcp_cong_control(), which sets the pacing rate from the
        // window and srtt this ACK left (tcp_update_pacing_rate()).
        update_pacing_rate(tcb);
    }
    if seq_lt(tcb.snd_wl1, wire.seq) || (tcb.snd_wl1 == wire.seq && seq_le(tcb.snd_wl2, wire.ack)) {
        tcb.snd_wnd = window;
        // tcp_ack_update_window(): a larger window than ever raises max_window, and with it
        // the segment size (tcp_sync_mss(), tcp_bound_to_half_wnd()).
        tcb.max_window = tcb.max_window.max(window);
        tcb.snd_wl1 = wire.seq;
        tcb.snd_wl2 = wire.ack;
        if window > 0 && s.timer(TimerKind::Persist).is_some() {
            cancel_timer(s, cx, TimerKind::Persist);
            let tcb = &mut s.tcb;
            tcb.probes = 0;
            tcb.probe_backoff = 0;
        } else if window == 0 && s.timer(TimerKind::Persist).is_some() {
            // The answer to a zero-window probe still shows a closed window: the next
            // probe is due a backed-off interval after this answer (`tcp_ack_probe()`).
            let delay = probe_interval(s, cx);
            arm_timer(s, cx, TimerKind::Persist, now + delay);
        }
    }
    fin_acked_transitions(s, cx);
    !s.freed && s.state != State::Closed
}

/// `tcp_process_tlp_ack()`: an ACK at or past the probe's snd_nxt ends the probe's
/// episode. A probe of new data, a D-SACK of the repeated segment or a plain duplicate
/// ACK shows that nothing was lost; an ACK beyond the probe shows that the probe repaired
/// a loss, so the congestion window is reduced once (the CWR state:
/// `tcp_init_cwnd_reduction()`, `tcp_end_cwnd_reduction()`; Reno halves it).
pub(crate) fn process_tlp_ack(s: &mut Socket, _cx: &mut Cx<'_>, wire: &Wire, advanced: bool) {
    let tcb = &mut s.tcb;
    let Some(high) = tcb.tlp_high_seq else { return };
    if seq_lt(wire.ack, high) {
        return;
    }
    if !tcb.tlp_retrans || wire.dsack {
        tcb.tlp_high_seq = None;
    } else if seq_gt(wire.ack, high) {
        tcb.tlp_high_seq = None;
        tcb.ssthresh = (tcb.cwnd / 2).max(2 * tcb.mss);
        tcb.cwnd = tcb.ssthresh;
        tcb.snd_cwnd_cnt = 0;
    } else if !advanced && wire.payload().is_empty() && !wire.flags.fin {
        tcb.tlp_high_seq = None;
    }
}

pub(crate) fn fin_acked_transitions(s: &mut Socket, cx: &mut Cx<'_>) {
    let socket = &*s;
    if !socket.fin_acked() {
        return;
    }
    match socket.state {
        State::FinWait1 => {
            set_state(s, cx, State::FinWait2, "our FIN is acknowledged; the peer may still send");
            orphan_fin_wait2(s, cx);
        }
        State::Closing => set_state(s, cx, State::TimeWait, "our FIN is acknowledged: wait 2MSL"),
        State::LastAck => set_state(s, cx, State::Closed, "the last ACK arrived: the connection is gone"),
        _ => {}
    }
}
