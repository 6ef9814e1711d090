//! The loopback profile: how a scenario is changed so that the engine and a real kernel on
//! `lo` can be asked the same question.
//!
//! The profile only changes scenario settings, never the engine. Each host keeps its name and
//! address in the engine run (so the report speaks the scenario's language) and is played by
//! 127.a.b.(i+1) in the real run (`lo` answers for all of 127/8; a.b is private to the run's
//! network namespace, see [`LoopbackMap::for_namespace`]). What the kernel decides for
//! itself is taken from the kernel: initial sequence numbers and ephemeral ports (the lists are
//! cleared; numbers are compared relative to the ISN), the window scale it announces (measured
//! by a probe connection, see `KernelFacts`), timestamps and SACK (on by default in Linux).
//! Links become loopback: MTU 65536 and no latency, so that, as on `lo`, a segment and the
//! peer's answer to it are handled before the sending program's next call.
//!
//! Some scenarios ask for things a real kernel on loopback cannot be given without changing
//! the whole machine's sysctls: [`engine_only_reason`] says which and why.

use std::collections::BTreeMap;

use serde::Serialize;
use sockscope_engine::scenario::{Call, LinkSpec, Scenario, Step, TcpSettings};
use sockscope_engine::validation::ProfileFacts;
use sockscope_engine::{Ipv4, SockAddr};

/// One-way latency of the loopback profile's links between hosts. A real loopback round trip
/// takes 20-60 us, but it happens inside the call that sends: `loopback_xmit()` hands the
/// segment to the receiving socket in the sender's own softirq, the peer's ACK comes back the
/// same way, and the sender's socket processes it as the call releases the socket. With no
/// latency the engine does the same: events due at the current instant run before a
/// program's next call.
pub const PROFILE_LATENCY_US: u64 = 0;
/// A scenario whose real run would last longer than this is reported engine-only. Runs longer
/// than [`SERIAL_RUN_US`] go on in the background, side by side, while the short ones run, so
/// the longest checked run (`connect-timeout`, ETIMEDOUT after 131.5 s) sets how long
/// `validate --all` takes: about two and a half minutes. A run made longer only by
/// `tcp_retries2` is checked shortened instead (see [`shorten_retransmissions`]): `peer-crash`
/// (928 s) runs with 8, which ends 111 s in.
pub const MAX_REAL_RUN_US: u64 = 140_000_000;
/// Real runs longer than this run in the background, beside the others.
pub const SERIAL_RUN_US: u64 = 20_000_000;

/// A check made with a lower `tcp_retries2` than the scenario's, because with the scenario's
/// own value the real run would go on for longer than [`MAX_REAL_RUN_US`] (see
/// [`shorten_retransmissions`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shortened {
    /// The value both sides use: every host's `tcp.retries2` in the engine, and
    /// `net.ipv4.tcp_retries2` of the run's own network namespace in the kernel.
    pub retries2: u32,
    /// The scenario's own value.
    pub scenario_retries2: u32,
    /// The horizon of the scenario's own run under the profile (its last call's return plus
    /// the settling time), in microseconds.
    pub scenario_horizon_us: u64,
}

impl Shortened {
    /// The one sentence the report gives as the scenario's reason.
    pub fn reason(&self) -> String {
        format!(
            "checked with tcp_retries2 = {} on both sides (the scenario's {} would take {:.0} s); the \
             retransmission schedule is the same up to there",
            self.retries2,
            self.scenario_retries2,
            self.scenario_horizon_us as f64 / 1e6
        )
    }
}

