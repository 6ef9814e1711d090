//! The simulated world: hosts, links, processes, one clock, one event queue, one RNG.
//!
//! Time never comes from outside: the run loop pops the earliest pending event (ordered by
//! `(time, seq)`, turmoil-net style), advances the clock to it and handles it, then lets
//! every process that became runnable run its steps. System calls take no simulated time.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use crate::addr::{Ipv4, SockAddr};
use crate::errno::Errno;
use crate::format;
use crate::rng::Rng;
use crate::scenario::{Call, Expect, LinkSpec, Scenario, Step, TcpSettings};
use crate::socket::{timer_slot, Socket, TIMER_KINDS};
use crate::state::State;
use crate::trace::{
    Event, EventKind, FdAction, Flags, Phase, Pid, ProcessAction, Proto, SocketAction, SocketId, TcpOptions,
    TimerAction, TimerKind, Trace,
};
use crate::vecmap::VecMap;
use crate::RunError;

/// One-way latency between two sockets of the same host.
pub(crate) const LOOPBACK_LATENCY_US: u64 = 5;
/// MTU of a host's own loopback path (Linux `lo`).
pub(crate) const LOOPBACK_MTU: u32 = 65_536;
/// Ephemeral ports (`net.ipv4.ip_local_port_range`).
pub(crate) const EPHEMERAL_PORTS: (u16, u16) = (32_768, 60_999);

pub(crate) struct Host {
    pub name: String,
    pub addr: Ipv4,
    pub tcp: TcpSettings,
    pub next_isn: usize,
    pub next_port: usize,
    /// Sockets holding each local port (bound, listening, connected or TIME_WAIT).
    pub ports: VecMap<u16, Vec<SocketId>>,
    /// Connected sockets by (local, peer).
    pub conns: VecMap<(SockAddr, SockAddr), SocketId>,
}

#[derive(Clone, Copy)]
pub(crate) struct Link {
    pub latency_us: u64,
    pub mtu: u32,
}

/// A segment on the wire.
#[derive(Clone, Debug)]
pub(crate) struct Wire {
    pub id: u64,
    pub proto: Proto,
    pub from: SockAddr,
    pub to: SockAddr,
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub payload: Vec<u8>,
    pub options: TcpOptions,
    pub retransmission: bool,
    /// The sender's initial sequence number, so faults can name relative sequence numbers.
    pub isn: Option<u32>,
    /// Why the segment was sent, when that is not the ordinary flow of data (a tail loss
    /// probe); the trace shows it as the sent segment's `reason`.
    pub why: Option<&'static str>,
    /// The ACK reports a duplicate segment in a D-SACK block (RFC 2883). SACK blocks are not
    /// drawn in the trace; the sender only uses this to end a tail loss probe episode.
    pub dsack: bool,
}

impl Wire {
    /// Sequence space the segment occupies: payload plus one for SYN and one for FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload.len() as u32 + u32::from(self.flags.syn) + u32::from(self.flags.fin)
    }
}

enum Pending {
    Deliver(Wire),
    Crash(usize),
    Reboot(usize),
    Drop(Wire, String),
    Timer { socket: SocketId, kind: TimerKind, deadline: u64 },
    Wake { pid: Pid, token: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Ready,
    Sleeping,
    Blocked,
    Exited,
}

/// A call that has entered and not yet returned.
#[derive(Clone, Debug, Default)]
struct InCall {
    blocked: bool,
    /// Bytes a blocking send() has queued so far.
    progress: u32,
    /// Payload of a send() in progress.
    data: Option<Vec<u8>>,
    /// Deadline of a sleep() or a lingering close().
    until: Option<u64>,
    /// The socket a call that has already released its descriptor still waits on.
    socket: Option<SocketId>,
    /// `progress` when this call entered (a writen() loop carries progress across calls).
    start: u32,
    /// Why the call waits, once it blocks.
    reason: Option<String>,
    /// The enter phase has been traced.
    entered: bool,
    /// A writer waiting for room: run again only once this socket is writable.
    wait_writable: Option<SocketId>,
    /// The arguments as the enter line showed them.
    args: Option<String>,
}

struct Process {
    name: String,
    host: usize,
    /// Shared with the scenario's other copies of the program (a fork's child keeps its own).
    steps: std::rc::Rc<[Step]>,
    pc: usize,
    fds: VecMap<i32, SocketId>,
    names: VecMap<String, i32>,
    status: Status,
    call: Option<InCall>,
    wake_token: u64,
    children: u32,
}

/// What a system call did.
#[derive(Clone)]
pub(crate) enum Outcome {
    /// It returned this value (and maybe a value to show, such as an address).
    Done(i64, Option<String>),
    Failed(Errno),
    /// It must wait on this socket (None: only a timer wakes it), for this reason.
    Block(Option<SocketId>, String),
}

pub(crate) struct World {
    pub now: u64,
    pub hosts: Vec<Host>,
    host_by_addr: VecMap<Ipv4, usize>,
    links: VecMap<(usize, usize), Link>,
    pub sockets: Vec<Socket>,
    processes: Vec<Process>,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    pending: Vec<Option<Pending>>,
    free_slots: Vec<usize>,
    seq: u64,
    pub rng: Rng,
    ready: BTreeSet<Pid>,
    /// A process that stepped aside for events of its own instant (see `step_process`): it
    /// goes on before the processes those events woke, as the running thread keeps its CPU
    /// while a woken one is still being scheduled on another.
    resuming: Option<Pid>,
    pub events: Vec<Event>,
    max_events: usize,
    max_time_us: u64,
    next_segment_id: u64,
    pub failures: Vec<String>,
    overflow: bool,
    faults: Vec<crate::scenario::Fault>,
    /// How many segments each fault rule has matched so far.
    fault_hits: Vec<u32>,
    pub host_down: Vec<bool>,
    /// Queued events that are not timers (deliveries, drops, wake-ups, crashes): the
    /// deadlock check needs to know whether anything but a timer can still happen.
    non_timer_pending: usize,
    deadlock: Option<String>,
    /// Unit tests only: segments for this host are traced as delivered and go no further.
    absorb: Option<usize>,
}

impl World {
    pub fn new(scenario: &Scenario) -> World {
        let hosts: Vec<Host> = scenario
            .hosts
            .iter()
            .map(|spec| Host {
                name: spec.name.clone(),
                addr: spec.addr,
                tcp: spec.tcp.clone(),
                next_isn: 0,
                next_port: 0,
                ports: VecMap::new(),
                conns: VecMap::new(),
            })
            .collect();
        let host_by_addr = hosts.iter().enumerate().map(|(index, host)| (host.addr, index)).collect();
        let index_of = |name: &str| hosts.iter().position(|host| host.name == name);
        let mut links = VecMap::new();
        if scenario.links.is_empty() {
            for a in 0..hosts.len() {
                for b in a + 1..hosts.len() {
                    let spec = LinkSpec {
                        a: String::new(),
                        b: String::new(),
                        latency_us: crate::scenario::default_latency_us(),
                        mtu: crate::scenario::default_mtu(),
                    };
                    links.insert((a, b), Link { latency_us: spec.latency_us, mtu: spec.mtu });
                }
            }
        } else {
            for spec in &scenario.links {
                // validate() has checked that both names exist.
                if let (Some(a), Some(b)) = (index_of(&spec.a), index_of(&spec.b)) {
                    links.insert((a.min(b), a.max(b)), Link { latency_us: spec.latency_us, mtu: spec.mtu });
                }
            }
        }
        let mut world = World {
            now: 0,
            hosts,
            host_by_addr,
            links,
            sockets: Vec::new(),
            processes: Vec::new(),
            queue: BinaryHeap::new(),
            pending: Vec::new(),
            free_slots: Vec::new(),
            seq: 0,
            rng: Rng::new(scenario.seed),
            ready: BTreeSet::new(),
            resuming: None,
            events: Vec::new(),
            max_events: scenario.limits.max_events,
            max_time_us: scenario.limits.max_time_ms.saturating_mul(1000),
            next_segment_id: 0,
            failures: Vec::new(),
            overflow: false,
            faults: scenario.faults.clone(),
            fault_hits: vec![0; scenario.faults.len()],
            host_down: vec![false; scenario.hosts.len()],
            non_timer_pending: 0,
            deadlock: None,
            absorb: None,
        };
        for fault in &scenario.faults {
            let index_of = |name: &str| world.hosts.iter().position(|host| host.name == name);
            match fault {
                crate::scenario::Fault::Crash { host, at_ms } => {
                    if let Some(host) = index_of(host) {
                        world.schedule(ms_to_us(*at_ms), Pending::Crash(host));
                    }
                }
                crate::scenario::Fault::Reboot { host, at_ms } => {
                    if let Some(host) = index_of(host) {
                        world.schedule(ms_to_us(*at_ms), Pending::Reboot(host));
                    }
                }
                _ => {}
            }
        }
        for index in 0..world.hosts.len() {
            let host = world.hosts[index].name.clone();
            let addr = world.hosts[index].addr;
            world.emit(EventKind::Host { host, addr });
        }
        for spec in &scenario.processes {
            let host = world.hosts.iter().position(|host| host.name == spec.host).unwrap_or(0);
            world.spawn(spec.name.clone(), host, spec.steps.clone(), None, VecMap::new(), VecMap::new());
        }
        world
    }

