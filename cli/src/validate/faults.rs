//! A scenario's faults on the real kernel: its dropped segments, dead links and crashed hosts
//! become nftables rules in the run's own network namespace, changed at moments read from
//! the engine's trace.
//!
//! Where the rules sit decides what the capture sees. On `lo` a packet passes the packet taps
//! (where `capture.rs` reads it) on its way *in*, before `ip_rcv()` runs the netfilter
//! PRE_ROUTING and LOCAL_IN hooks. A rule in the `input` hook therefore drops a segment that
//! was captured: the kernel sent it and the capture shows it, but the receiving TCP never
//! sees it, which is what the engine's `sent` then `dropped` means. A crashed host also sends
//! nothing; its sockets are torn down with an abortive close, and the RST that close makes is
//! dropped in the `output` hook, before any tap, so nothing of it reaches the wire.
//!
//! Each rule means what `Fabric::verdict()` and `FaultRule::on_segment()` in engine/src/world/
//! (fabric.rs, fault_rule.rs) mean:
//! - `from` and `to` are the sending and receiving hosts: `ip saddr` and `ip daddr` of the
//!   loopback addresses that play them;
//! - `flags` names the exact set of the five flags the engine models (`tcp flags & (fin | syn |
//!   rst | psh | ack) == ...`), so `.` matches a bare ACK and not a FIN+ACK;
//! - `data` asks whether the segment carries payload. The `@ih` payload base starts where the
//!   transport header ends (`nft_payload_inner_offset()` adds the TCP header's own data offset,
//!   or the 8 bytes of a UDP header), and reading a byte past the end of the packet makes the
//!   expression fail, so `@ih,0,8 0x0-0xff` holds exactly when one payload byte exists;
//! - `nth` and `count`: the engine counts the segments that matched a drop rule (and that no
//!   earlier rule decided) and drops matches `nth ..= nth + count - 1`. A `numgen inc`
//!   expression placed after the match conditions counts the same segments (nft evaluates a
//!   rule left to right and stops at the first condition that fails), starting from 0;
//! - rules are evaluated in the scenario's order, each in its own chain that the `input`
//!   chain jumps to, so that a segment an earlier rule drops does not advance a later rule's
//!   counter, as in the engine; the rules of a crashed host come last, because the engine
//!   decides a segment's fate when it is sent and only checks the destination on arrival;
//! - time windows (`from_ms`, `until_ms`, a link's `from_ms` and `until_ms`, a crash's and
//!   a reboot's `at_ms`) are rules added or flushed by the real run's controller. It acts at
//!   the named time when no traffic is near it; otherwise at a moment of the same quiet gap of
//!   the engine's trace (between its last call or segment before the edge and its first after
//!   it) at least [`EDGE_MARGIN_US`] from either side, which changes no segment's fate.
//!
//! What cannot be expressed exactly is left to the engine, with the reason
//! ([`unsupported_reason`]): random loss, duplication, reordering and extra delay (drawn from
//! the engine's seeded generator, or needing `tc netem`, which this kernel lacks), relative
//! sequence numbers (a rule sees absolute ones, and the kernel draws its ISN only when it
//! connects), and edges too close to traffic to be placed.

use serde::Serialize;
use sockscope_engine::scenario::{Call, Fault, Scenario, SegmentMatch, SockType, Step};
use sockscope_engine::trace::{EventKind, Fate, Flags};
use sockscope_engine::{Ipv4, Trace};

use super::profile::LoopbackMap;

/// The nftables table the rules live in (inside the run's private namespace).
pub const TABLE: &str = "sockscope";

/// How far from the nearest call or segment of the engine's trace the controller changes a
/// rule. Running `nft` takes a few milliseconds and a busy machine delays a thread by tens.
pub const EDGE_MARGIN_US: u64 = 50_000;

/// The modulus of a drop rule's `numgen inc` counter: it wraps only after 2^32 - 1 matches.
const NTH_MODULUS: u64 = u32::MAX as u64;