/// A shorter variant of a profiled scenario whose run is longer than `limit_us` because a
/// host keeps retransmitting until `tcp_retries2` gives up, with the engine's run of it.
///
/// Nothing here knows a scenario by name: the test is whether the length comes from that
/// setting. With every host's `retries2` at 1 the run must end within the limit (otherwise
/// something else makes it long, a long sleep or a timer of another kind, and `None` is
/// returned); then the largest value below the scenario's that still ends within the limit is
/// chosen. All hosts get the same value because the kernel has one per network namespace
/// and the real run puts every host in one. The variant is kept only if every segment it sends
/// is the one the scenario's own run sends at the same instant, in the same order: lowering
/// the setting may only cut the run short (at the earlier give-up), never change what comes
/// before. Linux gives up once the time since the first retransmission exceeds what
/// `retries2` doublings from TCP_RTO_MIN would take (`retransmits_timed_out()` and
/// `tcp_model_timeout()` in net/ipv4/tcp_timer.c), so each step down roughly halves the run.
pub fn shorten_retransmissions(
    profiled: &Scenario,
    run: &sockscope_engine::Run,
    horizon_us: u64,
    limit_us: u64,
) -> Option<(Shortened, Scenario, sockscope_engine::Run, u64)> {
    let scenario_retries2 = profiled.hosts.first()?.tcp.retries2;
    if scenario_retries2 < 2 || profiled.hosts.iter().any(|host| host.tcp.retries2 != scenario_retries2) {
        return None;
    }
    let with_retries2 = |retries2: u32| {
        let mut shorter = profiled.clone();
        for host in &mut shorter.hosts {
            host.tcp.retries2 = retries2;
        }
        let run = sockscope_engine::run(&shorter).ok()?;
        let horizon = super::compare::engine_horizon(&run.trace);
        Some((shorter, run, horizon))
    };
    // The shortest variant decides whether retries2 governs the length at all.
    let (_, _, shortest) = with_retries2(1)?;
    if shortest > limit_us {
        return None;
    }
    let (retries2, shorter, shorter_run, shorter_horizon) =
        (1..scenario_retries2).rev().find_map(|retries2| match with_retries2(retries2) {
            Some((shorter, run, horizon)) if horizon <= limit_us => Some((retries2, shorter, run, horizon)),
            _ => None,
        })?;
    let sent = |trace: &sockscope_engine::Trace| -> Vec<(u64, sockscope_engine::trace::Segment)> {
        trace
            .events
            .iter()
            .filter_map(|event| match &event.kind {
                sockscope_engine::trace::EventKind::Segment(segment)
                    if segment.fate == sockscope_engine::trace::Fate::Sent =>
                {
                    Some((event.t_us, segment.clone()))
                }
                _ => None,
            })
            .collect()
    };
    let (original, shortened) = (sent(&run.trace), sent(&shorter_run.trace));
    if !original.starts_with(&shortened) {
        return None;
    }
    let shortened = Shortened { retries2, scenario_retries2, scenario_horizon_us: horizon_us };
    Some((shortened, shorter, shorter_run, shorter_horizon))
}

/// What the validator learned about the running kernel before comparing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelFacts {
    /// `Linux 6.18.44`, from uname.
    pub release: String,
    /// The window scale the kernel announces on its SYNs (from `tcp_rmem[2]`: 7 on a stock
    /// kernel, 10 with a 32 MiB maximum).
    pub wscale: u8,
    /// `net.ipv4.tcp_congestion_control`: how far the kernel grows a send buffer depends on it.
    pub congestion_control: String,
    /// `tcp_wmem[2]`: the largest send buffer the kernel grows a socket to.
    pub wmem_max: u32,
}

impl KernelFacts {
    /// What a report keeps of these facts besides the release, which it keeps as `kernel`.
    pub fn profile_facts(&self) -> ProfileFacts {
        ProfileFacts {
            wscale: self.wscale,
            congestion_control: self.congestion_control.clone(),
            wmem_max: self.wmem_max,
        }
    }
}

/// Maps each scenario host to a loopback address and back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoopbackMap {
    to_real: BTreeMap<Ipv4, Ipv4>,
    to_scenario: BTreeMap<Ipv4, Ipv4>,
}

impl LoopbackMap {
    /// Host *i* is played by 127.*a*.*b*.(*i*+1), with *a*.*b* taken from the inode number of
    /// the run's network namespace (*a* never 0). The state tracepoint does not say which
    /// namespace a socket lives in, but it does show the addresses: a subnet of 127/8 that
    /// no other program uses (they use 127.0.0.1) and that no other live namespace gets (two
    /// namespaces that exist at once have different inodes) marks the run's own sockets.
    pub fn for_namespace(scenario: &Scenario, namespace_inode: u64) -> LoopbackMap {
        let a = 1 + ((namespace_inode >> 8) % 255) as u8;
        LoopbackMap::in_subnet(scenario, [a, namespace_inode as u8])
    }

    fn in_subnet(scenario: &Scenario, [a, b]: [u8; 2]) -> LoopbackMap {
        let mut map = LoopbackMap::default();
        for (index, host) in scenario.hosts.iter().enumerate() {
            // validate() allows at most 256 hosts; engine_only_reason() rejects more than 254.
            let real = Ipv4([127, a, b, (index + 1).min(254) as u8]);
            map.to_real.insert(host.addr, real);
            map.to_scenario.insert(real, host.addr);
        }
        map
    }

