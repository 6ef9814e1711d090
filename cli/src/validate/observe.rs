//! Observing each socket's TCP states on the real kernel.
//!
//! Polling TCP_INFO cannot see a state that lasts 20 us (SYN_SENT on loopback), so every
//! change is taken from the kernel's own `sock:inet_sock_set_state` tracepoint, read from a
//! private tracefs instance (`/sys/kernel/tracing/instances/sockscope-*`, clock `mono`) so
//! that nothing else on the machine is disturbed. Two gaps of the tracepoint are filled from
//! `/proc/net/tcp`:
//! - a socket entering TIME_WAIT is replaced by a timewait socket, so the tracepoint shows
//!   the full socket going to CLOSE (`tcp_time_wait()` then `tcp_done()`); when
//!   `/proc/net/tcp` lists the same four-tuple in state 06, that last change is TIME_WAIT;
//! - an embryonic connection (a request socket) is not a full socket: the tracepoint shows
//!   the child only when the handshake's last ACK creates it (CLOSE -> SYN_RECV ->
//!   ESTABLISHED in one go), which the engine's sequence for an accepted socket matches.
//!
//! The tracepoint does not name the network namespace, and it sees every namespace on the
//! machine (other programs' connections on 127.0.0.1 included). The run's hosts therefore
//! live in a subnet of 127/8 private to the run's namespace (`LoopbackMap::for_namespace`):
//! an event is kept when its addresses are the run's own, or, for a listener bound to the
//! wildcard address (the only sockets traced with no address), when its port is one the
//! run bound and it happened while one of the run's calls that can open or close a listener
//! (listen(), close(), shutdown(), a process's exit) was under way; and only if it happened
//! after the run started.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sockscope_engine::{Ipv4, SockAddr, State};

use super::compare::StateChange;

const TRACEFS: &str = "/sys/kernel/tracing";

/// The trace instance's ring size per CPU: about 100,000 state-change events.
const TRACE_BUFFER_KB: u32 = 8192;

/// Mounts tracefs at `root` unless it is there: a fresh container has none, and mounting it
/// needs root. Scenarios start tracing from several threads at once (the long runs go on in
/// the background), so one thread mounts while the others wait, and tracefs counts as there
/// once its `instances` folder is, whatever `mount` said (it fails on a second mount).
fn mount_tracefs(root: &Path) -> io::Result<()> {
    static MOUNTING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = MOUNTING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !root.join("instances").is_dir() {
        let _ = std::process::Command::new("mount").args(["-t", "tracefs", "nodev"]).arg(root).status()?;
    }
    if root.join("instances").is_dir() {
        Ok(())
    } else {
        Err(io::Error::other(format!("tracefs is not available at {}", root.display())))
    }
}

/// A private trace instance recording `inet_sock_set_state`.
pub struct StateTracer {
    dir: PathBuf,
}

impl StateTracer {
    pub fn start(tag: &str) -> io::Result<StateTracer> {
        let root = Path::new(TRACEFS);
        mount_tracefs(root)?;
        let dir = root.join("instances").join(format!("sockscope-{}-{tag}", std::process::id()));
        if dir.exists() {
            let _ = fs::remove_dir(&dir);
        }
        fs::create_dir(&dir)?;
        let tracer = StateTracer { dir };
        fs::write(tracer.dir.join("trace_clock"), "mono")?;
        // The tracepoint sees every namespace's connections. The default ring of 1.4 MB per CPU
        // holds some 20,000 events and then overwrites the oldest, which a busy machine (another
        // validator's benchmark) reaches within the minute that `keepalive` runs.
        fs::write(tracer.dir.join("buffer_size_kb"), TRACE_BUFFER_KB.to_string())?;
        fs::write(tracer.dir.join("events/sock/inet_sock_set_state/enable"), "1")?;
        Ok(tracer)
    }

