//! Processes as the scheduler sees them: starting and forking, running their steps one
//! call at a time, blocking and waking, descriptors, expectations, and the system-call
//! lines of the trace.

use crate::errno::Errno;
use crate::ids::HostId;
use crate::outcome::Outcome;
use crate::scenario::{AtEnd, Call, Expect, Step};
use crate::trace::{EventKind, FdAction, Phase, Pid, ProcessAction, SocketId};
use crate::vecmap::VecMap;
use crate::world::process::{InCall, Process, Program, Status};
use crate::world::queue::Pending;
use crate::world::World;

impl World {
    /// Linux's sk_stream_is_writeable(): SendQ has room again
    /// ([`crate::socket::Socket::send_q_writable`]); a socket with an error or shut down also
    /// counts, so that the writer sees the error.
    pub(super) fn writable(&self, id: SocketId) -> bool {
        let socket = &self.sockets[id];
        socket.freed || socket.error.is_some() || !socket.state.can_send() || socket.shut_wr || socket.send_q_writable()
    }

    // ----- processes -----
    pub(super) fn spawn(
        &mut self,
        program: Program,
        host: HostId,
        parent: Option<Pid>,
        fds: VecMap<i32, SocketId>,
        names: VecMap<String, i32>,
    ) -> Pid {
        let Program { name, steps, steps_path, at_end } = program;
        let pid = self.processes.next_id();
        let host_name = self.hosts[host].name.clone();
        self.processes.push(Process {
            name: name.clone(),
            host,
            steps: steps.into(),
            steps_path,
            pc: 0,
            at_end,
            fds: fds.clone(),
            names,
            status: Status::Ready,
            call: None,
            wake_token: 0,
        });
        let action = if parent.is_some() { ProcessAction::Fork } else { ProcessAction::Start };
        self.emit(EventKind::Process { pid, host: host_name, name, action, parent });
        for (&fd, &socket) in &fds {
            self.sockets[socket].refs += 1;
            self.emit(EventKind::Fd { pid, fd, socket, action: FdAction::Open });
        }
        self.ready.insert(pid);
        pid
    }

    pub(super) fn run_ready(&mut self) {
        loop {
            if self.trace.overflow || self.due_now() {
                // Events of this instant come first (see step_process).
                return;
            }
            let pid = match self.resuming.take() {
                Some(pid) if self.ready.remove(&pid) => pid,
                _ => match self.ready.pop_first() {
                    Some(pid) => pid,
                    None => return,
                },
            };
            self.step_process(pid);
        }
    }

    /// After a call returned: if something it set off is due at this very instant (only a link
    /// without latency does that), the process steps aside so that it happens first, as on
    /// Linux's loopback a segment and the peer's answer to it are handled inside the call that
    /// sent it, before the program's next call. The process then goes on before the ones those
    /// events woke (`resuming`). Returns whether it stepped aside.
    pub(super) fn step_aside(&mut self, pid: Pid) -> bool {
        if !self.due_now() {
            return false;
        }
        self.ready.insert(pid);
        self.resuming = Some(pid);
        true
    }

    /// Whether an event (a delivery over a link without latency, most often) is due at the
    /// current instant.
    pub(super) fn due_now(&self) -> bool {
        self.queue.next_time() == Some(self.now)
    }

    pub(super) fn sleep_until(&mut self, pid: Pid, until: u64) {
        let process = &mut self.processes[pid];
        process.status = Status::Sleeping;
        process.wake_token += 1;
        let token = process.wake_token;
        self.queue.schedule(until, Pending::Wake { pid, token });
    }