    /// Runs to the end: no pending events, the time limit, or the event limit.
    pub fn run(mut self, scenario: &Scenario) -> Result<crate::Run, RunError> {
        self.run_ready();
        let reason = match self.advance(u64::MAX) {
            Some(Stop::Finished(reason)) => Some(reason),
            Some(Stop::EventLimit) | None => None,
        };
        let trace_meta = |events| Trace {
            scenario: scenario.name.clone(),
            title: scenario.title.clone(),
            source: scenario.source.clone(),
            events,
        };
        match reason {
            Some(reason) => {
                // The closing event is always recorded, even by a run that used its whole budget.
                self.events.push(Event { t_us: self.now, kind: EventKind::End { reason } });
                let failed_expectations = std::mem::take(&mut self.failures);
                let streams = self
                    .sockets
                    .iter_mut()
                    .filter(|socket| socket.proto == Proto::Tcp && socket.peer.is_some())
                    .map(|socket| crate::Stream {
                        socket: socket.id,
                        local: socket.local.unwrap_or_default(),
                        peer: socket.peer.unwrap_or_default(),
                        written: std::mem::take(&mut socket.written),
                        read: std::mem::take(&mut socket.read),
                    })
                    .collect();
                Ok(crate::Run { trace: trace_meta(self.events), failed_expectations, streams })
            }
            None => Err(RunError::EventLimit {
                limit: self.max_events,
                t_us: self.now,
                partial: Box::new(trace_meta(self.events)),
            }),
        }
    }

    /// Handles every pending event up to `until_us` (inclusive), letting processes run after
    /// each. Returns why the run is over, or None if it can go on past `until_us`.
    pub(crate) fn advance(&mut self, until_us: u64) -> Option<Stop> {
        loop {
            if self.overflow {
                return Some(Stop::EventLimit);
            }
            if let Some(reason) = self.deadlock.take() {
                return Some(Stop::Finished(reason));
            }
            let Some(&Reverse((time, _, slot))) = self.queue.peek() else {
                let blocked: Vec<String> = self
                    .processes
                    .iter()
                    .filter(|process| process.status == Status::Blocked)
                    .map(|process| process.name.clone())
                    .collect();
                return Some(Stop::Finished(if blocked.is_empty() {
                    "every process has finished and the network is quiet".to_string()
                } else {
                    format!("nothing more can happen: {} still blocked forever", blocked.join(", "))
                }));
            };
            if time > self.max_time_us {
                return Some(Stop::Finished(format!(
                    "stopped at the time limit of {} s",
                    self.max_time_us / 1_000_000
                )));
            }
            if time > until_us {
                return None;
            }
            self.queue.pop();
            let pending = self.pending[slot].take();
            if !matches!(pending, Some(Pending::Timer { .. }) | None) {
                self.non_timer_pending -= 1;
            }
            self.free_slots.push(slot);
            self.now = time;
            match pending {
                Some(Pending::Deliver(wire)) => {
                    if self.absorb.is_some() && self.host_by_addr.get(&wire.to.ip) == self.absorb.as_ref() {
                        self.emit_segment(&wire, crate::trace::Fate::Delivered, None);
                    } else {
                        self.deliver(wire);
                    }
                }
                Some(Pending::Crash(host)) => self.crash(host),
                Some(Pending::Reboot(host)) => {
                    self.host_down[host] = false;
                    let name = self.hosts[host].name.clone();
                    self.emit(EventKind::Note {
                        pid: None,
                        text: format!(
                            "{name} boots again with empty connection tables: segments of its old connections will draw RST"
                        ),
                    });
                }
                Some(Pending::Drop(wire, reason)) => {
                    self.emit_segment(&wire, crate::trace::Fate::Dropped, Some(reason))
                }
                Some(Pending::Timer { socket, kind, deadline }) => self.timer_fired(socket, kind, deadline),
                Some(Pending::Wake { pid, token }) => {
                    let process = &self.processes[pid as usize];
                    if process.wake_token == token && process.status != Status::Exited {
                        self.ready.insert(pid);
                    }
                }
                None => {}
            }
            // Linux handles every packet of a burst in one softirq before the scheduler runs
            // the processes they woke (net_rx_action()), so processes run only once nothing
            // else is due at this instant.
            let burst_continues = self.queue.peek().is_some_and(|&Reverse((next, _, _))| next == time);
            if !burst_continues {
                self.run_ready();
            }
        }
    }

    /// Starts the programs (the first part of [`World::run`]), for callers that then
    /// [`World::advance`] step by step.
    pub(crate) fn start(&mut self) {
        self.run_ready();
    }

    // ----- trace -----

    pub fn emit(&mut self, kind: EventKind) {
        if self.events.len() >= self.max_events {
            self.overflow = true;
            return;
        }
        self.events.push(Event { t_us: self.now, kind });
    }

    /// Records a socket's queue levels and wakes whoever waits on it (the one place a queue
    /// change is traced).
    pub fn queues_changed(&mut self, id: SocketId) {
        let socket = &self.sockets[id as usize];
        let kind = EventKind::Queues {
            host: self.hosts[socket.host].name.clone(),
            socket: id,
            send_q: socket.send_q(),
            recv_q: socket.recv_q(),
            delivered: socket.tcb.delivered,
            send_cap: socket.sndbuf,
            recv_cap: socket.rcvbuf,
            syn_q: socket.syn_queue.len() as u32,
            accept_q: socket.accept_queue.len() as u32,
            backlog: socket.backlog,
            rcv_fin: socket.tcb.fin_rcvd,
        };
        self.emit(kind);
        self.wake(id);
    }

