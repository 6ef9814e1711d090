//! Playing a scenario with real sockets: one thread per process, the same calls in the same
//! order, the same waits.
//!
//! A fork() step starts another thread that holds duplicates (dup()) of every descriptor,
//! which is what the kernel sees of a forked child: one more reference to each open socket.
//! A connect() from an unbound socket first binds the host's loopback address with port 0
//! and IP_BIND_ADDRESS_NO_PORT, because every host shares one loopback stack and the kernel
//! would otherwise pick 127.0.0.1 as the source for every host; for the same reason a
//! sendto() from a UDP socket bound to the wildcard names its host's address as the source
//! (IP_PKTINFO). send() uses MSG_NOSIGNAL so
//! that EPIPE comes back as an error instead of killing the validator with SIGPIPE.
//!
//! A scenario's faults are changes of nftables rules made at set moments (see `faults.rs`);
//! a crash also makes the host's processes stop and its sockets vanish: each of its sockets
//! gets SO_LINGER {1, 0} and is shut down, which wakes any call blocked on it (its result is
//! recorded as still blocked, as the engine leaves a crashed process's call), and the
//! process's threads then close them, each close an abortive one whose RST the crash rules
//! drop before it reaches the wire.
//!
//! Every call's return value or errno is recorded with its time; before a call that follows
//! a quiet gap (see `compare::QUIET_GAP_US`) the queue levels of its socket are read with
//! SIOCINQ/SIOCOUTQ, or TCP_INFO's accept-queue length for a listener.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, SockAddr as RealAddr, Socket, Type};
use sockscope_engine::scenario::{Call, How, IoctlRequest, OptName, SockOpt, SockType, Step};
use sockscope_engine::{Ipv4, Scenario, SockAddr};

use super::compare::{CallResult, Checkpoint, SendBuffer, QUIET_GAP_US};
use super::profile::LoopbackMap;
use super::sys;

/// What the processes did.
pub struct RealRun {
    pub calls: Vec<CallResult>,
    pub checkpoints: Vec<Checkpoint>,
    /// Monotonic time (us) the run started at; every relative time counts from here.
    pub start_us: u64,
    /// Relative time the last process exited, or the deadline if some never finished.
    pub end_us: u64,
    /// Whether the deadline stopped processes that were still blocked.
    pub aborted: bool,
    /// Every local port a socket of the run was bound to (by bind() or listen()), which tells
    /// the run's wildcard listeners from other programs' in the state trace.
    pub bound_ports: BTreeSet<u16>,
    /// Monotonic intervals (us) during which a call of the run could have made a listener
    /// enter or leave LISTEN: listen(), close(), shutdown() and process exits.
    pub listener_windows: Vec<(u64, u64)>,
    pub send_buffers: Vec<SendBuffer>,
    /// What each crash tore down, for the state changes it caused to be left out.
    pub teardowns: Vec<Teardown>,
    /// What the run could not set up (an nft change, a socket option): it does not show the
    /// scenario then.
    pub errors: Vec<String>,
}

/// A fault change the run makes at a set moment.
pub struct TimedChange {
    /// Microseconds from the start of the run.
    pub at_us: u64,
    /// The nft commands (possibly none).
    pub script: String,
    pub host: Option<HostChange>,
}

/// What a change does to a host besides its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostChange {
    /// The host (by its loopback address) crashes.
    Crash(Ipv4),
    /// The host boots again.
    Reboot(Ipv4),
}

/// The sockets a crash tore down and the monotonic interval (us) it took. Their state
/// changes in that interval (to FIN_WAIT1 by the shutdown, to CLOSE by the abortive close)
/// are the validator's way of making them vanish: in the engine a crashed host's sockets
/// simply stop existing, with no state change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Teardown {
    pub start_us: u64,
    pub end_us: u64,
    pub locals: Vec<SockAddr>,
}

/// Per-host settings the real run gives each TCP socket a host's processes create.
#[derive(Clone, Debug, Default)]
pub struct HostSockets {
    /// TCP_KEEPIDLE, TCP_KEEPINTVL (seconds) and TCP_KEEPCNT, for a host whose keepalive
    /// sysctls the scenario changes.
    pub keepalive: BTreeMap<Ipv4, (u32, u32, u32)>,
    /// TCP_MAXSEG, for a host whose MSS the scenario sets: the option makes the socket
    /// announce that MSS and clamps the one it sends with (`user_mss` in `tcp_connect_init()`
    /// and `tcp_parse_options()`); a listener passes it to the connections it accepts.
    pub mss: BTreeMap<Ipv4, u16>,
}

