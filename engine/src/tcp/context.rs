//! What the TCP machine may see and touch besides its own socket: the time, its host's
//! settings and name, and a sink for effects that the world applies once the call returns.
//!
//! The TCP code never reaches another socket, the event queue or the network. It writes
//! trace events straight into the run's trace; everything else it wants done beyond its
//! socket is an [`Effect`], recorded in order and applied in that order by the world once
//! the call returns, so the run is the same as if each had happened on the spot: no effect
//! changes anything the TCP code reads during the same call. The two effects that write to
//! the trace themselves (a listener's queue levels) make every later event of the call wait
//! behind them, so the trace keeps its order.

use crate::addr::{Ipv4, SockAddr};
use crate::scenario::TcpSettings;
use crate::socket::Socket;
use crate::trace::Fate;
use crate::trace::{EventKind, Pid, SocketAction, SocketId, TimerKind};
use crate::trace_sink::TraceSink;
use crate::wire::Wire;

/// Something for the world to do after a TCP call, in the order the TCP code asked for it.
pub(crate) enum Effect {
    /// Record a trace event (only after an effect that writes to the trace itself).
    Trace(EventKind),
    /// Send a segment, already numbered and traced as sent, on its way from the socket's host.
    Route(Wire),
    /// Queue the expiry of a timer whose deadline the socket now holds.
    ScheduleTimer { socket: SocketId, kind: TimerKind, deadline: u64 },
    /// Make these processes runnable if they are still blocked.
    Wake(Vec<Pid>),
    /// The socket was freed: drop it from its host's port and connection tables and from
    /// its listener's queues.
    Forget { socket: SocketId, local: Option<SockAddr>, peer: Option<SockAddr>, listener: Option<SocketId> },
    /// A connection completed its handshake: it moves from its listener's SYN queue to the
    /// accept queue.
    JoinAcceptQueue { listener: SocketId, child: SocketId },
}

/// Whether a connection made by a listener may join its accept queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AcceptQueue {
    /// The socket has no listener (an active open, or already accepted).
    NoListener,
    HasRoom,
    /// `sk_acceptq_is_full()`: more than backlog connections wait already.
    Full,
}

/// The narrow context of one TCP call.
pub(crate) struct Cx<'a> {
    pub now: u64,
    /// The TCP settings of the socket's host.
    pub tcp: &'a TcpSettings,
    pub host_name: &'a str,
    pub host_addr: Ipv4,
    /// For an arriving SYN: the MTU of the path back to its sender.
    pub path_mtu: Option<u32>,
    /// For a SYN_RECV connection of a listener: whether the accept queue has room.
    pub accept_queue: AcceptQueue,
    trace: &'a mut TraceSink,
    effects: &'a mut Vec<Effect>,
    /// An effect that writes to the trace is pending: later events queue behind it.
    trace_deferred: bool,
}

impl<'a> Cx<'a> {
    /// The context of a call on a socket of the host named `host_name` at `host_addr`, whose
    /// TCP settings are `tcp`.
    pub fn new(
        now: u64,
        host: (&'a str, Ipv4, &'a TcpSettings),
        trace: &'a mut TraceSink,
        effects: &'a mut Vec<Effect>,
    ) -> Self {
        let (host_name, host_addr, tcp) = host;
        Cx {
            now,
            tcp,
            host_name,
            host_addr,
            path_mtu: None,
            accept_queue: AcceptQueue::NoListener,
            trace,
            effects,
            trace_deferred: false,
        }
    }

    pub fn emit(&mut self, kind: EventKind) {
        if self.trace_deferred {
            self.effects.push(Effect::Trace(kind));
        } else {
            self.trace.emit(self.now, kind);
        }
    }

    /// Numbers a segment, traces it as sent and sends it on its way.
    pub fn transmit(&mut self, mut wire: Wire) {
        wire.id = self.trace.next_segment_id();
        self.emit(EventKind::Segment(wire.traced(Fate::Sent, wire.why.map(str::to_string))));
        self.effects.push(Effect::Route(wire));
    }

    /// Queues the expiry of a timer whose deadline the socket now holds.
    pub fn schedule_timer(&mut self, socket: SocketId, kind: TimerKind, deadline: u64) {
        self.effects.push(Effect::ScheduleTimer { socket, kind, deadline });
    }

    /// Has the world forget a freed socket. Leaving a listener's queues writes the listener's
    /// levels to the trace, so the call's later events wait behind it.
    pub fn forget(
        &mut self,
        socket: SocketId,
        local: Option<SockAddr>,
        peer: Option<SockAddr>,
        listener: Option<SocketId>,
    ) {
        self.trace_deferred |= listener.is_some();
        self.effects.push(Effect::Forget { socket, local, peer, listener });
    }

    /// Moves a connection from its listener's SYN queue to the accept queue, which writes the
    /// listener's levels to the trace; the call's later events wait behind it.
    pub fn join_accept_queue(&mut self, listener: SocketId, child: SocketId) {
        self.trace_deferred = true;
        self.effects.push(Effect::JoinAcceptQueue { listener, child });
    }

    /// Wakes every process waiting on the socket.
    pub fn wake(&mut self, socket: &mut Socket) {
        if !socket.waiters.is_empty() {
            self.effects.push(Effect::Wake(std::mem::take(&mut socket.waiters)));
        }
    }

    /// Records a socket's queue levels and wakes whoever waits on it (the one place a queue
    /// change is traced).
    pub fn queues_changed(&mut self, socket: &mut Socket) {
        let kind = queues_event(socket, self.host_name);
        self.emit(kind);
        self.wake(socket);
    }

    /// Traces the socket's sending limits if they differ from those last traced. The world
    /// calls it after every TCP call (`World::tcp_call`), the one place sending limits are
    /// traced: whatever the call changed them with (an ACK, a loss, a timeout), the trace
    /// shows the result once, after the call's own events.
    pub fn sending_limits_changed(&mut self, socket: &mut Socket) {
        let Some(limits) = socket.sending_limits() else { return };
        if socket.traced_limits != Some(limits) {
            socket.traced_limits = Some(limits);
            self.emit(limits.event(self.host_name, socket.id));
        }
    }

    /// Traces a socket's creation, address or release.
    pub fn emit_socket(&mut self, socket: &Socket, action: SocketAction) {
        let kind = socket_event(socket, self.host_name, action);
        self.emit(kind);
    }
}

/// The trace event that shows a socket's queue levels.
pub(crate) fn queues_event(socket: &Socket, host_name: &str) -> EventKind {
    EventKind::Queues {
        host: host_name.to_string(),
        socket: socket.id,
        send_q: socket.send_q(),
        recv_q: socket.recv_q(),
        delivered: socket.tcb.delivered,
        send_cap: socket.sndbuf,
        recv_cap: socket.rcvbuf,
        syn_q: socket.syn_queue.len() as u32,
        accept_q: socket.accept_queue.len() as u32,
        backlog: socket.backlog,
        rcv_fin: socket.tcb.fin_rcvd,
    }
}

/// The trace event for a socket's creation, address or release.
pub(crate) fn socket_event(socket: &Socket, host_name: &str, action: SocketAction) -> EventKind {
    EventKind::Socket {
        host: host_name.to_string(),
        socket: socket.id,
        action,
        proto: socket.proto,
        local: socket.local,
        peer: socket.peer,
        listener: socket.listener,
    }
}