    /// The one place a TCP state changes: traced with its cause, waiters woken.
    pub fn set_state(&mut self, id: SocketId, to: State, cause: &str) {
        let socket = &mut self.sockets[id as usize];
        let from = socket.state;
        if from == to {
            return;
        }
        socket.state = to;
        if to == State::Established {
            socket.was_connected = true;
        }
        let kind = EventKind::State {
            host: self.hosts[socket.host].name.clone(),
            socket: id,
            local: socket.local.unwrap_or_default(),
            peer: socket.peer,
            from,
            to,
            cause: cause.to_string(),
        };
        self.emit(kind);
        match to {
            State::TimeWait => {
                // Every timer but TIME_WAIT's own (armed below) and close()'s linger timer.
                self.cancel_timers(id, &[TimerKind::TimeWait, TimerKind::Linger]);
                let host = self.sockets[id as usize].host;
                let two_msl = crate::tcp::two_msl_us(&self.hosts[host].tcp);
                self.arm_timer(id, TimerKind::TimeWait, self.now + two_msl);
            }
            State::Closed => {
                self.cancel_timers(id, &[TimerKind::Linger]);
                self.sockets[id as usize].tcb.send_buf.clear();
                if self.sockets[id as usize].refs == 0 && self.sockets[id as usize].listener.is_none() {
                    self.free_socket(id);
                }
            }
            _ => {}
        }
        self.wake(id);
    }

    pub fn wake(&mut self, id: SocketId) {
        let waiters = std::mem::take(&mut self.sockets[id as usize].waiters);
        for pid in waiters {
            if self.processes[pid as usize].status == Status::Blocked {
                self.ready.insert(pid);
            }
        }
    }

    // ----- the event queue and timers -----

