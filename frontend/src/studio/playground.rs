//! The playground's world: a scenario the reader writes one system call at a time.
//!
//! Each call becomes a step of its process, to start at the playground's clock (`at_ms`), and
//! the grown scenario is run again from the start. The engine is deterministic and a step
//! added at T changes nothing before T, so the run the reader sees is the one they built.
//! Processes wait at the end of their steps (`at_end: wait`) instead of exiting, since the
//! reader's next call is not known yet. What the reader built is an ordinary scenario: it is
//! saved, shared and replayed like any other.

use sockscope_engine::scenario::{AtEnd, Call, ChildSpec, HostSpec, LinkSpec, ProcessSpec, Step};
use sockscope_engine::trace::Phase;
use sockscope_engine::{EventKind, Ipv4, Scenario, Trace};

/// The hosts a playground may have, in the order they are added.
const HOSTS: [(&str, [u8; 4]); 3] = [("client", [10, 0, 0, 1]), ("server", [10, 0, 0, 2]), ("peer", [10, 0, 0, 3])];
/// The one host of a world of one, whose processes talk over its loopback.
const ALONE: (&str, [u8; 4]) = ("host", [10, 0, 0, 1]);
/// The most hosts a playground has.
pub const MAX_HOSTS: usize = HOSTS.len();
/// The one-way latency of the playground's links: long enough to see a segment fly.
pub const LINK_LATENCY_US: u64 = 20_000;
/// How many undoable actions are kept.
const UNDO_DEPTH: usize = 200;

#[derive(Clone, Debug, PartialEq)]
pub struct Playground {
    pub scenario: Scenario,
    /// The playground's clock: calls start at this time.
    pub now_us: u64,
    /// Earlier worlds and clocks, for Undo.
    undo: Vec<(Scenario, u64)>,
}

/// A process of the playground, and where its program is: a process of the scenario, or a
/// child forked by one of the steps of another (the path of step indexes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessRef {
    pub name: String,
    pub host: String,
    top: usize,
    forks: Vec<usize>,
}

impl Default for Playground {
    fn default() -> Self {
        Playground::new()
    }
}

impl Playground {
    /// A client and a server, each with one process, joined by a 20 ms link; nothing done yet.
    pub fn new() -> Playground {
        Playground::with_hosts(2)
    }

    /// A new world of `hosts` hosts (1 to 3): one host with a server and a client process
    /// (talking over its loopback), or a client and a server (and a peer) with a process each,
    /// every two hosts joined by a 20 ms link.
    pub fn with_hosts(hosts: usize) -> Playground {
        let mut scenario = Scenario {
            name: "playground".to_string(),
            title: "Playground".to_string(),
            source: String::new(),
            group: String::new(),
            description: "A world built by hand in sockscope's playground, one system call at a time.".to_string(),
            seed: 1,
            hosts: Vec::new(),
            links: Vec::new(),
            processes: Vec::new(),
            faults: Vec::new(),
            limits: Default::default(),
            predict: Default::default(),
        };
        if hosts <= 1 {
            let (name, addr) = ALONE;
            scenario.hosts.push(HostSpec { name: name.to_string(), addr: Ipv4(addr), tcp: Default::default() });
        } else {
            for _ in 0..hosts.min(MAX_HOSTS) {
                add_host(&mut scenario);
            }
        }
        let mut playground = Playground { scenario, now_us: 0, undo: Vec::new() };
        let names: Vec<String> = playground.scenario.hosts.iter().map(|host| host.name.clone()).collect();
        match names.as_slice() {
            [alone] => {
                playground.add_process_named("server", alone);
                playground.add_process_named("client", alone);
            }
            _ => {
                // The server's process first, as in the built-in scenarios.
                let mut order = names.clone();
                order.sort_by_key(|name| name != "server");
                for name in &order {
                    playground.add_process_named(name, name);
                }
            }
        }
        playground
    }

