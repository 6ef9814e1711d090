//! Loss recovery: the retransmission timeout (with the SYN schedule's linear timeouts),
//! fast retransmission after three duplicate ACKs, and the tail loss probe when it fires.

use crate::socket::{seq_gt, seq_lt, Socket};
use crate::state::State;
use crate::tcp::congestion::retransmission_budget;
use crate::tcp::context::Cx;
use crate::tcp::linux::*;
use crate::tcp::output::{record_transmission, tcp_output, write_xmit, XmitMode};
use crate::tcp::rto::{rearm_rto, reset_rto_timer};
use crate::tcp::segment::{copy_range, send_outgoing, send_syn, Outgoing, SynKind, Transmission};
use crate::tcp::timers::arm_timer;
use crate::tcp::transition::{give_up, release, set_state};
use crate::time::ms_to_us;
use crate::trace::{Flags, TcpOptions, TimerKind};

pub(crate) fn fast_retransmit(s: &mut Socket, cx: &mut Cx<'_>) {
    let tcb = &mut s.tcb;
    // Fast recovery (the Recovery state) lasts until what is outstanding now is acked.
    tcb.recovery_until = Some(tcb.snd_max);
    let flight = tcb.snd_nxt.wrapping_sub(tcb.snd_una);
    tcb.ssthresh = (flight / 2).max(2 * tcb.mss);
    tcb.cwnd = tcb.ssthresh + 3 * tcb.mss;
    // tcp_init_cwnd_reduction() starts the growth count afresh.
    tcb.snd_cwnd_cnt = 0;
    retransmit_head(s, cx);
    // tcp_xmit_retransmit_queue(): retransmitting the head resets the one transmission
    // timer to the RTO from now, so a loss probe that was pending is gone; none is
    // scheduled again until recovery ends.
    reset_rto_timer(s, cx);
}

/// Resends the oldest unacknowledged segment (data, or a lone FIN).
pub(crate) fn retransmit_head(s: &mut Socket, cx: &mut Cx<'_>) {
    let tcb = &s.tcb;
    let seq = tcb.snd_una;
    let mss_now = tcb.mss_now();
    let len = (tcb.send_buf.len() as u32).min(mss_now).min(tcb.snd_max.wrapping_sub(seq));
    let payload = copy_range(&tcb.send_buf, 0, len as usize);
    let end = seq.wrapping_add(len);
    let with_fin = tcb.fin_queued && end == tcb.write_seq && seq_gt(tcb.snd_max, tcb.write_seq);
    let flags = Flags { ack: true, psh: len > 0 && end == tcb.write_seq, fin: with_fin, ..Flags::default() };
    if len == 0 && !with_fin {
        return;
    }
    s.tcb.rtt_probe = None;
    record_transmission(s, cx, seq, end.wrapping_add(u32::from(with_fin)));
    let segment = Outgoing { flags, seq, payload, transmission: Transmission::Retransmission, why: None };
    send_outgoing(s, cx, segment, TcpOptions::default());
}

/// `tcp_send_loss_probe()`, when the probe timer fires: unless a probe is already
/// outstanding, send one new segment if unsent data fits the peer's window, else send
/// the last segment again. Either way the peer must answer at once (new data past a
/// delayed ACK, or a duplicate, which it acknowledges immediately with a D-SACK), so
/// its ACK tells the sender what arrived without waiting for the retransmission
/// timeout. The retransmission timer then restarts from now, without backoff.
pub(crate) fn send_loss_probe(s: &mut Socket, cx: &mut Cx<'_>) {
    let socket = &*s;
    if socket.tcb.snd_una == socket.tcb.snd_max {
        return;
    }
    if socket.tcb.tlp_high_seq.is_some() || socket.tcb.recovery_until.is_some() {
        // At most one probe per tail loss episode, and none during loss recovery
        // (tcp_schedule_loss_probe() only runs in the Open and CWR states): the
        // retransmission timer takes over.
        rearm_rto(s, cx);
        return;
    }
    let tcb = &socket.tcb;
    let mss_now = tcb.mss_now();
    let (unsent, fin_unsent) = (tcb.unsent(), tcb.fin_unsent());
    // tcp_snd_wnd_test(): the next new segment must fit the peer's window.
    let fits = if unsent > 0 {
        (unsent as u32).min(mss_now) <= tcb.snd_wnd.saturating_sub(socket.in_flight())
    } else {
        fin_unsent
    };
    s.tcb.tlp_retrans = false;
    if fits {
        if !write_xmit(s, cx, XmitMode::LossProbe) {
            rearm_rto(s, cx);
            return;
        }
    } else if retransmit_tail(s, cx) {
        s.tcb.tlp_retrans = true;
    } else {
        rearm_rto(s, cx);
        return;
    }
    let tcb = &mut s.tcb;
    tcb.tlp_high_seq = Some(tcb.snd_max);
    // The probe resets the timer's owner, so the retransmission timeout restarts from now.
    reset_rto_timer(s, cx);
}

