//! The comparison: what the engine did beside what the real kernel did, as rows a person can
//! read side by side.
//!
//! Both sides are first reduced to the same [`Observation`]: the segments on the wire, each
//! socket's state changes, each call's result and the queue levels at quiet checkpoints. The
//! engine's observation comes from its trace ([`engine_observation`]); the kernel's from the
//! loopback run (`real.rs`, `capture.rs`, `observe.rs`). Everything here is pure, so the logic
//! is tested on recorded kernel observations (`cli/tests/fixtures/`).
//!
//! What is compared and what only shown:
//! - Segments are compared per connection and direction, in order, on flags, sequence and
//!   acknowledgement numbers relative to each side's initial sequence number (as tcpdump
//!   prints them), the window field (as sent, i.e. scaled down by the window scale), length,
//!   and the options the loopback profile models (MSS, SACK-permitted, window scale on SYNs;
//!   the presence of timestamps everywhere). Timestamp values are shown but not compared: the
//!   engine has no clock of Linux's.
//! - How much a woken reader finds is not a scheduling accident in the engine: like Linux,
//!   which handles a burst of packets in one softirq before the reader runs, the engine
//!   delivers every segment due at one instant before it lets a process run.
//! - Ephemeral ports are chosen by the kernel, so a port that the scenario never names is
//!   shown as `eph1`, `eph2`, ... per host, in order of first appearance.
//! - Times are not compared; order within a connection is. A real run ends a fixed settling
//!   time after its last process exits, so later events (a TIME_WAIT's 60 s expiry) are left
//!   out on both sides and listed as "not waited for".

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sockscope_engine::scenario::{Call, Scenario, Step};
use sockscope_engine::trace::{EventKind, Fate, Phase, Pid, Proto, SegmentHeader, SocketId};
use sockscope_engine::validation::{DiffRow, ScenarioReport, Verdict};
use sockscope_engine::{SockAddr, State, Trace};

/// How long a process must have been idle (sleeping, or waiting for a step's `at_ms`) before
/// its next call counts as a quiet moment at which queue levels are compared. Loopback
/// latencies are tens of microseconds, so 2 ms leaves the network settled.
pub const QUIET_GAP_US: u64 = 2_000;

/// How long after the last process exits the comparison goes on (both sides): long enough
/// for a delayed ACK (40 ms) or a first retransmission (200 ms), short enough for CI.
pub const SETTLE_US: u64 = 500_000;

/// One side's view of a run, in the scenario's own addresses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Events after this time (microseconds from the start) are not compared.
    pub horizon_us: u64,
    pub segments: Vec<WireSegment>,
    pub states: Vec<StateChange>,
    pub calls: Vec<CallResult>,
    pub checkpoints: Vec<Checkpoint>,
    /// Facts about the observation itself (what was not waited for, capture losses).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Each process's send buffer (SO_SNDBUF) at its first send() on a stream socket: not
    /// compared, but named in the reason when a scenario differs, because it decides how much
    /// one send() takes and how the data is cut into segments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub send_buffers: Vec<SendBuffer>,
}

/// A process's send buffer size at its first send() on a stream socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendBuffer {
    pub process: String,
    pub bytes: u32,
}

/// A segment (or datagram) as it crossed the wire, with the engine's header type; in the
/// recorded fixtures its fields stand beside `t_us`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireSegment {
    pub t_us: u64,
    #[serde(flatten)]
    pub header: SegmentHeader,
}

/// A captured segment reads as its header (`segment.seq`).
impl std::ops::Deref for WireSegment {
    type Target = SegmentHeader;
    fn deref(&self) -> &SegmentHeader {
        &self.header
    }
}

/// A TCP state change of one socket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    pub t_us: u64,
    pub local: SockAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<SockAddr>,
    pub from: State,
    pub to: State,
}

/// What one call returned (or that it was still blocked when the run ended).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    pub t_us: u64,
    pub process: String,
    pub call: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The call had not returned when the run ended.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocked: bool,
}