    /// Stops recording and returns the trace text, or an error if the ring overwrote events.
    pub fn finish(self) -> io::Result<String> {
        let _ = fs::write(self.dir.join("events/sock/inet_sock_set_state/enable"), "0");
        let mut overrun = 0u64;
        for entry in fs::read_dir(self.dir.join("per_cpu"))?.flatten() {
            let stats = fs::read_to_string(entry.path().join("stats")).unwrap_or_default();
            overrun += stats
                .lines()
                .find_map(|line| line.strip_prefix("overrun:"))
                .and_then(|count| count.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
        if overrun > 0 {
            return Err(io::Error::other(format!(
                "the state trace lost {overrun} events to a full ring (other programs changed many TCP states)"
            )));
        }
        fs::read_to_string(self.dir.join("trace"))
    }
}

impl Drop for StateTracer {
    fn drop(&mut self) {
        let _ = fs::write(self.dir.join("events/sock/inet_sock_set_state/enable"), "0");
        let _ = fs::remove_dir(&self.dir);
    }
}

fn state_from_kernel_name(name: &str) -> Option<State> {
    Some(match name {
        "TCP_ESTABLISHED" => State::Established,
        "TCP_SYN_SENT" => State::SynSent,
        "TCP_SYN_RECV" | "TCP_NEW_SYN_RECV" => State::SynRecv,
        "TCP_FIN_WAIT1" => State::FinWait1,
        "TCP_FIN_WAIT2" => State::FinWait2,
        "TCP_TIME_WAIT" => State::TimeWait,
        "TCP_CLOSE" => State::Closed,
        "TCP_CLOSE_WAIT" => State::CloseWait,
        "TCP_LAST_ACK" => State::LastAck,
        "TCP_LISTEN" => State::Listen,
        "TCP_CLOSING" => State::Closing,
        _ => return None,
    })
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split_whitespace().find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
}

/// Parses the trace text into state changes; `ours` says which addresses belong to the run
/// and `our_listener` whether a wildcard listener's change of the given port at the given
/// time (monotonic us) can be the run's.
pub fn parse_trace(
    text: &str,
    ours: impl Fn(Ipv4) -> bool,
    our_listener: impl Fn(u16, u64) -> bool,
) -> Vec<StateChange> {
    let mut changes = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find(" inet_sock_set_state: ") else { continue };
        let Some(stamp) = line[..at].split_whitespace().last().and_then(|stamp| stamp.strip_suffix(':')) else {
            continue;
        };
        let Some((seconds, fraction)) = stamp.split_once('.') else { continue };
        let (Ok(seconds), Ok(micros)) = (seconds.parse::<u64>(), format!("{fraction:0<6}")[..6].parse::<u64>()) else {
            continue;
        };
        let t_us = seconds * 1_000_000 + micros;
        let rest = &line[at..];
        if field(rest, "family") != Some("AF_INET") || field(rest, "protocol") != Some("IPPROTO_TCP") {
            continue;
        }
        let parse_addr =
            |ip: &str, port: &str| -> Option<SockAddr> { Some(SockAddr::new(ip.parse().ok()?, port.parse().ok()?)) };
        let (Some(local), Some(peer)) = (
            parse_addr(field(rest, "saddr").unwrap_or(""), field(rest, "sport").unwrap_or("")),
            parse_addr(field(rest, "daddr").unwrap_or(""), field(rest, "dport").unwrap_or("")),
        ) else {
            continue;
        };
        let (Some(from), Some(to)) = (
            field(rest, "oldstate").and_then(state_from_kernel_name),
            field(rest, "newstate").and_then(state_from_kernel_name),
        ) else {
            continue;
        };
        let kept = if local.ip.is_unspecified() {
            // A wildcard listener: its port is all that names it.
            peer.ip.is_unspecified() && local.port != 0 && our_listener(local.port, t_us)
        } else {
            ours(local.ip) && (peer.ip.is_unspecified() || ours(peer.ip))
        };
        if !kept {
            continue;
        }
        let peer = if peer.ip.is_unspecified() && peer.port == 0 { None } else { Some(peer) };
        changes.push(StateChange { t_us, local, peer, from, to });
    }
    changes
}

/// The `st` column of a `/proc/net/tcp` row in TIME_WAIT (`TCP_TIME_WAIT` in include/net/tcp_states.h).
const TCP_TIME_WAIT: u8 = 0x06;

/// One row of `/proc/net/tcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcEntry {
    pub local: SockAddr,
    pub peer: SockAddr,
    pub state: u8,
}

fn hex_addr(text: &str) -> Option<SockAddr> {
    let (ip, port) = text.split_once(':')?;
    // The address is printed as the host-order u32 of a network-order value: on a
    // little-endian machine the octets come out reversed.
    let raw = u32::from_str_radix(ip, 16).ok()?;
    let ip = Ipv4(raw.to_ne_bytes());
    Some(SockAddr::new(ip, u16::from_str_radix(port, 16).ok()?))
}

/// Parses `/proc/net/tcp` text.
pub fn parse_proc_net_tcp(text: &str) -> Vec<ProcEntry> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut parts = line.split_whitespace().skip(1);
            let local = hex_addr(parts.next()?)?;
            let peer = hex_addr(parts.next()?)?;
            let state = u8::from_str_radix(parts.next()?, 16).ok()?;
            Some(ProcEntry { local, peer, state })
        })
        .collect()
}

