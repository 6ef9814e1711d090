//! Steps: what one press of → shows, and which sockets an event concerns.
//!
//! Most events of a trace are bookkeeping a reader never needs to stop at one by one: a
//! descriptor opening, a queue level, a timer armed again. A **step** is one narrated event
//! (one with a story sentence, `format::sentence`) together with the silent events that
//! belong to it, and the page only ever rests between steps, so that whatever is on screen
//! is the world with the sentence on screen fully told.
//!
//! Which step a silent event belongs to follows the order in which the engine traces a
//! change. Silent events after a narrated event are its consequences (a listener's queue
//! counts after its child's state change, a timer armed after a segment went out, a socket
//! freed after it reached CLOSED) and belong to it. But a state change is traced after the
//! facts that cause it, so a run of silent events that all concern the socket whose state
//! change comes next belongs to that change: the port `connect()` picks before SYN_SENT, the
//! child socket a SYN creates before SYN_RECV, the FIN queued behind the data before
//! CLOSE_WAIT. The simplification costs the order of events inside a step, which the page
//! shows at once; the JSON Lines trace keeps it.

use sockscope_engine::addr::SockAddr;
use sockscope_engine::replay::Snapshot;
use sockscope_engine::state::State;
use sockscope_engine::trace::{Event, EventKind, Fate, Phase, Pid, Proto, SocketId, Trace};

/// The positions a reader can land on: 0, the first event of every step after the first,
/// and the trace's length, ascending. A position is a number of events applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Steps {
    stops: Vec<usize>,
}

impl Steps {
    /// The steps of `trace`, given the indices of its narrated events in ascending order.
    pub fn new(trace: &Trace, narrated: &[usize]) -> Steps {
        let len = trace.events.len();
        let mut stops = vec![0];
        let mut previous: Option<usize> = None;
        for &index in narrated {
            if index >= len {
                break;
            }
            let start = match (previous, &trace.events[index].kind) {
                // The first step starts at the beginning, with whatever comes before it.
                (None, _) => 0,
                (Some(previous), EventKind::State { socket, .. }) => {
                    let mut start = index;
                    while start > previous + 1 && silent_event_socket(&trace.events[start - 1].kind) == Some(*socket) {
                        start -= 1;
                    }
                    start
                }
                (Some(_), _) => index,
            };
            if start > *stops.last().unwrap_or(&0) {
                stops.push(start);
            }
            previous = Some(index);
        }
        if len > *stops.last().unwrap_or(&0) {
            stops.push(len);
        }
        Steps { stops }
    }

    /// Every position a reader can land on, ascending.
    pub fn stops(&self) -> &[usize] {
        &self.stops
    }

    /// How many steps the trace has.
    pub fn count(&self) -> usize {
        self.stops.len().saturating_sub(1)
    }

    /// How many steps are complete at `cursor` (the number of the step on screen).
    pub fn completed(&self, cursor: usize) -> usize {
        self.stops.partition_point(|&stop| stop <= cursor).saturating_sub(1)
    }

    pub fn is_stop(&self, cursor: usize) -> bool {
        self.stops.binary_search(&cursor).is_ok()
    }

    /// The first position after `cursor`, or the last one.
    pub fn after(&self, cursor: usize) -> usize {
        let index = self.stops.partition_point(|&stop| stop <= cursor);
        self.stops.get(index).or(self.stops.last()).copied().unwrap_or(0)
    }

    /// The last position before `cursor`, or 0.
    pub fn before(&self, cursor: usize) -> usize {
        let index = self.stops.partition_point(|&stop| stop < cursor);
        index.checked_sub(1).map_or(0, |index| self.stops[index])
    }

    /// `cursor` if a reader can land there, else the end of the step that `cursor` is inside
    /// (the step that holds the last event applied is shown whole).
    pub fn at_or_after(&self, cursor: usize) -> usize {
        let index = self.stops.partition_point(|&stop| stop < cursor);
        self.stops.get(index).or(self.stops.last()).copied().unwrap_or(0)
    }
}