/// Sends the last unacknowledged segment again, as it was first sent (data and PSH, or
/// a FIN): the tail that a loss probe repeats. Returns false if there is none.
pub(crate) fn retransmit_tail(s: &mut Socket, cx: &mut Cx<'_>) -> bool {
    let tcb = &s.tcb;
    let Some(&(end, _)) = tcb.unacked_segments.back() else { return false };
    let start = match tcb.unacked_segments.len() {
        1 => tcb.snd_una,
        n => tcb.unacked_segments[n - 2].0,
    };
    let start = if seq_lt(start, tcb.snd_una) { tcb.snd_una } else { start };
    let with_fin = tcb.fin_queued && end == tcb.write_seq.wrapping_add(1);
    let data_end = if with_fin { tcb.write_seq } else { end };
    let len = data_end.wrapping_sub(start).min(tcb.send_buf.len() as u32);
    let offset = start.wrapping_sub(tcb.snd_una) as usize;
    if offset + len as usize > tcb.send_buf.len() || (len == 0 && !with_fin) {
        return false;
    }
    let payload = copy_range(&tcb.send_buf, offset, len as usize);
    let psh = len > 0 && (data_end == tcb.write_seq || data_end == tcb.pushed_seq);
    let flags = Flags { ack: true, psh, fin: with_fin, ..Flags::default() };
    s.tcb.rtt_probe = None;
    record_transmission(s, cx, start, end);
    let probe = Outgoing {
        flags,
        seq: start,
        payload,
        transmission: Transmission::Retransmission,
        why: Some(LOSS_PROBE_REASON),
    };
    send_outgoing(s, cx, probe, TcpOptions::default());
    true
}

