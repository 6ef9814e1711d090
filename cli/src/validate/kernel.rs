//! The real-kernel half of a check (Linux only): the kernel's own choices, read once, and a
//! scenario played with real sockets in a fresh network namespace, with its faults as
//! nftables rules, observed through `capture.rs` and `observe.rs`.

use std::time::Duration;

use sockscope_engine::{Ipv4, Scenario, State};

use super::capture::Capture;
use super::compare::{Observation, StateChange, SETTLE_US};
use super::faults::{self, Edge};
use super::observe::{self, StateTracer};
use super::profile::{self, KernelFacts, LoopbackMap};
use super::{real, sys};

/// Runs `body` on a thread of its own in a fresh network namespace with `lo` up and its
/// TCP segmentation offload off (see `sys::loopback_tso_off`).
pub fn in_new_namespace<T: Send + 'static>(
    body: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    std::thread::Builder::new()
        .name("netns".into())
        .spawn(move || {
            sys::unshare_network().map_err(|err| format!("cannot create a network namespace (root needed): {err}"))?;
            sys::loopback_up().map_err(|err| format!("cannot bring lo up: {err}"))?;
            sys::loopback_tso_off().map_err(|err| format!("cannot switch TSO off on lo: {err}"))?;
            body()
        })
        .map_err(|err| err.to_string())?
        .join()
        .map_err(|_| "the namespace thread panicked".to_string())?
}

/// The kernel's release and the window scale it announces, read from a probe connection
/// in a fresh namespace (falling back to the rule of `tcp_select_initial_window()`).
pub fn facts() -> KernelFacts {
    let release = format!("Linux {}", sys::kernel_release());
    let probed = in_new_namespace(|| {
        let capture = Capture::start().map_err(|err| err.to_string())?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|err| err.to_string())?;
        let addr = listener.local_addr().map_err(|err| err.to_string())?;
        let client = std::net::TcpStream::connect(addr).map_err(|err| err.to_string())?;
        let _server = listener.accept().map_err(|err| err.to_string())?;
        drop(client);
        std::thread::sleep(Duration::from_millis(20));
        let captured = capture.finish();
        captured
            .segments
            .iter()
            .find(|segment| segment.flags.syn && !segment.flags.ack)
            .and_then(|syn| syn.options.wscale)
            .ok_or_else(|| "no SYN seen".to_string())
    });
    let wscale = probed.unwrap_or_else(|_| {
        let max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_rmem")
            .ok()
            .and_then(|text| text.split_whitespace().nth(2).and_then(|max| max.parse::<u64>().ok()))
            .unwrap_or(6 << 20);
        (max.max(1).ilog2().saturating_sub(15)).min(14) as u8
    });
    let sysctl = |name: &str| std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}")).unwrap_or_default();
    let congestion_control = match sysctl("tcp_congestion_control").trim() {
        "" => "cubic".to_string(),
        name => name.to_string(),
    };
    let wmem_max = sysctl("tcp_wmem").split_whitespace().nth(2).and_then(|max| max.parse().ok()).unwrap_or(4 << 20);
    KernelFacts { release, wscale, congestion_control, wmem_max }
}