    fn schedule(&mut self, at: u64, pending: Pending) {
        if !matches!(pending, Pending::Timer { .. }) {
            self.non_timer_pending += 1;
        }
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.pending[slot] = Some(pending);
                slot
            }
            None => {
                self.pending.push(Some(pending));
                self.pending.len() - 1
            }
        };
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, slot)));
    }

    pub fn arm_timer(&mut self, id: SocketId, kind: TimerKind, deadline: u64) {
        let socket = &mut self.sockets[id as usize];
        socket.timers[timer_slot(kind)] = Some(deadline);
        let host = self.hosts[socket.host].name.clone();
        self.emit(EventKind::Timer {
            host,
            socket: id,
            timer: kind,
            action: TimerAction::Armed,
            deadline_us: deadline,
        });
        self.schedule(deadline, Pending::Timer { socket: id, kind, deadline });
    }

    /// Arms a timer unless it already runs.
    pub fn ensure_timer(&mut self, id: SocketId, kind: TimerKind, deadline: u64) {
        if self.sockets[id as usize].timer(kind).is_none() {
            self.arm_timer(id, kind, deadline);
        }
    }

    pub fn cancel_timer(&mut self, id: SocketId, kind: TimerKind) {
        let socket = &mut self.sockets[id as usize];
        if let Some(deadline) = socket.timers[timer_slot(kind)].take() {
            let host = self.hosts[socket.host].name.clone();
            self.emit(EventKind::Timer {
                host,
                socket: id,
                timer: kind,
                action: TimerAction::Cancelled,
                deadline_us: deadline,
            });
        }
    }

    /// Cancels every running timer of socket `id` except the kinds in `keep`, in one fixed
    /// order (the order of their cancel events in the trace).
    pub fn cancel_timers(&mut self, id: SocketId, keep: &[TimerKind]) {
        const ORDER: [TimerKind; TIMER_KINDS] = [
            TimerKind::Retransmit,
            TimerKind::LossProbe,
            TimerKind::DelayedAck,
            TimerKind::Persist,
            TimerKind::Keepalive,
            TimerKind::TimeWait,
            TimerKind::FinWait2,
            TimerKind::Linger,
        ];
        for kind in ORDER.into_iter().filter(|kind| !keep.contains(kind)) {
            self.cancel_timer(id, kind);
        }
    }

    /// Linux's sk_stream_is_writeable(): free SendQ space is at least half of what is
    /// queued, i.e. a third of the buffer; a socket with an error or shut down also counts,
    /// so that the writer sees the error.
    fn writable(&self, id: SocketId) -> bool {
        let socket = &self.sockets[id as usize];
        let queued = socket.send_q();
        socket.freed
            || socket.error.is_some()
            || !socket.state.can_send()
            || socket.shut_wr
            || socket.sndbuf.saturating_sub(queued) >= queued / 2
    }

    /// True when every living process is blocked and nothing but window or keepalive
    /// probes can still happen: no segment in flight, no wake-up, no retransmission or
    /// delayed ACK pending. Probes are answered with the same closed window, so nobody
    /// will ever be woken (Sockets-in-C 7.5).
    fn deadlocked(&self) -> bool {
        if self.non_timer_pending > 0 {
            return false;
        }
        let mut blocked = false;
        for process in &self.processes {
            match process.status {
                Status::Exited => {}
                Status::Blocked => blocked = true,
                Status::Ready | Status::Sleeping => return false,
            }
        }
        blocked
            && self.sockets.iter().filter(|socket| !socket.freed).all(|socket| {
                [TimerKind::Retransmit, TimerKind::LossProbe, TimerKind::DelayedAck, TimerKind::Linger]
                    .iter()
                    .all(|&kind| socket.timer(kind).is_none())
                    && (socket.timer(TimerKind::Persist).is_none() && socket.timer(TimerKind::Keepalive).is_none()
                        || self.peer_answers_probes(socket))
                    // A probe is answered with the receiver's real window: if that window is
                    // open (a window update was lost), the probe will unstick the sender.
                    && (socket.timer(TimerKind::Persist).is_none() || self.peer_window(socket) == Some(0))
            })
    }

    /// The window the peer of a connected socket would advertise now, if it still exists.
    fn peer_window(&self, socket: &Socket) -> Option<u32> {
        let (local, peer) = (socket.local?, socket.peer?);
        let &host = self.host_by_addr.get(&peer.ip)?;
        let &other = self.hosts[host].conns.get(&(peer, local))?;
        Some(self.compute_window(other))
    }

    /// Whether a probe from `socket` would be answered by a live peer that still has the
    /// connection. A probe to a crashed or rebooted host goes unanswered (or draws an RST)
    /// and ends the connection (`tcp_keepalive_timer()` and `tcp_probe_timer()` give up
    /// with ETIMEDOUT), so such a probe can still change what the processes see.
    fn peer_answers_probes(&self, socket: &Socket) -> bool {
        let (Some(local), Some(peer)) = (socket.local, socket.peer) else { return false };
        let Some(&host) = self.host_by_addr.get(&peer.ip) else { return false };
        !self.host_down[host] && self.hosts[host].conns.contains_key(&(peer, local))
    }

    fn declare_deadlock(&mut self) {
        let stuck: Vec<String> = self
            .processes
            .iter()
            .filter(|process| process.status == Status::Blocked)
            .map(|process| {
                let call = process.steps.get(process.pc).map_or("?", |step| step.call.name());
                let reason = process.call.as_ref().and_then(|call| call.reason.clone()).unwrap_or_default();
                format!("{} in {call}() ({reason})", process.name)
            })
            .collect();
        let text = format!(
            "Deadlock: {}. Each waits for the other to read, nobody reads, and the only segments left \
             are window probes answered with a zero window, so they will wait forever.",
            stuck.join("; ")
        );
        self.emit(EventKind::Note { pid: None, text });
        self.deadlock = Some(format!("deadlock: {} blocked forever", stuck.len()));
    }

    fn timer_fired(&mut self, id: SocketId, kind: TimerKind, deadline: u64) {
        let socket = &mut self.sockets[id as usize];
        // A timer that was cancelled or re-armed since leaves a stale queue entry behind.
        if socket.freed || socket.timers[timer_slot(kind)] != Some(deadline) {
            return;
        }
        // The deadlock check runs while this timer still counts as armed.
        if matches!(kind, TimerKind::Persist | TimerKind::Keepalive)
            && self.peer_answers_probes(&self.sockets[id as usize])
            && self.deadlocked()
        {
            self.sockets[id as usize].timers[timer_slot(kind)] = None;
            self.declare_deadlock();
            return;
        }
        let socket = &mut self.sockets[id as usize];
        socket.timers[timer_slot(kind)] = None;
        let host = self.hosts[socket.host].name.clone();
        self.emit(EventKind::Timer {
            host,
            socket: id,
            timer: kind,
            action: TimerAction::Fired,
            deadline_us: deadline,
        });
        self.on_timer(id, kind);
    }

    // ----- network -----

    /// Where a segment from `host` to `dst` goes: (destination host, latency, MTU).
    pub fn route(&self, host: usize, dst: Ipv4) -> Option<(usize, u64, u32)> {
        let &to = self.host_by_addr.get(&dst)?;
        if to == host {
            return Some((to, LOOPBACK_LATENCY_US, LOOPBACK_MTU));
        }
        let link = self.links.get(&(host.min(to), host.max(to)))?;
        Some((to, link.latency_us, link.mtu))
    }

    /// Puts a segment on the wire: traced as sent, then delivered after the link's latency
    /// or dropped, as the scenario's faults decide.
    pub fn transmit(&mut self, host: usize, mut wire: Wire) {
        self.next_segment_id += 1;
        wire.id = self.next_segment_id;
        self.emit_segment(&wire, crate::trace::Fate::Sent, wire.why.map(str::to_string));
        let Some((to, latency, _)) = self.route(host, wire.to.ip) else {
            let at = self.now;
            self.schedule(at, Pending::Drop(wire, "no route to the destination".to_string()));
            return;
        };
        match self.fault_verdict(host, to, &wire) {
            Verdict::Pass { extra_us, duplicate } => {
                let at = self.now + latency + extra_us;
                if duplicate {
                    self.schedule(at, Pending::Deliver(wire.clone()));
                }
                self.schedule(at, Pending::Deliver(wire));
            }
            Verdict::Drop(reason) => {
                // Drawn as lost half-way along the link.
                let at = self.now + latency / 2;
                self.schedule(at, Pending::Drop(wire, reason));
            }
        }
    }

    /// The first fault rule that matches decides a segment's fate (turmoil-net's `Verdict`).
    fn fault_verdict(&mut self, from: usize, to: usize, wire: &Wire) -> Verdict {
        use crate::scenario::Fault;
        // The rules are taken out for the loop so that random draws can borrow the world.
        let faults = std::mem::take(&mut self.faults);
        let mut verdict = Verdict::Pass { extra_us: 0, duplicate: false };
        for (index, fault) in faults.iter().enumerate() {
            if let Some(matching) = fault.matching() {
                if !segment_matches(matching, &self.hosts[from].name, &self.hosts[to].name, wire, self.now) {
                    continue;
                }
            }
            let decided = match fault {
                Fault::Drop { nth, count, .. } => {
                    self.fault_hits[index] += 1;
                    let hit = self.fault_hits[index];
                    (hit >= *nth && hit < nth.saturating_add(*count))
                        .then(|| Verdict::Drop(format!("dropped by the scenario (faults[{index}])")))
                }
                Fault::Loss { rate, .. } => self.rng.chance(*rate).then(|| {
                    Verdict::Drop(format!("lost at random (faults[{index}], rate {})", format::decimal(*rate)))
                }),
                Fault::Duplicate { rate, .. } => {
                    self.rng.chance(*rate).then_some(Verdict::Pass { extra_us: 0, duplicate: true })
                }
                Fault::Reorder { rate, delay_us, .. } => {
                    self.rng.chance(*rate).then_some(Verdict::Pass { extra_us: *delay_us, duplicate: false })
                }
                Fault::Delay { extra_us, .. } => Some(Verdict::Pass { extra_us: *extra_us, duplicate: false }),
                Fault::LinkDown { a, b, from_ms, until_ms } => {
                    let (x, y) = (&self.hosts[from].name, &self.hosts[to].name);
                    let pair = (x == a && y == b) || (x == b && y == a);
                    let active =
                        self.now >= ms_to_us(*from_ms) && until_ms.is_none_or(|until| self.now < ms_to_us(until));
                    (pair && active).then(|| Verdict::Drop(format!("the link between {a} and {b} is down")))
                }
                Fault::Crash { .. } | Fault::Reboot { .. } => None,
            };
            if let Some(decided) = decided {
                verdict = decided;
                break;
            }
        }
        self.faults = faults;
        verdict
    }

    /// A host crashes: its processes stop and its sockets vanish; it sends nothing more
    /// and what reaches it is lost.
    fn crash(&mut self, host: usize) {
        self.host_down[host] = true;
        let name = self.hosts[host].name.clone();
        self.emit(EventKind::Note {
            pid: None,
            text: format!("{name} crashes: its processes and sockets vanish without sending a single segment"),
        });
        for pid in 0..self.processes.len() {
            let process = &mut self.processes[pid];
            if process.host == host && process.status != Status::Exited {
                process.status = Status::Exited;
                process.fds.clear();
                let process_name = process.name.clone();
                self.ready.remove(&(pid as Pid));
                self.emit(EventKind::Process {
                    pid: pid as Pid,
                    host: name.clone(),
                    name: process_name,
                    action: ProcessAction::Exit,
                    parent: None,
                });
            }
        }
        let doomed: Vec<SocketId> =
            self.sockets.iter().filter(|socket| socket.host == host && !socket.freed).map(|socket| socket.id).collect();
        for id in doomed {
            self.sockets[id as usize].refs = 0;
            self.sockets[id as usize].listener = None;
            self.free_socket(id);
        }
        self.hosts[host].ports.clear();
        self.hosts[host].conns.clear();
    }

    pub fn emit_segment(&mut self, wire: &Wire, fate: crate::trace::Fate, reason: Option<String>) {
        self.emit(EventKind::Segment(crate::trace::Segment {
            id: wire.id,
            fate,
            proto: wire.proto,
            from: wire.from,
            to: wire.to,
            flags: wire.flags,
            seq: wire.seq,
            ack: wire.ack,
            win: wire.win,
            len: wire.payload.len() as u32,
            options: wire.options,
            reason,
            retransmission: wire.retransmission,
        }));
    }

    fn deliver(&mut self, wire: Wire) {
        let Some(&host) = self.host_by_addr.get(&wire.to.ip) else {
            self.emit_segment(&wire, crate::trace::Fate::Dropped, Some("no host has this address".into()));
            return;
        };
        if self.host_down[host] {
            self.emit_segment(&wire, crate::trace::Fate::Dropped, Some("the destination host is down".into()));
            return;
        }
        match wire.proto {
            Proto::Tcp => self.tcp_deliver(host, wire),
            Proto::Udp => self.udp_deliver(host, wire),
        }
    }

    fn udp_deliver(&mut self, host: usize, wire: Wire) {
        let target = self.lookup_bound(host, Proto::Udp, wire.to, Some(wire.from));
        match target {
            Some(id) => {
                self.emit_segment(&wire, crate::trace::Fate::Delivered, None);
                self.sockets[id as usize].datagrams.push_back((wire.from, wire.payload));
                self.queues_changed(id);
            }
            None => {
                self.emit_segment(&wire, crate::trace::Fate::Dropped, Some("no socket is bound to this port".into()));
            }
        }
    }

    /// The socket on `host` a segment for `local` from `peer` goes to: an exact connected
    /// match first, then the bound socket with the fewest wildcards (Sockets-in-C 7.12).
    pub fn lookup_bound(&self, host: usize, proto: Proto, local: SockAddr, peer: Option<SockAddr>) -> Option<SocketId> {
        let host_ref = &self.hosts[host];
        if let Some(peer) = peer {
            if let Some(&id) = host_ref.conns.get(&(local, peer)) {
                if self.sockets[id as usize].proto == proto {
                    return Some(id);
                }
            }
        }
        let users = host_ref.ports.get(&local.port)?;
        let mut best: Option<(u32, SocketId)> = None;
        for &id in users {
            let socket = &self.sockets[id as usize];
            if socket.proto != proto || socket.freed {
                continue;
            }
            if proto == Proto::Tcp && socket.state != State::Listen {
                continue;
            }
            let Some(bound) = socket.local else { continue };
            let mut wildcards = 0;
            if bound.ip.is_unspecified() {
                wildcards += 1;
            } else if bound.ip != local.ip {
                continue;
            }
            if proto == Proto::Udp {
                match (socket.peer, peer) {
                    (Some(connected), Some(peer)) if connected != peer => continue,
                    (None, _) => wildcards += 1,
                    _ => {}
                }
            }
            if best.is_none_or(|(fewest, _)| wildcards < fewest) {
                best = Some((wildcards, id));
            }
        }
        best.map(|(_, id)| id)
    }

    // ----- sockets and ports -----

    pub fn new_socket(&mut self, host: usize, proto: Proto) -> SocketId {
        let id = self.sockets.len() as SocketId;
        let tcp = &self.hosts[host].tcp;
        self.sockets.push(Socket::new(id, host, proto, tcp.sndbuf, tcp.rcvbuf));
        id
    }

    pub fn emit_socket(&mut self, id: SocketId, action: SocketAction) {
        let socket = &self.sockets[id as usize];
        let kind = EventKind::Socket {
            host: self.hosts[socket.host].name.clone(),
            socket: id,
            action,
            proto: socket.proto,
            local: socket.local,
            peer: socket.peer,
            listener: socket.listener,
        };
        self.emit(kind);
    }

    pub fn claim_port(&mut self, id: SocketId, port: u16) {
        let host = self.sockets[id as usize].host;
        self.hosts[host].ports.get_or_insert_with(port, Vec::new).push(id);
    }

    pub fn register_conn(&mut self, id: SocketId) {
        let socket = &self.sockets[id as usize];
        if let (Some(local), Some(peer)) = (socket.local, socket.peer) {
            let host = socket.host;
            self.hosts[host].conns.insert((local, peer), id);
        }
    }

    /// Forgets a socket: its port, its connection entry, its slot in a listener's queues.
    pub fn free_socket(&mut self, id: SocketId) {
        if self.sockets[id as usize].freed {
            return;
        }
        self.cancel_timers(id, &[]);
        self.emit_socket(id, SocketAction::Free);
        let socket = &mut self.sockets[id as usize];
        socket.freed = true;
        socket.tcb.send_buf = Default::default();
        socket.tcb.recv_buf = Default::default();
        socket.tcb.ooo.clear();
        let (host, local, peer, listener) = (socket.host, socket.local, socket.peer, socket.listener.take());
        if let Some(local) = local {
            if let Some(users) = self.hosts[host].ports.get_mut(&local.port) {
                users.retain(|&user| user != id);
                if users.is_empty() {
                    self.hosts[host].ports.remove(&local.port);
                }
            }
            if let Some(peer) = peer {
                if self.hosts[host].conns.get(&(local, peer)) == Some(&id) {
                    self.hosts[host].conns.remove(&(local, peer));
                }
            }
        }
        if let Some(listener) = listener {
            let parent = &mut self.sockets[listener as usize];
            parent.syn_queue.retain(|&child| child != id);
            parent.accept_queue.retain(|&child| child != id);
            if !parent.freed {
                self.queues_changed(listener);
            }
        }
        self.wake(id);
    }

    /// Would binding `addr` on `host` for socket `id` conflict (Linux inet_csk_bind_conflict)?
    /// Two sockets may share a port only if both set SO_REUSEADDR and the other is not
    /// listening; TIME_WAIT sockets count too. Sockets that all set SO_REUSEPORT may share a
    /// port whatever their state (same user assumed: `inet_bind_conflict()`, net/ipv4/
    /// inet_connection_sock.c).
    pub fn bind_conflict(&self, id: SocketId, addr: SockAddr) -> bool {
        let socket = &self.sockets[id as usize];
        let Some(users) = self.hosts[socket.host].ports.get(&addr.port) else { return false };
        users.iter().any(|&other| {
            let other = &self.sockets[other as usize];
            if other.id == id || other.proto != socket.proto || other.freed {
                return false;
            }
            let Some(bound) = other.local else { return false };
            let overlap = bound.ip.is_unspecified() || addr.ip.is_unspecified() || bound.ip == addr.ip;
            let reuseaddr = socket.reuseaddr && other.reuseaddr && other.state != State::Listen;
            let reuseport = socket.reuseport && other.reuseport;
            overlap && !reuseaddr && !reuseport
        })
    }

    /// Picks a free ephemeral port on `host`: from the scenario's list first, then at random.
    pub fn ephemeral_port(&mut self, host: usize) -> Option<u16> {
        while let Some(&port) = self.hosts[host].tcp.ephemeral_ports.get(self.hosts[host].next_port) {
            self.hosts[host].next_port += 1;
            if !self.hosts[host].ports.contains_key(&port) {
                return Some(port);
            }
        }
        let (low, high) = EPHEMERAL_PORTS;
        let span = u32::from(high - low) + 1;
        let start = self.rng.range(0, span - 1);
        (0..span)
            .map(|offset| low + ((start + offset) % span) as u16)
            .find(|port| !self.hosts[host].ports.contains_key(port))
    }

    pub fn next_isn(&mut self, host: usize) -> u32 {
        let index = self.hosts[host].next_isn;
        match self.hosts[host].tcp.isn.get(index) {
            Some(&isn) => {
                self.hosts[host].next_isn += 1;
                isn
            }
            None => self.rng.next_u32(),
        }
    }

    // ----- processes -----

    fn spawn(
        &mut self,
        name: String,
        host: usize,
        steps: Vec<Step>,
        parent: Option<Pid>,
        fds: VecMap<i32, SocketId>,
        names: VecMap<String, i32>,
    ) -> Pid {
        let pid = self.processes.len() as Pid;
        let host_name = self.hosts[host].name.clone();
        self.processes.push(Process {
            name: name.clone(),
            host,
            steps: steps.into(),
            pc: 0,
            fds: fds.clone(),
            names,
            status: Status::Ready,
            call: None,
            wake_token: 0,
            children: 0,
        });
        let action = if parent.is_some() { ProcessAction::Fork } else { ProcessAction::Start };
        self.emit(EventKind::Process { pid, host: host_name, name, action, parent });
        for (&fd, &socket) in &fds {
            self.sockets[socket as usize].refs += 1;
            self.emit(EventKind::Fd { pid, fd, socket, action: FdAction::Open });
        }
        self.ready.insert(pid);
        pid
    }

    fn run_ready(&mut self) {
        loop {
            if self.overflow || self.due_now() {
                // Events of this instant come first (see step_process).
                return;
            }
            let pid = match self.resuming.take() {
                Some(pid) if self.ready.remove(&pid) => pid,
                _ => match self.ready.pop_first() {
                    Some(pid) => pid,
                    None => return,
                },
            };
            self.step_process(pid);
        }
    }

    /// After a call returned: if something it set off is due at this very instant (only a link
    /// without latency does that), the process steps aside so that it happens first, as on
    /// Linux's loopback a segment and the peer's answer to it are handled inside the call that
    /// sent it, before the program's next call. The process then goes on before the ones those
    /// events woke (`resuming`). Returns whether it stepped aside.
    fn step_aside(&mut self, pid: Pid) -> bool {
        if !self.due_now() {
            return false;
        }
        self.ready.insert(pid);
        self.resuming = Some(pid);
        true
    }

    /// Whether an event (a delivery over a link without latency, most often) is due at the
    /// current instant.
    fn due_now(&self) -> bool {
        self.queue.peek().is_some_and(|&Reverse((time, _, _))| time == self.now)
    }

    fn sleep_until(&mut self, pid: Pid, until: u64) {
        let process = &mut self.processes[pid as usize];
        process.status = Status::Sleeping;
        process.wake_token += 1;
        let token = process.wake_token;
        self.schedule(until, Pending::Wake { pid, token });
    }

    fn step_process(&mut self, pid: Pid) {
        loop {
            if self.overflow {
                return;
            }
            let process = &mut self.processes[pid as usize];
            if process.status == Status::Exited {
                return;
            }
            process.status = Status::Ready;
            let steps = process.steps.clone();
            let Some(step) = steps.get(process.pc) else {
                self.exit_process(pid);
                return;
            };
            if process.call.is_none() {
                if let Some(at) = step.at_ms {
                    let at = (at * 1000.0).round() as u64;
                    if self.now < at {
                        self.sleep_until(pid, at);
                        return;
                    }
                }
                self.processes[pid as usize].call = Some(InCall::default());
                if let Some(note) = &step.note {
                    self.emit(EventKind::Note { pid: Some(pid), text: note.clone() });
                }
            }
            if let Some(id) = self.processes[pid as usize].call.as_ref().and_then(|call| call.wait_writable) {
                if !self.writable(id) {
                    // Still not writable: keep waiting without calling again.
                    self.processes[pid as usize].status = Status::Blocked;
                    self.sockets[id as usize].waiters.push(pid);
                    return;
                }
                if let Some(call) = self.processes[pid as usize].call.as_mut() {
                    call.wait_writable = None;
                }
            }
            if !self.processes[pid as usize].call.as_ref().is_some_and(|call| call.entered) {
                if let Some(call) = self.processes[pid as usize].call.as_mut() {
                    call.entered = true;
                }
                self.emit_syscall(pid, &step.call, Phase::Enter, None);
            }
            let outcome = self.execute(pid, &step.call);
            match outcome {
                Outcome::Block(socket, reason) => {
                    let process = &mut self.processes[pid as usize];
                    let call = process.call.get_or_insert_with(InCall::default);
                    let first = !call.blocked;
                    call.blocked = true;
                    call.reason = Some(reason.clone());
                    let until = call.until;
                    if matches!(step.call, Call::Send { .. } | Call::SendAll { .. } | Call::Sendto { .. }) {
                        // A blocked writer sleeps until SendQ is at least a third free
                        // (sk_stream_wait_memory(), sk_stream_is_writeable()).
                        call.wait_writable = socket;
                    }
                    process.status = if socket.is_some() { Status::Blocked } else { Status::Sleeping };
                    if first {
                        self.emit_syscall(pid, &step.call, Phase::Block, Some(Outcome::Block(socket, reason)));
                    }
                    if let Some(id) = socket {
                        // A lingering close() is also woken by its socket's linger timer.
                        self.sockets[id as usize].waiters.push(pid);
                    } else if let Some(until) = until {
                        self.sleep_until(pid, until);
                    }
                    return;
                }
                outcome => {
                    self.emit_syscall(pid, &step.call, Phase::Return, Some(outcome.clone()));
                    let repeat = match (&step.call, &outcome) {
                        (Call::RecvToEof { .. }, Outcome::Done(value, _)) => *value > 0,
                        (Call::SendAll { .. }, Outcome::Done(_, _)) => {
                            let call = self.processes[pid as usize].call.as_ref();
                            let total = payload_len(&step.call);
                            call.is_some_and(|call| call.progress < total)
                        }
                        (Call::SendAll { .. }, Outcome::Failed(Errno::EAGAIN)) => true,
                        _ => false,
                    };
                    if let Some(expect) = &step.expect {
                        if !repeat {
                            self.check_expectation(pid, step, expect, &outcome);
                        }
                    }
                    let process = &mut self.processes[pid as usize];
                    if repeat {
                        // The loop calls again: a fresh call that keeps the byte count.
                        let progress = process.call.as_ref().map_or(0, |call| call.progress);
                        let data = process.call.as_mut().and_then(|call| call.data.take());
                        process.call = Some(InCall { progress, data, start: progress, ..InCall::default() });
                        if matches!(outcome, Outcome::Failed(Errno::EAGAIN)) {
                            // A writen() loop on a nonblocking socket waits in poll() until
                            // the socket is writable again.
                            let fd = step.call.fd().unwrap_or_default().to_string();
                            if let Ok(id) = self.fd_socket(pid, &fd) {
                                if let Some(call) = self.processes[pid as usize].call.as_mut() {
                                    call.wait_writable = Some(id);
                                }
                            }
                        }
                        if self.step_aside(pid) {
                            return;
                        }
                        continue;
                    }
                    process.call = None;
                    process.pc += 1;
                    if self.step_aside(pid) {
                        return;
                    }
                }
            }
        }
    }

    fn check_expectation(&mut self, pid: Pid, step: &Step, expect: &Expect, outcome: &Outcome) {
        let matches = match (expect, outcome) {
            (Expect::Value(value), Outcome::Done(result, _)) => value == result,
            (Expect::Errno(errno), Outcome::Failed(result)) => errno == result,
            _ => false,
        };
        if !matches {
            let got = match outcome {
                Outcome::Done(value, _) => value.to_string(),
                Outcome::Failed(errno) => errno.to_string(),
                Outcome::Block(..) => "a block".to_string(),
            };
            let process = &self.processes[pid as usize];
            let text = format!(
                "expectation failed: {}'s step {} ({}) was expected to give {expect}, it gave {got}",
                process.name,
                process.pc + 1,
                step.call.name()
            );
            self.failures.push(text.clone());
            self.emit(EventKind::Note { pid: Some(pid), text });
        }
    }

    fn emit_syscall(&mut self, pid: Pid, call: &Call, phase: Phase, outcome: Option<Outcome>) {
        let process = &self.processes[pid as usize];
        let socket = call.fd().and_then(|name| process.names.get(name)).and_then(|fd| process.fds.get(fd)).copied();
        let socket = socket.or_else(|| process.call.as_ref().and_then(|call| call.socket));
        // The arguments are rendered once when the call enters and repeated on its block
        // and return lines.
        let cached = process.call.as_ref().and_then(|call| call.args.clone());
        let args = match (phase, cached) {
            (Phase::Enter, _) | (_, None) => {
                let args = self.render_args(pid, call);
                if let Some(in_call) = self.processes[pid as usize].call.as_mut() {
                    in_call.args = Some(args.clone());
                }
                args
            }
            (_, Some(args)) => args,
        };
        let process = &self.processes[pid as usize];
        let (mut result, mut errno, mut reason, mut value) = (None, None, None, None);
        match outcome {
            Some(Outcome::Done(v, shown)) => {
                result = Some(v);
                value = shown;
            }
            Some(Outcome::Failed(e)) => errno = Some(e),
            Some(Outcome::Block(_, why)) => reason = Some(why),
            None => {}
        }
        let kind = EventKind::Syscall {
            pid,
            process: process.name.clone(),
            host: self.hosts[process.host].name.clone(),
            call: call.name().to_string(),
            args,
            phase,
            socket,
            result,
            errno,
            reason,
            value,
        };
        self.emit(kind);
    }

    /// The call's arguments as C would show them, with descriptor numbers resolved.
    fn render_args(&self, pid: Pid, call: &Call) -> String {
        let process = &self.processes[pid as usize];
        let fd = |name: &str| process.names.get(name).map_or_else(|| name.to_string(), |fd| fd.to_string());
        match call {
            Call::Socket { sock_type, .. } => match sock_type {
                crate::scenario::SockType::Stream => "AF_INET, SOCK_STREAM, 0".to_string(),
                crate::scenario::SockType::Dgram => "AF_INET, SOCK_DGRAM, 0".to_string(),
            },
            Call::Bind { fd: name, addr } | Call::Connect { fd: name, addr } => format!("{}, {}", fd(name), addr),
            Call::Listen { fd: name, backlog } => format!("{}, {backlog}", fd(name)),
            Call::Accept { fd: name, .. } => fd(name),
            Call::Sendto { fd: name, addr, .. } => format!("{}, {} bytes, {addr}", fd(name), payload_len(call)),
            Call::Recvfrom { fd: name, len } => format!("{}, {len}", fd(name)),
            Call::Send { fd: name, .. } | Call::SendAll { fd: name, .. } => {
                let total = payload_len(call);
                let done = process.call.as_ref().map_or(0, |call| call.progress);
                format!("{}, {} bytes", fd(name), total - done.min(total))
            }
            Call::Recv { fd: name, len } | Call::RecvToEof { fd: name, len } => format!("{}, {len}", fd(name)),
            Call::Shutdown { fd: name, how } => format!("{}, {}", fd(name), how.name()),
            Call::Close { fd: name }
            | Call::Getsockname { fd: name }
            | Call::Getpeername { fd: name }
            | Call::Dup { fd: name, .. } => fd(name),
            Call::Setsockopt { fd: name, opt, value } => {
                let value = match value {
                    crate::scenario::OptValue::Flag(flag) => u8::from(*flag).to_string(),
                    crate::scenario::OptValue::Number(number) => number.to_string(),
                    crate::scenario::OptValue::Linger(linger) => {
                        format!("{{l_onoff={}, l_linger={}}}", u8::from(linger.onoff), linger.linger)
                    }
                };
                format!("{}, {}, {value}", fd(name), opt.name())
            }
            Call::Getsockopt { fd: name, opt } => format!("{}, {}", fd(name), opt.name()),
            Call::Fcntl { fd: name, nonblock } => {
                format!("{}, F_SETFL, {}", fd(name), if *nonblock { "O_NONBLOCK" } else { "0" })
            }
            Call::Fork { .. } => String::new(),
            Call::Sleep { ms } => format!("{} ms", format::decimal(*ms)),
        }
    }

    pub fn fd_socket(&self, pid: Pid, name: &str) -> Result<SocketId, Errno> {
        let process = &self.processes[pid as usize];
        let fd = process.names.get(name).ok_or(Errno::EBADF)?;
        process.fds.get(fd).copied().ok_or(Errno::EBADF)
    }

    fn alloc_fd(&mut self, pid: Pid, name: &str, socket: SocketId) -> i32 {
        let process = &mut self.processes[pid as usize];
        let fd = (3..).find(|fd| !process.fds.contains_key(fd)).unwrap_or(3);
        process.fds.insert(fd, socket);
        process.names.insert(name.to_string(), fd);
        self.sockets[socket as usize].refs += 1;
        self.emit(EventKind::Fd { pid, fd, socket, action: FdAction::Open });
        fd
    }

    /// Closes one descriptor; the socket itself closes when its last descriptor goes.
    fn close_fd(&mut self, pid: Pid, fd: i32) -> Option<SocketId> {
        let socket = self.processes[pid as usize].fds.remove(&fd)?;
        self.emit(EventKind::Fd { pid, fd, socket, action: FdAction::Close });
        let refs = &mut self.sockets[socket as usize].refs;
        *refs = refs.saturating_sub(1);
        if *refs == 0 {
            self.last_close(socket);
        }
        Some(socket)
    }

    fn exit_process(&mut self, pid: Pid) {
        let fds: Vec<i32> = self.processes[pid as usize].fds.keys().copied().collect();
        if !fds.is_empty() {
            let name = self.processes[pid as usize].name.clone();
            self.emit(EventKind::Note {
                pid: Some(pid),
                text: format!("{name} exits; the kernel closes its open descriptors"),
            });
        }
        for fd in fds {
            self.close_fd(pid, fd);
        }
        let process = &mut self.processes[pid as usize];
        process.status = Status::Exited;
        let (name, host) = (process.name.clone(), self.hosts[process.host].name.clone());
        self.emit(EventKind::Process { pid, host, name, action: ProcessAction::Exit, parent: None });
    }

    /// Runs (or re-tries, after a wake-up) the current step's call.
    fn execute(&mut self, pid: Pid, call: &Call) -> Outcome {
        let host = self.processes[pid as usize].host;
        let resolve = |world: &Self, name: &str| world.fd_socket(pid, name);
        macro_rules! socket {
            ($name:expr) => {
                match resolve(self, $name) {
                    Ok(id) => id,
                    Err(errno) => return Outcome::Failed(errno),
                }
            };
        }
        match call {
            Call::Socket { name, sock_type } => {
                let proto = match sock_type {
                    crate::scenario::SockType::Stream => Proto::Tcp,
                    crate::scenario::SockType::Dgram => Proto::Udp,
                };
                let id = self.new_socket(host, proto);
                self.emit_socket(id, SocketAction::Create);
                // Show the new socket's (empty) queues and their capacities from the start.
                self.queues_changed(id);
                let fd = self.alloc_fd(pid, name, id);
                Outcome::Done(i64::from(fd), None)
            }
            Call::Bind { fd, addr } => {
                let id = socket!(fd);
                self.sys_bind(id, *addr)
            }
            Call::Listen { fd, backlog } => {
                let id = socket!(fd);
                self.sys_listen(id, *backlog)
            }
            Call::Connect { fd, addr } => {
                let id = socket!(fd);
                let first = !self.processes[pid as usize].call.as_ref().is_some_and(|call| call.blocked);
                self.sys_connect(id, *addr, first)
            }
            Call::Accept { fd, name } => {
                let id = socket!(fd);
                match self.sys_accept(id) {
                    Ok(child) => {
                        let fd = self.alloc_fd(pid, name, child);
                        let peer = self.sockets[child as usize].peer.map(|peer| peer.to_string());
                        Outcome::Done(i64::from(fd), peer)
                    }
                    Err(outcome) => outcome,
                }
            }
            Call::Send { fd, .. } | Call::SendAll { fd, .. } => {
                let id = socket!(fd);
                let process = &mut self.processes[pid as usize];
                let in_call = process.call.get_or_insert_with(InCall::default);
                if in_call.data.is_none() {
                    in_call.data = Some(payload_bytes(call));
                }
                let data = in_call.data.take().unwrap_or_default();
                let (progress, start) = (in_call.progress, in_call.start);
                let (outcome, queued) = self.sys_send(id, &data, progress, start);
                let in_call = self.processes[pid as usize].call.get_or_insert_with(InCall::default);
                in_call.progress = queued;
                in_call.data = Some(data);
                outcome
            }
            Call::Sendto { fd, addr, .. } => {
                let id = socket!(fd);
                if self.sockets[id as usize].proto == Proto::Udp {
                    let data = payload_bytes(call);
                    self.send_datagram(id, *addr, &data)
                } else {
                    let data = payload_bytes(call);
                    self.sys_send(id, &data, 0, 0).0
                }
            }
            Call::Recvfrom { fd, len } => {
                let id = socket!(fd);
                self.sys_recv(id, *len)
            }
            Call::Recv { fd, len } | Call::RecvToEof { fd, len } => {
                let id = socket!(fd);
                self.sys_recv(id, *len)
            }
            Call::Shutdown { fd, how } => {
                let id = socket!(fd);
                self.sys_shutdown(id, *how)
            }
            Call::Close { fd } => {
                let in_call = self.processes[pid as usize].call.clone().unwrap_or_default();
                if let Some(id) = in_call.socket {
                    // A lingering close() that was woken: done once the FIN is acknowledged
                    // or the linger time is up (SO_LINGER, socket(7)).
                    let socket = &self.sockets[id as usize];
                    let done = socket.freed || socket.fin_acked() || socket.state == State::Closed;
                    let expired = in_call.until.is_some_and(|until| self.now >= until);
                    if done || expired {
                        // sk_stream_wait_close() stops waiting either way; the wait's own
                        // deadline must not fire later as if it still mattered.
                        self.cancel_timer(id, TimerKind::Linger);
                        return Outcome::Done(0, None);
                    }
                    return Outcome::Block(Some(id), "lingering until the FIN is acknowledged (SO_LINGER)".into());
                }
                let name = fd.clone();
                let Some(&number) = self.processes[pid as usize].names.get(&name) else {
                    return Outcome::Failed(Errno::EBADF);
                };
                let Some(id) = self.close_fd(pid, number) else { return Outcome::Failed(Errno::EBADF) };
                self.processes[pid as usize].names.remove(&name);
                let socket = &self.sockets[id as usize];
                if let Some(seconds) = socket.linger.filter(|&seconds| seconds > 0) {
                    if socket.refs == 0 && !socket.freed && socket.fin_seq().is_some() && !socket.fin_acked() {
                        let until = self.now + u64::from(seconds) * 1_000_000;
                        let in_call = self.processes[pid as usize].call.get_or_insert_with(InCall::default);
                        in_call.socket = Some(id);
                        in_call.until = Some(until);
                        self.arm_timer(id, TimerKind::Linger, until);
                        return Outcome::Block(Some(id), "lingering until the FIN is acknowledged (SO_LINGER)".into());
                    }
                }
                Outcome::Done(0, None)
            }
            Call::Setsockopt { fd, opt, value } => {
                let id = socket!(fd);
                match crate::scenario::SockOpt::new(*opt, *value) {
                    Ok(opt) => self.sys_setsockopt(id, opt),
                    Err(_) => Outcome::Failed(Errno::EINVAL),
                }
            }
            Call::Getsockopt { fd, opt } => {
                let id = socket!(fd);
                self.sys_getsockopt(id, *opt)
            }
            Call::Fcntl { fd, nonblock } => {
                let id = socket!(fd);
                self.sockets[id as usize].nonblocking = *nonblock;
                Outcome::Done(0, None)
            }
            Call::Getsockname { fd } => {
                let id = socket!(fd);
                let local = self.sockets[id as usize].local.unwrap_or_default();
                Outcome::Done(0, Some(local.to_string()))
            }
            Call::Getpeername { fd } => {
                let id = socket!(fd);
                let socket = &self.sockets[id as usize];
                match socket.peer {
                    Some(peer) if socket.proto == Proto::Udp || socket.state.is_synchronized() => {
                        Outcome::Done(0, Some(peer.to_string()))
                    }
                    _ => Outcome::Failed(Errno::ENOTCONN),
                }
            }
            Call::Dup { fd, name } => {
                let id = socket!(fd);
                let fd = self.alloc_fd(pid, name, id);
                Outcome::Done(i64::from(fd), None)
            }
            Call::Fork { child } => {
                let process = &mut self.processes[pid as usize];
                process.children += 1;
                let (fds, names) = (process.fds.clone(), process.names.clone());
                let child = self.spawn(child.name.clone(), host, child.steps.clone(), Some(pid), fds, names);
                Outcome::Done(i64::from(child), None)
            }
            Call::Sleep { ms } => {
                let in_call = self.processes[pid as usize].call.get_or_insert_with(InCall::default);
                match in_call.until {
                    None => {
                        let until = self.now + (ms * 1000.0).round() as u64;
                        in_call.until = Some(until);
                        Outcome::Block(None, format!("sleeping {} ms", format::decimal(*ms)))
                    }
                    Some(until) if self.now < until => {
                        Outcome::Block(None, format!("sleeping {} ms", format::decimal(*ms)))
                    }
                    Some(_) => Outcome::Done(0, None),
                }
            }
        }
    }
}