/// A change the controller makes to the rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Change {
    /// `faults[index]` (a drop or a dead link) starts to apply.
    Apply(usize),
    /// `faults[index]` stops applying.
    Lift(usize),
    /// `hosts[index]` crashes: everything to or from it is dropped, and the real run makes
    /// its processes and sockets vanish.
    Crash(usize),
    /// `hosts[index]` boots again: its rules go, and a segment for one of its old connections
    /// meets a kernel with no socket for it.
    Reboot(usize),
}

/// A change and when the controller makes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// Microseconds from the start of the real run; `None`: before any process starts.
    pub at_us: Option<u64>,
    pub change: Change,
}

/// Why the scenario's faults cannot be reproduced exactly with nftables, judged from the
/// scenario alone.
pub fn unsupported_reason(scenario: &Scenario) -> Option<String> {
    let uses_udp = scenario.processes.iter().any(|process| uses_datagrams(&process.steps));
    for (index, fault) in scenario.faults.iter().enumerate() {
        let why = match fault {
            Fault::Loss { rate, .. } => Some(format!(
                "loses segments at random (rate {rate}) with the engine's seeded generator; a kernel rule \
                 cannot draw the same segments"
            )),
            Fault::Duplicate { .. } | Fault::Reorder { .. } | Fault::Delay { .. } => Some(
                "duplicates, reorders or delays segments, which needs tc netem on lo (this kernel has no \
                 sch_netem; nftables can only pass or drop)"
                    .to_string(),
            ),
            Fault::Drop { matching, .. } => match_reason(matching, uses_udp),
            Fault::LinkDown { .. } | Fault::Crash { .. } | Fault::Reboot { .. } => None,
        };
        if let Some(why) = why {
            return Some(format!("faults[{index}] {why}"));
        }
    }
    None
}

fn match_reason(matching: &SegmentMatch, uses_udp: bool) -> Option<String> {
    if matching.seq.is_some() {
        return Some(
            "names relative sequence numbers; a kernel rule sees absolute ones, and the kernel draws \
             each connection's ISN only when it connects"
                .to_string(),
        );
    }
    let flags = matching.flags.as_deref()?;
    match Flags::parse_letters(flags) {
        None => Some(format!("names flags `{flags}`, which are not tcpdump's letters")),
        // The engine gives a UDP datagram no flags, so "none" matches datagrams too; a `tcp
        // flags` rule only sees TCP.
        Some(parsed) if parsed == Flags::default() && uses_udp => {
            Some("matches segments without flags in a scenario that also sends UDP datagrams".to_string())
        }
        Some(_) => None,
    }
}

fn uses_datagrams(steps: &[Step]) -> bool {
    steps.iter().any(|step| match &step.call {
        Call::Socket { sock_type, .. } => *sock_type == SockType::Dgram,
        Call::Fork { child } => uses_datagrams(&child.steps),
        _ => false,
    })
}

/// When each fault edge happens in the real run, placed in the quiet gap of the engine's
/// trace (`trace` is the engine's run of the profiled scenario) that holds it.
pub fn schedule(scenario: &Scenario, trace: &Trace) -> Result<Vec<Edge>, String> {
    let activity: Vec<u64> = trace
        .events
        .iter()
        .filter(|event| match &event.kind {
            EventKind::Segment(segment) => segment.fate == Fate::Sent,
            EventKind::Syscall { .. } => true,
            _ => false,
        })
        .map(|event| event.t_us)
        .collect();
    let mut edges = Vec::new();
    for (index, fault) in scenario.faults.iter().enumerate() {
        let window = |from_ms: f64, until_ms: Option<f64>| {
            let lift = until_ms.map(|until| (until, Change::Lift(index)));
            std::iter::once((from_ms, Change::Apply(index))).chain(lift).collect()
        };
        let host =
            |name: &str| host_index(scenario, name).ok_or_else(|| format!("faults[{index}] names an unknown host"));
        let wanted: Vec<(f64, Change)> = match fault {
            Fault::Drop { matching, .. } => window(matching.from_ms.unwrap_or(0.0), matching.until_ms),
            Fault::LinkDown { from_ms, until_ms, .. } => window(*from_ms, *until_ms),
            Fault::Crash { host: name, at_ms } => vec![(*at_ms, Change::Crash(host(name)?))],
            Fault::Reboot { host: name, at_ms } => vec![(*at_ms, Change::Reboot(host(name)?))],
            Fault::Loss { .. } | Fault::Duplicate { .. } | Fault::Reorder { .. } | Fault::Delay { .. } => Vec::new(),
        };
        for (at_ms, change) in wanted {
            let at_us = place(&activity, (at_ms * 1000.0).round() as u64, &change)
                .map_err(|why| format!("faults[{index}] {why}"))?;
            edges.push(Edge { at_us, change });
        }
    }
    // Before-the-start edges (`None`) first, then by time; equal times keep the scenario's order.
    edges.sort_by_key(|edge| edge.at_us);
    Ok(edges)
}