    /// The loopback address that plays `addr` (the wildcard stays the wildcard).
    pub fn real(&self, addr: SockAddr) -> Option<SockAddr> {
        if addr.ip.is_unspecified() {
            return Some(addr);
        }
        self.to_real.get(&addr.ip).map(|ip| SockAddr::new(*ip, addr.port))
    }

    pub fn real_ip(&self, ip: Ipv4) -> Option<Ipv4> {
        self.to_real.get(&ip).copied()
    }

    /// Whether `ip` is one of the loopback addresses that play a host.
    pub fn real_ip_known(&self, ip: Ipv4) -> bool {
        self.to_scenario.contains_key(&ip)
    }

    /// The scenario address a loopback address stands for (unknown addresses stay as they are).
    pub fn scenario(&self, addr: SockAddr) -> SockAddr {
        SockAddr::new(self.to_scenario.get(&addr.ip).copied().unwrap_or(addr.ip), addr.port)
    }
}

/// The one-way delay added to `lo` (tc netem) when two hosts act at the same instant.
pub const CROSSING_DELAY_US: u64 = 1_000;

/// Whether processes on two different hosts connect, close or shut down at the same `at_ms`
/// (a simultaneous open or close). On bare loopback a segment is delivered within
/// microseconds, inside the call that sent it, so the first host's segment would arrive
/// before the second host acts and nothing would cross; such a scenario runs with
/// [`CROSSING_DELAY_US`] of delay on `lo`, and the profile gives its links the same latency.
pub fn needs_crossing_delay(scenario: &Scenario) -> bool {
    let host_of_addr = |ip: Ipv4| scenario.hosts.iter().find(|host| host.addr == ip).map(|host| host.name.clone());
    let mut moments: Vec<(String, u64)> = Vec::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for process in &scenario.processes {
        for step in &process.steps {
            if let Call::Connect { addr, .. } = &step.call {
                if let Some(peer) = host_of_addr(addr.ip) {
                    pairs.push((process.host.clone(), peer));
                }
            }
            let acts = matches!(step.call, Call::Connect { .. } | Call::Close { .. } | Call::Shutdown { .. });
            if let (true, Some(at_ms)) = (acts, step.at_ms) {
                moments.push((process.host.clone(), (at_ms * 1000.0).round() as u64));
            }
        }
    }
    let peers = |a: &String, b: &String| pairs.iter().any(|(x, y)| (x == a && y == b) || (x == b && y == a));
    moments
        .iter()
        .any(|(host, at)| moments.iter().any(|(other, when)| other != host && when == at && peers(host, other)))
}

/// One-way latency of the profile's links for this scenario.
pub fn link_latency_us(scenario: &Scenario) -> u64 {
    if needs_crossing_delay(scenario) {
        CROSSING_DELAY_US
    } else {
        PROFILE_LATENCY_US
    }
}

/// The scenario as the engine runs it for the comparison.
pub fn loopback_profile(scenario: &Scenario, facts: &KernelFacts) -> Scenario {
    let mut profiled = scenario.clone();
    for host in &mut profiled.hosts {
        let tcp = &mut host.tcp;
        tcp.isn.clear();
        tcp.ephemeral_ports.clear();
        tcp.window_clamp = None;
        tcp.window_scaling = true;
        tcp.wscale = facts.wscale;
        tcp.timestamps = true;
        tcp.sack = true;
        tcp.congestion_control = facts.congestion_control.clone();
        tcp.wmem_max = facts.wmem_max;
    }
    profiled.links.clear();
    for (index, a) in scenario.hosts.iter().enumerate() {
        for b in &scenario.hosts[index + 1..] {
            profiled.links.push(LinkSpec {
                a: a.name.clone(),
                b: b.name.clone(),
                latency_us: link_latency_us(scenario),
                mtu: sockscope_engine::LOOPBACK_MTU,
            });
        }
    }
    profiled
}

/// Settings the profile replaces with the kernel's own; any other difference from Linux's
/// defaults makes a scenario engine-only.
const NEUTRALISED: &[&str] = &[
    "isn",
    "ephemeral_ports",
    "window_clamp",
    "window_scaling",
    "wscale",
    "timestamps",
    "sack",
    "congestion_control",
    "wmem_max",
];

