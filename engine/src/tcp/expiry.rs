//! What each of a socket's timers does when it fires (`tcp_timer.c`): retransmission,
//! delayed ACK, zero-window and keepalive probes, the end of TIME_WAIT and of an orphaned
//! FIN_WAIT2, a lingering close, and the tail loss probe.

use crate::socket::Socket;
use crate::state::State;
use crate::tcp::context::Cx;
use crate::tcp::output::{tcp_output, write_xmit, XmitMode};
use crate::tcp::recovery::{retransmit_timeout, send_loss_probe};
use crate::tcp::rto::probe_interval;
use crate::tcp::segment::{send_ack, send_probe, send_rst};
use crate::tcp::timers::arm_timer;
use crate::tcp::transition::{give_up, set_state};
use crate::time::ms_to_us;
use crate::trace::{EventKind, TimerKind};

pub(crate) fn on_timer(s: &mut Socket, cx: &mut Cx<'_>, kind: TimerKind) {
    match kind {
        TimerKind::Retransmit => retransmit_timeout(s, cx),
        TimerKind::DelayedAck => {
            let tcb = &mut s.tcb;
            // A missed delayed ACK ends pingpong mode (tcp_delack_timer_handler()).
            tcb.pingpong = false;
            if tcb.ack_pending {
                send_ack(s, cx);
            }
        }
        TimerKind::Persist => {
            let socket = &*s;
            if !socket.state.is_synchronized() || socket.state == State::TimeWait {
                return;
            }
            if socket.tcb.snd_wnd > 0 {
                // tcp_write_wakeup(): data held back by TCP_CORK or MSG_MORE with nothing in
                // flight goes out now, one segment of it; then whatever else may.
                if socket.tcb.unsent() > 0 && socket.in_flight() == 0 {
                    write_xmit(s, cx, XmitMode::Wakeup);
                }
                tcp_output(s, cx);
                return;
            }
            // tcp_probe_timer(): a peer that answers may keep its window closed for ever
            // (RFC 1122 4.2.2.17), but after tcp_retries2 probes in a row without any
            // answer the connection is given up.
            let retries2 = cx.tcp.retries2;
            if socket.tcb.probes >= retries2 {
                give_up(s, cx, "zero-window probes went unanswered (tcp_retries2): the connection times out");
                return;
            }
            cx.emit(EventKind::Note {
                pid: None,
                text: format!(
                    "{}'s persist timer sends a zero-window probe: a segment with an old sequence number, which the peer answers with an ACK that shows its current window (Linux answers at most one such segment per 500 ms).",
                    cx.host_name
                ),
            });
            send_probe(s, cx);
            let tcb = &mut s.tcb;
            tcb.probes += 1;
            tcb.probe_backoff = (tcb.probe_backoff + 1).min(retries2);
            let delay = probe_interval(s, cx);
            arm_timer(s, cx, TimerKind::Persist, cx.now + delay);
        }
        TimerKind::Keepalive => {
            let tcp = cx.tcp.clone();
            let socket = &*s;
            if !socket.keepalive || !socket.state.is_synchronized() || socket.state == State::TimeWait {
                return;
            }
            let idle = cx.now.saturating_sub(socket.tcb.last_heard_at);
            let keepalive_time = ms_to_us(tcp.keepalive_time_ms);
            let sent = socket.tcb.probes;
            if idle < keepalive_time && sent == 0 {
                let at = socket.tcb.last_heard_at + keepalive_time;
                arm_timer(s, cx, TimerKind::Keepalive, at);
            } else if socket.send_q() > 0 {
                // Data waiting or in flight has its own timers to find a dead peer:
                // tcp_keepalive_timer() only checks again an interval later.
                arm_timer(s, cx, TimerKind::Keepalive, cx.now + ms_to_us(tcp.keepalive_intvl_ms));
            } else if sent >= tcp.keepalive_probes {
                // tcp_keepalive_timer() resets the connection (tcp_send_active_reset())
                // in case the peer is alive but unreachable, then reports ETIMEDOUT.
                send_rst(s, cx);
                give_up(s, cx, "keepalive probes went unanswered: the peer is gone (ETIMEDOUT)");
            } else {
                let text = format!(
                    "{}'s keepalive timer sends probe {} of {}: a segment with an old sequence number that a live peer must answer.",
                    cx.host_name,
                    sent + 1,
                    tcp.keepalive_probes
                );
                cx.emit(EventKind::Note { pid: None, text });
                send_probe(s, cx);
                s.tcb.probes = sent + 1;
                arm_timer(s, cx, TimerKind::Keepalive, cx.now + ms_to_us(tcp.keepalive_intvl_ms));
            }
        }
        TimerKind::TimeWait => set_state(s, cx, State::Closed, "2MSL has passed: TIME_WAIT ends"),
        TimerKind::FinWait2 => {
            set_state(s, cx, State::Closed, "the orphaned FIN_WAIT2 socket timed out (tcp_fin_timeout)");
        }
        TimerKind::Linger => cx.wake(s),
        TimerKind::LossProbe => send_loss_probe(s, cx),
    }
}