/// The socket a silent event is about, if it is about one.
fn silent_event_socket(kind: &EventKind) -> Option<SocketId> {
    match kind {
        EventKind::Queues { socket, .. }
        | EventKind::Congestion { socket, .. }
        | EventKind::Timer { socket, .. }
        | EventKind::Socket { socket, .. }
        | EventKind::Fd { socket, .. } => Some(*socket),
        _ => None,
    }
}

/// What an event is about: the sockets and processes whose cards it may change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Concern {
    /// The sockets it is about, the one it is mostly about first.
    pub sockets: Vec<SocketId>,
    pub processes: Vec<Pid>,
    /// A note of the engine's own (a host crashing or rebooting), which may change anything
    /// on its host and says so.
    pub whole_world: bool,
}

impl Concern {
    /// The TCP socket the event is mostly about, for the state diagram.
    pub fn tcp_socket(&self, before: &Snapshot) -> Option<SocketId> {
        self.sockets.iter().copied().find(|id| before.sockets.get(id).is_some_and(|socket| socket.proto == Proto::Tcp))
    }
}

/// What `event` is about, judged from the world just before it.
pub fn concern(before: &Snapshot, event: &Event) -> Concern {
    let mut concern = Concern::default();
    let add_socket = |concern: &mut Concern, id: SocketId| {
        if !concern.sockets.contains(&id) {
            concern.sockets.push(id);
        }
        if let Some(listener) = before.sockets.get(&id).and_then(|socket| socket.listener) {
            if !concern.sockets.contains(&listener) {
                concern.sockets.push(listener);
            }
        }
    };
    match &event.kind {
        EventKind::Host { .. } | EventKind::End { .. } => {}
        EventKind::Process { pid, parent, .. } => {
            concern.processes.push(*pid);
            concern.processes.extend(*parent);
            let fds = before.processes.get(pid).map(|process| process.fds.values().copied().collect::<Vec<_>>());
            for id in fds.unwrap_or_default() {
                add_socket(&mut concern, id);
            }
        }
        EventKind::Syscall { pid, socket, phase, result, .. } => {
            concern.processes.push(*pid);
            let process = before.processes.get(pid);
            let in_call = process.and_then(|process| process.call.as_ref()).and_then(|call| call.socket);
            // socket() names its socket only by the descriptor it returns.
            let returned = match (phase, result) {
                (Phase::Return, Some(fd)) => {
                    i32::try_from(*fd).ok().and_then(|fd| process.and_then(|process| process.fds.get(&fd).copied()))
                }
                _ => None,
            };
            for id in socket.iter().chain(in_call.iter()).chain(returned.iter()) {
                add_socket(&mut concern, *id);
            }
        }
        EventKind::Fd { pid, socket, .. } => {
            concern.processes.push(*pid);
            add_socket(&mut concern, *socket);
        }
        EventKind::Socket { socket, listener, .. } => {
            add_socket(&mut concern, *socket);
            if let Some(listener) = listener {
                add_socket(&mut concern, *listener);
            }
        }
        EventKind::State { socket, .. }
        | EventKind::Queues { socket, .. }
        | EventKind::Congestion { socket, .. }
        | EventKind::Timer { socket, .. } => add_socket(&mut concern, *socket),
        EventKind::Segment(segment) => {
            // A segment on the wire is about the socket that sent it; one that arrives, about
            // the socket it reaches (a connection's, else the listener's).
            let found = match segment.fate {
                Fate::Sent | Fate::Dropped => {
                    connection(before, segment.from, segment.to).or_else(|| bound(before, segment.from))
                }
                Fate::Delivered => connection(before, segment.to, segment.from).or_else(|| bound(before, segment.to)),
            };
            if let Some(id) = found {
                add_socket(&mut concern, id);
            }
        }
        EventKind::Note { pid, .. } => match pid {
            Some(pid) => concern.processes.push(*pid),
            None => concern.whole_world = true,
        },
    }
    concern
}

/// The socket whose own address is `local` and whose peer is `peer`.
fn connection(snapshot: &Snapshot, local: SockAddr, peer: SockAddr) -> Option<SocketId> {
    snapshot
        .sockets
        .values()
        .find(|socket| socket.local == Some(local) && socket.peer == Some(peer))
        .map(|socket| socket.id)
}