fn payload_len(call: &Call) -> u32 {
    match call {
        Call::Send { data, len, .. } | Call::SendAll { data, len, .. } | Call::Sendto { data, len, .. } => {
            match (data, len) {
                (Some(data), _) => data.len() as u32,
                (None, Some(len)) => *len,
                (None, None) => 0,
            }
        }
        _ => 0,
    }
}

/// The bytes a send() writes: the literal text, or `len` bytes of a repeating alphabet so
/// that a reader can tell which bytes arrived.
fn payload_bytes(call: &Call) -> Vec<u8> {
    const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
    match call {
        Call::Send { data: Some(data), .. }
        | Call::SendAll { data: Some(data), .. }
        | Call::Sendto { data: Some(data), .. } => data.as_bytes().to_vec(),
        _ => {
            let len = payload_len(call) as usize;
            let mut bytes = Vec::with_capacity(len);
            while bytes.len() < len {
                bytes.extend_from_slice(&ALPHABET[..(len - bytes.len()).min(ALPHABET.len())]);
            }
            bytes
        }
    }
}

/// Why [`World::advance`] stopped for good.
pub(crate) enum Stop {
    Finished(String),
    EventLimit,
}

enum Verdict {
    Pass { extra_us: u64, duplicate: bool },
    Drop(String),
}