/// Queue levels of the socket a call is about to use, at a quiet moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub t_us: u64,
    pub process: String,
    pub call: String,
    /// For a listener, `recv_q` is its accept queue's length and `send_q` is 0.
    pub listener: bool,
    pub recv_q: u32,
    pub send_q: u32,
}

/// What a call's fd or pid result looks like once normalised: descriptor numbers and
/// process ids depend on the process's other descriptors, so only "a descriptor" is compared.
fn normalised_result(call: &CallResult, names: &Namer) -> String {
    if call.blocked {
        return "still blocked".to_string();
    }
    let mut text = match (&call.errno, call.result) {
        (Some(errno), _) => format!("-1 {errno}"),
        (None, Some(value)) if matches!(call.call.as_str(), "socket" | "accept" | "dup") && value >= 0 => {
            "a descriptor".to_string()
        }
        (None, Some(value)) if call.call == "fork" && value >= 0 => "a pid".to_string(),
        (None, Some(value)) => value.to_string(),
        (None, None) => "?".to_string(),
    };
    if let Some(value) = &call.value {
        text.push_str(" (");
        text.push_str(&names.value(value));
        text.push(')');
    }
    text
}

// ===== the engine's side =====

/// Reduces an engine trace to an [`Observation`]: segments as sent, state changes, call
/// results, and queue levels at quiet checkpoints, all up to `horizon_us`.
pub fn engine_observation(trace: &Trace, horizon_us: u64) -> Observation {
    let mut observation = Observation { horizon_us, ..Observation::default() };
    let mut queues: BTreeMap<SocketId, (u32, u32, u32)> = BTreeMap::new();
    let mut send_caps: BTreeMap<SocketId, u32> = BTreeMap::new();
    let mut listeners: BTreeSet<SocketId> = BTreeSet::new();
    let mut last_return: BTreeMap<Pid, u64> = BTreeMap::new();
    let mut open_calls: BTreeMap<Pid, CallResult> = BTreeMap::new();
    for event in &trace.events {
        let t_us = event.t_us;
        if t_us > horizon_us {
            match &event.kind {
                EventKind::State { local, peer, from, to, .. } => observation.notes.push(format!(
                    "not waited for: {} {} -> {} at {:.3} s",
                    describe_socket(*local, *peer),
                    from.name(),
                    to.name(),
                    t_us as f64 / 1e6
                )),
                EventKind::Segment(segment) if segment.fate == Fate::Sent => observation.notes.push(format!(
                    "not waited for: a [{}] segment from {} at {:.3} s",
                    segment.flags.letters(),
                    segment.from,
                    t_us as f64 / 1e6
                )),
                _ => {}
            }
            continue;
        }
        match &event.kind {
            EventKind::Segment(segment) if segment.fate == Fate::Sent => {
                observation.segments.push(WireSegment { t_us, header: segment.header });
            }
            EventKind::State { socket, local, peer, from, to, .. } => {
                if *to == State::Listen {
                    listeners.insert(*socket);
                }
                observation.states.push(StateChange { t_us, local: *local, peer: *peer, from: *from, to: *to });
            }
            EventKind::Queues { socket, send_q, recv_q, accept_q, send_cap, .. } => {
                queues.insert(*socket, (*send_q, *recv_q, *accept_q));
                send_caps.insert(*socket, *send_cap);
            }
            // The kernel's side reads no congestion window, ssthresh, RTT or RTO (its TCP_INFO
            // gives only the state and a listener's accept queue), so the engine's sending
            // limits are left out: they decide the segments, which are compared.
            EventKind::Congestion { .. } => {}
            EventKind::Process { pid, action, .. } => {
                if matches!(
                    action,
                    sockscope_engine::trace::ProcessAction::Start | sockscope_engine::trace::ProcessAction::Fork
                ) {
                    last_return.insert(*pid, t_us);
                }
            }
            EventKind::Syscall { pid, process, call, phase, socket, result, errno, value, .. } => match phase {
                Phase::Enter => {
                    let first_send =
                        call == "send" && !observation.send_buffers.iter().any(|seen| seen.process == *process);
                    if let (true, Some(bytes)) = (first_send, socket.and_then(|socket| send_caps.get(&socket))) {
                        observation.send_buffers.push(SendBuffer { process: process.clone(), bytes: *bytes });
                    }
                    if call != "sleep" {
                        let idle = t_us.saturating_sub(last_return.get(pid).copied().unwrap_or(0));
                        if let Some(socket) = socket.filter(|_| idle >= QUIET_GAP_US) {
                            let (send_q, recv_q, accept_q) = queues.get(&socket).copied().unwrap_or_default();
                            let listener = listeners.contains(&socket);
                            observation.checkpoints.push(Checkpoint {
                                t_us,
                                process: process.clone(),
                                call: call.clone(),
                                listener,
                                recv_q: if listener { accept_q } else { recv_q },
                                send_q: if listener { 0 } else { send_q },
                            });
                        }
                    }
                    open_calls.insert(
                        *pid,
                        CallResult {
                            t_us,
                            process: process.clone(),
                            call: call.clone(),
                            result: None,
                            errno: None,
                            value: None,
                            blocked: true,
                        },
                    );
                }
                Phase::Block => {}
                Phase::Return => {
                    open_calls.remove(pid);
                    if call != "sleep" {
                        last_return.insert(*pid, t_us);
                    }
                    observation.calls.push(CallResult {
                        t_us,
                        process: process.clone(),
                        call: call.clone(),
                        result: *result,
                        errno: errno.map(|errno| errno.to_string()),
                        value: value.clone(),
                        blocked: false,
                    });
                }
            },
            _ => {}
        }
    }
    // Calls that never returned within the horizon are compared as "still blocked".
    observation.calls.extend(open_calls.into_values());
    observation
}