struct Shared {
    start_us: u64,
    map: LoopbackMap,
    abort: AtomicBool,
    /// Hosts (by loopback address) that have crashed.
    down: Mutex<BTreeSet<Ipv4>>,
    host_sockets: HostSockets,
    sockets: Mutex<Vec<(Ipv4, Weak<Socket>)>>,
    calls: Mutex<Vec<CallResult>>,
    checkpoints: Mutex<Vec<Checkpoint>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    last_exit_us: AtomicU64,
    bound_ports: Mutex<BTreeSet<u16>>,
    listener_windows: Mutex<Vec<(u64, u64)>>,
    send_buffers: Mutex<Vec<SendBuffer>>,
    teardowns: Mutex<Vec<Teardown>>,
    errors: Mutex<Vec<String>>,
}

impl Shared {
    fn now(&self) -> u64 {
        sys::monotonic_us().saturating_sub(self.start_us)
    }

    /// Whether a process on `host` must stop: the run was aborted or the host crashed.
    fn stopped(&self, host: Ipv4) -> bool {
        self.abort.load(Ordering::SeqCst)
            || self.down.lock().unwrap_or_else(|poison| poison.into_inner()).contains(&host)
    }

    fn record(&self, process: &str, host: Ipv4, call: &str, outcome: io::Result<i64>, value: Option<String>) {
        let (result, errno) = match outcome {
            Ok(value) => (Some(value), None),
            Err(err) => (None, Some(errno_name(&err))),
        };
        let blocked = self.stopped(host);
        let record = CallResult {
            t_us: self.now(),
            process: process.to_string(),
            call: call.to_string(),
            result: if blocked { None } else { result },
            errno: if blocked { None } else { errno },
            value: if blocked { None } else { value },
            blocked,
        };
        self.calls.lock().unwrap_or_else(|poison| poison.into_inner()).push(record);
    }

    /// Runs `action`, noting the monotonic interval it took as one in which a listener of
    /// the run may have changed state.
    fn in_listener_window<T>(&self, action: impl FnOnce() -> T) -> T {
        let start = sys::monotonic_us();
        let result = action();
        let end = sys::monotonic_us();
        self.listener_windows.lock().unwrap_or_else(|poison| poison.into_inner()).push((start, end));
        result
    }

    /// Notes the port a socket is now bound to.
    fn note_bound_port(&self, socket: &Socket) {
        if let Some(port) = socket.local_addr().ok().and_then(|addr| addr.as_socket_ipv4()).map(|addr| addr.port()) {
            self.bound_ports.lock().unwrap_or_else(|poison| poison.into_inner()).insert(port);
        }
    }

    /// Notes something the run could not set up; the run then does not show the scenario.
    fn fail(&self, error: String) {
        self.errors.lock().unwrap_or_else(|poison| poison.into_inner()).push(error);
    }

    fn register(&self, host: Ipv4, socket: &Arc<Socket>) {
        self.sockets.lock().unwrap_or_else(|poison| poison.into_inner()).push((host, Arc::downgrade(socket)));
    }

    /// The open sockets of one host.
    fn sockets_of(&self, host: Ipv4) -> Vec<Arc<Socket>> {
        let sockets = self.sockets.lock().unwrap_or_else(|poison| poison.into_inner());
        sockets.iter().filter(|(owner, _)| *owner == host).filter_map(|(_, socket)| socket.upgrade()).collect()
    }

    /// Makes one change of the scenario's faults.
    fn make_change(&self, change: &TimedChange) {
        let start_us = sys::monotonic_us();
        if let Some(HostChange::Reboot(host)) = change.host {
            // The crashed host's sockets must be gone before its address answers again.
            self.wait_until_gone(host);
            self.down.lock().unwrap_or_else(|poison| poison.into_inner()).remove(&host);
        }
        if !change.script.is_empty() {
            if let Err(err) = super::faults::run_nft(&change.script) {
                self.fail(err);
            }
        }
        if let Some(HostChange::Crash(host)) = change.host {
            self.down.lock().unwrap_or_else(|poison| poison.into_inner()).insert(host);
            let mut locals = Vec::new();
            self.in_listener_window(|| {
                for socket in self.sockets_of(host) {
                    if let Some(local) = socket.local_addr().ok().and_then(|addr| addr.as_socket_ipv4()) {
                        locals.push(SockAddr::new(Ipv4(local.ip().octets()), local.port()));
                    }
                    // SO_LINGER {1, 0}: the final close is abortive and leaves no TIME_WAIT.
                    let _ = socket.set_linger(Some(Duration::ZERO));
                    let _ = socket.shutdown(std::net::Shutdown::Both);
                    let _ = socket.set_nonblocking(true);
                }
                self.wait_until_gone(host);
            });
            let end_us = sys::monotonic_us();
            self.teardowns.lock().unwrap_or_else(|poison| poison.into_inner()).push(Teardown {
                start_us,
                end_us,
                locals,
            });
        }
    }

