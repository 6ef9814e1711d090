//! The one place a TCP state changes, and what entering CLOSED or TIME_WAIT does to the
//! socket (smoltcp's `set_state`).

use crate::errno::Errno;
use crate::socket::Socket;
use crate::state::State;
use crate::tcp::context::Cx;
use crate::tcp::linux::two_msl_us;
use crate::tcp::timers::{arm_timer, cancel_timers, Keep};
use crate::time::ms_to_us;
use crate::trace::{EventKind, SocketAction, TimerKind};

/// Changes the socket's state, traced with its cause; waiters are woken.
pub(crate) fn set_state(s: &mut Socket, cx: &mut Cx<'_>, to: State, cause: &str) {
    let from = s.state;
    if from == to {
        return;
    }
    s.state = to;
    if to == State::Established {
        s.was_connected = true;
    }
    cx.emit(EventKind::State {
        host: cx.host_name.to_string(),
        socket: s.id,
        local: s.local.unwrap_or_default(),
        peer: s.peer,
        from,
        to,
        cause: cause.to_string(),
    });
    match to {
        State::TimeWait => {
            // Every timer but TIME_WAIT's own (armed below) and close()'s linger timer.
            cancel_timers(s, cx, Keep::TimeWaitAndLinger);
            let two_msl = two_msl_us(cx.tcp);
            arm_timer(s, cx, TimerKind::TimeWait, cx.now + two_msl);
        }
        State::Closed => {
            cancel_timers(s, cx, Keep::Linger);
            s.tcb.send_buf.clear();
            if s.refs == 0 && s.listener.is_none() {
                release(s, cx);
            }
        }
        _ => {}
    }
    cx.wake(s);
}

/// Frees a socket: its timers stop, its buffers go, and the world forgets its port, its
/// connection entry and its place in a listener's queues. Its slot stays so ids are stable.
pub(crate) fn release(s: &mut Socket, cx: &mut Cx<'_>) {
    if s.freed {
        return;
    }
    cancel_timers(s, cx, Keep::Nothing);
    cx.emit_socket(s, SocketAction::Free);
    s.freed = true;
    s.tcb.send_buf = Default::default();
    s.tcb.recv_buf = Default::default();
    s.tcb.ooo.clear();
    let listener = s.listener.take();
    cx.forget(s.id, s.local, s.peer, listener);
    cx.wake(s);
}

/// The connection is given up with ETIMEDOUT (turmoil-net and Linux surface it so).
pub(crate) fn give_up(s: &mut Socket, cx: &mut Cx<'_>, cause: &str) {
    s.error = Some(Errno::ETIMEDOUT);
    s.shut_wr = true;
    set_state(s, cx, State::Closed, cause);
}

/// An orphaned FIN_WAIT2 socket lives at most tcp_fin_timeout.
pub(crate) fn orphan_fin_wait2(s: &mut Socket, cx: &mut Cx<'_>) {
    let socket = &*s;
    if socket.refs == 0 && socket.state == State::FinWait2 && socket.timer(TimerKind::FinWait2).is_none() {
        let timeout = ms_to_us(cx.tcp.fin_timeout_ms);
        arm_timer(s, cx, TimerKind::FinWait2, cx.now + timeout);
    }
}