/// When the engine's run would make the real run end: its last process exit (or its last
/// returned call, when a process blocks forever) plus the settling time.
pub fn engine_horizon(trace: &Trace) -> u64 {
    let last = trace
        .events
        .iter()
        .filter(|event| {
            matches!(
                &event.kind,
                EventKind::Process { action: sockscope_engine::trace::ProcessAction::Exit, .. }
                    | EventKind::Syscall { phase: Phase::Return, .. }
            )
        })
        .map(|event| event.t_us)
        .max()
        .unwrap_or(0);
    last + SETTLE_US
}

fn describe_socket(local: SockAddr, peer: Option<SockAddr>) -> String {
    match peer {
        Some(peer) => format!("{local}-{peer}"),
        None => local.to_string(),
    }
}

// ===== names =====

/// Turns addresses into the names both sides share: the scenario's host name (or the
/// address when no host has it) and the port, or `ephN` for a port the kernel picked.
#[derive(Clone, Debug, Default)]
pub struct Namer {
    hosts: BTreeMap<sockscope_engine::Ipv4, String>,
    fixed_ports: BTreeSet<u16>,
    ephemeral: BTreeMap<(sockscope_engine::Ipv4, u16), String>,
    counters: BTreeMap<sockscope_engine::Ipv4, usize>,
}

impl Namer {
    pub fn new(scenario: &Scenario) -> Namer {
        let hosts = scenario.hosts.iter().map(|host| (host.addr, host.name.clone())).collect();
        let mut fixed_ports = BTreeSet::new();
        for process in &scenario.processes {
            collect_ports(&process.steps, &mut fixed_ports);
        }
        fixed_ports.remove(&0);
        Namer { hosts, fixed_ports, ..Namer::default() }
    }

    /// Learns the ephemeral ports of an observation in order of first appearance.
    fn learn(&mut self, observation: &Observation) {
        let mut seen = |addr: SockAddr| {
            if !self.fixed_ports.contains(&addr.port)
                && addr.port != 0
                && !self.ephemeral.contains_key(&(addr.ip, addr.port))
            {
                let counter = self.counters.entry(addr.ip).or_default();
                *counter += 1;
                self.ephemeral.insert((addr.ip, addr.port), format!("eph{counter}"));
            }
        };
        for segment in &observation.segments {
            seen(segment.from);
            seen(segment.to);
        }
        for state in &observation.states {
            seen(state.local);
            if let Some(peer) = state.peer {
                seen(peer);
            }
        }
    }

