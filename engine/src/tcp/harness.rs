//! Test-only harness for the TCP state-machine tests in `tests.rs` beside it.
//!
//! A two-host world: host `local` (10.0.0.1) runs the socket under test; host `remote`
//! (10.0.0.2) runs nothing, and the test plays its part by hand, as smoltcp's socket tests
//! do. Segments the test writes are put on the wire from `remote` with [`Harness::inject`];
//! segments the socket sends reach `remote` and stop there (see [`World::run_until`]); the
//! test reads them back from the trace with [`Harness::take_sent`].
//!
//! Simplification: system calls are made on their kernel halves (`sys_*`), not by a
//! scripted process, so a test can place a call between two segments at a chosen moment.
//! A descriptor is modelled by the socket's reference count alone.

use crate::addr::{Ipv4, SockAddr};
use crate::errno::Errno;
use crate::ids::HostId;
use crate::outcome::Outcome;
use crate::scenario::{How, Scenario, TcpSettings};
use crate::socket::Socket;
use crate::state::State;
use crate::tcp::ConnectAttempt;
use crate::trace::{EventKind, Fate, Flags, Proto, Segment, SocketAction, SocketId, TcpOptions, TimerKind};
use crate::wire::Wire;
use crate::world::World;

pub(crate) const LOCAL_IP: Ipv4 = Ipv4([10, 0, 0, 1]);
pub(crate) const REMOTE_IP: Ipv4 = Ipv4([10, 0, 0, 2]);
/// One-way latency of the link between the two hosts.
pub(crate) const LATENCY_US: u64 = 1_000;
/// The local host's first initial sequence number (later ones come from the RNG).
pub(crate) const LOCAL_ISS: u32 = 1_000_000;
/// The local host's first ephemeral port.
pub(crate) const LOCAL_EPHEMERAL_PORT: u16 = 40_000;

/// What a system call returned, in a form a test can compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ret {
    Value(i64),
    Err(Errno),
    /// The call would block (a blocking socket) and waits for the socket to change.
    Blocked,
}

impl From<Outcome> for Ret {
    fn from(outcome: Outcome) -> Ret {
        match outcome {
            Outcome::Done { value, .. } => Ret::Value(value),
            Outcome::Failed(errno) => Ret::Err(errno),
            Outcome::Block { .. } => Ret::Blocked,
        }
    }
}

/// A segment the test sends from the remote host, in the manner of smoltcp's `TcpRepr`:
/// every field not given is zero or empty.
#[derive(Clone, Debug, Default)]
pub(crate) struct Seg {
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub payload: Vec<u8>,
    pub options: TcpOptions,
}

/// A segment the local host put on the wire, and when.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub t_us: u64,
    pub seg: Segment,
}

pub(crate) struct Harness {
    pub world: World,
    pub local_host: HostId,
    pub remote_host: HostId,
    /// The connection's two ends as the test sees them; fixtures set them.
    pub local: SockAddr,
    pub remote: SockAddr,
    /// How far into the trace [`Harness::take_sent`] has read.
    seen: usize,
}