/// The socket without a peer that takes segments for `to`, on the host that owns the address:
/// a TCP listener, or a UDP socket bound to the address or to the wildcard address.
fn bound(snapshot: &Snapshot, to: SockAddr) -> Option<SocketId> {
    let host = snapshot.host_of_addr(to)?;
    snapshot
        .sockets_of(host)
        .find(|socket| {
            let waits = socket.state == State::Listen || (socket.proto == Proto::Udp && socket.peer.is_none());
            waits
                && socket
                    .local
                    .is_some_and(|local| local.port == to.port && (local.ip == to.ip || local.ip.is_unspecified()))
        })
        .map(|socket| socket.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::{builtin, format};

    fn handshake() -> (Trace, Steps) {
        let scenario = builtin::get("three-way-handshake").expect("three-way-handshake is built in");
        let trace = sockscope_engine::run(&scenario).expect("three-way-handshake runs").trace;
        let narrated: Vec<usize> =
            format::story(&trace, format::Numbering::Relative).into_iter().map(|(index, _)| index).collect();
        let steps = Steps::new(&trace, &narrated);
        (trace, steps)
    }

    /// The index of the first event matching `wanted`.
    fn find(trace: &Trace, wanted: impl Fn(&EventKind) -> bool) -> usize {
        trace.events.iter().position(|event| wanted(&event.kind)).expect("the event is in the trace")
    }

    #[test]
    fn navigation_lands_on_stops_and_clamps() {
        let (trace, steps) = handshake();
        let stops = steps.stops();
        let len = trace.events.len();
        assert_eq!((stops[0], *stops.last().unwrap()), (0, len));
        assert!(stops.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(steps.count() < len, "some silent events are folded into steps");
        for cursor in 0..=len {
            assert!(steps.is_stop(steps.at_or_after(cursor)));
            assert!(steps.after(cursor) > cursor || cursor == len);
            assert!(steps.before(cursor) < cursor || cursor == 0);
        }
        assert_eq!(steps.after(len), len);
        assert_eq!(steps.before(0), 0);
        assert_eq!(steps.completed(0), 0);
        assert_eq!(steps.completed(len), steps.count());
    }

    #[test]
    fn a_state_change_takes_the_silent_events_of_its_socket_that_come_before_it() {
        let (trace, steps) = handshake();
        // The SYN creates the child socket before it enters SYN_RECV; the child appears with
        // its state, and its first sending limits and the listener's SYN queue count (traced
        // after the state) come along.
        let syn_recv = find(&trace, |kind| matches!(kind, EventKind::State { to: State::SynRecv, .. }));
        let created = find(&trace, |kind| matches!(kind, EventKind::Socket { listener: Some(_), .. }));
        let limits = find(&trace, |kind| matches!(kind, EventKind::Congestion { .. }));
        let syn_queue = find(&trace, |kind| matches!(kind, EventKind::Queues { syn_q: 1, .. }));
        assert!(created < syn_recv && syn_recv < limits && limits < syn_queue);
        assert!(steps.is_stop(created), "the child's creation opens the SYN_RECV step");
        assert!(!steps.is_stop(syn_recv));
        assert!(!steps.is_stop(limits), "the child's sending limits belong to SYN_RECV's step");
        assert!(steps.is_stop(syn_queue + 1), "the listener's queue count belongs to SYN_RECV's step");
    }

    #[test]
    fn a_segment_concerns_its_sender_and_then_its_receiver() {
        let (trace, _) = handshake();
        let mut snapshot = Snapshot::default();
        let mut seen = Vec::new();
        for event in &trace.events {
            if let EventKind::Segment(segment) = &event.kind {
                if segment.flags.syn && !segment.flags.ack {
                    seen.push((segment.fate, concern(&snapshot, event).sockets));
                }
            }
            snapshot.apply(event);
        }
        // The SYN leaves the client's socket 1 and reaches the server's listener 0.
        assert_eq!(seen, [(Fate::Sent, vec![SocketId(1)]), (Fate::Delivered, vec![SocketId(0)])]);
    }
}