    pub fn host(&self, ip: sockscope_engine::Ipv4) -> String {
        if ip.is_unspecified() {
            return "*".to_string();
        }
        self.hosts.get(&ip).cloned().unwrap_or_else(|| ip.to_string())
    }

    pub fn addr(&self, addr: SockAddr) -> String {
        let port = match self.ephemeral.get(&(addr.ip, addr.port)) {
            Some(label) => label.clone(),
            None if self.fixed_ports.contains(&addr.port) || addr.port == 0 => addr.port.to_string(),
            // A port first seen in a call's value, not on the wire.
            None => "eph".to_string(),
        };
        format!("{}:{port}", self.host(addr.ip))
    }

    /// A call's value with any address in it named.
    fn value(&self, value: &str) -> String {
        match value.parse::<SockAddr>() {
            Ok(addr) => self.addr(addr),
            Err(_) => value.to_string(),
        }
    }
}

fn collect_ports(steps: &[Step], ports: &mut BTreeSet<u16>) {
    for step in steps {
        match &step.call {
            Call::Bind { addr, .. } | Call::Connect { addr, .. } | Call::Sendto { addr, .. } => {
                ports.insert(addr.port);
            }
            Call::Fork { child } => collect_ports(&child.steps, ports),
            _ => {}
        }
    }
}

// ===== rows =====

/// The part of a row that is compared, and the text that is shown.
struct Item {
    group: String,
    key: String,
    text: String,
}

/// Segments as rows, one group per connection, with numbers relative to each direction's
/// first sequence number (the ISN when its SYN was seen).
fn segment_items(observation: &Observation, names: &Namer) -> Vec<Item> {
    let mut bases: BTreeMap<(SockAddr, SockAddr), u32> = BTreeMap::new();
    let mut items = Vec::new();
    for segment in &observation.segments {
        let (from, to) = (names.addr(segment.from), names.addr(segment.to));
        // One group per direction: within a direction the order is causal, while the
        // interleaving of the two directions depends on scheduling (on lo a segment is
        // delivered, and often acknowledged, inside the send() call that made it).
        let connection = if from <= to { format!("{from} {to}") } else { format!("{to} {from}") };
        let group = format!("{connection}{GROUP_SEPARATOR}{from} > {to}");
        if segment.proto == Proto::Udp {
            let text = format!("{from} > {to}: UDP, length {}", segment.len);
            items.push(Item { group, key: text.clone(), text });
            continue;
        }
        let flags = segment.flags;
        // A reset answering a SYN carries sequence number 0 and belongs to no connection:
        // its numbers are shown as they are.
        let base = *bases.entry((segment.from, segment.to)).or_insert(if flags.syn || segment.seq != 0 {
            segment.seq
        } else {
            0
        });
        let seq = segment.seq.wrapping_sub(base);
        let ack_base = bases.get(&(segment.to, segment.from)).copied().unwrap_or(0);
        let ack = segment.ack.wrapping_sub(ack_base);
        let seq_text =
            if segment.len > 0 { format!("seq {seq}:{}", seq.wrapping_add(segment.len)) } else { format!("seq {seq}") };
        let ack_text = if flags.ack { format!(", ack {ack}") } else { String::new() };
        let options = &segment.options;
        let compared_options = if flags.syn {
            let mut parts = Vec::new();
            if let Some(mss) = options.mss {
                parts.push(format!("mss {mss}"));
            }
            if options.sack_ok {
                parts.push("sackOK".to_string());
            }
            if options.ts.is_some() {
                parts.push("TS".to_string());
            }
            if let Some(wscale) = options.wscale {
                parts.push(format!("wscale {wscale}"));
            }
            format!(" [{}]", parts.join(","))
        } else if options.ts.is_some() {
            " [TS]".to_string()
        } else {
            String::new()
        };
        // The window is compared too: the engine models Linux's receive window (scaling_ratio,
        // rcv_ssthresh, the SYN's rounding to the MSS; see engine/src/tcp/window.rs).
        let text = format!(
            "{from} > {to} [{}] {seq_text}{ack_text}, win {}, length {}{compared_options}",
            flags.letters(),
            segment.win,
            segment.len
        );
        items.push(Item { group, key: text.clone(), text });
    }
    items
}