    pub(super) fn step_process(&mut self, pid: Pid) {
        loop {
            if self.trace.overflow {
                return;
            }
            let process = &mut self.processes[pid];
            if process.status == Status::Exited {
                return;
            }
            process.status = Status::Ready;
            let steps = process.steps.clone();
            let Some(step) = steps.get(process.pc) else {
                match process.at_end {
                    AtEnd::Exit => self.exit_process(pid),
                    AtEnd::Wait => process.status = Status::Waiting,
                }
                return;
            };
            if process.call.is_none() {
                if let Some(at) = step.at_ms {
                    let at = (at * 1000.0).round() as u64;
                    if self.now < at {
                        self.sleep_until(pid, at);
                        return;
                    }
                }
                self.processes[pid].call = Some(InCall::default());
                if let Some(note) = &step.note {
                    self.emit(EventKind::Note { pid: Some(pid), text: note.clone() });
                }
            }
            if let Some(id) = self.processes[pid].call.as_ref().and_then(|call| call.wait_writable) {
                if !self.writable(id) {
                    // Still not writable: keep waiting without calling again.
                    self.processes[pid].status = Status::Blocked;
                    self.sockets[id].waiters.push(pid);
                    return;
                }
                if let Some(call) = self.processes[pid].call.as_mut() {
                    call.wait_writable = None;
                }
            }
            if !self.processes[pid].call.as_ref().is_some_and(|call| call.entered) {
                if let Some(call) = self.processes[pid].call.as_mut() {
                    call.entered = true;
                }
                self.emit_syscall(pid, &step.call, Phase::Enter, None);
            }
            let outcome = self.execute(pid, &step.call);
            match outcome {
                Outcome::Block { socket, reason } => {
                    let process = &mut self.processes[pid];
                    let call = process.call.get_or_insert_with(InCall::default);
                    // A call that blocks again for another reason (a send() that copied
                    // more before SendQ filled again) is traced again, so that the reason
                    // shown stays true.
                    let first = !call.blocked || call.reason.as_ref() != Some(&reason);
                    call.blocked = true;
                    call.reason = Some(reason.clone());
                    let until = call.until;
                    if matches!(step.call, Call::Send { .. } | Call::SendAll { .. } | Call::Sendto { .. }) {
                        // A blocked writer sleeps until SendQ is at least a third free
                        // (sk_stream_wait_memory(), sk_stream_is_writeable()).
                        call.wait_writable = socket;
                    }
                    process.status = if socket.is_some() { Status::Blocked } else { Status::Sleeping };
                    if first {
                        self.emit_syscall(pid, &step.call, Phase::Block, Some(Outcome::Block { socket, reason }));
                    }
                    if let Some(id) = socket {
                        // A lingering close() is also woken by its socket's linger timer.
                        self.sockets[id].waiters.push(pid);
                    } else if let Some(until) = until {
                        self.sleep_until(pid, until);
                    }
                    return;
                }
                outcome => {
                    self.emit_syscall(pid, &step.call, Phase::Return, Some(outcome.clone()));
                    let repeat = match (&step.call, &outcome) {
                        (Call::RecvToEof { .. }, Outcome::Done { value, .. }) => *value > 0,
                        (Call::SendAll { .. }, Outcome::Done { .. }) => {
                            let call = self.processes[pid].call.as_ref();
                            let total = step.call.payload_len();
                            call.is_some_and(|call| call.progress < total)
                        }
                        (Call::SendAll { .. }, Outcome::Failed(Errno::EAGAIN)) => true,
                        _ => false,
                    };
                    if !repeat {
                        if let Some(note) = &step.note_on_return {
                            self.emit(EventKind::Note { pid: Some(pid), text: note.clone() });
                        }
                    }
                    if let Some(expect) = &step.expect {
                        if !repeat {
                            self.check_expectation(pid, step, expect, &outcome);
                        }
                    }
                    let process = &mut self.processes[pid];
                    if repeat {
                        // The loop calls again: a fresh call that keeps the byte count.
                        let progress = process.call.as_ref().map_or(0, |call| call.progress);
                        let data = process.call.as_mut().and_then(|call| call.data.take());
                        process.call = Some(InCall { progress, data, start: progress, ..InCall::default() });
                        if matches!(outcome, Outcome::Failed(Errno::EAGAIN)) {
                            // A writen() loop on a nonblocking socket waits in poll() until
                            // the socket is writable again.
                            let fd = step.call.fd().unwrap_or_default().to_string();
                            if let Ok(id) = self.fd_socket(pid, &fd) {
                                if let Some(call) = self.processes[pid].call.as_mut() {
                                    call.wait_writable = Some(id);
                                }
                            }
                        }
                        if self.step_aside(pid) {
                            return;
                        }
                        continue;
                    }
                    process.call = None;
                    process.pc += 1;
                    if self.step_aside(pid) {
                        return;
                    }
                }
            }
        }
    }