/// The real time for an edge the engine puts at `edge_us`, given the times of the engine's
/// calls and sent segments in the order they happen.
fn place(activity: &[u64], edge_us: u64, change: &Change) -> Result<Option<u64>, String> {
    let split = activity.partition_point(|&t| t < edge_us);
    let after = activity.get(split).copied();
    let Some(before) = split.checked_sub(1).map(|last| activity[last]) else {
        return match change {
            // Nothing happens before the edge: the rule may as well be there from the start.
            Change::Apply(_) | Change::Lift(_) => Ok(None),
            Change::Crash(_) | Change::Reboot(_) => Err(format!(
                "crashes or reboots a host at {} ms, before any call: the validator changes a host only \
                 while its processes run",
                edge_us as f64 / 1000.0
            )),
        };
    };
    let earliest = before + EDGE_MARGIN_US;
    let latest = after.map_or(u64::MAX, |after| after.saturating_sub(EDGE_MARGIN_US));
    if earliest > latest {
        return Err(format!(
            "changes at {:.1} ms, but the engine's trace has activity at {:.1} ms and {:.1} ms; a rule \
             changed by a controller thread needs {} ms of quiet on each side",
            edge_us as f64 / 1000.0,
            before as f64 / 1000.0,
            after.unwrap_or(0) as f64 / 1000.0,
            EDGE_MARGIN_US / 1000
        ));
    }
    Ok(Some(edge_us.clamp(earliest, latest)))
}

fn fault_chain(index: usize) -> String {
    format!("fault{index}")
}

fn crash_chains(host: usize) -> (String, String) {
    (format!("crash{host}_in"), format!("crash{host}_out"))
}

fn host_index(scenario: &Scenario, name: &str) -> Option<usize> {
    scenario.hosts.iter().position(|host| host.name == name)
}

fn crashed_hosts(scenario: &Scenario) -> Vec<usize> {
    let mut hosts: Vec<usize> = scenario
        .faults
        .iter()
        .filter_map(|fault| match fault {
            Fault::Crash { host, .. } => host_index(scenario, host),
            _ => None,
        })
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    hosts
}

/// The nft script that sets the rules up before the run: the table, one chain per fault in
/// the scenario's order, the crash chains last, and the changes due before any process starts.
pub fn setup_script(scenario: &Scenario, map: &LoopbackMap, edges: &[Edge]) -> String {
    let mut script = format!("add table ip {TABLE}\n");
    let mut input_jumps = Vec::new();
    let mut output_jumps = Vec::new();
    for (index, fault) in scenario.faults.iter().enumerate() {
        if matches!(fault, Fault::Drop { .. } | Fault::LinkDown { .. }) {
            input_jumps.push(fault_chain(index));
        }
    }
    for host in crashed_hosts(scenario) {
        let (chain_in, chain_out) = crash_chains(host);
        input_jumps.push(chain_in);
        output_jumps.push(chain_out);
    }
    for chain in input_jumps.iter().chain(&output_jumps) {
        script.push_str(&format!("add chain ip {TABLE} {chain}\n"));
    }
    for (hook, jumps) in [("input", &input_jumps), ("output", &output_jumps)] {
        if jumps.is_empty() {
            continue;
        }
        script.push_str(&format!(
            "add chain ip {TABLE} {hook} {{ type filter hook {hook} priority filter; policy accept; }}\n"
        ));
        for chain in jumps {
            script.push_str(&format!("add rule ip {TABLE} {hook} jump {chain}\n"));
        }
    }
    for edge in edges.iter().filter(|edge| edge.at_us.is_none()) {
        script.push_str(&commands(&edge.change, scenario, map));
    }
    script
}