fn state_items(observation: &Observation, names: &Namer) -> Vec<Item> {
    observation
        .states
        .iter()
        .map(|change| {
            let group = match change.peer {
                Some(peer) => format!("{} {}", names.addr(change.local), names.addr(peer)),
                None => names.addr(change.local),
            };
            let key = format!("{group}: {} -> {}", change.from.name(), change.to.name());
            Item { group, key: key.clone(), text: key }
        })
        .collect()
}

fn call_items(observation: &Observation, names: &Namer) -> Vec<Item> {
    observation
        .calls
        .iter()
        .map(|call| {
            let text = format!("{}: {}() = {}", call.process, call.call, normalised_result(call, names));
            Item { group: call.process.clone(), key: text.clone(), text }
        })
        .collect()
}

fn checkpoint_items(observation: &Observation) -> Vec<Item> {
    observation
        .checkpoints
        .iter()
        .map(|point| {
            let text = if point.listener {
                format!("{} before {}(): accept queue {}", point.process, point.call, point.recv_q)
            } else {
                format!("{} before {}(): RecvQ {}, SendQ {}", point.process, point.call, point.recv_q, point.send_q)
            };
            Item { group: point.process.clone(), key: text.clone(), text }
        })
        .collect()
}

/// Separates a connection from its direction in a segment group's name, so that both
/// directions of a connection are shown next to each other.
const GROUP_SEPARATOR: char = '\u{0}';

/// Aligns two lists group by group (longest common subsequence of the compared keys) and
/// returns the rows side by side; an item one side lacks faces an empty cell.
fn align(aspect: &str, engine: Vec<Item>, kernel: Vec<Item>) -> Vec<DiffRow> {
    let mut groups: Vec<String> = Vec::new();
    for item in engine.iter().chain(kernel.iter()) {
        if !groups.contains(&item.group) {
            groups.push(item.group.clone());
        }
    }
    let family = |group: &String| group.split(GROUP_SEPARATOR).next().unwrap_or_default().to_string();
    let families: Vec<String> = groups.iter().map(family).fold(Vec::new(), |mut seen, name| {
        if !seen.contains(&name) {
            seen.push(name);
        }
        seen
    });
    groups.sort_by_key(|group| families.iter().position(|name| *name == family(group)));
    let mut rows = Vec::new();
    for group in groups {
        let left: Vec<&Item> = engine.iter().filter(|item| item.group == group).collect();
        let right: Vec<&Item> = kernel.iter().filter(|item| item.group == group).collect();
        let (n, m) = (left.len(), right.len());
        // lcs[i][j]: length of the common subsequence of left[i..] and right[j..].
        let mut lcs = vec![vec![0u32; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] =
                    if left[i].key == right[j].key { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            let row = if i < n && j < m && left[i].key == right[j].key {
                i += 1;
                j += 1;
                (left[i - 1].text.clone(), right[j - 1].text.clone(), true)
            } else if i < n && j < m && lcs[i + 1][j] == lcs[i][j + 1] && lcs[i + 1][j + 1] == lcs[i][j] {
                // Neither side's item is part of the best alignment: show them as a pair.
                i += 1;
                j += 1;
                (left[i - 1].text.clone(), right[j - 1].text.clone(), false)
            } else if j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
                i += 1;
                (left[i - 1].text.clone(), String::new(), false)
            } else {
                j += 1;
                (String::new(), right[j - 1].text.clone(), false)
            };
            rows.push(DiffRow { aspect: aspect.to_string(), engine: row.0, kernel: row.1, same: row.2 });
        }
    }
    rows
}

