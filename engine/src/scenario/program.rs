//! Programs: a process's ordered steps, each a system call (or a sleep) with its arguments,
//! optional timing, narration and expected result; a fork's child program. `Step` and `Call`
//! get their `Deserialize` from the hand-written reader in `read/program.rs`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::sockopt::{OptName, OptValue};
use crate::addr::SockAddr;
use crate::errno::Errno;

/// A process: a name, the host it runs on and its program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    pub name: String,
    pub host: String,
    pub steps: Vec<Step>,
    /// What the process does after its last step; its forked children do the same.
    #[serde(default, skip_serializing_if = "AtEnd::is_exit")]
    pub at_end: AtEnd,
}

/// What a process does once it has run its last step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtEnd {
    /// It exits and the kernel closes its descriptors, like a program returning from main().
    #[default]
    Exit,
    /// It stays alive with its descriptors open, like a program waiting for its user: the
    /// playground's processes, whose next call the reader has not made yet.
    Wait,
}

impl AtEnd {
    pub fn is_exit(&self) -> bool {
        *self == AtEnd::Exit
    }
}

/// One step of a program: a system call (or sleep) plus optional timing, narration and
/// expected result. In JSON the call's fields and these sit side by side in one object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub call: Call,
    /// Do not start this step before this absolute simulated time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<f64>,
    /// A sentence the narration shows when this step starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A sentence the narration shows when this step's call returns (for a blocking call,
    /// once what it waited for has happened; for a loop such as `recv_to_eof`, after its
    /// last call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_on_return: Option<String>,
    /// The result this step must have; a different result is reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

/// What a step's call must return: a number or an errno name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expect {
    Value(i64),
    Errno(Errno),
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Value(value) => write!(f, "{value}"),
            Expect::Errno(errno) => write!(f, "{errno}"),
        }
    }
}

/// The socket type argument of socket().
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SockType {
    #[default]
    Stream,
    Dgram,
}

/// How shutdown() shuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum How {
    #[serde(rename = "SHUT_RD")]
    Read,
    #[serde(rename = "SHUT_WR")]
    Write,
    #[serde(rename = "SHUT_RDWR")]
    Both,
}

impl How {
    pub fn name(self) -> &'static str {
        match self {
            How::Read => "SHUT_RD",
            How::Write => "SHUT_WR",
            How::Both => "SHUT_RDWR",
        }
    }
}

fn is_false(value: &bool) -> bool {
    !value
}

/// What ioctl() asks of a TCP socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IoctlRequest {
    /// SIOCINQ (FIONREAD): the bytes a read could take now.
    #[serde(rename = "SIOCINQ")]
    InQ,
    /// SIOCOUTQ (TIOCOUTQ): the bytes written and not yet acknowledged.
    #[serde(rename = "SIOCOUTQ")]
    OutQ,
}

impl IoctlRequest {
    pub fn name(self) -> &'static str {
        match self {
            IoctlRequest::InQ => "SIOCINQ",
            IoctlRequest::OutQ => "SIOCOUTQ",
        }
    }
}

/// The calls a step can make. Descriptors are named by the step that created them (`as`).
///
/// In JSON a call is an object tagged by `"call"`. Its `Deserialize` is written by hand (in
/// `read/program.rs`) rather than derived: serde's derive for an internally tagged enum buffers
/// the object and expands every variant's visitor twice, which made this one type about a
/// sixth of the web page's code. The hand-written reader accepts exactly what the derive
/// accepted and words its errors the same way.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    Socket {
        #[serde(rename = "as")]
        name: String,
        #[serde(default, rename = "type")]
        sock_type: SockType,
    },
    Bind {
        fd: String,
        addr: SockAddr,
    },
    Listen {
        fd: String,
        backlog: u32,
    },
    Connect {
        fd: String,
        addr: SockAddr,
    },
    Accept {
        fd: String,
        #[serde(rename = "as")]
        name: String,
    },
    #[serde(alias = "write")]
    Send {
        fd: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        len: Option<u32>,
        /// MSG_MORE: more data follows at once, so a last segment smaller than the MSS waits
        /// (as with TCP_CORK) instead of going out now.
        #[serde(default, skip_serializing_if = "is_false")]
        more: bool,
        /// MSG_EOR: this send ends a record, so later data never joins it in one segment.
        #[serde(default, skip_serializing_if = "is_false")]
        eor: bool,
    },
    /// A writen()-style loop: send() again until every byte is queued (TLPI 61.1).
    SendAll {
        fd: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        len: Option<u32>,
    },
    /// sendto(): a datagram to `addr` (UDP); on a TCP socket the address is ignored.
    Sendto {
        fd: String,
        addr: SockAddr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        len: Option<u32>,
    },
    #[serde(alias = "read")]
    Recv {
        fd: String,
        len: u32,
    },
    /// recvfrom(): like recv(), and the trace shows the sender's address.
    Recvfrom {
        fd: String,
        len: u32,
    },
    /// A loop of recv(len) until it returns 0 (end of file) or fails.
    RecvToEof {
        fd: String,
        len: u32,
    },
    Shutdown {
        fd: String,
        how: How,
    },
    Close {
        fd: String,
    },
    Setsockopt {
        fd: String,
        opt: OptName,
        value: OptValue,
    },
    Getsockopt {
        fd: String,
        opt: OptName,
    },
    /// fcntl(F_SETFL) with O_NONBLOCK on or off; without `nonblock`, fcntl(F_GETFL), which
    /// returns the descriptor's flags.
    Fcntl {
        fd: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonblock: Option<bool>,
    },
    /// ioctl(SIOCINQ) or ioctl(SIOCOUTQ): a queue's level as the program sees it.
    Ioctl {
        fd: String,
        request: IoctlRequest,
    },
    Getsockname {
        fd: String,
    },
    Getpeername {
        fd: String,
    },
    Dup {
        fd: String,
        #[serde(rename = "as")]
        name: String,
    },
    /// fork(): the child runs `child` with copies of every descriptor.
    Fork {
        child: Box<ChildSpec>,
    },
    Sleep {
        ms: f64,
    },
}