    /// A playground that goes on from a scenario (a shared playground's link), at `now_us`.
    pub fn resume(mut scenario: Scenario, now_us: u64) -> Playground {
        for process in &mut scenario.processes {
            process.at_end = AtEnd::Wait;
        }
        let mut playground = Playground { scenario, now_us: 0, undo: Vec::new() };
        playground.now_us = now_us.min(playground.time_limit_us());
        playground
    }

    /// The clock can go no further than the run's time limit.
    fn time_limit_us(&self) -> u64 {
        self.scenario.limits.max_time_ms.saturating_mul(1000)
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Goes back to the world and clock before the last action.
    pub fn undo(&mut self) -> bool {
        match self.undo.pop() {
            Some((scenario, now_us)) => {
                (self.scenario, self.now_us) = (scenario, now_us);
                true
            }
            None => false,
        }
    }

    fn remember(&mut self) {
        if self.undo.len() == UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.undo.push((self.scenario.clone(), self.now_us));
    }

    /// Adds the next host (at most three), linked to every other; returns its name.
    pub fn add_host(&mut self) -> Option<String> {
        if self.scenario.hosts.len() >= MAX_HOSTS {
            return None;
        }
        self.remember();
        Some(add_host(&mut self.scenario))
    }

    /// Adds a process on `host`, named after it; returns its name.
    pub fn add_process(&mut self, host: &str) -> String {
        self.remember();
        self.add_process_quietly(host)
    }

    fn add_process_quietly(&mut self, host: &str) -> String {
        self.add_process_named(host, host)
    }

    /// Adds a process called `base` (or `base2`, ...) on `host`.
    fn add_process_named(&mut self, base: &str, host: &str) -> String {
        let name = self.unused_name(base);
        self.scenario.processes.push(ProcessSpec {
            name: name.clone(),
            host: host.to_string(),
            steps: Vec::new(),
            at_end: AtEnd::Wait,
        });
        name
    }

    /// Moves the clock to `now_us` (never back, nor past the run's time limit).
    pub fn advance_to(&mut self, now_us: u64) {
        let now_us = now_us.min(self.time_limit_us());
        if now_us > self.now_us {
            self.remember();
            self.now_us = now_us;
        }
    }

    /// The reader's call on `process`, at the clock. A fork's child gets its own name and
    /// steps, and becomes a process of the playground.
    pub fn call(&mut self, process: &ProcessRef, call: Call) {
        self.remember();
        let call = match call {
            Call::Fork { .. } => {
                let name = self.unused_name(&format!("{}-child", process.name));
                Call::Fork { child: Box::new(ChildSpec { name, steps: Vec::new() }) }
            }
            call => call,
        };
        let at_ms = self.now_us as f64 / 1000.0;
        if let Some(steps) = self.steps_mut(process) {
            steps.push(Step { call, at_ms: Some(at_ms), note: None, note_on_return: None, expect: None });
        }
    }

    /// Every process, top-level ones first, each followed by the children it forked.
    pub fn processes(&self) -> Vec<ProcessRef> {
        let mut out = Vec::new();
        for (top, process) in self.scenario.processes.iter().enumerate() {
            let mut stack = vec![(process.name.clone(), &process.steps, Vec::new())];
            while let Some((name, steps, forks)) = stack.pop() {
                out.push(ProcessRef { name, host: process.host.clone(), top, forks: forks.clone() });
                for (index, step) in steps.iter().enumerate().rev() {
                    if let Call::Fork { child } = &step.call {
                        let mut path = forks.clone();
                        path.push(index);
                        stack.push((child.name.clone(), &child.steps, path));
                    }
                }
            }
        }
        out
    }

    /// The descriptor names `process` holds after its last step, in the order they were
    /// made: those it created or inherited and has not closed.
    pub fn descriptors(&self, process: &ProcessRef) -> Vec<String> {
        let Some(top) = self.scenario.processes.get(process.top) else { return Vec::new() };
        let mut names = Vec::new();
        let mut steps = &top.steps;
        let mut forks = process.forks.iter();
        loop {
            let until = forks.clone().next().copied();
            for (index, step) in steps.iter().enumerate() {
                if Some(index) == until {
                    break;
                }
                match &step.call {
                    Call::Socket { name, .. } | Call::Accept { name, .. } | Call::Dup { name, .. } => {
                        names.retain(|held| held != name);
                        names.push(name.clone());
                    }
                    Call::Close { fd } => names.retain(|held| held != fd),
                    _ => {}
                }
            }
            match forks.next() {
                Some(&index) => match steps.get(index).map(|step| &step.call) {
                    Some(Call::Fork { child }) => steps = &child.steps,
                    _ => return names,
                },
                None => return names,
            }
        }
    }

    /// For each of `process`'s own steps, the descriptor name it creates, if any.
    pub fn created_names(&self, process: &ProcessRef) -> Vec<Option<String>> {
        self.steps(process).map_or_else(Vec::new, |steps| {
            steps
                .iter()
                .map(|step| match &step.call {
                    Call::Socket { name, .. } | Call::Accept { name, .. } | Call::Dup { name, .. } => {
                        Some(name.clone())
                    }
                    _ => None,
                })
                .collect()
        })
    }

    /// A descriptor name no step uses yet: `prefix1`, `prefix2`, ...
    pub fn unused_descriptor(&self, prefix: &str) -> String {
        let taken: Vec<String> =
            self.processes().iter().flat_map(|process| self.created_names(process)).flatten().collect();
        (1..).map(|n| format!("{prefix}{n}")).find(|name| !taken.contains(name)).unwrap_or_default()
    }

    /// A process name no process uses yet: `host`, then `host2`, ...
    fn unused_name(&self, base: &str) -> String {
        let taken: Vec<String> = self.processes().into_iter().map(|process| process.name).collect();
        std::iter::once(base.to_string())
            .chain((2..).map(|n| format!("{base}{n}")))
            .find(|name| !taken.contains(name))
            .unwrap_or_default()
    }

    fn steps(&self, process: &ProcessRef) -> Option<&Vec<Step>> {
        let mut steps = &self.scenario.processes.get(process.top)?.steps;
        for &index in &process.forks {
            match &steps.get(index)?.call {
                Call::Fork { child } => steps = &child.steps,
                _ => return None,
            }
        }
        Some(steps)
    }

    fn steps_mut(&mut self, process: &ProcessRef) -> Option<&mut Vec<Step>> {
        let mut steps = &mut self.scenario.processes.get_mut(process.top)?.steps;
        for &index in &process.forks {
            match &mut steps.get_mut(index)?.call {
                Call::Fork { child } => steps = &mut child.steps,
                _ => return None,
            }
        }
        Some(steps)
    }

    /// The world as scenario text, as it is saved and shared.
    pub fn text(&self) -> String {
        serde_json::to_string_pretty(&self.scenario).unwrap_or_default()
    }
}

/// Adds the first of [`HOSTS`] whose name and address are free, linked to every other host.
fn add_host(scenario: &mut Scenario) -> String {
    let free = |(name, addr): &(&str, [u8; 4])| {
        scenario.hosts.iter().all(|host| host.name != *name && host.addr != Ipv4(*addr))
    };
    let Some(&(name, [a, b, c, d])) = HOSTS.iter().find(|host| free(host)) else { return String::new() };
    for other in &scenario.hosts {
        scenario.links.push(LinkSpec {
            a: other.name.clone(),
            b: name.to_string(),
            latency_us: LINK_LATENCY_US,
            mtu: 1500,
        });
    }
    scenario.hosts.push(HostSpec { name: name.to_string(), addr: Ipv4([a, b, c, d]), tcp: Default::default() });
    name.to_string()
}

/// How long nothing may be due for the playground's world to count as idle: Linux's
/// smallest retransmission timeout, so a delayed ACK (40 ms) is waited for and an RTO is not.
pub const IDLE_GAP_US: u64 = 200_000;

/// The first moment after `now_us` when no segment is in flight and nothing happens for
/// [`IDLE_GAP_US`]: the end of what the last calls set going. `None` when nothing happens
/// after `now_us`.
pub fn next_quiet(trace: &Trace, now_us: u64) -> Option<u64> {
    // By id: a duplicated segment is sent once and arrives twice.
    let mut in_flight = std::collections::BTreeSet::new();
    let events = &trace.events;
    for (index, event) in events.iter().enumerate() {
        if let EventKind::Segment(segment) = &event.kind {
            if segment.fate == sockscope_engine::trace::Fate::Sent {
                in_flight.insert(segment.id);
            } else {
                in_flight.remove(&segment.id);
            }
        }
        let next = events.get(index + 1).map(|next| next.t_us);
        let instant_done = next != Some(event.t_us);
        let quiet_after = next.is_none_or(|next| next >= event.t_us + IDLE_GAP_US);
        if event.t_us > now_us && instant_done && in_flight.is_empty() && quiet_after {
            return Some(event.t_us);
        }
    }
    events.last().map(|event| event.t_us).filter(|&t| t > now_us)
}

/// What a process's calls returned in a run, one entry per returned call in order: for the
/// playground's steps (none loops) the nth entry is the nth step's.
pub fn returns_of(trace: &Trace, process: &str) -> Vec<String> {
    trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Syscall { process: name, phase: Phase::Return, result, errno, .. } if name == process => {
                Some(sockscope_engine::replay::result_text(*result, *errno))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::scenario::{How, SockType};
    use sockscope_engine::{parse_scenario, run, SockAddr};

    fn by_name(playground: &Playground, name: &str) -> ProcessRef {
        playground.processes().into_iter().find(|process| process.name == name).expect("the process")
    }

    fn addr(text: &str) -> SockAddr {
        text.parse().expect("an address")
    }

    /// The calls of a handshake and a close, made as the reader would make them.
    fn handshake_and_close() -> Playground {
        let mut world = Playground::new();
        let (server, client) = (by_name(&world, "server"), by_name(&world, "client"));
        let socket = |name: &str| Call::Socket { name: name.to_string(), sock_type: SockType::Stream };
        world.call(&server, socket("s1"));
        world.call(&server, Call::Bind { fd: "s1".into(), addr: addr("0.0.0.0:5000") });
        world.call(&server, Call::Listen { fd: "s1".into(), backlog: 5 });
        world.call(&server, Call::Accept { fd: "s1".into(), name: "c1".into() });
        world.call(&client, socket("s2"));
        world.call(&client, Call::Connect { fd: "s2".into(), addr: addr("10.0.0.2:5000") });
        world.advance_to(100_000);
        world.call(&client, Call::Close { fd: "s2".into() });
        world.call(&server, Call::Shutdown { fd: "c1".into(), how: How::Write });
        world
    }

    #[test]
    fn a_world_built_by_hand_runs_and_reads_back() {
        let world = handshake_and_close();
        let scenario = parse_scenario(&world.text()).expect("the playground writes a valid scenario");
        assert_eq!(scenario, world.scenario);
        let trace = run(&scenario).expect("it runs").trace;
        let server = returns_of(&trace, "server");
        assert_eq!(server, ["3", "0", "0", "4", "0"], "socket, bind, listen, accept, shutdown");
        assert_eq!(returns_of(&trace, "client"), ["3", "0", "0"]);
        let Some(EventKind::End { reason }) = trace.events.last().map(|event| &event.kind) else { panic!() };
        assert!(reason.contains("waiting for a next call"), "{reason}");
    }

    #[test]
    fn descriptors_follow_the_calls_and_forks() {
        let mut world = handshake_and_close();
        let server = by_name(&world, "server");
        assert_eq!(world.descriptors(&server), ["s1", "c1"]);
        world.call(&server, Call::Fork { child: Box::new(ChildSpec { name: String::new(), steps: Vec::new() }) });
        let child = by_name(&world, "server-child");
        assert_eq!(world.descriptors(&child), ["s1", "c1"], "a child inherits every descriptor");
        world.call(&child, Call::Close { fd: "s1".into() });
        assert_eq!(world.descriptors(&child), ["c1"]);
        assert_eq!(world.descriptors(&server), ["s1", "c1"]);
        assert_eq!(world.unused_descriptor("s"), "s3");
        let trace = run(&parse_scenario(&world.text()).expect("valid")).expect("runs").trace;
        assert_eq!(returns_of(&trace, "server-child"), ["0"]);
    }

    #[test]
    fn a_call_that_makes_no_sense_returns_its_errno() {
        let mut world = Playground::new();
        let server = by_name(&world, "server");
        world.call(&server, Call::Socket { name: "s1".into(), sock_type: SockType::Stream });
        world.call(&server, Call::Accept { fd: "s1".into(), name: "c1".into() });
        let trace = run(&parse_scenario(&world.text()).expect("valid")).expect("runs").trace;
        assert_eq!(returns_of(&trace, "server"), ["3", "-1 EINVAL"]);
    }

    #[test]
    fn idle_is_after_the_handshake_and_before_long_timers() {
        // The world as it stands before the close: its calls were all made at 0 ms.
        let mut world = handshake_and_close();
        while world.now_us > 0 {
            world.undo();
        }
        let trace = run(&parse_scenario(&world.text()).expect("valid")).expect("runs").trace;
        // The handshake crosses a 20 ms link three times: the final ACK arrives at 60 ms.
        assert_eq!(next_quiet(&trace, 0), Some(60_000));
        let world = handshake_and_close();
        let trace = run(&parse_scenario(&world.text()).expect("valid")).expect("runs").trace;
        // After the close at 100 ms the FIN and its ACK cross; FIN_WAIT2's 60 s is not waited for.
        let second = next_quiet(&trace, 100_000).expect("the close");
        assert!(second < 1_000_000, "{second}");
        assert_eq!(next_quiet(&trace, u64::MAX - 1), None);
    }

    #[test]
    fn worlds_of_one_to_three_hosts() {
        let one = Playground::with_hosts(1);
        let hosts = |world: &Playground| world.scenario.hosts.iter().map(|h| h.name.clone()).collect::<Vec<_>>();
        let processes =
            |world: &Playground| world.processes().into_iter().map(|p| (p.name, p.host)).collect::<Vec<_>>();
        assert_eq!(hosts(&one), ["host"]);
        assert_eq!(processes(&one), [("server".into(), "host".into()), ("client".into(), "host".into())]);
        let three = Playground::with_hosts(3);
        assert_eq!(hosts(&three), ["client", "server", "peer"]);
        assert_eq!(processes(&three).len(), 3);
        assert_eq!(three.scenario.links.len(), 3);
        let mut grown = one.clone();
        assert_eq!(grown.add_host().as_deref(), Some("server"), "client's address is the host's");
        assert_eq!(grown.scenario.hosts[1].addr, Ipv4([10, 0, 0, 2]), "the next free address");
        for world in [one, three, grown] {
            let scenario = parse_scenario(&world.text()).expect("a valid scenario");
            run(&scenario).expect("it runs");
        }
    }

    #[test]
    fn undo_and_hosts() {
        let mut world = Playground::new();
        assert!(!world.can_undo());
        assert_eq!(world.add_host().as_deref(), Some("peer"));
        assert_eq!(world.add_host(), None, "at most three hosts");
        assert_eq!(world.scenario.links.len(), 3, "every pair is linked");
        assert_eq!(world.add_process("peer"), "peer");
        assert_eq!(world.add_process("peer"), "peer2");
        world.advance_to(5_000);
        world.advance_to(1_000);
        assert_eq!(world.now_us, 5_000, "the clock never goes back");
        let mut far = Playground::resume(world.scenario.clone(), u64::MAX);
        assert_eq!(far.now_us, 3 * 3600 * 1_000_000, "nor past the time limit");
        far.advance_to(u64::MAX);
        assert_eq!(far.now_us, 3 * 3600 * 1_000_000);
        assert!(world.undo() && world.undo());
        assert_eq!((world.now_us, world.scenario.processes.len()), (0, 3));
        assert!(world.undo() && world.undo() && !world.undo());
        assert_eq!(world, Playground::new());
    }
}