/// The nft commands that make one change.
pub fn commands(change: &Change, scenario: &Scenario, map: &LoopbackMap) -> String {
    let ip = |name: &str| {
        host_index(scenario, name).map_or(Ipv4::UNSPECIFIED, |host| real_ip(scenario, map, host)).to_string()
    };
    match change {
        Change::Apply(index) => {
            let chain = fault_chain(*index);
            match scenario.faults.get(*index) {
                Some(Fault::Drop { matching, nth, count }) => {
                    let mut script = String::new();
                    if matching.data == Some(false) {
                        // A segment with payload is not this rule's: leave its chain at once.
                        script.push_str(&format!("add rule ip {TABLE} {chain} @ih,0,8 0x0-0xff return\n"));
                    }
                    let mut conditions = Vec::new();
                    if let Some(from) = &matching.from {
                        conditions.push(format!("ip saddr {}", ip(from)));
                    }
                    if let Some(to) = &matching.to {
                        conditions.push(format!("ip daddr {}", ip(to)));
                    }
                    if let Some(flags) = matching.flags.as_deref().and_then(Flags::parse_letters) {
                        conditions.push(format!("tcp flags & (fin | syn | rst | psh | ack) == {}", nft_flags(flags)));
                    }
                    if matching.data == Some(true) {
                        conditions.push("@ih,0,8 0x0-0xff".to_string());
                    }
                    let first = u64::from(*nth).saturating_sub(1).min(NTH_MODULUS - 1);
                    let last = (first + u64::from(*count).saturating_sub(1)).min(NTH_MODULUS - 1);
                    let hits = if first == last { first.to_string() } else { format!("{first}-{last}") };
                    conditions.push(format!("numgen inc mod {NTH_MODULUS} {hits}"));
                    script.push_str(&format!("add rule ip {TABLE} {chain} {} drop\n", conditions.join(" ")));
                    script
                }
                Some(Fault::LinkDown { a, b, .. }) => format!(
                    "add rule ip {TABLE} {chain} ip saddr {a} ip daddr {b} drop\nadd rule ip {TABLE} {chain} ip saddr {b} ip daddr {a} drop\n",
                    a = ip(a),
                    b = ip(b)
                ),
                _ => String::new(),
            }
        }
        Change::Lift(index) => format!("flush chain ip {TABLE} {}\n", fault_chain(*index)),
        Change::Crash(host) => {
            let (chain_in, chain_out) = crash_chains(*host);
            let addr = real_ip(scenario, map, *host);
            format!("add rule ip {TABLE} {chain_in} ip daddr {addr} drop\nadd rule ip {TABLE} {chain_out} ip saddr {addr} drop\n")
        }
        // A reboot of a host that never crashed changes nothing, as in the engine.
        Change::Reboot(host) if !crashed_hosts(scenario).contains(host) => String::new(),
        Change::Reboot(host) => {
            let (chain_in, chain_out) = crash_chains(*host);
            format!("flush chain ip {TABLE} {chain_in}\nflush chain ip {TABLE} {chain_out}\n")
        }
    }
}

/// The loopback address that plays `hosts[host]` (0.0.0.0 if there is no such host).
pub fn real_ip(scenario: &Scenario, map: &LoopbackMap, host: usize) -> Ipv4 {
    scenario.hosts.get(host).and_then(|host| map.real_ip(host.addr)).unwrap_or(Ipv4::UNSPECIFIED)
}

/// The value nft compares the masked flags with: the names joined by `|`, or 0x0 for none.
fn nft_flags(flags: Flags) -> String {
    let names: Vec<&str> =
        [(flags.fin, "fin"), (flags.syn, "syn"), (flags.rst, "rst"), (flags.psh, "psh"), (flags.ack, "ack")]
            .iter()
            .filter(|(set, _)| *set)
            .map(|(_, name)| *name)
            .collect();
    if names.is_empty() {
        "0x0".to_string()
    } else {
        names.join(" | ")
    }
}

