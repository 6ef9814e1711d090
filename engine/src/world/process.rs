//! A simulated process: its program, its descriptor table, and the call it is in; and how a
//! call's arguments are shown in the trace.

use crate::format;
use crate::ids::HostId;
use crate::scenario::{AtEnd, Call, Step};
use crate::trace::SocketId;
use crate::vecmap::VecMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ready,
    Sleeping,
    Blocked,
    /// Done with its steps and alive, waiting for a step not written yet ([`AtEnd::Wait`]).
    Waiting,
    Exited,
}

/// A call that has entered and not yet returned.
#[derive(Clone, Debug, Default)]
pub(crate) struct InCall {
    pub blocked: bool,
    /// Bytes a blocking send() has queued so far.
    pub progress: u32,
    /// Payload of a send() in progress.
    pub data: Option<Vec<u8>>,
    /// Deadline of a sleep() or a lingering close().
    pub until: Option<u64>,
    /// The socket a call that has already released its descriptor still waits on.
    pub socket: Option<SocketId>,
    /// `progress` when this call entered (a writen() loop carries progress across calls).
    pub start: u32,
    /// Why the call waits, once it blocks.
    pub reason: Option<String>,
    /// The enter phase has been traced.
    pub entered: bool,
    /// A writer waiting for room: run again only once this socket is writable.
    pub wait_writable: Option<SocketId>,
    /// The arguments as the enter line showed them.
    pub args: Option<String>,
}

/// A program to start as a process: a scenario's, or a forked child's.
pub(crate) struct Program {
    pub name: String,
    pub steps: Vec<Step>,
    /// Where `steps` is in the scenario, as a JSON path (see [`Process::steps_path`]).
    pub steps_path: String,
    pub at_end: AtEnd,
}

pub(crate) struct Process {
    pub name: String,
    pub host: HostId,
    /// Shared with the scenario's other copies of the program (a fork's child keeps its own).
    pub steps: std::rc::Rc<[Step]>,
    /// Where `steps` is in the scenario, as a JSON path (`processes[0].steps`, or
    /// `processes[0].steps[2].child.steps` for a forked child), so that a failed expectation
    /// names its step as a parse error would.
    pub steps_path: String,
    pub pc: usize,
    pub at_end: AtEnd,
    pub fds: VecMap<i32, SocketId>,
    pub names: VecMap<String, i32>,
    pub status: Status,
    pub call: Option<InCall>,
    pub wake_token: u64,
}

impl Process {
    /// The call's arguments as C would show them, with descriptor numbers resolved.
    pub fn render_args(&self, call: &Call) -> String {
        let process = self;
        let fd = |name: &str| process.names.get(name).map_or_else(|| name.to_string(), |fd| fd.to_string());
        match call {
            Call::Socket { sock_type, .. } => match sock_type {
                crate::scenario::SockType::Stream => "AF_INET, SOCK_STREAM, 0".to_string(),
                crate::scenario::SockType::Dgram => "AF_INET, SOCK_DGRAM, 0".to_string(),
            },
            Call::Bind { fd: name, addr } | Call::Connect { fd: name, addr } => format!("{}, {}", fd(name), addr),
            Call::Listen { fd: name, backlog } => format!("{}, {backlog}", fd(name)),
            Call::Accept { fd: name, .. } => fd(name),
            Call::Sendto { fd: name, addr, .. } => format!("{}, {} bytes, {addr}", fd(name), call.payload_len()),
            Call::Recvfrom { fd: name, len } => format!("{}, {len}", fd(name)),
            Call::Send { fd: name, .. } | Call::SendAll { fd: name, .. } => {
                let total = call.payload_len();
                let done = process.call.as_ref().map_or(0, |call| call.progress);
                format!("{}, {} bytes", fd(name), total - done.min(total))
            }
            Call::Recv { fd: name, len } | Call::RecvToEof { fd: name, len } => format!("{}, {len}", fd(name)),
            Call::Shutdown { fd: name, how } => format!("{}, {}", fd(name), how.name()),
            Call::Close { fd: name }
            | Call::Getsockname { fd: name }
            | Call::Getpeername { fd: name }
            | Call::Dup { fd: name, .. } => fd(name),
            Call::Setsockopt { fd: name, opt, value } => {
                let value = match value {
                    crate::scenario::OptValue::Flag(flag) => u8::from(*flag).to_string(),
                    crate::scenario::OptValue::Number(number) => number.to_string(),
                    crate::scenario::OptValue::Linger(linger) => {
                        format!("{{l_onoff={}, l_linger={}}}", u8::from(linger.onoff), linger.linger)
                    }
                };
                format!("{}, {}, {value}", fd(name), opt.name())
            }
            Call::Getsockopt { fd: name, opt } => format!("{}, {}", fd(name), opt.name()),
            Call::Fcntl { fd: name, nonblock: Some(nonblock) } => {
                format!("{}, F_SETFL, {}", fd(name), if *nonblock { "O_NONBLOCK" } else { "0" })
            }
            Call::Fcntl { fd: name, nonblock: None } => format!("{}, F_GETFL", fd(name)),
            Call::Ioctl { fd: name, request } => format!("{}, {}", fd(name), request.name()),
            Call::Fork { .. } => String::new(),
            Call::Sleep { ms } => format!("{} ms", format::decimal(*ms)),
        }
    }
}
