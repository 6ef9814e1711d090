//! The kernel's one transmission timer, as the retransmission timeout or the tail loss
//! probe (RACK-TLP, RFC 8985 section 7): when each is armed and from when it counts.

use crate::socket::Socket;
use crate::tcp::context::Cx;
use crate::tcp::linux::*;
use crate::tcp::timers::{arm_timer, cancel_timer, ensure_timer};
use crate::time::ms_to_us;
use crate::trace::TimerKind;

// ----- tail loss probe (RACK-TLP, RFC 8985 section 7, as Linux 6.x) -----
/// From when the retransmission timeout that bounds a loss probe counts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RtoClock {
    /// From the oldest unacknowledged segment's last transmission.
    FromOldestSegment,
    /// From now: the caller is about to restart the timer.
    RestartingNow,
}

/// `tcp_schedule_loss_probe()`: with SACK negotiated, segments outstanding and no loss
/// recovery under way, the kernel's one transmission timer becomes a loss probe timer of
/// two smoothed round trips, plus the minimum RTO when a single segment is out (its ACK
/// may be a delayed one) or 2 ms otherwise, in whole jiffies (a full initial RTO without
/// an RTT sample), and never later than the retransmission timeout would fire: from now
/// when the caller is about to restart it ([`RtoClock::RestartingNow`]), else from the oldest
/// segment's transmission. Returns false when no probe is scheduled. `tcp_early_retrans`
/// is taken at its default, 3 (probes on).
pub(crate) fn schedule_loss_probe(s: &mut Socket, cx: &mut Cx<'_>, clock: RtoClock) -> bool {
    let tcp = cx.tcp;
    let (rto_min, timeout_init) = (ms_to_us(tcp.rto_min_ms), ms_to_us(tcp.rto_initial_ms));
    let socket = &*s;
    let tcb = &socket.tcb;
    let packets_out = tcb.unacked_segments.len();
    if !tcb.sack_ok || packets_out == 0 || tcb.recovery_until.is_some() || !socket.state.may_transmit() {
        return false;
    }
    let mut timeout = match tcb.srtt_us {
        Some(srtt) => {
            let slack = if packets_out == 1 { rto_min } else { TCP_TIMEOUT_MIN_US };
            whole_jiffies(srtt.saturating_mul(2).saturating_add(slack))
        }
        None => timeout_init,
    };
    let rto_left = if clock == RtoClock::RestartingNow { tcb.rto_us as i64 } else { rto_left_us(s, cx) };
    if rto_left > 0 {
        timeout = timeout.min(whole_jiffies(rto_left as u64));
    }
    cancel_timer(s, cx, TimerKind::Retransmit);
    arm_timer(s, cx, TimerKind::LossProbe, cx.now + timeout);
    true
}

/// `tcp_rto_delta_us()`: how far in the future the retransmission timeout lies when it
/// counts from the oldest unacknowledged segment's last transmission (negative if past).
pub(crate) fn rto_left_us(s: &Socket, cx: &Cx<'_>) -> i64 {
    let tcb = &s.tcb;
    match tcb.unacked_segments.front() {
        Some(&(_, sent_at)) => (sent_at + tcb.rto_us) as i64 - cx.now as i64,
        None => tcb.rto_us as i64,
    }
}

/// `tcp_rearm_rto()`: the retransmission timer restarts with the current RTO (or stops
/// when nothing is outstanding); when it takes over from a pending loss probe it keeps
/// the deadline counted from the oldest segment, at least one jiffy away.
pub(crate) fn rearm_rto(s: &mut Socket, cx: &mut Cx<'_>) {
    let tcb = &s.tcb;
    if tcb.snd_una == tcb.snd_max {
        cancel_timer(s, cx, TimerKind::LossProbe);
        cancel_timer(s, cx, TimerKind::Retransmit);
        return;
    }
    let mut rto = tcb.rto_us;
    if s.timer(TimerKind::LossProbe).is_some() {
        rto = whole_jiffies(rto_left_us(s, cx).max(1) as u64);
        cancel_timer(s, cx, TimerKind::LossProbe);
    }
    arm_timer(s, cx, TimerKind::Retransmit, cx.now + rto);
}

/// `tcp_set_xmit_timer()`, after an ACK that acknowledged data: a loss probe if one may
/// be scheduled, else the retransmission timer.
pub(crate) fn set_xmit_timer(s: &mut Socket, cx: &mut Cx<'_>) {
    if !schedule_loss_probe(s, cx, RtoClock::RestartingNow) {
        rearm_rto(s, cx);
    }
}

/// `tcp_reset_xmit_timer(ICSK_TIME_RETRANS, icsk_rto)`: the one transmission timer becomes
/// the retransmission timer, due one RTO from now, replacing a pending loss probe.
pub(crate) fn reset_rto_timer(s: &mut Socket, cx: &mut Cx<'_>) {
    cancel_timer(s, cx, TimerKind::LossProbe);
    let rto = s.tcb.rto_us;
    arm_timer(s, cx, TimerKind::Retransmit, cx.now + rto);
}

/// The retransmission timer after a segment went out (`tcp_event_new_data_sent()`): it
/// starts if it was not running; if the loss probe timer held the kernel's one timer,
/// the retransmission timeout takes it back, counted from the oldest unacknowledged
/// segment (`tcp_rearm_rto()`).
pub(crate) fn retransmit_timer_after_send(s: &mut Socket, cx: &mut Cx<'_>) {
    if s.timer(TimerKind::LossProbe).is_some() {
        rearm_rto(s, cx);
    } else {
        let rto = s.tcb.rto_us;
        ensure_timer(s, cx, TimerKind::Retransmit, cx.now + rto);
    }
}

/// The interval before the next zero-window probe: the probe base, max(RTO, rto_min),
/// doubled per probe so far, at most rto_max (`tcp_probe0_base()`, `tcp_probe0_when()`).
pub(crate) fn probe_interval(s: &Socket, cx: &Cx<'_>) -> u64 {
    let tcp = cx.tcp;
    let tcb = &s.tcb;
    let base = tcb.rto_us.max(ms_to_us(tcp.rto_min_ms));
    base.saturating_mul(1 << tcb.probe_backoff.min(20)).min(ms_to_us(tcp.rto_max_ms))
}