    /// Waits (at most 2 s) until every socket of `host` has been closed by its threads.
    fn wait_until_gone(&self, host: Ipv4) {
        for _ in 0..2000 {
            if self.sockets_of(host).is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        self.fail(format!("the sockets of crashed host {host} were still open 2 s after the crash"));
    }

    /// Sleeps until relative time `until_us`, waking early if the run is aborted or `host`
    /// crashes.
    fn sleep_until(&self, until_us: u64, host: Ipv4) {
        loop {
            if self.stopped(host) {
                return;
            }
            let now = self.now();
            if now >= until_us {
                return;
            }
            std::thread::sleep(Duration::from_micros((until_us - now).min(10_000)));
        }
    }
}

/// Runs the scenario's processes on real sockets in the calling thread's network namespace
/// and waits for them, at most `deadline` of wall time, making the fault `changes` (sorted by
/// time) when they are due.
pub fn run_processes(
    scenario: &Scenario,
    map: &LoopbackMap,
    host_sockets: HostSockets,
    changes: &[TimedChange],
    deadline: Duration,
) -> RealRun {
    let shared = Arc::new(Shared {
        start_us: sys::monotonic_us(),
        map: map.clone(),
        abort: AtomicBool::new(false),
        down: Mutex::new(BTreeSet::new()),
        host_sockets,
        sockets: Mutex::new(Vec::new()),
        calls: Mutex::new(Vec::new()),
        checkpoints: Mutex::new(Vec::new()),
        threads: Mutex::new(Vec::new()),
        last_exit_us: AtomicU64::new(0),
        bound_ports: Mutex::new(BTreeSet::new()),
        listener_windows: Mutex::new(Vec::new()),
        send_buffers: Mutex::new(Vec::new()),
        teardowns: Mutex::new(Vec::new()),
        errors: Mutex::new(Vec::new()),
    });
    let mut changes = changes.iter().peekable();
    let make_due_changes = |changes: &mut std::iter::Peekable<std::slice::Iter<'_, TimedChange>>| {
        while let Some(change) = changes.next_if(|change| change.at_us <= shared.now()) {
            shared.make_change(change);
        }
    };
    for process in &scenario.processes {
        let host = scenario.hosts.iter().find(|host| host.name == process.host).map(|host| host.addr);
        let host_ip = host.and_then(|ip| map.real_ip(ip)).unwrap_or(Ipv4([127, 0, 0, 1]));
        // The engine runs processes that are ready at the same moment in their order, each
        // until it waits; so the next thread starts only once this one waits (or 100 ms
        // have passed), lest a client's connect() overtake the server's listen().
        let (yielded, waiting) = mpsc::channel();
        spawn(&shared, process.name.clone(), host_ip, process.steps.clone(), BTreeMap::new(), Some(yielded));
        let _ = waiting.recv_timeout(Duration::from_millis(100));
        make_due_changes(&mut changes);
    }
    let deadline_us = deadline.as_micros() as u64;
    let mut aborted = false;
    loop {
        make_due_changes(&mut changes);
        let handles: Vec<JoinHandle<()>> =
            std::mem::take(&mut *shared.threads.lock().unwrap_or_else(|p| p.into_inner()));
        if handles.is_empty() {
            break;
        }
        let mut pending = Vec::new();
        for handle in handles {
            if handle.is_finished() {
                let _ = handle.join();
            } else {
                pending.push(handle);
            }
        }
        if !pending.is_empty() && !aborted && shared.now() >= deadline_us {
            // Release calls that will never return (a deadlock, a peer that never answers):
            // shutting a socket down wakes every call blocked on it. Anything after this
            // moment lies beyond the compared horizon.
            aborted = true;
            shared.abort.store(true, Ordering::SeqCst);
            shared.last_exit_us.store(deadline_us, Ordering::SeqCst);
            shared.in_listener_window(|| {
                let sockets: Vec<Arc<Socket>> = shared
                    .sockets
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .filter_map(|(_, socket)| socket.upgrade())
                    .collect();
                for socket in sockets {
                    let _ = socket.shutdown(std::net::Shutdown::Both);
                    let _ = socket.set_nonblocking(true);
                }
            });
        }
        shared.threads.lock().unwrap_or_else(|p| p.into_inner()).extend(pending);
        std::thread::sleep(Duration::from_millis(1));
    }
    let calls = std::mem::take(&mut *shared.calls.lock().unwrap_or_else(|p| p.into_inner()));
    let checkpoints = std::mem::take(&mut *shared.checkpoints.lock().unwrap_or_else(|p| p.into_inner()));
    let end_us = shared.last_exit_us.load(Ordering::SeqCst);
    let bound_ports = std::mem::take(&mut *shared.bound_ports.lock().unwrap_or_else(|p| p.into_inner()));
    let send_buffers = std::mem::take(&mut *shared.send_buffers.lock().unwrap_or_else(|p| p.into_inner()));
    let listener_windows = std::mem::take(&mut *shared.listener_windows.lock().unwrap_or_else(|p| p.into_inner()));
    let teardowns = std::mem::take(&mut *shared.teardowns.lock().unwrap_or_else(|p| p.into_inner()));
    let errors = std::mem::take(&mut *shared.errors.lock().unwrap_or_else(|p| p.into_inner()));
    RealRun {
        teardowns,
        errors,
        calls,
        checkpoints,
        start_us: shared.start_us,
        end_us,
        aborted,
        bound_ports,
        listener_windows,
        send_buffers,
    }
}

