//! The simulated world: hosts, one table of sockets, the fabric between them, processes, one
//! clock, one event queue and one RNG.
//!
//! Time never comes from outside: the run loop (`run_loop.rs`) pops the earliest pending
//! event, advances the clock to it and handles it, then lets every process that became
//! runnable run its steps (`steps.rs`, `execute.rs`). System calls take no simulated time.
//! The TCP machine (`crate::tcp`) works on one socket at a time through a narrow context and
//! hands back effects, which [`World::with_tcp`] applies in order (`effects.rs`).

mod calls;
mod deadlock;
mod driven;
mod effects;
mod execute;
mod fabric;
mod fault_rule;
mod process;
mod queue;
mod run_loop;
mod sockets;
mod steps;

use std::collections::BTreeSet;

use crate::addr::{Ipv4, SockAddr};
use crate::ids::{HostId, Table};
use crate::rng::Rng;
use crate::run_result::{Run, RunError, Stream};
use crate::scenario::{Fault, Scenario, TcpSettings};
use crate::socket::Socket;
use crate::tcp::context::Effect;
use crate::time::fractional_ms_to_us;
use crate::trace::{Event, EventKind, Pid, Proto, SocketId, Trace};
use crate::trace_sink::TraceSink;
use crate::vecmap::VecMap;

use fabric::Fabric;
use process::{Process, Program};
use queue::{EventQueue, Pending};

pub(crate) use run_loop::Stop;

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

pub(crate) struct World {
    pub now: u64,
    pub hosts: Table<HostId, Host>,
    pub sockets: Table<SocketId, Socket>,
    processes: Table<Pid, Process>,
    queue: EventQueue,
    fabric: Fabric,
    pub rng: Rng,
    ready: BTreeSet<Pid>,
    /// A process that stepped aside for events of its own instant (see `step_process`): it
    /// goes on before the processes those events woke, as the running thread keeps its CPU
    /// while a woken one is still being scheduled on another.
    resuming: Option<Pid>,
    pub trace: TraceSink,
    max_time_us: u64,
    pub failures: Vec<String>,
    deadlock: Option<String>,
    /// Effects a TCP call handed back, kept to reuse the allocation.
    effects: Vec<Effect>,
    /// Unit tests only: segments for this host are traced as delivered and go no further.
    absorb: Option<HostId>,
}

impl World {
    pub fn new(scenario: &Scenario) -> World {
        let hosts: Table<HostId, Host> = scenario
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
        let mut world = World {
            now: 0,
            hosts,
            sockets: Table::default(),
            processes: Table::default(),
            queue: EventQueue::default(),
            fabric: Fabric::new(scenario),
            rng: Rng::new(scenario.seed),
            ready: BTreeSet::new(),
            resuming: None,
            trace: TraceSink::new(scenario.limits.max_events),
            max_time_us: scenario.limits.max_time_ms.saturating_mul(1000),
            failures: Vec::new(),
            deadlock: None,
            effects: Vec::new(),
            absorb: None,
        };
        for fault in &scenario.faults {
            let index_of = |name: &str| world.hosts.find(|host| host.name == name);
            match fault {
                Fault::Crash { host, at_ms } => {
                    if let Some(host) = index_of(host) {
                        world.queue.schedule(fractional_ms_to_us(*at_ms), Pending::Crash(host));
                    }
                }
                Fault::Reboot { host, at_ms } => {
                    if let Some(host) = index_of(host) {
                        world.queue.schedule(fractional_ms_to_us(*at_ms), Pending::Reboot(host));
                    }
                }
                _ => {}
            }
        }
        for index in world.hosts.ids().collect::<Vec<HostId>>() {
            let host = world.hosts[index].name.clone();
            let addr = world.hosts[index].addr;
            world.emit(EventKind::Host { host, addr });
        }
        for (index, spec) in scenario.processes.iter().enumerate() {
            let host = world.hosts.find(|host| host.name == spec.host).unwrap_or_default();
            let program = Program {
                name: spec.name.clone(),
                steps: spec.steps.clone(),
                steps_path: format!("processes[{index}].steps"),
                at_end: spec.at_end,
            };
            world.spawn(program, host, None, VecMap::new(), VecMap::new());
        }
        world
    }

    /// Runs to the end: no pending events, the time limit, or the event limit.
    pub fn run(mut self, scenario: &Scenario) -> Result<Run, RunError> {
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
                self.trace.events.push(Event { t_us: self.now, kind: EventKind::End { reason } });
                let failed_expectations = std::mem::take(&mut self.failures);
                let streams = self
                    .sockets
                    .iter_mut()
                    .filter(|socket| socket.proto == Proto::Tcp && socket.peer.is_some())
                    .map(|socket| Stream {
                        socket: socket.id,
                        local: socket.local.unwrap_or_default(),
                        peer: socket.peer.unwrap_or_default(),
                        written: std::mem::take(&mut socket.written),
                        read: std::mem::take(&mut socket.read),
                    })
                    .collect();
                Ok(Run { trace: trace_meta(self.trace.events), failed_expectations, streams })
            }
            None => Err(RunError::EventLimit {
                limit: self.trace.max_events(),
                t_us: self.now,
                partial: Box::new(trace_meta(self.trace.events)),
            }),
        }
    }

    /// Starts the programs (the first part of [`World::run`]), for callers that then
    /// [`World::advance`] step by step.
    pub(crate) fn start(&mut self) {
        self.run_ready();
    }
}

// ----- test support -----

#[cfg(test)]
impl World {
    /// Handles, in `(time, seq)` order, every pending event due at or before `t_us`, then
    /// sets the clock to `t_us`, so a unit test can act between events. Segments addressed
    /// to host `absorb` are traced as delivered and then kept from that host's TCP: the test
    /// plays that host's part by hand (smoltcp's `recv!` style of testing).
    pub(crate) fn run_until(&mut self, t_us: u64, absorb: HostId) {
        self.absorb = Some(absorb);
        self.run_ready();
        let _ = self.advance(t_us);
        self.now = self.now.max(t_us);
    }
}