/// Reads `/proc/net/tcp` of the calling thread's namespace (`/proc/self/net` would show the
/// main thread's).
pub fn read_proc_net_tcp() -> Vec<ProcEntry> {
    fs::read_to_string("/proc/thread-self/net/tcp").map(|text| parse_proc_net_tcp(&text)).unwrap_or_default()
}

/// A connection that `/proc/net/tcp` listed in TIME_WAIT while the run went on: when it was
/// first seen there and, if it left before the end, when it was first missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeWaitSeen {
    pub local: SockAddr,
    pub peer: SockAddr,
    pub first_us: u64,
    pub gone_us: Option<u64>,
}

/// Watches `/proc/net/tcp` of the calling thread's namespace for TIME_WAIT entries. A TIME_WAIT
/// socket is a `tcp_timewait_sock` with no descriptor and no state-change tracepoint of its
/// own (the full socket's trace ends in CLOSE when it is swapped for one, `tcp_time_wait()`),
/// so when it expires 60 s later nothing else reports it.
pub struct TimeWaitWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<TimeWaitSeen>>>,
}

impl TimeWaitWatch {
    /// How often the table is read.
    const PERIOD: Duration = Duration::from_millis(100);

    /// Starts watching; the thread inherits the caller's network namespace.
    pub fn start() -> TimeWaitWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen: Vec<TimeWaitSeen> = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                let now = super::sys::monotonic_us();
                let entries = read_proc_net_tcp();
                let listed: Vec<&ProcEntry> = entries.iter().filter(|entry| entry.state == TCP_TIME_WAIT).collect();
                let same =
                    |item: &TimeWaitSeen, entry: &ProcEntry| item.local == entry.local && item.peer == entry.peer;
                for item in seen.iter_mut().filter(|item| item.gone_us.is_none()) {
                    if !listed.iter().any(|entry| same(item, entry)) {
                        item.gone_us = Some(now);
                    }
                }
                for entry in listed {
                    if !seen.iter().any(|item| item.gone_us.is_none() && same(item, entry)) {
                        seen.push(TimeWaitSeen { local: entry.local, peer: entry.peer, first_us: now, gone_us: None });
                    }
                }
                std::thread::sleep(Self::PERIOD);
            }
            seen
        });
        TimeWaitWatch { stop, thread: Some(thread) }
    }

    /// Stops watching and returns what was seen.
    pub fn finish(mut self) -> Vec<TimeWaitSeen> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|thread| thread.join().ok()).unwrap_or_default()
    }
}

