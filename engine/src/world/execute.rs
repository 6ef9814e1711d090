//! System calls as a process makes them: descriptors resolved, then the kernel half run,
//! on the socket table (`sockets.rs`) or in the TCP machine.

use crate::errno::Errno;
use crate::format;
use crate::outcome::Outcome;
use crate::scenario::{Call, IoctlRequest};
use crate::state::State;
use crate::tcp;
use crate::time::fractional_ms_to_us;
use crate::trace::{Pid, Proto, SocketAction, TimerKind};
use crate::world::process::{InCall, Program};
use crate::world::World;

impl World {
    /// Runs (or re-tries, after a wake-up) the current step's call.
    pub(super) fn execute(&mut self, pid: Pid, call: &Call) -> Outcome {
        let host = self.processes[pid].host;
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
                Outcome::done(i64::from(fd))
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
                let woken = self.processes[pid].call.as_ref().is_some_and(|call| call.blocked);
                let attempt = if woken { tcp::ConnectAttempt::Woken } else { tcp::ConnectAttempt::First };
                self.sys_connect(id, *addr, attempt)
            }
            Call::Accept { fd, name } => {
                let id = socket!(fd);
                match self.sys_accept(id) {
                    Ok(child) => {
                        let fd = self.alloc_fd(pid, name, child);
                        let peer = self.sockets[child].peer.map(|peer| peer.to_string());
                        Outcome::Done { value: i64::from(fd), shown: peer }
                    }
                    Err(outcome) => outcome,
                }
            }
            Call::Send { fd, .. } | Call::SendAll { fd, .. } => {
                let id = socket!(fd);
                let process = &mut self.processes[pid];
                let in_call = process.call.get_or_insert_with(InCall::default);
                if in_call.data.is_none() {
                    in_call.data = Some(call.payload());
                }
                let data = in_call.data.take().unwrap_or_default();
                let (progress, start) = (in_call.progress, in_call.start);
                let push = match call {
                    Call::Send { eor: true, .. } => tcp::Push::EndOfRecord,
                    Call::Send { more: true, .. } => tcp::Push::MoreFollows,
                    _ => tcp::Push::Now,
                };
                let (outcome, queued) = self.sys_send(id, &data, progress, start, push);
                let in_call = self.processes[pid].call.get_or_insert_with(InCall::default);
                in_call.progress = queued;
                in_call.data = Some(data);
                outcome
            }
            Call::Sendto { fd, addr, .. } => {
                let id = socket!(fd);
                if self.sockets[id].proto == Proto::Udp {
                    let data = call.payload();
                    self.send_datagram(id, *addr, &data)
                } else {
                    let data = call.payload();
                    self.sys_send(id, &data, 0, 0, tcp::Push::Now).0
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
                self.with_tcp(id, |s, cx| tcp::shutdown(s, cx, *how))
            }
            Call::Close { fd } => {
                let in_call = self.processes[pid].call.clone().unwrap_or_default();
                if let Some(id) = in_call.socket {
                    // A lingering close() that was woken: done once the FIN is acknowledged
                    // or the linger time is up (SO_LINGER, socket(7)).
                    let socket = &self.sockets[id];
                    let done = socket.freed || socket.fin_acked() || socket.state == State::Closed;
                    let expired = in_call.until.is_some_and(|until| self.now >= until);
                    if done || expired {
                        // sk_stream_wait_close() stops waiting either way; the wait's own
                        // deadline must not fire later as if it still mattered.
                        self.with_tcp(id, |s, cx| tcp::timers::cancel_timer(s, cx, TimerKind::Linger));
                        return Outcome::done(0);
                    }
                    return Outcome::block_on(id, "lingering until the FIN is acknowledged (SO_LINGER)");
                }
                let name = fd.clone();
                let Some(&number) = self.processes[pid].names.get(&name) else {
                    return Outcome::Failed(Errno::EBADF);
                };
                let Some(id) = self.close_fd(pid, number) else { return Outcome::Failed(Errno::EBADF) };
                self.processes[pid].names.remove(&name);
                let socket = &self.sockets[id];
                if let Some(seconds) = socket.linger.filter(|&seconds| seconds > 0) {
                    if socket.refs == 0 && !socket.freed && socket.fin_seq().is_some() && !socket.fin_acked() {
                        let until = self.now + u64::from(seconds) * 1_000_000;
                        let in_call = self.processes[pid].call.get_or_insert_with(InCall::default);
                        in_call.socket = Some(id);
                        in_call.until = Some(until);
                        self.with_tcp(id, |s, cx| tcp::timers::arm_timer(s, cx, TimerKind::Linger, until));
                        return Outcome::block_on(id, "lingering until the FIN is acknowledged (SO_LINGER)");
                    }
                }
                Outcome::done(0)
            }
            Call::Setsockopt { fd, opt, value } => {
                let id = socket!(fd);
                match crate::scenario::SockOpt::new(*opt, *value) {
                    Ok(opt) => self.with_tcp(id, |s, cx| tcp::setsockopt(s, cx, opt)),
                    Err(_) => Outcome::Failed(Errno::EINVAL),
                }
            }
            Call::Getsockopt { fd, opt } => {
                let id = socket!(fd);
                self.with_tcp(id, |s, cx| tcp::getsockopt(s, cx, *opt))
            }
            Call::Fcntl { fd, nonblock: Some(nonblock) } => {
                let id = socket!(fd);
                self.sockets[id].nonblocking = *nonblock;
                Outcome::done(0)
            }
            // F_GETFL: a socket is opened O_RDWR (2); O_NONBLOCK is 04000.
            Call::Fcntl { fd, nonblock: None } => {
                let id = socket!(fd);
                if self.sockets[id].nonblocking {
                    Outcome::Done { value: 0o4002, shown: Some("O_RDWR|O_NONBLOCK".into()) }
                } else {
                    Outcome::Done { value: 0o2, shown: Some("O_RDWR".into()) }
                }
            }
            Call::Ioctl { fd, request } => {
                let id = socket!(fd);
                let socket = &self.sockets[id];
                // tcp_ioctl(): a listener has no queue to ask about; a connection still in its
                // handshake reports 0.
                let bytes = match (socket.state, request) {
                    (State::Listen, _) => return Outcome::Failed(Errno::EINVAL),
                    (State::SynSent | State::SynRecv, _) => 0,
                    (_, IoctlRequest::InQ) => socket.recv_q(),
                    // write_seq - snd_una: a queued FIN counts as one byte of sequence space.
                    (_, IoctlRequest::OutQ) => {
                        socket.send_q() + u32::from(socket.fin_seq().is_some() && !socket.fin_acked())
                    }
                };
                Outcome::Done { value: 0, shown: Some(bytes.to_string()) }
            }
            Call::Getsockname { fd } => {
                let id = socket!(fd);
                let local = self.sockets[id].local.unwrap_or_default();
                Outcome::Done { value: 0, shown: Some(local.to_string()) }
            }
            Call::Getpeername { fd } => {
                let id = socket!(fd);
                let socket = &self.sockets[id];
                match socket.peer {
                    Some(peer) if socket.proto == Proto::Udp || socket.state.is_synchronized() => {
                        Outcome::Done { value: 0, shown: Some(peer.to_string()) }
                    }
                    _ => Outcome::Failed(Errno::ENOTCONN),
                }
            }
            Call::Dup { fd, name } => {
                let id = socket!(fd);
                let fd = self.alloc_fd(pid, name, id);
                Outcome::done(i64::from(fd))
            }
            Call::Fork { child } => {
                let process = &self.processes[pid];
                let (fds, names) = (process.fds.clone(), process.names.clone());
                let program = Program {
                    name: child.name.clone(),
                    steps: child.steps.clone(),
                    steps_path: format!("{}[{}].child.steps", process.steps_path, process.pc),
                    at_end: process.at_end,
                };
                let child = self.spawn(program, host, Some(pid), fds, names);
                Outcome::done(i64::from(child.0))
            }
            Call::Sleep { ms } => {
                let in_call = self.processes[pid].call.get_or_insert_with(InCall::default);
                match in_call.until {
                    None => {
                        let until = self.now + fractional_ms_to_us(*ms);
                        in_call.until = Some(until);
                        Outcome::Block { socket: None, reason: format!("sleeping {} ms", format::decimal(*ms)) }
                    }
                    Some(until) if self.now < until => {
                        Outcome::Block { socket: None, reason: format!("sleeping {} ms", format::decimal(*ms)) }
                    }
                    Some(_) => Outcome::done(0),
                }
            }
        }
    }
}