/// Settings the real run gives each TCP socket of the host instead (see [`keepalive_timing`]).
const PER_SOCKET: &[&str] = &["keepalive_time_ms", "keepalive_intvl_ms", "keepalive_probes", "mss"];

/// The TCP_KEEPIDLE and TCP_KEEPINTVL seconds and the TCP_KEEPCNT probes that reproduce a
/// host's keepalive settings on each of its sockets, when they differ from Linux's defaults;
/// `Err` when the socket options cannot express them (whole seconds from 1 to 32767, 1 to 127
/// probes: `MAX_TCP_KEEPIDLE`, `MAX_TCP_KEEPINTVL`, `MAX_TCP_KEEPCNT` in include/net/tcp.h).
pub fn keepalive_timing(tcp: &TcpSettings) -> Result<Option<(u32, u32, u32)>, String> {
    let defaults = TcpSettings::default();
    if (tcp.keepalive_time_ms, tcp.keepalive_intvl_ms, tcp.keepalive_probes)
        == (defaults.keepalive_time_ms, defaults.keepalive_intvl_ms, defaults.keepalive_probes)
    {
        return Ok(None);
    }
    let seconds = |name: &str, ms: u64| -> Result<u32, String> {
        match u32::try_from(ms / 1000) {
            Ok(seconds) if ms.is_multiple_of(1000) && (1..=32_767).contains(&seconds) => Ok(seconds),
            _ => Err(format!("tcp.{name} = {ms} is not a whole number of seconds from 1 to 32767")),
        }
    };
    let idle = seconds("keepalive_time_ms", tcp.keepalive_time_ms)?;
    let interval = seconds("keepalive_intvl_ms", tcp.keepalive_intvl_ms)?;
    if !(1..=127).contains(&tcp.keepalive_probes) {
        return Err(format!("tcp.keepalive_probes = {} is not from 1 to 127", tcp.keepalive_probes));
    }
    Ok(Some((idle, interval, tcp.keepalive_probes)))
}

/// Scenarios in which the engine is known to differ from the kernel, with what is still
/// missing from the model. They are reported as differing (the page shows their rows side by
/// side) but do not fail the check, so that it fails on any difference not listed here.
/// Each entry is an open task on the engine; a listed scenario that agrees is pointed out.
pub const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// Why a scenario cannot be reproduced on loopback, judged from the scenario alone; its faults
/// are judged by `faults::unsupported_reason`.
pub fn engine_only_reason(scenario: &Scenario) -> Option<String> {
    if scenario.hosts.len() > 254 {
        return Some("more than 254 hosts do not fit in 127.0.0.0/24".to_string());
    }
    let defaults = serde_json::to_value(TcpSettings::default()).unwrap_or_default();
    for host in &scenario.hosts {
        let settings = serde_json::to_value(&host.tcp).unwrap_or_default();
        let (Some(settings), Some(defaults)) = (settings.as_object(), defaults.as_object()) else { continue };
        if let Err(why) = keepalive_timing(&host.tcp) {
            return Some(format!(
                "host {} sets {why}; the real run gives each socket TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, \
                 which cannot take it",
                host.name
            ));
        }
        for (field, value) in settings {
            if NEUTRALISED.contains(&field.as_str())
                || PER_SOCKET.contains(&field.as_str())
                || defaults.get(field) == Some(value)
            {
                continue;
            }
            let why = match field.as_str() {
                "sndbuf" | "rcvbuf" => {
                    " (a default buffer size is the machine-wide tcp_wmem/tcp_rmem; Linux also keeps buffers above a floor of a few KB)"
                }
                "msl_ms" => " (Linux's TIME_WAIT is fixed at 60 s)",
                _ => " (a real kernel takes it from a machine-wide sysctl or constant)",
            };
            return Some(format!(
                "host {} sets tcp.{field} = {value}, which loopback cannot reproduce{why}",
                host.name
            ));
        }
    }
    if let Some(port) = port_only_the_engine_knows(scenario) {
        return Some(format!(
            "a client connects to port {port}, which the listener got as an ephemeral port from the \
             engine's random generator; a real kernel picks another port"
        ));
    }
    let hosts: Vec<Ipv4> = scenario.hosts.iter().map(|host| host.addr).collect();
    for process in &scenario.processes {
        if let Some(addr) = foreign_address(&process.steps, &hosts) {
            return Some(format!(
                "{} uses {addr}, an address no host has; on loopback every 127.x address answers",
                process.name
            ));
        }
    }
    None
}