impl Drop for TimeWaitWatch {
    /// A run that ends early (an error) stops the watching thread too.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Completes the tracepoint's story: a new connection starts from CLOSED, not from its
/// listener's state; a connection whose four-tuple `/proc/net/tcp` lists
/// in TIME_WAIT (06), at the end or while the run went on, ended its traced life in TIME_WAIT,
/// not CLOSE, and one that left the table before the end went from TIME_WAIT to CLOSED when
/// it did; and a change traced before connect() had chosen the local port takes its address
/// from the socket's next change.
pub fn complete_states(
    mut changes: Vec<StateChange>,
    entries: &[ProcEntry],
    time_waits: &[TimeWaitSeen],
) -> Vec<StateChange> {
    for change in &mut changes {
        // A listener's new connection is a clone of the listener (`inet_csk_clone_lock()`),
        // so its first traced change starts from the listener's LISTEN; as a connection it
        // starts from nothing, which the engine and RFC 793 call CLOSED.
        if change.from == State::Listen && change.to == State::SynRecv && change.peer.is_some() {
            change.from = State::Closed;
        }
    }
    for index in 0..changes.len() {
        let change = &changes[index];
        if change.to != State::Listen
            && change.peer.is_some()
            && (change.local.port == 0 || change.local.ip.is_unspecified())
        {
            let (peer, to) = (change.peer, change.to);
            let ip = change.local.ip;
            let same_socket = |next: &&StateChange| {
                next.peer == peer && next.from == to && (ip.is_unspecified() || next.local.ip == ip)
            };
            if let Some(next) = changes[index + 1..].iter().find(same_socket) {
                let local = next.local;
                changes[index].local = local;
            }
        }
    }
    for entry in entries.iter().filter(|entry| entry.state == TCP_TIME_WAIT) {
        if let Some(last) =
            changes.iter_mut().rev().find(|change| change.local == entry.local && change.peer == Some(entry.peer))
        {
            if last.to == State::Closed {
                last.to = State::TimeWait;
            }
        }
    }
    let mut expired = Vec::new();
    for seen in time_waits {
        let entered = changes.iter_mut().rev().find(|change| {
            change.local == seen.local && change.peer == Some(seen.peer) && change.t_us <= seen.first_us
        });
        if let Some(change) = entered {
            if change.to == State::Closed {
                change.to = State::TimeWait;
            }
            if let (State::TimeWait, Some(gone_us)) = (change.to, seen.gone_us) {
                expired.push(StateChange {
                    t_us: gone_us,
                    local: seen.local,
                    peer: Some(seen.peer),
                    from: State::TimeWait,
                    to: State::Closed,
                });
            }
        }
    }
    if !expired.is_empty() {
        changes.extend(expired);
        changes.sort_by_key(|change| change.t_us);
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "\
# tracer: nop
          client-12  [001] ..... 5127.000100: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=0 dport=55555 saddr=127.0.0.1 daddr=127.0.0.2 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.2 oldstate=TCP_CLOSE newstate=TCP_SYN_SENT
          <idle>-0   [001] ..s2. 5127.000150: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=40001 dport=55555 saddr=127.0.0.1 daddr=127.0.0.2 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.2 oldstate=TCP_SYN_SENT newstate=TCP_ESTABLISHED
          other-99   [000] ..... 5127.000200: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=80 dport=1234 saddr=10.1.1.1 daddr=10.1.1.2 saddrv6=::ffff:10.1.1.1 daddrv6=::ffff:10.1.1.2 oldstate=TCP_CLOSE newstate=TCP_SYN_SENT
          client-12  [001] ..... 5127.100000: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=40001 dport=55555 saddr=127.0.0.1 daddr=127.0.0.2 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.2 oldstate=TCP_ESTABLISHED newstate=TCP_FIN_WAIT1
          <idle>-0   [001] ..s2. 5127.100050: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=40001 dport=55555 saddr=127.0.0.1 daddr=127.0.0.2 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.2 oldstate=TCP_FIN_WAIT1 newstate=TCP_FIN_WAIT2
          <idle>-0   [001] ..s2. 5127.200050: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport=40001 dport=55555 saddr=127.0.0.1 daddr=127.0.0.2 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.2 oldstate=TCP_FIN_WAIT2 newstate=TCP_CLOSE
";

    #[test]
    fn trace_lines_become_state_changes_of_our_addresses() {
        let ours = |ip: Ipv4| ip.0[0] == 127;
        let changes = parse_trace(TRACE, ours, |_, _| false);
        assert_eq!(changes.len(), 5);
        assert_eq!(changes[0].t_us, 5_127_000_100);
        assert_eq!((changes[0].from, changes[0].to), (State::Closed, State::SynSent));
        let proc_text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:9C41 0200007F:D903 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n";
        let entries = parse_proc_net_tcp(proc_text);
        assert_eq!(entries[0].local.to_string(), "127.0.0.1:40001");
        assert_eq!(entries[0].peer.to_string(), "127.0.0.2:55555");
        let completed = complete_states(changes, &entries, &[]);
        assert_eq!(completed[0].local.to_string(), "127.0.0.1:40001", "the SYN_SENT change gets its port");
        assert_eq!(completed[4].to, State::TimeWait);
    }

    #[test]
    fn only_the_runs_own_addresses_and_bound_wildcard_ports_are_kept() {
        let line = |sport: u16, saddr: &str, daddr: &str| {
            format!(
                " x-1 [000] ..... 1.000001: inet_sock_set_state: family=AF_INET protocol=IPPROTO_TCP sport={sport} \
                 dport=0 saddr={saddr} daddr={daddr} saddrv6=:: daddrv6=:: oldstate=TCP_CLOSE newstate=TCP_LISTEN\n"
            )
        };
        let text = line(9877, "0.0.0.0", "0.0.0.0")
            + &line(8080, "0.0.0.0", "0.0.0.0")
            + &line(9877, "127.0.0.1", "0.0.0.0")
            + &line(9877, "127.7.9.2", "0.0.0.0");
        let ours = |ip: Ipv4| ip.0[..3] == [127, 7, 9];
        let kept = parse_trace(&text, ours, |port, t_us| port == 9877 && t_us == 1_000_001);
        assert!(parse_trace(&text, ours, |_, t_us| t_us != 1_000_001).iter().all(|change| change.local.ip.0[0] == 127));
        let locals: Vec<String> = kept.iter().map(|change| change.local.to_string()).collect();
        assert_eq!(locals, ["0.0.0.0:9877", "127.7.9.2:9877"]);
    }
}
