//! Rebuilding the world's visible state from the trace alone, at any event index.
//!
//! A [`Snapshot`] is what a person sees at one moment: every host's processes (and the call
//! each one is in), descriptors, sockets with their state, queues, sending limits and running
//! timers, and the segments in flight. [`Timeline`] keeps a snapshot every
//! [`CHECKPOINT_EVERY`] events so that seeking anywhere, forwards or backwards, replays at
//! most that many events.

use serde::Serialize;

use crate::addr::{Ipv4, SockAddr};
use crate::errno::Errno;
use crate::state::State;
use crate::trace::{
    Event, EventKind, FdAction, Phase, Pid, ProcessAction, Proto, Segment, SendingLimits, SocketAction, SocketId,
    TimerAction, TimerKind, Trace,
};
use crate::vecmap::VecMap;

/// Events between two stored snapshots.
pub const CHECKPOINT_EVERY: usize = 256;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Number of events applied (0: before the first event).
    pub applied: usize,
    pub t_us: u64,
    pub hosts: Vec<HostView>,
    pub processes: VecMap<Pid, ProcessView>,
    pub sockets: VecMap<SocketId, SocketView>,
    /// Segments sent and not yet delivered or dropped, by segment id, with their send time.
    pub in_flight: VecMap<u64, (u64, Segment)>,
    pub ended: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostView {
    pub name: String,
    pub addr: Ipv4,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcessView {
    pub pid: Pid,
    pub name: String,
    pub host: String,
    pub parent: Option<Pid>,
    pub fds: VecMap<i32, SocketId>,
    /// The call in progress, if any.
    pub call: Option<CallView>,
    /// The last call that returned, with its result as text (`3`, `-1 ECONNREFUSED`).
    pub last: Option<(String, String)>,
    pub exited: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallView {
    pub call: String,
    pub args: String,
    /// Why it blocks, when it does.
    pub blocked: Option<String>,
    pub socket: Option<SocketId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SocketView {
    pub id: SocketId,
    pub host: String,
    pub proto: Proto,
    pub state: State,
    pub local: Option<SockAddr>,
    pub peer: Option<SockAddr>,
    /// The listener whose queues hold this connection, until accept().
    pub listener: Option<SocketId>,
    pub send_q: u32,
    pub recv_q: u32,
    pub delivered: u64,
    pub send_cap: u32,
    pub recv_cap: u32,
    pub syn_q: u32,
    pub accept_q: u32,
    pub backlog: u32,
    /// The peer's FIN has arrived.
    pub rcv_fin: bool,
    /// A recv() has taken the peer's FIN: it returned 0, or it took the last bytes before
    /// the FIN with the FIN already there (see [`SocketView::fin_unread`]).
    pub fin_read: bool,
    /// Running timers and their deadlines.
    pub timers: VecMap<TimerKind, u64>,
    /// The sending limits last traced (a TCP socket's, once it has taken its peer's SYN).
    pub limits: Option<SendingLimits>,
    /// The last state change: (from, to, cause).
    pub last_change: Option<(State, State, String)>,
}

impl SocketView {
    /// A socket as first seen: closed, unbound, its queues empty.
    pub fn new(id: SocketId, host: String, proto: Proto) -> Self {
        SocketView {
            id,
            host,
            proto,
            state: State::Closed,
            local: None,
            peer: None,
            listener: None,
            send_q: 0,
            recv_q: 0,
            delivered: 0,
            send_cap: 0,
            recv_cap: 0,
            syn_q: 0,
            accept_q: 0,
            backlog: 0,
            rcv_fin: false,
            fin_read: false,
            timers: VecMap::new(),
            limits: None,
            last_change: None,
        }
    }
}

impl SocketView {
    /// Whether the peer's FIN has arrived and no recv() has taken it yet.
    ///
    /// Linux queues the FIN in the receive queue behind the data, and recv() takes it, moving
    /// `copied_seq` past it, as soon as it has copied the last byte before it: in the same
    /// call when the FIN shares the last data's buffer (`tcp_try_coalesce()` merges them) or
    /// the call still has room, or else in the call that returns 0 (`tcp_recvmsg_locked()`,
    /// `found_fin_ok`). The engine does not keep the buffers apart, so a recv() that leaves
    /// RecvQ empty with the FIN there counts as having taken it.
    pub fn fin_unread(&self) -> bool {
        self.rcv_fin && !self.fin_read
    }

    /// `ss -tan`'s Recv-Q and Send-Q for this socket, as Linux's `tcp_diag_get_info()` and
    /// the minisockets' fill functions report them (docs/linux-model.md, "Observing a real
    /// kernel"):
    ///
    /// - LISTEN: the accept queue's length and the backlog;
    /// - TIME_WAIT: 0 and 0, because the kernel keeps only a small `inet_timewait_sock`,
    ///   without queues;
    /// - SYN_RECV on a listener's behalf: 0 and 0, for the same reason (a `request_sock`);
    /// - any other socket: `rcv_nxt - copied_seq`, the unread bytes plus a FIN that has
    ///   arrived and not been read, and `write_seq - snd_una`, the unacknowledged bytes plus
    ///   a SYN (SYN_SENT, and SYN_RECV of a simultaneous open) or a FIN (FIN_WAIT1, CLOSING,
    ///   LAST_ACK) sent and not yet acknowledged, since each takes one sequence number.
    pub fn ss_queues(&self) -> (u32, u32) {
        match self.state {
            State::Listen => (self.accept_q, self.backlog),
            State::TimeWait => (0, 0),
            State::SynRecv if self.listener.is_some() => (0, 0),
            state => {
                let syn_or_fin_unacked = matches!(
                    state,
                    State::SynSent | State::SynRecv | State::FinWait1 | State::Closing | State::LastAck
                );
                (self.recv_q + u32::from(self.fin_unread()), self.send_q + u32::from(syn_or_fin_unacked))
            }
        }
    }
}

impl Snapshot {
    /// Applies one event. Events that refer to things the snapshot does not know (a
    /// hand-edited trace) are ignored rather than trusted.
    pub fn apply(&mut self, event: &Event) {
        self.applied += 1;
        self.t_us = event.t_us;
        match &event.kind {
            EventKind::Host { host, addr } => self.hosts.push(HostView { name: host.clone(), addr: *addr }),
            EventKind::Process { pid, host, name, action, parent } => match action {
                ProcessAction::Start | ProcessAction::Fork => {
                    self.processes.insert(
                        *pid,
                        ProcessView {
                            pid: *pid,
                            name: name.clone(),
                            host: host.clone(),
                            parent: *parent,
                            fds: VecMap::new(),
                            call: None,
                            last: None,
                            exited: false,
                        },
                    );
                }
                ProcessAction::Exit => {
                    if let Some(process) = self.processes.get_mut(pid) {
                        process.exited = true;
                        process.call = None;
                    }
                }
            },
            EventKind::Syscall { pid, call, args, phase, socket, result, errno, reason, .. } => {
                let Some(process) = self.processes.get_mut(pid) else { return };
                match phase {
                    Phase::Enter => {
                        process.call =
                            Some(CallView { call: call.clone(), args: args.clone(), blocked: None, socket: *socket })
                    }
                    Phase::Block => {
                        if let Some(view) = &mut process.call {
                            view.blocked = reason.clone().or_else(|| Some(String::new()));
                        }
                    }
                    Phase::Return => {
                        process.call = None;
                        process.last = Some((call.clone(), result_text(*result, *errno)));
                        let reads = matches!(call.as_str(), "recv" | "recvfrom");
                        if let (true, None, Some(view)) =
                            (reads, errno, socket.and_then(|id| self.sockets.get_mut(&id)))
                        {
                            if view.rcv_fin && view.recv_q == 0 {
                                view.fin_read = true;
                            }
                        }
                    }
                }
            }
            EventKind::Fd { pid, fd, socket, action } => {
                let Some(process) = self.processes.get_mut(pid) else { return };
                match action {
                    FdAction::Open => {
                        process.fds.insert(*fd, *socket);
                    }
                    FdAction::Close => {
                        process.fds.remove(fd);
                    }
                }
            }
            EventKind::Socket { host, socket, action, proto, local, peer, listener } => match action {
                SocketAction::Create => {
                    let mut view = SocketView::new(*socket, host.clone(), *proto);
                    view.local = *local;
                    view.peer = *peer;
                    view.listener = *listener;
                    self.sockets.insert(*socket, view);
                }
                SocketAction::Address => {
                    if let Some(view) = self.sockets.get_mut(socket) {
                        view.local = *local;
                        view.peer = *peer;
                    }
                }
                SocketAction::Accepted => {
                    if let Some(view) = self.sockets.get_mut(socket) {
                        view.listener = None;
                    }
                }
                SocketAction::Free => {
                    self.sockets.remove(socket);
                }
            },
            EventKind::State { socket, from, to, cause, local, peer, .. } => {
                if let Some(view) = self.sockets.get_mut(socket) {
                    view.state = *to;
                    view.local = Some(*local);
                    if peer.is_some() {
                        view.peer = *peer;
                    }
                    view.last_change = Some((*from, *to, cause.clone()));
                }
            }
            EventKind::Queues {
                socket,
                send_q,
                recv_q,
                delivered,
                send_cap,
                recv_cap,
                syn_q,
                accept_q,
                backlog,
                rcv_fin,
                ..
            } => {
                if let Some(view) = self.sockets.get_mut(socket) {
                    view.send_q = *send_q;
                    view.recv_q = *recv_q;
                    view.delivered = *delivered;
                    view.send_cap = *send_cap;
                    view.recv_cap = *recv_cap;
                    view.syn_q = *syn_q;
                    view.accept_q = *accept_q;
                    view.backlog = *backlog;
                    view.rcv_fin = *rcv_fin;
                }
            }
            EventKind::Congestion { socket, cwnd, ssthresh, srtt_us, rto_us, .. } => {
                if let Some(view) = self.sockets.get_mut(socket) {
                    view.limits =
                        Some(SendingLimits { cwnd: *cwnd, ssthresh: *ssthresh, srtt_us: *srtt_us, rto_us: *rto_us });
                }
            }
            EventKind::Segment(segment) => match segment.fate {
                crate::trace::Fate::Sent => {
                    self.in_flight.insert(segment.id, (event.t_us, segment.clone()));
                }
                _ => {
                    self.in_flight.remove(&segment.id);
                }
            },
            EventKind::Timer { socket, timer, action, deadline_us, .. } => {
                if let Some(view) = self.sockets.get_mut(socket) {
                    match action {
                        TimerAction::Armed => {
                            view.timers.insert(*timer, *deadline_us);
                        }
                        TimerAction::Fired | TimerAction::Cancelled => {
                            view.timers.remove(timer);
                        }
                    }
                }
            }
            EventKind::Note { .. } => {}
            EventKind::End { reason } => self.ended = Some(reason.clone()),
        }
    }

    /// The host a socket address belongs to, by IP.
    pub fn host_of_addr(&self, addr: SockAddr) -> Option<&str> {
        self.hosts.iter().find(|host| host.addr == addr.ip).map(|host| host.name.as_str())
    }

    /// Sockets of one host, in id order.
    pub fn sockets_of<'a>(&'a self, host: &'a str) -> impl Iterator<Item = &'a SocketView> + 'a {
        self.sockets.values().filter(move |socket| socket.host == host)
    }
}

/// `3`, `0`, or `-1 ECONNREFUSED`.
pub fn result_text(result: Option<i64>, errno: Option<Errno>) -> String {
    match (result, errno) {
        (_, Some(errno)) => format!("-1 {errno}"),
        (Some(value), None) => value.to_string(),
        (None, None) => String::new(),
    }
}

/// Snapshots of one trace at every [`CHECKPOINT_EVERY`] events, for instant seeking.
#[derive(Clone, Debug)]
pub struct Timeline {
    checkpoints: Vec<Snapshot>,
}

impl Timeline {
    pub fn new(trace: &Trace) -> Timeline {
        let mut checkpoints = vec![Snapshot::default()];
        let mut current = Snapshot::default();
        for (index, event) in trace.events.iter().enumerate() {
            current.apply(event);
            if (index + 1) % CHECKPOINT_EVERY == 0 {
                checkpoints.push(current.clone());
            }
        }
        Timeline { checkpoints }
    }

    /// The world after the first `applied` events (clamped to the trace's length).
    pub fn at(&self, trace: &Trace, applied: usize) -> Snapshot {
        let applied = applied.min(trace.events.len());
        let checkpoint = (applied / CHECKPOINT_EVERY).min(self.checkpoints.len() - 1);
        let mut snapshot = self.checkpoints[checkpoint].clone();
        for event in &trace.events[snapshot.applied..applied] {
            snapshot.apply(event);
        }
        snapshot
    }
}