/// Runs an nft script in the calling thread's network namespace (a child process inherits
/// the namespace of the thread that starts it).
#[cfg(target_os = "linux")]
pub fn run_nft(script: &str) -> Result<(), String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run nft: {err}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).map_err(|err| format!("cannot feed nft: {err}"))?;
    }
    let output = child.wait_with_output().map_err(|err| format!("nft did not finish: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("nft rejected the rules ({}):\n{script}", String::from_utf8_lossy(&output.stderr).trim()))
    }
}

/// Whether `nft` can run here, or why not.
#[cfg(target_os = "linux")]
pub fn nft_available() -> Result<(), String> {
    match std::process::Command::new("nft").arg("--version").output() {
        Ok(output) if output.status.success() => Ok(()),
        Ok(_) => Err("`nft --version` failed".to_string()),
        Err(err) => Err(format!("the nftables command `nft` is not installed ({err})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin(name: &str) -> Scenario {
        sockscope_engine::builtin::get(name).expect("a built-in scenario")
    }

    /// Host i is played by 127.2.7.(i+1).
    fn map(scenario: &Scenario) -> LoopbackMap {
        LoopbackMap::for_namespace(scenario, 0x0107)
    }

    fn engine_trace(scenario: &Scenario) -> Trace {
        let facts = super::super::profile::KernelFacts {
            release: "Linux test".into(),
            wscale: 10,
            congestion_control: "cubic".into(),
            wmem_max: 4 << 20,
        };
        sockscope_engine::run(&super::super::profile::loopback_profile(scenario, &facts))
            .expect("the engine finishes")
            .trace
    }

    /// The setup script followed by each timed change, as `@<us>` and its commands.
    fn rules(scenario: &Scenario) -> String {
        let edges = schedule(scenario, &engine_trace(scenario)).expect("a schedule");
        let mut text = setup_script(scenario, &map(scenario), &edges);
        for edge in &edges {
            if let Some(at_us) = edge.at_us {
                text.push_str(&format!("@{at_us}\n{}", commands(&edge.change, scenario, &map(scenario))));
            }
        }
        text
    }

    const HEAD: &str = "add table ip sockscope\n";
    const INPUT: &str = "add chain ip sockscope input { type filter hook input priority filter; policy accept; }\n";
    const OUTPUT: &str = "add chain ip sockscope output { type filter hook output priority filter; policy accept; }\n";

    #[test]
    fn each_fault_becomes_its_rules() {
        let mut acks = builtin("retransmission");
        acks.faults = serde_json::from_str(
            r#"[{"fault":"drop","match":{"from":"server","to":"client","flags":"F.","data":false},"nth":2,"count":3},
                {"fault":"link_down","a":"client","b":"server","from_ms":0,"until_ms":300}]"#,
        )
        .expect("faults");
        let cases = [
            (
                builtin("retransmission"),
                format!(
                    "{HEAD}add chain ip sockscope fault0\n{INPUT}add rule ip sockscope input jump fault0\n\
                     add rule ip sockscope fault0 ip saddr 127.2.7.1 @ih,0,8 0x0-0xff numgen inc mod 4294967295 0 drop\n"
                ),
            ),
            (
                // The window opens at 1000 ms, when the client closes: the rule goes in 50 ms before.
                builtin("lost-final-ack"),
                format!(
                    "{HEAD}add chain ip sockscope fault0\n{INPUT}add rule ip sockscope input jump fault0\n@950000\n\
                     add rule ip sockscope fault0 ip saddr 127.2.7.1 tcp flags & (fin | syn | rst | psh | ack) == ack \
                     numgen inc mod 4294967295 0 drop\n"
                ),
            ),
            (
                builtin("peer-reboot"),
                format!(
                    "{HEAD}add chain ip sockscope crash1_in\nadd chain ip sockscope crash1_out\n{INPUT}\
                     add rule ip sockscope input jump crash1_in\n{OUTPUT}add rule ip sockscope output jump crash1_out\n\
                     @2000000\nadd rule ip sockscope crash1_in ip daddr 127.2.7.2 drop\n\
                     add rule ip sockscope crash1_out ip saddr 127.2.7.2 drop\n\
                     @5000000\nflush chain ip sockscope crash1_in\nflush chain ip sockscope crash1_out\n"
                ),
            ),
            (
                // The link comes back at 300 ms, between the client's first SYN (100 ms, lost) and
                // its retransmission (1.1 s).
                acks,
                format!(
                    "{HEAD}add chain ip sockscope fault0\nadd chain ip sockscope fault1\n{INPUT}\
                     add rule ip sockscope input jump fault0\nadd rule ip sockscope input jump fault1\n\
                     add rule ip sockscope fault0 @ih,0,8 0x0-0xff return\n\
                     add rule ip sockscope fault0 ip saddr 127.2.7.2 ip daddr 127.2.7.1 \
                     tcp flags & (fin | syn | rst | psh | ack) == fin | ack numgen inc mod 4294967295 1-3 drop\n\
                     add rule ip sockscope fault1 ip saddr 127.2.7.1 ip daddr 127.2.7.2 drop\n\
                     add rule ip sockscope fault1 ip saddr 127.2.7.2 ip daddr 127.2.7.1 drop\n\
                     @300000\nflush chain ip sockscope fault1\n"
                ),
            ),
        ];
        for (scenario, expected) in cases {
            assert_eq!(rules(&scenario), expected, "{}", scenario.name);
        }
    }

    #[test]
    fn faults_no_rule_can_express_are_engine_only() {
        let cases = [
            (r#"{"fault":"loss","rate":0.1}"#, "faults[0] loses segments at random (rate 0.1)"),
            (r#"{"fault":"delay","extra_us":500}"#, "faults[0] duplicates, reorders or delays segments"),
            (r#"{"fault":"drop","match":{"seq":[1,100]}}"#, "faults[0] names relative sequence numbers"),
            (r#"{"fault":"drop","match":{"flags":"X"}}"#, "faults[0] names flags `X`"),
        ];
        for (fault, expected) in cases {
            let mut scenario = builtin("retransmission");
            scenario.faults = vec![serde_json::from_str(fault).expect("a fault")];
            let reason = unsupported_reason(&scenario).unwrap_or_default();
            assert!(reason.starts_with(expected), "{fault}: {reason}");
        }
        // Flags "none" also match UDP datagrams in the engine, which a `tcp flags` rule misses.
        let mut scenario = builtin("udp-vs-tcp");
        scenario.faults = vec![serde_json::from_str(r#"{"fault":"drop","match":{"flags":"none"}}"#).expect("a fault")];
        assert!(unsupported_reason(&scenario).is_some_and(|reason| reason.contains("UDP")));
        scenario.faults = vec![serde_json::from_str(r#"{"fault":"drop","match":{"data":true}}"#).expect("a fault")];
        assert_eq!(unsupported_reason(&scenario), None, "@ih reads a UDP payload too");
        for name in ["retransmission", "lost-final-ack", "peer-reboot", "keepalive", "connect-timeout", "peer-crash"] {
            assert_eq!(unsupported_reason(&builtin(name)), None, "{name}");
        }
    }

    #[test]
    fn edges_are_placed_in_the_quiet_gap_around_them() {
        let activity = [100_000, 1_000_000, 1_030_000];
        let apply = Change::Apply(0);
        let crash = Change::Crash(1);
        // At the named time when nothing is near, else pushed away from the traffic.
        assert_eq!(place(&activity, 500_000, &apply), Ok(Some(500_000)));
        assert_eq!(place(&activity, 1_000_000, &apply), Ok(Some(950_000)));
        assert_eq!(place(&activity, 120_000, &crash), Ok(Some(150_000)));
        assert_eq!(place(&activity, 2_000_000, &crash), Ok(Some(2_000_000)));
        // Before any traffic a rule is simply there from the start; a crash is not possible.
        assert_eq!(place(&activity, 50_000, &apply), Ok(None));
        assert!(place(&activity, 50_000, &crash).is_err());
        // 30 ms between two segments leaves no room for 50 ms of margin on each side.
        let reason = place(&activity, 1_010_000, &apply).expect_err("too close");
        assert!(reason.contains("1000.0 ms and 1030.0 ms"), "{reason}");
    }
}