/// The program of a forked child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildSpec {
    pub name: String,
    pub steps: Vec<Step>,
}

impl Call {
    /// How many bytes a send() of this call writes (0 for other calls).
    pub fn payload_len(&self) -> u32 {
        match self {
            Call::Send { data, len, .. } | Call::SendAll { data, len, .. } | Call::Sendto { data, len, .. } => {
                match (data, len) {
                    (Some(data), _) => data.len() as u32,
                    (None, Some(len)) => *len,
                    (None, None) => 0,
                }
            }
            _ => 0,
        }
    }

    /// The bytes a send() of this call writes: the literal text, or `len` bytes of a
    /// repeating alphabet so that a reader can tell which bytes arrived. The engine and the
    /// validator's real programs both write these.
    pub fn payload(&self) -> Vec<u8> {
        const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
        match self {
            Call::Send { data: Some(data), .. }
            | Call::SendAll { data: Some(data), .. }
            | Call::Sendto { data: Some(data), .. } => data.as_bytes().to_vec(),
            _ => {
                let len = self.payload_len() as usize;
                let mut bytes = Vec::with_capacity(len);
                while bytes.len() < len {
                    bytes.extend_from_slice(&ALPHABET[..(len - bytes.len()).min(ALPHABET.len())]);
                }
                bytes
            }
        }
    }

    /// The system call's name as the trace shows it.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Socket { .. } => "socket",
            Call::Bind { .. } => "bind",
            Call::Listen { .. } => "listen",
            Call::Connect { .. } => "connect",
            Call::Accept { .. } => "accept",
            Call::Send { .. } | Call::SendAll { .. } => "send",
            Call::Sendto { .. } => "sendto",
            Call::Recvfrom { .. } => "recvfrom",
            Call::Recv { .. } | Call::RecvToEof { .. } => "recv",
            Call::Shutdown { .. } => "shutdown",
            Call::Close { .. } => "close",
            Call::Setsockopt { .. } => "setsockopt",
            Call::Getsockopt { .. } => "getsockopt",
            Call::Fcntl { .. } => "fcntl",
            Call::Ioctl { .. } => "ioctl",
            Call::Getsockname { .. } => "getsockname",
            Call::Getpeername { .. } => "getpeername",
            Call::Dup { .. } => "dup",
            Call::Fork { .. } => "fork",
            Call::Sleep { .. } => "sleep",
        }
    }

    /// The descriptor name this call uses, if any.
    pub fn fd(&self) -> Option<&str> {
        match self {
            Call::Bind { fd, .. }
            | Call::Listen { fd, .. }
            | Call::Connect { fd, .. }
            | Call::Accept { fd, .. }
            | Call::Send { fd, .. }
            | Call::SendAll { fd, .. }
            | Call::Sendto { fd, .. }
            | Call::Recvfrom { fd, .. }
            | Call::Recv { fd, .. }
            | Call::RecvToEof { fd, .. }
            | Call::Shutdown { fd, .. }
            | Call::Close { fd }
            | Call::Setsockopt { fd, .. }
            | Call::Getsockopt { fd, .. }
            | Call::Fcntl { fd, .. }
            | Call::Ioctl { fd, .. }
            | Call::Getsockname { fd }
            | Call::Getpeername { fd }
            | Call::Dup { fd, .. } => Some(fd),
            Call::Socket { .. } | Call::Fork { .. } | Call::Sleep { .. } => None,
        }
    }

    /// The descriptor name this call defines, if any.
    pub fn defines(&self) -> Option<&str> {
        match self {
            Call::Socket { name, .. } | Call::Accept { name, .. } | Call::Dup { name, .. } => Some(name),
            _ => None,
        }
    }
}