pub(crate) fn ms_to_us(ms: f64) -> u64 {
    (ms * 1000.0).round() as u64
}

fn segment_matches(matching: &crate::scenario::SegmentMatch, from: &str, to: &str, wire: &Wire, now: u64) -> bool {
    if matching.from.as_deref().is_some_and(|name| name != from)
        || matching.to.as_deref().is_some_and(|name| name != to)
    {
        return false;
    }
    if let Some(flags) = &matching.flags {
        if Flags::parse_letters(flags) != Some(wire.flags) {
            return false;
        }
    }
    if matching.data.is_some_and(|data| data == wire.payload.is_empty()) {
        return false;
    }
    if let Some([first, last]) = matching.seq {
        let Some(isn) = wire.isn else { return false };
        let relative = wire.seq.wrapping_sub(isn);
        if relative < first || relative > last {
            return false;
        }
    }
    if matching.from_ms.is_some_and(|from| now < ms_to_us(from))
        || matching.until_ms.is_some_and(|until| now >= ms_to_us(until))
    {
        return false;
    }
    true
}

// ----- test support -----

#[cfg(test)]
impl World {
    /// Handles, in `(time, seq)` order, every pending event due at or before `t_us`, then
    /// sets the clock to `t_us`, so a unit test can act between events. Segments addressed
    /// to host `absorb` are traced as delivered and then kept from that host's TCP: the test
    /// plays that host's part by hand (smoltcp's `recv!` style of testing).
    pub(crate) fn run_until(&mut self, t_us: u64, absorb: usize) {
        self.absorb = Some(absorb);
        self.run_ready();
        let _ = self.advance(t_us);
        self.now = self.now.max(t_us);
    }
}