/// A connect() to a port that no bind() names, in a scenario where some listener was never
/// bound (so it listens on a port the engine drew at random).
fn port_only_the_engine_knows(scenario: &Scenario) -> Option<u16> {
    let mut bound_ports = Vec::new();
    let mut unbound_listener = false;
    let mut connects = Vec::new();
    for process in &scenario.processes {
        let mut bound_names = Vec::new();
        for step in &process.steps {
            match &step.call {
                Call::Bind { fd, addr } => {
                    bound_names.push(fd.clone());
                    bound_ports.push(addr.port);
                }
                Call::Listen { fd, .. } if !bound_names.contains(fd) => unbound_listener = true,
                Call::Connect { addr, .. } => connects.push(addr.port),
                _ => {}
            }
        }
    }
    if !unbound_listener {
        return None;
    }
    connects.into_iter().find(|port| !bound_ports.contains(port))
}

fn foreign_address(steps: &[Step], hosts: &[Ipv4]) -> Option<SockAddr> {
    for step in steps {
        match &step.call {
            Call::Bind { addr, .. } | Call::Connect { addr, .. } | Call::Sendto { addr, .. }
                if !addr.ip.is_unspecified() && !hosts.contains(&addr.ip) =>
            {
                return Some(*addr);
            }
            Call::Fork { child } => {
                if let Some(addr) = foreign_address(&child.steps, hosts) {
                    return Some(addr);
                }
            }
            _ => {}
        }
    }
    None
}

