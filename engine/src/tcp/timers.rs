//! Arming and cancelling a socket's timers. A timer is a deadline in the socket's slot for
//! its kind plus an entry in the world's queue; an entry whose deadline no longer matches
//! the slot is stale and ignored when it comes up (smoltcp keeps timers as deadlines too).

use crate::socket::Socket;
use crate::tcp::context::Cx;
use crate::trace::{EventKind, TimerAction, TimerKind};

/// Sets the timer of `kind` to fire at `deadline`, replacing a running one.
pub(crate) fn arm_timer(s: &mut Socket, cx: &mut Cx<'_>, kind: TimerKind, deadline: u64) {
    s.timers[kind.slot()] = Some(deadline);
    cx.emit(timer_event(s, cx.host_name, kind, TimerAction::Armed, deadline));
    cx.schedule_timer(s.id, kind, deadline);
}

/// Arms a timer unless it already runs.
pub(crate) fn ensure_timer(s: &mut Socket, cx: &mut Cx<'_>, kind: TimerKind, deadline: u64) {
    if s.timer(kind).is_none() {
        arm_timer(s, cx, kind, deadline);
    }
}

pub(crate) fn cancel_timer(s: &mut Socket, cx: &mut Cx<'_>, kind: TimerKind) {
    if let Some(deadline) = s.timers[kind.slot()].take() {
        cx.emit(timer_event(s, cx.host_name, kind, TimerAction::Cancelled, deadline));
    }
}

/// Which timers [`cancel_timers`] leaves running.
#[derive(Clone, Copy)]
pub(crate) enum Keep {
    Nothing,
    /// close()'s linger timer: a lingering close() still waits on it.
    Linger,
    /// TIME_WAIT's own timer and close()'s linger timer.
    TimeWaitAndLinger,
}

impl Keep {
    fn keeps(self, kind: TimerKind) -> bool {
        match self {
            Keep::Nothing => false,
            Keep::Linger => kind == TimerKind::Linger,
            Keep::TimeWaitAndLinger => matches!(kind, TimerKind::TimeWait | TimerKind::Linger),
        }
    }
}

/// Cancels every running timer of the socket but those `keep` names, in the declared order
/// of [`TimerKind::ALL`].
pub(crate) fn cancel_timers(s: &mut Socket, cx: &mut Cx<'_>, keep: Keep) {
    for kind in TimerKind::ALL.into_iter().filter(|&kind| !keep.keeps(kind)) {
        cancel_timer(s, cx, kind);
    }
}

pub(crate) fn timer_event(
    s: &Socket,
    host_name: &str,
    kind: TimerKind,
    action: TimerAction,
    deadline: u64,
) -> EventKind {
    EventKind::Timer { host: host_name.to_string(), socket: s.id, timer: kind, action, deadline_us: deadline }
}