/// Plays the scenario on loopback and observes it, for at most `horizon_us` plus a margin,
/// with its faults changed at `edges`.
///
/// With `retries2` set, the namespace's own `net.ipv4.tcp_retries2` is set to it before
/// anything runs (a shortened check, see `profile::shorten_retransmissions`).
pub fn observe(
    scenario: &Scenario,
    horizon_us: u64,
    edges: &[Edge],
    retries2: Option<u32>,
) -> Result<Observation, String> {
    let (scenario, edges) = (scenario.clone(), edges.to_vec());
    let tag = scenario.name.clone();
    let crossing = profile::needs_crossing_delay(&scenario);
    in_new_namespace(move || {
        let inode = sys::network_namespace_inode().map_err(|err| format!("cannot read the namespace: {err}"))?;
        let map = LoopbackMap::for_namespace(&scenario, inode);
        if let Some(retries2) = retries2 {
            sys::set_namespace_tcp_retries2(retries2)
                .map_err(|err| format!("cannot set tcp_retries2 in the run's namespace: {err}"))?;
        }
        if crossing {
            // tc runs as a child of this thread and so acts in this thread's namespace.
            let delay = format!("{}us", profile::CROSSING_DELAY_US);
            const WHY: &str = "two hosts act at the same instant (a simultaneous open or close); on bare lo \
                               the first host's segment arrives before the second host acts, so lo needs a netem delay";
            let added = std::process::Command::new("tc")
                .args(["qdisc", "add", "dev", "lo", "root", "netem", "delay", &delay])
                .stderr(std::process::Stdio::piped())
                .output()
                .map_err(|err| format!("{WHY}, and `tc` cannot run: {err}"))?;
            if !added.status.success() {
                let said = String::from_utf8_lossy(&added.stderr).trim().to_string();
                return Err(format!(
                    "{WHY}, and `tc qdisc add dev lo root netem` failed here ({said}: no sch_netem in this kernel)"
                ));
            }
        }
        let (host_sockets, changes) = fault_setup(&scenario, &map, &edges)?;
        let tracer = StateTracer::start(&tag).map_err(|err| format!("cannot trace TCP state changes: {err}"))?;
        let capture = Capture::start().map_err(|err| format!("cannot capture on lo: {err}"))?;
        let watch = observe::TimeWaitWatch::start();
        // Long kernel timers fire late by up to the timer wheel's granularity at their
        // range (4 s for a 64 s SYN retry, kernel/time/timer.c), so a long run gets a
        // proportionally longer margin before blocked calls are given up on.
        let deadline = Duration::from_micros(horizon_us + 1_000_000 + horizon_us / 16);
        let run = real::run_processes(&scenario, &map, host_sockets, &changes, deadline);
        if let Some(error) = run.errors.first() {
            return Err(format!("the real run could not reproduce the scenario: {error}"));
        }
        // Let delayed ACKs and retransmissions happen, as the engine's horizon does.
        let settle_until = run.start_us + run.end_us + SETTLE_US;
        let now = sys::monotonic_us();
        if settle_until > now {
            std::thread::sleep(Duration::from_micros(settle_until - now));
        }
        let entries = observe::read_proc_net_tcp();
        let time_waits = watch.finish();
        let captured = capture.finish();
        let trace = tracer.finish().map_err(|err| format!("cannot read the trace: {err}"))?;
        let horizon = run.end_us + SETTLE_US;
        let relative = |t_us: u64| t_us.saturating_sub(run.start_us);
        let ours = |ip: Ipv4| map.real_ip_known(ip);
        // A wildcard listener is named by its port alone; another namespace may use the
        // same port at the same time, so its change must also fall inside one of the
        // run's calls that can open or close a listener.
        let our_listener = |port: u16, t_us: u64| {
            run.bound_ports.contains(&port)
                && run.listener_windows.iter().any(|(start, end)| *start <= t_us && t_us <= *end)
        };
        let states = observe::complete_states(observe::parse_trace(&trace, ours, our_listener), &entries, &time_waits);
        let mut observation = Observation { horizon_us: horizon, ..Observation::default() };
        // What the validator's own shutdown() of still-blocked calls set off at the
        // deadline is not the scenario's.
        let given_up_at = u64::try_from(deadline.as_micros()).unwrap_or(u64::MAX);
        let given_up = |t_us: u64| run.aborted && t_us >= given_up_at;
        for mut segment in captured.segments {
            segment.t_us = relative(segment.t_us);
            if segment.t_us > horizon || given_up(segment.t_us) {
                continue;
            }
            segment.header.from = map.scenario(segment.from);
            segment.header.to = map.scenario(segment.to);
            observation.segments.push(segment);
        }
        let torn_down = |change: &StateChange| {
            run.teardowns.iter().any(|teardown| {
                (teardown.start_us..=teardown.end_us).contains(&change.t_us) && teardown.locals.contains(&change.local)
            })
        };
        for change in states {
            if change.t_us < run.start_us || torn_down(&change) {
                continue;
            }
            let t_us = relative(change.t_us);
            if t_us > horizon || given_up(t_us) {
                continue;
            }
            observation.states.push(StateChange {
                t_us,
                local: map.scenario(change.local),
                peer: change.peer.map(|peer| map.scenario(peer)),
                from: change.from,
                to: change.to,
            });
        }
        observation.calls = run.calls;
        observation.checkpoints = run.checkpoints;
        observation.send_buffers = run.send_buffers;
        for entry in entries.iter().filter(|entry| entry.state == State::TimeWait.proc_code()) {
            observation.notes.push(format!(
                "/proc/net/tcp lists {} - {} in TIME_WAIT at the end of the run; its 60 s expiry is not waited for",
                map.scenario(entry.local),
                map.scenario(entry.peer)
            ));
        }
        if run.aborted {
            observation.notes.push(format!(
                "some calls were still blocked {:.1} s into the run and were released by shutdown(); what that set off is left out",
                run.end_us as f64 / 1e6
            ));
        }
        for teardown in &run.teardowns {
            observation.notes.push(format!(
                "a crash at {:.3} s: {} socket(s) torn down with SO_LINGER {{1, 0}} behind drop rules; their \
                 state changes then are left out (in the engine a crashed host's sockets just vanish)",
                relative(teardown.start_us) as f64 / 1e6,
                teardown.locals.len()
            ));
        }
        if captured.drops > 0 {
            return Err(format!("the capture lost {} packets (its buffer was full)", captured.drops));
        }
        Ok(observation)
    })
}

/// The nft rules set up before the run, and the real run's part of the faults: each host's
/// per-socket keepalive settings and the timed changes.
fn fault_setup(
    scenario: &Scenario,
    map: &LoopbackMap,
    edges: &[Edge],
) -> Result<(real::HostSockets, Vec<real::TimedChange>), String> {
    let mut host_sockets = real::HostSockets::default();
    for host in &scenario.hosts {
        let Some(ip) = map.real_ip(host.addr) else { continue };
        if let Ok(Some(timing)) = profile::keepalive_timing(&host.tcp) {
            host_sockets.keepalive.insert(ip, timing);
        }
        if let Some(mss) = host.tcp.mss {
            host_sockets.mss.insert(ip, mss);
        }
    }
    if scenario.faults.is_empty() {
        return Ok((host_sockets, Vec::new()));
    }
    faults::nft_available().map_err(|why| format!("needs nftables to inject its faults, and {why}"))?;
    faults::run_nft(&faults::setup_script(scenario, map, edges))?;
    let changes = edges
        .iter()
        .filter_map(|edge| {
            let at_us = edge.at_us?;
            let host = match edge.change {
                faults::Change::Crash(index) => Some(real::HostChange::Crash(faults::real_ip(scenario, map, index))),
                faults::Change::Reboot(index) => Some(real::HostChange::Reboot(faults::real_ip(scenario, map, index))),
                faults::Change::Apply(_) | faults::Change::Lift(_) => None,
            };
            Some(real::TimedChange { at_us, script: faults::commands(&edge.change, scenario, map), host })
        })
        .collect();
    Ok((host_sockets, changes))
}