/// Why the real run of a scenario would not repeat itself, read from the engine's own run
/// under the loopback profile: two threads that the scenario has acting at once.
///
/// On `lo` a segment is handed to the receiving socket inside the call that sends it
/// (`loopback_xmit()` queues it and the softirq runs as the sender leaves its critical
/// section), and a reader waiting for it is woken on the other core while the sender goes on.
/// Two patterns in a scenario make the result depend on which core gets there first:
/// - a reader blocked in recv() while several data segments arrive at one instant: the kernel
///   wakes it after the first of them and it may return 1, 3 or all 6 bytes (three runs of
///   `nagle-off` on Linux 6.18 returned 1, 3 and 6);
/// - a writer blocked on a full SendQ while the peer's reader drains: each read sends a window
///   update, the writer's own thread and the ACK's softirq both push data, and where PSH
///   falls and which ACKs go out varies from run to run (seen in `flow-control`).
///
/// The engine delivers such a burst as one instant, a real network with latency does the same,
/// so the scenario stays true; it just cannot be checked on bare `lo`.
pub fn racing_threads(trace: &sockscope_engine::Trace) -> Option<String> {
    use sockscope_engine::trace::{EventKind, Fate, Phase, Pid, SocketId};
    const WHY: &str = "on lo each segment reaches the socket inside the send that makes it, the kernel \
                       wakes the reader after the first, and how many bytes it finds depends on which \
                       core runs first (real runs return different counts)";
    let mut ends: BTreeMap<SocketId, (SockAddr, Option<SockAddr>)> = BTreeMap::new();
    // Where each segment was sent, by id (a segment is always sent before it arrives).
    let mut sent_at: BTreeMap<u64, usize> = BTreeMap::new();
    let mut reading: BTreeMap<Pid, SocketId> = BTreeMap::new();
    let mut writing: BTreeMap<Pid, (SocketId, u64)> = BTreeMap::new();
    // (process, socket, blocked since, returned at) of each send() that had to wait.
    let mut waited_writes: Vec<(String, SocketId, u64, u64)> = Vec::new();
    // (process, socket, at) of each read that returned data.
    let mut reads: Vec<(String, SocketId, u64)> = Vec::new();
    let events = &trace.events;
    for (index, event) in events.iter().enumerate() {
        let (pid, process, call, phase, socket, result) = match &event.kind {
            EventKind::State { socket, local, peer, .. } => {
                ends.insert(*socket, (*local, *peer));
                continue;
            }
            EventKind::Segment(segment) if segment.fate == Fate::Sent => {
                sent_at.insert(segment.id, index);
                continue;
            }
            EventKind::Syscall { pid, process, call, phase, socket: Some(socket), result, .. } => {
                (pid, process, call, phase, socket, result)
            }
            _ => continue,
        };
        let is_read = matches!(call.as_str(), "recv" | "read" | "recvfrom");
        let is_write = matches!(call.as_str(), "send" | "write" | "sendto");
        match phase {
            Phase::Block if is_read => {
                reading.insert(*pid, *socket);
            }
            Phase::Block if is_write => {
                writing.insert(*pid, (*socket, event.t_us));
            }
            Phase::Return if is_write => {
                if let Some((socket, since)) = writing.remove(pid) {
                    waited_writes.push((process.clone(), socket, since, event.t_us));
                }
            }
            Phase::Return if is_read => {
                let waited_on = reading.remove(pid);
                let Some(got) = result.filter(|n| *n > 0) else { continue };
                reads.push((process.clone(), *socket, event.t_us));
                let Some((local, peer)) = waited_on.and_then(|socket| ends.get(&socket).copied()) else { continue };
                // Segments from the peer that reach this socket at the instant the read returns:
                // (id, payload length, FIN).
                let arriving = |other: &sockscope_engine::trace::Event| match &other.kind {
                    EventKind::Segment(segment)
                        if other.t_us == event.t_us
                            && segment.fate == Fate::Delivered
                            && segment.to == local
                            && Some(segment.from) == peer =>
                    {
                        Some((segment.id, segment.len, segment.flags.fin))
                    }
                    _ => None,
                };
                let burst: Vec<u64> = events[..index]
                    .iter()
                    .rev()
                    .take_while(|earlier| earlier.t_us == event.t_us)
                    .filter_map(arriving)
                    .filter(|&(_, len, fin)| len > 0 || fin)
                    .map(|(id, _, _)| id)
                    .collect();
                // Over a link without latency the reader is woken by the first write and the
                // next writes of the same instant arrive after it has run: the same race, seen
                // from the other side.
                let later = events[index + 1..]
                    .iter()
                    .take_while(|after| after.t_us == event.t_us)
                    .filter_map(arriving)
                    .filter(|&(_, len, _)| len > 0)
                    .count();
                let at = sockscope_engine::format::seconds(event.t_us);
                if later > 0 && !burst.is_empty() {
                    return Some(format!(
                        "{process}'s recv() waits while the peer makes several writes at one instant ({at}): \
                         it returns {got} bytes and {later} more data segments follow at the same instant; {WHY}"
                    ));
                }
                // Segments that one send() made leave in one go, before the reader's core can
                // react; only calls made one after another (a send() and the close() that sends
                // the FIN, say) race it. A second call's segment follows the first within the
                // microsecond or two of a system call, well inside the 5-50 us it takes to wake
                // a reader on another core, and real runs agree; with three or more segments the
                // writer's work reaches that time and they do not (nagle-off, linger-wait under
                // load).
                let sent: Vec<usize> = burst.iter().filter_map(|id| sent_at.get(id).copied()).collect();
                let separate_calls = match (sent.iter().min(), sent.iter().max()) {
                    (Some(&first), Some(&last)) => events[first..last].iter().any(|between| {
                        matches!(&between.kind, EventKind::Syscall { phase: Phase::Return, socket: Some(writer), .. }
                            if ends.get(writer).is_some_and(|(writer_local, _)| Some(*writer_local) == peer))
                    }),
                    _ => false,
                };
                let burst = burst.len();
                if burst >= 3 && separate_calls {
                    return Some(format!(
                        "{process}'s recv() waits while {burst} segments with data or a FIN arrive at one \
                         instant ({at}) from separate calls and returns {got} bytes; {WHY}"
                    ));
                }
            }
            _ => {}
        }
    }
    let peers = |a: SocketId, b: SocketId| match (ends.get(&a), ends.get(&b)) {
        (Some((a_local, Some(a_peer))), Some((b_local, Some(b_peer)))) => a_local == b_peer && a_peer == b_local,
        _ => false,
    };
    for (writer, socket, since, until) in &waited_writes {
        if let Some((reader, _, _)) =
            reads.iter().find(|(_, read_socket, at)| since < at && at < until && peers(*socket, *read_socket))
        {
            return Some(format!(
                "{writer}'s send() waits for room while {reader} drains the other end; on lo each read's \
                 window update runs the writer's side at once while the writer's own thread copies more \
                 data on the other core, so where PSH falls and which ACKs go out differ from run to run"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlpi() -> Scenario {
        sockscope_engine::builtin::get("tlpi-tcpdump").expect("tlpi-tcpdump is built in")
    }

    #[test]
    fn profile_neutralises_what_the_kernel_picks() {
        let facts = KernelFacts {
            release: "Linux test".into(),
            wscale: 10,
            congestion_control: "bbr".into(),
            wmem_max: 4 << 20,
        };
        let profiled = loopback_profile(&tlpi(), &facts);
        for host in &profiled.hosts {
            assert!(host.tcp.isn.is_empty() && host.tcp.ephemeral_ports.is_empty());
            assert_eq!(host.tcp.window_clamp, None);
            assert_eq!(host.tcp.wscale, 10);
            assert!(host.tcp.timestamps && host.tcp.sack);
        }
        assert_eq!(profiled.links.len(), 1);
        assert_eq!(profiled.links[0].mtu, 65_536);
        assert_eq!(engine_only_reason(&tlpi()), None);
    }

    /// The engine's run of a built-in scenario under the loopback profile.
    fn loopback_trace(name: &str) -> sockscope_engine::Trace {
        let facts = KernelFacts {
            release: "Linux test".into(),
            wscale: 7,
            congestion_control: "cubic".into(),
            wmem_max: 4 << 20,
        };
        let scenario = sockscope_engine::builtin::get(name).expect("built in");
        sockscope_engine::run(&loopback_profile(&scenario, &facts)).expect("runs").trace
    }

    #[test]
    fn threads_that_race_on_lo_are_found() {
        // Six 1-byte writes reach the waiting reader at one instant; the kernel wakes it after the first.
        let burst = racing_threads(&loopback_trace("nagle-off")).expect("nagle-off races");
        assert!(
            burst.contains("server's recv() waits while 6 segments with data or a FIN arrive at one instant"),
            "{burst}"
        );
        // linger-wait: two segments of one send() and the FIN of close() reach the waiting reader.
        for racing in ["flow-control", "partial-write", "linger-wait"] {
            assert!(racing_threads(&loopback_trace(racing)).is_some(), "{racing}");
        }
        // A send() and the FIN of the next call, two segments, reach the reader before it runs
        // (half-close, shutdown-vs-close); in nagle, Nagle's algorithm holds the other bytes
        // until an ACK 40 ms later.
        let calm = ["half-close", "shutdown-vs-close", "one-write", "nagle", "tlpi-tcpdump", "concurrent-server"];
        for calm in calm.into_iter().chain(["delayed-ack", "time-wait-bind"]) {
            assert_eq!(racing_threads(&loopback_trace(calm)), None, "{calm}");
        }
    }

    #[test]
    fn hosts_map_to_loopback_and_back() {
        let scenario = tlpi();
        let map = LoopbackMap::in_subnet(&scenario, [0, 0]);
        let server: SockAddr = "10.0.0.2:55555".parse().unwrap();
        let real = map.real(server).unwrap();
        assert_eq!(real.to_string(), "127.0.0.2:55555");
        assert_eq!(map.scenario(real), server);
        assert_eq!(map.real("0.0.0.0:1".parse().unwrap()).unwrap().to_string(), "0.0.0.0:1");
        assert_eq!(map.real("10.9.9.9:1".parse().unwrap()), None);
        let private = LoopbackMap::for_namespace(&scenario, 4_026_532_301);
        let real = private.real(server).unwrap();
        assert_ne!(real.ip.0[1], 0, "never 127.0.x.x, where other programs live");
        assert_eq!(private.scenario(real), server);
    }

    #[test]
    fn settings_a_kernel_cannot_take_make_a_scenario_engine_only() {
        let mut scenario = tlpi();
        scenario.hosts[0].tcp.rcvbuf = 500;
        let reason = engine_only_reason(&scenario).expect("a 500-byte buffer cannot be reproduced");
        assert!(reason.contains("tcp.rcvbuf = 500"), "{reason}");
        let mut scenario = tlpi();
        scenario.hosts[1].tcp.delack_ms = 200;
        assert!(engine_only_reason(&scenario).unwrap().contains("delack_ms"));
        // Keepalive timing is a per-socket option too, when the sockets can take it.
        let keepalive = sockscope_engine::builtin::get("keepalive").expect("keepalive is built in");
        assert_eq!(engine_only_reason(&keepalive), None);
        assert_eq!(keepalive_timing(&keepalive.hosts[0].tcp), Ok(Some((30, 5, 3))));
        assert_eq!(keepalive_timing(&keepalive.hosts[1].tcp), Ok(None));
        let mut scenario = keepalive;
        scenario.hosts[0].tcp.keepalive_intvl_ms = 1500;
        assert!(engine_only_reason(&scenario).unwrap().contains("keepalive_intvl_ms = 1500"));
    }

    /// The facts of the machine the fixtures were recorded on.
    fn facts() -> KernelFacts {
        KernelFacts { release: "Linux test".into(), wscale: 10, congestion_control: "bbr".into(), wmem_max: 4 << 20 }
    }

    /// The profiled scenario, its engine run and that run's horizon.
    fn profiled_run(scenario: &Scenario) -> (Scenario, sockscope_engine::Run, u64) {
        let profiled = loopback_profile(scenario, &facts());
        let run = sockscope_engine::run(&profiled).expect("runs");
        let horizon = crate::validate::compare::engine_horizon(&run.trace);
        (profiled, run, horizon)
    }

    #[test]
    fn a_run_made_long_by_tcp_retries2_is_checked_with_a_lower_value() {
        let crash = sockscope_engine::builtin::get("peer-crash").expect("peer-crash is built in");
        let (profiled, run, horizon) = profiled_run(&crash);
        assert!(horizon > MAX_REAL_RUN_US, "peer-crash's own run ends at {horizon} us");
        let (short, shorter, short_run, short_horizon) =
            shorten_retransmissions(&profiled, &run, horizon, MAX_REAL_RUN_US).expect("peer-crash can be shortened");
        // Linux gives up once (2^(n+1) - 1) * 200 ms have passed since the first
        // retransmission: 102.2 s for 8, 204.6 s for 9, which is past the limit.
        assert_eq!(short.retries2, 8, "{short:?}");
        assert_eq!((short.scenario_retries2, short.scenario_horizon_us), (15, horizon));
        assert!(shorter.hosts.iter().all(|host| host.tcp.retries2 == 8));
        assert!(short_horizon <= MAX_REAL_RUN_US, "{short_horizon}");
        // One more would not fit, so 8 is the largest that does.
        let mut longer = shorter.clone();
        for host in &mut longer.hosts {
            host.tcp.retries2 = 9;
        }
        let longer = sockscope_engine::run(&longer).expect("runs");
        assert!(crate::validate::compare::engine_horizon(&longer.trace) > MAX_REAL_RUN_US);
        // The shortened run still ends the way the scenario does: recv() fails with ETIMEDOUT.
        let timed_out = short_run.trace.events.iter().any(|event| {
            matches!(&event.kind, sockscope_engine::trace::EventKind::Syscall { call, errno: Some(errno), .. }
                if call == "recv" && *errno == sockscope_engine::Errno::ETIMEDOUT)
        });
        assert!(timed_out, "the shortened run times out too");
        assert_eq!(
            short.reason(),
            format!(
                "checked with tcp_retries2 = 8 on both sides (the scenario's 15 would take {:.0} s); the \
                 retransmission schedule is the same up to there",
                horizon as f64 / 1e6
            )
        );
        // Under a limit that even tcp_retries2 = 1 cannot meet there is nothing to check.
        assert_eq!(shorten_retransmissions(&profiled, &run, horizon, 1_000_000).map(|found| found.0), None);
    }

    #[test]
    fn a_run_long_for_another_reason_is_not_shortened() {
        // tlpi-tcpdump with its client closing 200 s in: long, but not because of tcp_retries2.
        let mut late = tlpi();
        let client = late.processes.iter_mut().find(|process| process.name == "client").expect("a client");
        client.steps.last_mut().expect("steps").at_ms = Some(200_000.0);
        let (profiled, run, horizon) = profiled_run(&late);
        assert!(horizon > MAX_REAL_RUN_US, "{horizon}");
        assert_eq!(shorten_retransmissions(&profiled, &run, horizon, MAX_REAL_RUN_US).map(|found| found.0), None);
        // Hosts that disagree on tcp_retries2 cannot share one namespace's value.
        let crash = sockscope_engine::builtin::get("peer-crash").expect("peer-crash is built in");
        let (mut profiled, run, horizon) = profiled_run(&crash);
        profiled.hosts[1].tcp.retries2 = 14;
        assert_eq!(shorten_retransmissions(&profiled, &run, horizon, MAX_REAL_RUN_US).map(|found| found.0), None);
    }
}