pub(crate) fn retransmit_timeout(s: &mut Socket, cx: &mut Cx<'_>) {
    let tcp = cx.tcp.clone();
    let now = cx.now;
    let state = s.state;
    let listener = s.listener;
    let user_timeout_ms = s.user_timeout_ms;
    let rto_initial = ms_to_us(tcp.rto_initial_ms);
    match state {
        State::SynSent => {
            // tcp_syn_retries with tcp_syn_linear_timeouts: the first retransmissions keep
            // the initial RTO, then it doubles (Linux 6.x: SYNs at 0,1,2,3,4,5,7,11,...).
            let done = s.tcb.retransmits;
            if done >= tcp.syn_retries + tcp.syn_linear_timeouts {
                give_up(s, cx, "no answer to any SYN: connect() fails with ETIMEDOUT");
                return;
            }
            let retransmits = done + 1;
            s.tcb.retransmits = retransmits;
            send_syn(s, cx, SynKind::Syn, Transmission::Retransmission);
            let delay = if retransmits <= tcp.syn_linear_timeouts {
                rto_initial
            } else {
                rto_initial << (retransmits - tcp.syn_linear_timeouts).min(20)
            };
            let delay = delay.min(ms_to_us(tcp.rto_max_ms));
            s.tcb.rto_us = delay;
            arm_timer(s, cx, TimerKind::Retransmit, now + delay);
        }
        State::SynRecv => {
            let done = s.tcb.retransmits;
            let limit = if listener.is_some() { tcp.synack_retries } else { tcp.syn_retries };
            if done >= limit {
                if listener.is_some() {
                    set_state(
                        s,
                        cx,
                        State::Closed,
                        "no final ACK after every SYN+ACK retry: the half-open connection is dropped",
                    );
                    release(s, cx);
                } else {
                    give_up(s, cx, "no answer to the SYN+ACK: the connection attempt times out");
                }
                return;
            }
            let retransmits = done + 1;
            s.tcb.retransmits = retransmits;
            send_syn(s, cx, SynKind::SynAck, Transmission::Retransmission);
            let delay = (rto_initial << retransmits.min(20)).min(ms_to_us(tcp.rto_max_ms));
            arm_timer(s, cx, TimerKind::Retransmit, now + delay);
        }
        _ if s.tcb.snd_una == s.tcb.snd_max => {}
        State::TimeWait | State::Closed | State::Listen => {}
        _ => {
            let tcb = &mut s.tcb;
            let first = *tcb.first_retransmit_at.get_or_insert(now.saturating_sub(tcb.rto_us));
            // tcp_write_timeout(), retransmits_timed_out(): TCP_USER_TIMEOUT, when set, takes
            // the place of tcp_retries2's budget.
            let user_timeout = ms_to_us(u64::from(user_timeout_ms));
            let limit = retransmission_budget(tcp.retries2, ms_to_us(tcp.rto_min_ms), ms_to_us(tcp.rto_max_ms));
            if user_timeout > 0 && now.saturating_sub(first) >= user_timeout {
                give_up(s, cx, "data stayed unacknowledged for TCP_USER_TIMEOUT: the connection times out");
                return;
            }
            if user_timeout == 0 && now.saturating_sub(first) >= limit {
                give_up(s, cx, "retransmissions went unanswered (tcp_retries2): the connection times out");
                return;
            }
            tcb.retransmits += 1;
            // tcp_enter_loss(): the Loss state lasts until everything sent so far is
            // acknowledged, and a loss probe episode ends.
            tcb.recovery_until = Some(tcb.snd_max);
            tcb.tlp_high_seq = None;
            let flight = tcb.snd_max.wrapping_sub(tcb.snd_una);
            tcb.ssthresh = (flight / 2).max(2 * tcb.mss);
            tcb.cwnd = tcb.mss;
            // tcp_enter_loss() clears snd_cwnd_cnt.
            tcb.snd_cwnd_cnt = 0;
            tcb.dupacks = 0;
            tcb.rtt_probe = None;
            tcb.rto_us = tcb.rto_us.saturating_mul(2).min(ms_to_us(tcp.rto_max_ms));
            if tcb.snd_una == tcb.iss {
                // A socket closed in SYN_RECV after a simultaneous open is in FIN_WAIT1 with
                // its SYN+ACK still unacknowledged: that is the head of the queue, and what
                // goes again (tcp_retransmit_skb()).
                send_syn(s, cx, SynKind::SynAck, Transmission::Retransmission);
            } else {
                // Go back to the oldest unacknowledged byte (RFC 6298 5.4-5.6).
                tcb.snd_nxt = tcb.snd_una;
                tcp_output(s, cx);
                let tcb = &s.tcb;
                if tcb.snd_nxt == tcb.snd_una {
                    // Nothing could be resent (zero window): resend the head anyway.
                    retransmit_head(s, cx);
                }
            }
            let mut rto = s.tcb.rto_us;
            // tcp_clamp_rto_to_user_timeout(): the timer goes off no later than the moment the
            // user timeout runs out, at least one clock tick on.
            if user_timeout > 0 {
                let remaining = (first + user_timeout).saturating_sub(now);
                rto = rto.min(remaining.max(JIFFY_US));
            }
            arm_timer(s, cx, TimerKind::Retransmit, now + rto);
        }
    }
}