/// Compares the engine's observation with the kernel's and builds the scenario's report.
pub fn compare(scenario: &Scenario, engine: &Observation, kernel: &Observation) -> ScenarioReport {
    let mut names = Namer::new(scenario);
    let mut kernel_names = names.clone();
    names.learn(engine);
    kernel_names.learn(kernel);
    let mut rows = Vec::new();
    rows.extend(align("segment", segment_items(engine, &names), segment_items(kernel, &kernel_names)));
    rows.extend(align("state", state_items(engine, &names), state_items(kernel, &kernel_names)));
    rows.extend(align("result", call_items(engine, &names), call_items(kernel, &kernel_names)));
    rows.extend(align("queue", checkpoint_items(engine), checkpoint_items(kernel)));
    let differing: Vec<&DiffRow> = rows.iter().filter(|row| !row.same).collect();
    let (verdict, reason) = if differing.is_empty() {
        (Verdict::Agrees, None)
    } else {
        let mut by_aspect: BTreeMap<&str, usize> = BTreeMap::new();
        for row in &differing {
            *by_aspect.entry(row.aspect.as_str()).or_default() += 1;
        }
        let summary: Vec<String> = by_aspect
            .iter()
            .map(|(aspect, count)| format!("{count} {aspect} row{}", if *count == 1 { "" } else { "s" }))
            .collect();
        let first = differing[0];
        let side = |text: &str| if text.is_empty() { "nothing".to_string() } else { text.to_string() };
        let mut reason = format!(
            "{} differ; first: engine {} / kernel {}",
            summary.join(", "),
            side(&first.engine),
            side(&first.kernel)
        );
        for buffer in &engine.send_buffers {
            let kernel_buffer = kernel.send_buffers.iter().find(|other| other.process == buffer.process);
            if let Some(kernel_buffer) = kernel_buffer.filter(|other| other.bytes != buffer.bytes) {
                reason.push_str(&format!(
                    "; {}'s send buffer at its first send() was {} bytes in the engine and {} in the kernel \
                     (both grow an unlocked send buffer when the connection is established, \
                     tcp_sndbuf_expand(), by the memory of ten segments; the engine's estimate of \
                     one segment's memory differs from this kernel's)",
                    buffer.process, buffer.bytes, kernel_buffer.bytes
                ));
            }
        }
        (Verdict::Differs, Some(reason))
    };
    ScenarioReport { name: scenario.name.clone(), verdict, reason, rows, engine_fingerprint: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(group: &str, key: &str) -> Item {
        Item { group: group.to_string(), key: key.to_string(), text: key.to_string() }
    }

    #[test]
    fn alignment_pairs_equal_rows_and_shows_gaps() {
        let engine = vec![item("c", "a"), item("c", "b"), item("c", "c")];
        let kernel = vec![item("c", "a"), item("c", "x"), item("c", "b"), item("c", "c")];
        let rows = align("segment", engine, kernel);
        let shape: Vec<(&str, &str, bool)> =
            rows.iter().map(|row| (row.engine.as_str(), row.kernel.as_str(), row.same)).collect();
        assert_eq!(shape, vec![("a", "a", true), ("", "x", false), ("b", "b", true), ("c", "c", true)]);
    }

    #[test]
    fn alignment_pairs_a_changed_row_with_its_counterpart() {
        let rows = align("segment", vec![item("c", "a"), item("c", "b")], vec![item("c", "a"), item("c", "B")]);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].same);
        assert_eq!((rows[1].engine.as_str(), rows[1].kernel.as_str(), rows[1].same), ("b", "B", false));
    }

    #[test]
    fn descriptor_numbers_and_pids_are_not_compared() {
        let names = Namer::default();
        let call = |call: &str, result: i64| CallResult {
            t_us: 0,
            process: "p".into(),
            call: call.into(),
            result: Some(result),
            errno: None,
            value: None,
            blocked: false,
        };
        assert_eq!(normalised_result(&call("socket", 3), &names), normalised_result(&call("socket", 7), &names));
        assert_eq!(normalised_result(&call("fork", 2), &names), "a pid");
        assert_ne!(normalised_result(&call("send", 3), &names), normalised_result(&call("send", 7), &names));
    }
}