impl Harness {
    /// A world whose local host has these TCP settings; the remote host has Linux's.
    pub(crate) fn new(tcp: TcpSettings) -> Harness {
        let text = r#"{
            "name": "state-test",
            "hosts": [{"name": "local", "addr": "10.0.0.1"}, {"name": "remote", "addr": "10.0.0.2"}],
            "links": [{"a": "local", "b": "remote", "latency_us": 1000, "mtu": 1500}],
            "processes": []
        }"#;
        let mut scenario: Scenario = crate::scenario::parse(text).expect("the harness scenario is valid");
        scenario.hosts[0].tcp = tcp;
        Harness {
            world: World::new(&scenario),
            local_host: HostId(0),
            remote_host: HostId(1),
            local: SockAddr::new(LOCAL_IP, 0),
            remote: SockAddr::new(REMOTE_IP, 0),
            seen: 0,
        }
    }

    /// Linux's defaults, with a fixed first ISN and ephemeral port so tests can name them.
    pub(crate) fn linux_settings() -> TcpSettings {
        TcpSettings { isn: vec![LOCAL_ISS], ephemeral_ports: vec![LOCAL_EPHEMERAL_PORT], ..TcpSettings::default() }
    }

    // ----- time -----

    pub(crate) fn now(&self) -> u64 {
        self.world.now
    }

    /// Lets `us` microseconds of simulated time pass, handling everything due.
    pub(crate) fn advance(&mut self, us: u64) {
        let until = self.world.now + us;
        self.world.run_until(until, self.remote_host);
    }

    /// Lets time pass up to the absolute time `t_us`.
    pub(crate) fn advance_to(&mut self, t_us: u64) {
        self.world.run_until(t_us, self.remote_host);
    }

    // ----- system calls on the local host -----

    /// socket(AF_INET, SOCK_STREAM, 0): the new socket is held by one descriptor.
    pub(crate) fn socket(&mut self) -> SocketId {
        let id = self.world.new_socket(self.local_host, Proto::Tcp);
        self.world.emit_socket(id, SocketAction::Create);
        self.world.sockets[id].refs = 1;
        id
    }

    pub(crate) fn bind(&mut self, id: SocketId, addr: SockAddr) -> Ret {
        self.world.sys_bind(id, addr).into()
    }

    pub(crate) fn listen(&mut self, id: SocketId, backlog: u32) -> Ret {
        self.world.sys_listen(id, backlog).into()
    }

    /// A blocking connect()'s first attempt: it sends the SYN and blocks.
    pub(crate) fn connect(&mut self, id: SocketId, addr: SockAddr) -> Ret {
        self.world.sys_connect(id, addr, ConnectAttempt::First).into()
    }

    /// What a blocked connect() returns once woken: 0, an error, or still blocked.
    pub(crate) fn connect_result(&mut self, id: SocketId) -> Ret {
        let addr = self.world.sockets[id].peer.unwrap_or_default();
        self.world.sys_connect(id, addr, ConnectAttempt::Woken).into()
    }

    /// accept(): the connection it returns is held by one descriptor.
    pub(crate) fn accept(&mut self, listener: SocketId) -> Result<SocketId, Ret> {
        let child = self.world.sys_accept(listener).map_err(Ret::from)?;
        self.world.sockets[child].refs += 1;
        Ok(child)
    }

    pub(crate) fn send(&mut self, id: SocketId, data: &[u8]) -> Ret {
        self.world.sys_send(id, data, 0, 0, crate::tcp::Push::Now).0.into()
    }

    pub(crate) fn recv(&mut self, id: SocketId, len: u32) -> Ret {
        self.world.sys_recv(id, len).into()
    }

    pub(crate) fn setsockopt(&mut self, id: SocketId, opt: crate::scenario::SockOpt) -> Ret {
        self.world.with_tcp(id, |s, cx| crate::tcp::setsockopt(s, cx, opt)).into()
    }

    pub(crate) fn shutdown(&mut self, id: SocketId, how: How) -> Ret {
        self.world.with_tcp(id, |s, cx| crate::tcp::shutdown(s, cx, how)).into()
    }

    /// close() of the socket's only descriptor: the kernel's tcp_close() runs.
    pub(crate) fn close(&mut self, id: SocketId) {
        let socket = &mut self.world.sockets[id];
        socket.refs = socket.refs.saturating_sub(1);
        if socket.refs == 0 {
            self.world.last_close(id);
        }
    }

    // ----- the remote host, played by the test -----

    /// Sends `seg` from `self.remote` to `self.local` now and lets time run until it has
    /// arrived and been handled. Returns the segment's id in the trace.
    pub(crate) fn inject(&mut self, seg: Seg) -> u64 {
        let (from, to) = (self.remote, self.local);
        self.inject_between(from, to, seg)
    }

    /// As [`Harness::inject`], between addresses of the test's choosing.
    pub(crate) fn inject_between(&mut self, from: SockAddr, to: SockAddr, seg: Seg) -> u64 {
        let mut wire = Wire::bare(Proto::Tcp, from, to, seg.flags);
        let header = wire.header_mut();
        header.seq = seg.seq;
        header.ack = seg.ack;
        header.win = seg.win;
        header.options = seg.options;
        wire.set_payload(seg.payload);
        self.world.transmit(self.remote_host, wire);
        let id = self
            .world
            .trace
            .events
            .iter()
            .rev()
            .find_map(|event| match &event.kind {
                EventKind::Segment(segment) if segment.fate == Fate::Sent => Some(segment.id),
                _ => None,
            })
            .expect("transmit() traces the segment as sent");
        self.advance(LATENCY_US);
        id
    }

    /// The last fate the trace gives segment `id`, with the reason for a drop.
    pub(crate) fn fate(&self, id: u64) -> Option<(Fate, Option<String>)> {
        self.world.trace.events.iter().rev().find_map(|event| match &event.kind {
            EventKind::Segment(segment) if segment.id == id => Some((segment.fate, segment.reason.clone())),
            _ => None,
        })
    }

    // ----- observing -----

    /// Segments the local host has sent since the last call, oldest first.
    pub(crate) fn take_sent(&mut self) -> Vec<Sent> {
        let sent = self.sent_in(self.seen..self.world.trace.events.len());
        self.seen = self.world.trace.events.len();
        sent
    }

    /// Every segment the local host has sent since the world began.
    pub(crate) fn all_sent(&self) -> Vec<Sent> {
        self.sent_in(0..self.world.trace.events.len())
    }

    fn sent_in(&self, range: std::ops::Range<usize>) -> Vec<Sent> {
        self.world.trace.events[range]
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::Segment(segment) if segment.fate == Fate::Sent && segment.from.ip == LOCAL_IP => {
                    Some(Sent { t_us: event.t_us, seg: segment.clone() })
                }
                _ => None,
            })
            .collect()
    }

    pub(crate) fn sock(&self, id: SocketId) -> &Socket {
        &self.world.sockets[id]
    }

    pub(crate) fn state(&self, id: SocketId) -> State {
        self.sock(id).state
    }

    pub(crate) fn timer(&self, id: SocketId, kind: TimerKind) -> Option<u64> {
        self.sock(id).timer(kind)
    }

    /// Every state change of socket `id` so far: (time, from, to).
    pub(crate) fn transitions(&self, id: SocketId) -> Vec<(u64, State, State)> {
        self.world
            .trace
            .events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::State { socket, from, to, .. } if *socket == id => Some((event.t_us, *from, *to)),
                _ => None,
            })
            .collect()
    }

    /// Whether the trace records socket `id` as freed.
    pub(crate) fn freed_in_trace(&self, id: SocketId) -> bool {
        self.world.trace.events.iter().any(|event| {
            matches!(&event.kind, EventKind::Socket { socket, action: SocketAction::Free, .. } if *socket == id)
        })
    }
}