    pub(super) fn check_expectation(&mut self, pid: Pid, step: &Step, expect: &Expect, outcome: &Outcome) {
        let matches = match (expect, outcome) {
            (Expect::Value(value), Outcome::Done { value: result, .. }) => value == result,
            (Expect::Errno(errno), Outcome::Failed(result)) => errno == result,
            _ => false,
        };
        if !matches {
            let got = match outcome {
                Outcome::Done { value, .. } => value.to_string(),
                Outcome::Failed(errno) => errno.to_string(),
                Outcome::Block { .. } => "a block".to_string(),
            };
            let process = &self.processes[pid];
            // The step is named by its JSON path, counted from 0 as the scenario's parse
            // errors count, so both kinds of message point at the same place in the text.
            let text = format!(
                "expectation failed: {}'s {}() at {}[{}] was expected to give {expect}, it gave {got}",
                process.name,
                step.call.name(),
                process.steps_path,
                process.pc
            );
            self.failures.push(text.clone());
            self.emit(EventKind::Note { pid: Some(pid), text });
        }
    }

    pub(super) fn emit_syscall(&mut self, pid: Pid, call: &Call, phase: Phase, outcome: Option<Outcome>) {
        let process = &self.processes[pid];
        let socket = call.fd().and_then(|name| process.names.get(name)).and_then(|fd| process.fds.get(fd)).copied();
        let socket = socket.or_else(|| process.call.as_ref().and_then(|call| call.socket));
        // The arguments are rendered once when the call enters and repeated on its block
        // and return lines; the return line is their last use.
        let cached = match phase {
            Phase::Enter => None,
            Phase::Block => process.call.as_ref().and_then(|call| call.args.clone()),
            Phase::Return => self.processes[pid].call.as_mut().and_then(|call| call.args.take()),
        };
        let args = match cached {
            Some(args) => args,
            None => {
                let args = self.processes[pid].render_args(call);
                if phase != Phase::Return {
                    if let Some(in_call) = self.processes[pid].call.as_mut() {
                        in_call.args = Some(args.clone());
                    }
                }
                args
            }
        };
        let process = &self.processes[pid];
        let (mut result, mut errno, mut reason, mut value) = (None, None, None, None);
        match outcome {
            Some(Outcome::Done { value: returned, shown }) => {
                result = Some(returned);
                value = shown;
            }
            Some(Outcome::Failed(e)) => errno = Some(e),
            Some(Outcome::Block { reason: why, .. }) => reason = Some(why),
            None => {}
        }
        let kind = EventKind::Syscall {
            pid,
            process: process.name.clone(),
            host: self.hosts[process.host].name.clone(),
            call: call.name().to_string(),
            args,
            phase,
            socket,
            result,
            errno,
            reason,
            value,
        };
        self.emit(kind);
    }

    pub fn fd_socket(&self, pid: Pid, name: &str) -> Result<SocketId, Errno> {
        let process = &self.processes[pid];
        let fd = process.names.get(name).ok_or(Errno::EBADF)?;
        process.fds.get(fd).copied().ok_or(Errno::EBADF)
    }

    pub(super) fn alloc_fd(&mut self, pid: Pid, name: &str, socket: SocketId) -> i32 {
        let process = &mut self.processes[pid];
        let fd = (3..).find(|fd| !process.fds.contains_key(fd)).unwrap_or(3);
        process.fds.insert(fd, socket);
        process.names.insert(name.to_string(), fd);
        self.sockets[socket].refs += 1;
        self.emit(EventKind::Fd { pid, fd, socket, action: FdAction::Open });
        fd
    }

    /// Closes one descriptor; the socket itself closes when its last descriptor goes.
    pub(super) fn close_fd(&mut self, pid: Pid, fd: i32) -> Option<SocketId> {
        let socket = self.processes[pid].fds.remove(&fd)?;
        self.emit(EventKind::Fd { pid, fd, socket, action: FdAction::Close });
        let refs = &mut self.sockets[socket].refs;
        *refs = refs.saturating_sub(1);
        if *refs == 0 {
            self.last_close(socket);
        }
        Some(socket)
    }

    pub(super) fn exit_process(&mut self, pid: Pid) {
        let fds: Vec<i32> = self.processes[pid].fds.keys().copied().collect();
        if !fds.is_empty() {
            let name = self.processes[pid].name.clone();
            self.emit(EventKind::Note {
                pid: Some(pid),
                text: format!("{name} exits; the kernel closes its open descriptors"),
            });
        }
        for fd in fds {
            self.close_fd(pid, fd);
        }
        let process = &mut self.processes[pid];
        process.status = Status::Exited;
        let (name, host) = (process.name.clone(), self.hosts[process.host].name.clone());
        self.emit(EventKind::Process { pid, host, name, action: ProcessAction::Exit, parent: None });
    }
}