fn spawn(
    shared: &Arc<Shared>,
    name: String,
    host_ip: Ipv4,
    steps: Vec<Step>,
    fds: BTreeMap<String, Arc<Socket>>,
    yielded: Option<mpsc::Sender<()>>,
) {
    let thread_shared = Arc::clone(shared);
    let handle = std::thread::Builder::new().name(name.clone()).spawn(move || {
        let mut process = Process { shared: thread_shared, name, host_ip, fds, last_return_us: 0, yielded };
        process.last_return_us = process.shared.now();
        process.run(&steps);
        process.yield_turn();
        // exit(): the kernel closes every descriptor the process still holds.
        process.shared.in_listener_window(|| process.fds.clear());
        let now = process.shared.now();
        if !process.shared.abort.load(Ordering::SeqCst) {
            // A crashed host's processes end at the crash, as in the engine.
            process.shared.last_exit_us.fetch_max(now, Ordering::SeqCst);
        }
    });
    if let Ok(handle) = handle {
        shared.threads.lock().unwrap_or_else(|p| p.into_inner()).push(handle);
    }
}

struct Process {
    shared: Arc<Shared>,
    name: String,
    host_ip: Ipv4,
    fds: BTreeMap<String, Arc<Socket>>,
    last_return_us: u64,
    /// Told once, when this process first waits, so that the next process may start.
    yielded: Option<mpsc::Sender<()>>,
}

fn errno_name(err: &io::Error) -> String {
    let Some(code) = err.raw_os_error() else { return "EIO".to_string() };
    let name = match code {
        libc::EBADF => "EBADF",
        libc::EINVAL => "EINVAL",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::ECONNRESET => "ECONNRESET",
        libc::EPIPE => "EPIPE",
        libc::EAGAIN => "EAGAIN",
        libc::EINPROGRESS => "EINPROGRESS",
        libc::EALREADY => "EALREADY",
        libc::ENOTCONN => "ENOTCONN",
        libc::EISCONN => "EISCONN",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EMFILE => "EMFILE",
        libc::EINTR => "EINTR",
        other => return format!("errno {other}"),
    };
    name.to_string()
}

impl Process {
    fn socket(&self, name: &str) -> io::Result<Arc<Socket>> {
        self.fds.get(name).cloned().ok_or_else(|| io::Error::from_raw_os_error(libc::EBADF))
    }

    fn scenario_addr(&self, addr: RealAddr) -> Option<String> {
        let addr = addr.as_socket_ipv4()?;
        let real = SockAddr::new(Ipv4(addr.ip().octets()), addr.port());
        Some(self.shared.map.scenario(real).to_string())
    }

    fn real_addr(&self, addr: SockAddr) -> io::Result<RealAddr> {
        let real = self.shared.map.real(addr).ok_or_else(|| io::Error::from_raw_os_error(libc::EADDRNOTAVAIL))?;
        Ok(RealAddr::from(std::net::SocketAddrV4::new(real.ip.0.into(), real.port)))
    }

    fn run(&mut self, steps: &[Step]) {
        for step in steps {
            if self.shared.stopped(self.host_ip) {
                return;
            }
            let call = &step.call;
            let may_block = matches!(
                call,
                Call::Connect { .. }
                    | Call::Accept { .. }
                    | Call::Send { .. }
                    | Call::SendAll { .. }
                    | Call::Recv { .. }
                    | Call::Recvfrom { .. }
                    | Call::RecvToEof { .. }
                    | Call::Close { .. }
                    | Call::Sleep { .. }
            );
            if step.at_ms.is_some() || may_block {
                self.yield_turn();
            }
            if let Some(at_ms) = step.at_ms {
                // at_ms counts from the start of the run, as in the engine.
                self.shared.sleep_until((at_ms * 1000.0).round() as u64, self.host_ip);
            }
            if !matches!(call, Call::Sleep { .. }) {
                self.checkpoint(call);
            }
            self.execute(call);
            if !matches!(call, Call::Sleep { .. }) {
                self.last_return_us = self.shared.now();
            }
        }
    }

    /// Records the send buffer (SO_SNDBUF) of the process's first send() on a stream socket.
    fn note_send_buffer(&self, fd: &str) {
        let Ok(socket) = self.socket(fd) else { return };
        if socket.r#type().ok() != Some(Type::STREAM) {
            return;
        }
        let mut buffers = self.shared.send_buffers.lock().unwrap_or_else(|p| p.into_inner());
        if !buffers.iter().any(|seen| seen.process == self.name) {
            if let Ok(bytes) = socket.send_buffer_size() {
                buffers.push(SendBuffer { process: self.name.clone(), bytes: bytes as u32 });
            }
        }
    }

    fn yield_turn(&mut self) {
        if let Some(yielded) = self.yielded.take() {
            let _ = yielded.send(());
        }
    }

    /// Reads the queue levels of the call's socket when the process has been idle long
    /// enough for the network to be quiet.
    fn checkpoint(&self, call: &Call) {
        let now = self.shared.now();
        if now.saturating_sub(self.last_return_us) < QUIET_GAP_US {
            return;
        }
        let Some(socket) = call.fd().and_then(|name| self.fds.get(name)) else { return };
        if socket.r#type().ok() != Some(Type::STREAM) {
            return;
        }
        let fd = socket.as_raw_fd();
        let (state, backlog) = sys::tcp_state_and_backlog(fd).unwrap_or((0, 0));
        let listener = state == 0x0A;
        let (recv_q, send_q) =
            if listener { (backlog, 0) } else { (sys::inq(fd).unwrap_or(0), sys::outq(fd).unwrap_or(0)) };
        let point = Checkpoint {
            t_us: now,
            process: self.name.clone(),
            call: call.name().to_string(),
            listener,
            recv_q,
            send_q,
        };
        self.shared.checkpoints.lock().unwrap_or_else(|p| p.into_inner()).push(point);
    }

    /// Gives a new TCP socket the per-socket forms of its host's settings (see [`HostSockets`]).
    fn apply_host_settings(&self, socket: &Socket) {
        if let Some(&(idle, interval, probes)) = self.shared.host_sockets.keepalive.get(&self.host_ip) {
            if let Err(err) = sys::keepalive_timing(socket.as_raw_fd(), idle, interval, probes) {
                self.shared.fail(format!("cannot set {}'s keepalive timing: {err}", self.name));
            }
        }
        if let Some(&mss) = self.shared.host_sockets.mss.get(&self.host_ip) {
            if let Err(err) = socket.set_tcp_mss(u32::from(mss)) {
                self.shared.fail(format!("cannot set {}'s TCP_MAXSEG: {err}", self.name));
            }
        }
    }

    fn record(&self, call: &Call, outcome: io::Result<i64>, value: Option<String>) {
        self.shared.record(&self.name, self.host_ip, call.name(), outcome, value);
    }

    fn execute(&mut self, call: &Call) {
        match call {
            Call::Socket { name, sock_type } => {
                let kind = match sock_type {
                    SockType::Stream => Type::STREAM,
                    SockType::Dgram => Type::DGRAM,
                };
                match Socket::new(Domain::IPV4, kind, None) {
                    Ok(socket) => {
                        let fd = socket.as_raw_fd();
                        if kind == Type::STREAM {
                            self.apply_host_settings(&socket);
                        }
                        let socket = Arc::new(socket);
                        self.shared.register(self.host_ip, &socket);
                        self.fds.insert(name.clone(), socket);
                        self.record(call, Ok(i64::from(fd)), None);
                    }
                    Err(err) => self.record(call, Err(err), None),
                }
            }
            Call::Bind { fd, addr } => {
                let outcome = self.socket(fd).and_then(|socket| {
                    socket.bind(&self.real_addr(*addr)?)?;
                    self.shared.note_bound_port(&socket);
                    Ok(0)
                });
                self.record(call, outcome, None);
            }
            Call::Listen { fd, backlog } => {
                let outcome = self.socket(fd).and_then(|socket| {
                    self.shared.in_listener_window(|| socket.listen(*backlog as i32))?;
                    self.shared.note_bound_port(&socket);
                    Ok(0)
                });
                self.record(call, outcome, None);
            }
            Call::Connect { fd, addr } => {
                let outcome = self.socket(fd).and_then(|socket| {
                    let target = self.real_addr(*addr)?;
                    self.bind_to_host_if_unbound(&socket)?;
                    socket.connect(&target)
                });
                self.record(call, outcome.map(|_| 0), None);
            }
            Call::Accept { fd, name } => match self.socket(fd).and_then(|socket| socket.accept()) {
                Ok((socket, peer)) => {
                    let fd = socket.as_raw_fd();
                    let socket = Arc::new(socket);
                    self.shared.register(self.host_ip, &socket);
                    self.fds.insert(name.clone(), socket);
                    let value = self.scenario_addr(peer);
                    self.record(call, Ok(i64::from(fd)), value);
                }
                Err(err) => self.record(call, Err(err), None),
            },
            Call::Send { fd, more, eor, .. } => {
                self.note_send_buffer(fd);
                let bytes = call.payload();
                let flags =
                    libc::MSG_NOSIGNAL | if *more { libc::MSG_MORE } else { 0 } | if *eor { libc::MSG_EOR } else { 0 };
                let outcome = self.socket(fd).and_then(|socket| socket.send_with_flags(&bytes, flags));
                self.record(call, outcome.map(|sent| sent as i64), None);
            }
            Call::Sendto { fd, addr, .. } => {
                let bytes = call.payload();
                let outcome = self.socket(fd).and_then(|socket| {
                    let target = self.real_addr(*addr)?;
                    self.bind_to_host_if_unbound(&socket)?;
                    let local = socket.local_addr()?.as_socket_ipv4();
                    match (local, target.as_socket_ipv4()) {
                        // Bound to the wildcard: the datagram leaves from this host's address,
                        // as it would from a host that has only that one.
                        (Some(local), Some(to)) if local.ip().is_unspecified() => {
                            sys::send_to_from(socket.as_raw_fd(), &bytes, to, self.host_ip.0.into())
                        }
                        _ => socket.send_to_with_flags(&bytes, &target, libc::MSG_NOSIGNAL),
                    }
                });
                self.record(call, outcome.map(|sent| sent as i64), None);
            }
            Call::Recvfrom { fd, len } => {
                let outcome = self.socket(fd).and_then(|socket| {
                    let mut buffer = vec![MaybeUninit::<u8>::uninit(); *len as usize];
                    socket.recv_from(&mut buffer)
                });
                match outcome {
                    Ok((count, from)) => {
                        let value = self.scenario_addr(from);
                        self.record(call, Ok(count as i64), value);
                    }
                    Err(err) => self.record(call, Err(err), None),
                }
            }
            Call::SendAll { fd, .. } => {
                // A writen() loop: send the rest until all is queued; on EAGAIN wait for room.
                self.note_send_buffer(fd);
                let bytes = call.payload();
                let mut done = 0;
                while done < bytes.len() && !self.shared.stopped(self.host_ip) {
                    let outcome =
                        self.socket(fd).and_then(|socket| socket.send_with_flags(&bytes[done..], libc::MSG_NOSIGNAL));
                    match outcome {
                        Ok(sent) => {
                            done += sent;
                            self.record(call, Ok(sent as i64), None);
                        }
                        Err(err) if err.raw_os_error() == Some(libc::EAGAIN) => {
                            self.record(call, Err(err), None);
                            self.wait_writable(fd);
                        }
                        Err(err) => {
                            self.record(call, Err(err), None);
                            break;
                        }
                    }
                }
            }
            Call::Recv { fd, len } => {
                let outcome = self.recv_once(fd, *len);
                let (outcome, value) = match outcome {
                    Ok((count, value)) => (Ok(count), value),
                    Err(err) => (Err(err), None),
                };
                self.record(call, outcome, value);
            }
            Call::RecvToEof { fd, len } => loop {
                match self.recv_once(fd, *len) {
                    Ok((count, value)) => {
                        self.record(call, Ok(count), value);
                        if count == 0 || self.shared.stopped(self.host_ip) {
                            break;
                        }
                    }
                    Err(err) => {
                        self.record(call, Err(err), None);
                        break;
                    }
                }
            },
            Call::Shutdown { fd, how } => {
                let how = match how {
                    How::Read => std::net::Shutdown::Read,
                    How::Write => std::net::Shutdown::Write,
                    How::Both => std::net::Shutdown::Both,
                };
                let outcome = self
                    .socket(fd)
                    .and_then(|socket| self.shared.in_listener_window(|| socket.shutdown(how)))
                    .map(|_| 0);
                self.record(call, outcome, None);
            }
            Call::Close { fd } => {
                // Dropping the last reference closes the descriptor; a lingering close()
                // blocks here as it does in C.
                let outcome = match self.fds.remove(fd) {
                    Some(socket) => {
                        self.shared.in_listener_window(|| drop(socket));
                        Ok(0)
                    }
                    None => Err(io::Error::from_raw_os_error(libc::EBADF)),
                };
                self.record(call, outcome, None);
            }
            Call::Setsockopt { fd, opt, value } => {
                let outcome = self.socket(fd).and_then(|socket| {
                    let option = SockOpt::new(*opt, *value).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
                    match option {
                        SockOpt::ReuseAddr(on) => socket.set_reuse_address(on),
                        SockOpt::Linger(linger) => {
                            socket.set_linger(linger.onoff.then(|| Duration::from_secs(u64::from(linger.linger))))
                        }
                        SockOpt::RcvBuf(bytes) => socket.set_recv_buffer_size(bytes as usize),
                        SockOpt::SndBuf(bytes) => socket.set_send_buffer_size(bytes as usize),
                        SockOpt::NoDelay(on) => socket.set_tcp_nodelay(on),
                        SockOpt::KeepAlive(on) => socket.set_keepalive(on),
                        SockOpt::ReusePort(on) => socket.set_reuse_port(on),
                        SockOpt::QuickAck(on) => socket.set_tcp_quickack(on),
                        SockOpt::MaxSeg(bytes) => socket.set_tcp_mss(bytes),
                        SockOpt::Cork(on) => socket.set_tcp_cork(on),
                        SockOpt::Inq(on) => sys::set_tcp_inq(socket.as_raw_fd(), on),
                        SockOpt::UserTimeout(ms) => {
                            socket.set_tcp_user_timeout((ms > 0).then(|| Duration::from_millis(u64::from(ms))))
                        }
                    }
                });
                self.record(call, outcome.map(|_| 0), None);
            }
            Call::Getsockopt { fd, opt } => {
                let outcome = self.socket(fd).and_then(|socket| getsockopt(&socket, *opt));
                match outcome {
                    Ok(value) => self.record(call, Ok(0), Some(value)),
                    Err(err) => self.record(call, Err(err), None),
                }
            }
            Call::Fcntl { fd, nonblock: Some(nonblock) } => {
                let outcome = self.socket(fd).and_then(|socket| socket.set_nonblocking(*nonblock)).map(|_| 0);
                self.record(call, outcome, None);
            }
            Call::Fcntl { fd, nonblock: None } => match self.socket(fd).and_then(|socket| socket.nonblocking()) {
                Ok(true) => self.record(call, Ok(0o4002), Some("O_RDWR|O_NONBLOCK".into())),
                Ok(false) => self.record(call, Ok(0o2), Some("O_RDWR".into())),
                Err(err) => self.record(call, Err(err), None),
            },
            Call::Ioctl { fd, request } => {
                let outcome = self.socket(fd).and_then(|socket| match request {
                    IoctlRequest::InQ => sys::inq(socket.as_raw_fd()),
                    IoctlRequest::OutQ => sys::outq(socket.as_raw_fd()),
                });
                match outcome {
                    Ok(bytes) => self.record(call, Ok(0), Some(bytes.to_string())),
                    Err(err) => self.record(call, Err(err), None),
                }
            }
            Call::Getsockname { fd } => match self.socket(fd).and_then(|socket| socket.local_addr()) {
                Ok(addr) => {
                    let value = self.scenario_addr(addr);
                    self.record(call, Ok(0), value);
                }
                Err(err) => self.record(call, Err(err), None),
            },
            Call::Getpeername { fd } => match self.socket(fd).and_then(|socket| socket.peer_addr()) {
                Ok(addr) => {
                    let value = self.scenario_addr(addr);
                    self.record(call, Ok(0), value);
                }
                Err(err) => self.record(call, Err(err), None),
            },
            Call::Dup { fd, name } => match self.socket(fd).and_then(|socket| socket.try_clone()) {
                Ok(copy) => {
                    let number = copy.as_raw_fd();
                    let copy = Arc::new(copy);
                    self.shared.register(self.host_ip, &copy);
                    self.fds.insert(name.clone(), copy);
                    self.record(call, Ok(i64::from(number)), None);
                }
                Err(err) => self.record(call, Err(err), None),
            },
            Call::Fork { child } => {
                // The child holds its own duplicate of every descriptor, as after fork().
                let mut copies = BTreeMap::new();
                for (name, socket) in &self.fds {
                    if let Ok(copy) = socket.try_clone() {
                        let copy = Arc::new(copy);
                        self.shared.register(self.host_ip, &copy);
                        copies.insert(name.clone(), copy);
                    }
                }
                spawn(&self.shared, child.name.clone(), self.host_ip, child.steps.clone(), copies, None);
                self.record(call, Ok(i64::from(std::process::id() as i32)), None);
            }
            Call::Sleep { ms } => {
                let until = self.shared.now() + (ms * 1000.0).round() as u64;
                self.shared.sleep_until(until, self.host_ip);
                self.record(call, Ok(0), None);
            }
        }
    }

    /// Gives an unbound socket this host's loopback address (the port stays for connect()
    /// or the first datagram to choose), as the engine gives it the host's address.
    fn bind_to_host_if_unbound(&self, socket: &Socket) -> io::Result<()> {
        let unbound =
            socket.local_addr().ok().and_then(|local| local.as_socket_ipv4()).is_none_or(|local| local.port() == 0);
        if unbound {
            let own = RealAddr::from(std::net::SocketAddrV4::new(self.host_ip.0.into(), 0));
            if socket.r#type()? == Type::STREAM {
                sys::bind_address_no_port(socket.as_raw_fd())?;
            }
            socket.bind(&own)?;
        }
        Ok(())
    }

    fn recv_once(&self, fd: &str, len: u32) -> io::Result<(i64, Option<String>)> {
        let socket = self.socket(fd)?;
        let mut buffer = vec![MaybeUninit::<u8>::uninit(); len as usize];
        if socket.r#type()? == Type::DGRAM {
            let (count, from) = socket.recv_from(&mut buffer)?;
            return Ok((count as i64, self.scenario_addr(from)));
        }
        if sys::tcp_inq(socket.as_raw_fd())? {
            let (count, left) = sys::recv_with_inq(socket.as_raw_fd(), len as usize)?;
            return Ok((count as i64, left.map(|left| left.to_string())));
        }
        let count = socket.recv(&mut buffer)?;
        Ok((count as i64, None))
    }

    /// Waits until the socket has room to send (poll(POLLOUT) by hand: short sleeps).
    fn wait_writable(&self, fd: &str) {
        let Ok(socket) = self.socket(fd) else { return };
        let capacity = socket.send_buffer_size().unwrap_or(0) as u32;
        while !self.shared.stopped(self.host_ip) {
            let queued = sys::outq(socket.as_raw_fd()).unwrap_or(0);
            // tcp_poll(): writable once a third of the send buffer is free (sk_stream_wspace).
            if queued.saturating_mul(3) <= capacity.saturating_mul(2) {
                return;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

fn getsockopt(socket: &Socket, opt: OptName) -> io::Result<String> {
    let flag = |on: bool| u8::from(on).to_string();
    Ok(match opt {
        OptName::ReuseAddr => flag(socket.reuse_address()?),
        OptName::NoDelay => flag(socket.tcp_nodelay()?),
        OptName::KeepAlive => flag(socket.keepalive()?),
        OptName::ReusePort => flag(socket.reuse_port()?),
        OptName::QuickAck => flag(socket.tcp_quickack()?),
        OptName::RcvBuf => socket.recv_buffer_size()?.to_string(),
        OptName::SndBuf => socket.send_buffer_size()?.to_string(),
        OptName::Linger => match socket.linger()? {
            Some(linger) => format!("{{l_onoff=1, l_linger={}}}", linger.as_secs()),
            None => "{l_onoff=0, l_linger=0}".to_string(),
        },
        OptName::MaxSeg => socket.tcp_mss()?.to_string(),
        OptName::Cork => flag(socket.tcp_cork()?),
        OptName::Inq => flag(sys::tcp_inq(socket.as_raw_fd())?),
        OptName::UserTimeout => socket.tcp_user_timeout()?.map_or(0, |timeout| timeout.as_millis()).to_string(),
        OptName::Error => match socket.take_error()? {
            Some(err) => errno_name(&err),
            None => "0".to_string(),
        },
    })
}
