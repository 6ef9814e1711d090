//! The scenario format: hosts, links, per-host TCP settings, processes as ordered steps.
//!
//! A scenario is untrusted input (a file, a URL fragment, a paste into the page). Parsing
//! never panics: a malformed scenario becomes a [`ScenarioError`] naming the JSON path and
//! the reason. `docs/scenario-format.md` documents every field, and
//! `docs/scenario.schema.json` is its JSON Schema.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::addr::{Ipv4, SockAddr};
use crate::errno::Errno;

mod json;
mod read;

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The id used by the CLI, the URL and the tests (`three-way-handshake`).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub title: String,
    /// Book and figure this scenario brings to life.
    #[serde(default)]
    pub source: String,
    /// The catalogue group ("Connection set-up", "Closing", ...).
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub description: String,
    /// Seed of the world's one random number generator (ISNs, ephemeral ports, loss).
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub hosts: Vec<HostSpec>,
    /// Links between hosts. When empty, every pair of hosts is joined by a default link.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    pub processes: Vec<ProcessSpec>,
    /// Network faults and host failures, applied in order (the first matching rule decides
    /// a segment's fate).
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub limits: Limits,
}

/// Which segments a fault applies to. Every given field must match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentMatch {
    /// The sending host's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The receiving host's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// tcpdump's flag letters, exactly (`S`, `S.`, `.`, `P.`, `F.`, `FP.`, `R.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<String>,
    /// Only segments that carry data (true) or none (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<bool>,
    /// Relative sequence numbers `[first, last]` (1 is the first data byte, as tcpdump
    /// numbers them); the segment's sequence number must fall in this range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<[u32; 2]>,
    /// Only from this simulated time on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<f64>,
    /// Only before this simulated time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<f64>,
}

/// A fault: a value the engine applies while the run goes on (turmoil-net style).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Drop the `nth` matching segment (1 = the first) and the `count - 1` matches after it.
    Drop {
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
        #[serde(default = "one")]
        nth: u32,
        #[serde(default = "one")]
        count: u32,
    },
    /// Drop each matching segment with probability `rate` (0 to 1), drawn from the seed.
    Loss {
        rate: f64,
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
    },
    /// Deliver a matching segment twice with probability `rate`.
    Duplicate {
        rate: f64,
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
    },
    /// Hold a matching segment back by `delay_us` with probability `rate`, so later ones
    /// overtake it.
    Reorder {
        rate: f64,
        delay_us: u64,
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
    },
    /// Add `extra_us` to every matching segment's latency.
    Delay {
        extra_us: u64,
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
    },
    /// The link between `a` and `b` carries nothing from `from_ms` until `until_ms`.
    LinkDown {
        a: String,
        b: String,
        from_ms: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<f64>,
    },
    /// The host stops at `at_ms`: its processes and sockets vanish without a word.
    Crash { host: String, at_ms: f64 },
    /// A crashed host comes back at `at_ms` with empty tables: old connections draw RST.
    Reboot { host: String, at_ms: f64 },
}

impl Fault {
    /// Which segments a per-segment fault applies to (none for link and host faults).
    pub fn matching(&self) -> Option<&SegmentMatch> {
        match self {
            Fault::Drop { matching, .. }
            | Fault::Loss { matching, .. }
            | Fault::Duplicate { matching, .. }
            | Fault::Reorder { matching, .. }
            | Fault::Delay { matching, .. } => Some(matching),
            Fault::LinkDown { .. } | Fault::Crash { .. } | Fault::Reboot { .. } => None,
        }
    }
}

fn one() -> u32 {
    1
}

fn default_seed() -> u64 {
    1
}

/// A host: a name, one IPv4 address and its TCP settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub name: String,
    pub addr: Ipv4,
    #[serde(default)]
    pub tcp: TcpSettings,
}

/// Per-host TCP settings. Every default is Linux's (see `docs/linux-model.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpSettings {
    /// Initial sequence numbers for this host's first connections, in order; later ones
    /// come from the world's RNG.
    pub isn: Vec<u32>,
    /// Ephemeral ports this host hands out first, in order; later ones are drawn from
    /// 32768-60999 (`ip_local_port_range`).
    pub ephemeral_ports: Vec<u16>,
    /// Maximum segment lifetime; TIME_WAIT lasts twice this (Linux: fixed 60 s).
    pub msl_ms: u64,
    /// Default SendQ capacity of a new socket in bytes (`tcp_wmem[1]`).
    pub sndbuf: u32,
    /// Default RecvQ capacity of a new socket in bytes (`tcp_rmem[1]`).
    pub rcvbuf: u32,
    /// MSS this host announces; default: the link MTU minus 40.
    pub mss: Option<u16>,
    /// Whether this host offers window scaling on its SYNs.
    pub window_scaling: bool,
    /// The shift this host announces when it offers window scaling.
    pub wscale: u8,
    /// Largest window this host advertises (Linux's window clamp / rcv_ssthresh).
    pub window_clamp: Option<u32>,
    /// Whether this host offers the timestamps option (RFC 7323) on its SYNs.
    pub timestamps: bool,
    /// Whether this host offers SACK on its SYNs (shown in options; SACK blocks are not modelled).
    pub sack: bool,
    /// Whether the receiver delays ACKs at all.
    pub delayed_ack: bool,
    /// The delayed-ACK timeout (`TCP_DELACK_MIN`).
    pub delack_ms: u64,
    /// At most this many segments are acked at once in quick-ACK mode (`TCP_MAX_QUICKACKS`).
    pub max_quickacks: u32,
    pub rto_initial_ms: u64,
    pub rto_min_ms: u64,
    pub rto_max_ms: u64,
    /// `tcp_syn_retries`.
    pub syn_retries: u32,
    /// `tcp_syn_linear_timeouts`: the first retransmissions keep the initial RTO.
    pub syn_linear_timeouts: u32,
    /// `tcp_synack_retries`.
    pub synack_retries: u32,
    /// `tcp_retries2`: data retransmissions before the connection is given up.
    pub retries2: u32,
    /// `tcp_fin_timeout`: lifetime of an orphaned FIN_WAIT2 socket.
    pub fin_timeout_ms: u64,
    pub keepalive_time_ms: u64,
    pub keepalive_intvl_ms: u64,
    pub keepalive_probes: u32,
    /// Initial congestion window in segments (`TCP_INIT_CWND`).
    pub initial_cwnd: u32,
    /// `net.core.somaxconn`: listen() backlogs are capped at this.
    pub somaxconn: u32,
    /// `tcp_abort_on_overflow`: answer a final ACK that finds the accept queue full with RST.
    pub abort_on_overflow: bool,
    /// `tcp_wmem[2]`: the largest SendQ the kernel grows a socket to (4 MiB).
    pub wmem_max: u32,
    /// The congestion-control module's name (`tcp_congestion_control`). Only its SendQ
    /// growth factor is modelled: 3 for `bbr`, 2 for the others.
    pub congestion_control: String,
}

impl Default for TcpSettings {
    fn default() -> Self {
        TcpSettings {
            isn: Vec::new(),
            ephemeral_ports: Vec::new(),
            msl_ms: 30_000,
            sndbuf: 16_384,
            rcvbuf: 131_072,
            mss: None,
            window_scaling: true,
            wscale: 7,
            window_clamp: None,
            timestamps: false,
            sack: false,
            delayed_ack: true,
            delack_ms: 40,
            max_quickacks: 16,
            rto_initial_ms: 1_000,
            rto_min_ms: 200,
            rto_max_ms: 120_000,
            syn_retries: 6,
            syn_linear_timeouts: 4,
            synack_retries: 5,
            retries2: 15,
            fin_timeout_ms: 60_000,
            keepalive_time_ms: 7_200_000,
            keepalive_intvl_ms: 75_000,
            keepalive_probes: 9,
            initial_cwnd: 10,
            somaxconn: 4096,
            abort_on_overflow: false,
            wmem_max: 4 << 20,
            congestion_control: "bbr".to_string(),
        }
    }
}

/// A link between two hosts: one-way latency and MTU, the same both ways.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub a: String,
    pub b: String,
    #[serde(default = "default_latency_us")]
    pub latency_us: u64,
    #[serde(default = "default_mtu")]
    pub mtu: u32,
}

pub fn default_latency_us() -> u64 {
    1_000
}

pub fn default_mtu() -> u32 {
    1_500
}

/// How far a run may go before it is stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The run fails with [`crate::RunError::EventLimit`] past this many trace events.
    pub max_events: usize,
    /// The run ends (normally) when simulated time would pass this.
    pub max_time_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 2_000_000, max_time_ms: 3 * 3600 * 1000 }
    }
}

/// A process: a name, the host it runs on and its program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    pub name: String,
    pub host: String,
    pub steps: Vec<Step>,
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
    /// The result this step must have; a different result is reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        step_from_map(map).map_err(serde::de::Error::custom)
    }
}

/// Reads a step from its JSON object (as a map, for serde's derive of [`Scenario`]).
fn step_from_map(map: serde_json::Map<String, serde_json::Value>) -> Result<Step, String> {
    read::step(&json::from_value(serde_json::Value::Object(map)))
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

/// A socket option's value as a scenario writes it: a flag, a number or a linger pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OptValue {
    Flag(bool),
    Number(u32),
    Linger(Linger),
}

/// A socket option with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockOpt {
    ReuseAddr(bool),
    /// `{ "onoff": true, "linger": 0 }`: seconds.
    Linger(Linger),
    RcvBuf(u32),
    SndBuf(u32),
    NoDelay(bool),
    KeepAlive(bool),
    /// SO_REUSEPORT: several sockets of one user may bind, and listen on, the same port.
    ReusePort(bool),
    /// TCP_QUICKACK: `false` enters delayed-ACK ("pingpong") mode, `true` leaves it.
    QuickAck(bool),
}

impl SockOpt {
    /// Pairs a name with a value, or says why they do not fit.
    pub fn new(name: OptName, value: OptValue) -> Result<SockOpt, String> {
        let flag = |value: OptValue| match value {
            OptValue::Flag(flag) => Ok(flag),
            OptValue::Number(number) => Ok(number != 0),
            OptValue::Linger(_) => Err(format!("{} takes true/false or 0/1", name.name())),
        };
        let number = |value: OptValue| match value {
            OptValue::Number(number) => Ok(number),
            _ => Err(format!("{} takes a number of bytes", name.name())),
        };
        Ok(match name {
            OptName::ReuseAddr => SockOpt::ReuseAddr(flag(value)?),
            OptName::NoDelay => SockOpt::NoDelay(flag(value)?),
            OptName::KeepAlive => SockOpt::KeepAlive(flag(value)?),
            OptName::ReusePort => SockOpt::ReusePort(flag(value)?),
            OptName::QuickAck => SockOpt::QuickAck(flag(value)?),
            OptName::RcvBuf => SockOpt::RcvBuf(number(value)?),
            OptName::SndBuf => SockOpt::SndBuf(number(value)?),
            OptName::Linger => match value {
                OptValue::Linger(linger) => SockOpt::Linger(linger),
                _ => return Err("SO_LINGER takes {\"onoff\": true, \"linger\": seconds}".to_string()),
            },
            OptName::Error => return Err("SO_ERROR can only be read".to_string()),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linger {
    pub onoff: bool,
    pub linger: u32,
}

/// A socket option's name, for getsockopt().
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptName {
    #[serde(rename = "SO_REUSEADDR")]
    ReuseAddr,
    #[serde(rename = "SO_LINGER")]
    Linger,
    #[serde(rename = "SO_RCVBUF")]
    RcvBuf,
    #[serde(rename = "SO_SNDBUF")]
    SndBuf,
    #[serde(rename = "TCP_NODELAY")]
    NoDelay,
    #[serde(rename = "SO_KEEPALIVE")]
    KeepAlive,
    #[serde(rename = "SO_REUSEPORT")]
    ReusePort,
    #[serde(rename = "TCP_QUICKACK")]
    QuickAck,
    #[serde(rename = "SO_ERROR")]
    Error,
}

impl OptName {
    pub const fn name(self) -> &'static str {
        match self {
            OptName::ReuseAddr => "SO_REUSEADDR",
            OptName::Linger => "SO_LINGER",
            OptName::RcvBuf => "SO_RCVBUF",
            OptName::SndBuf => "SO_SNDBUF",
            OptName::NoDelay => "TCP_NODELAY",
            OptName::KeepAlive => "SO_KEEPALIVE",
            OptName::ReusePort => "SO_REUSEPORT",
            OptName::QuickAck => "TCP_QUICKACK",
            OptName::Error => "SO_ERROR",
        }
    }
}

impl SockOpt {
    pub fn name(self) -> OptName {
        match self {
            SockOpt::ReuseAddr(_) => OptName::ReuseAddr,
            SockOpt::Linger(_) => OptName::Linger,
            SockOpt::RcvBuf(_) => OptName::RcvBuf,
            SockOpt::SndBuf(_) => OptName::SndBuf,
            SockOpt::NoDelay(_) => OptName::NoDelay,
            SockOpt::KeepAlive(_) => OptName::KeepAlive,
            SockOpt::ReusePort(_) => OptName::ReusePort,
            SockOpt::QuickAck(_) => OptName::QuickAck,
        }
    }
}

/// The calls a step can make. Descriptors are named by the step that created them (`as`).
///
/// In JSON a call is an object tagged by `"call"`. Its `Deserialize` is written by hand (see
/// [`call_from_map`]) rather than derived: serde's derive for an internally tagged enum buffers
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
    /// fcntl(F_SETFL, O_NONBLOCK) on or off.
    Fcntl {
        fd: String,
        nonblock: bool,
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

impl<'de> Deserialize<'de> for Call {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let node = json::from_value(serde_json::Value::Object(map));
        call_from_map(read::as_map(&node)).map_err(serde::de::Error::custom)
    }
}

/// The value of `"call"`: the call's name, or one of its aliases (`write`, `read`).
#[derive(Clone, Copy)]
enum CallName {
    Socket,
    Bind,
    Listen,
    Connect,
    Accept,
    Send,
    SendAll,
    Sendto,
    Recv,
    Recvfrom,
    RecvToEof,
    Shutdown,
    Close,
    Setsockopt,
    Getsockopt,
    Fcntl,
    Getsockname,
    Getpeername,
    Dup,
    Fork,
    Sleep,
}

/// The spellings `"call"` accepts, in the order an unknown name's error lists them (serde's
/// order: each call's name followed by its alias), and the call each one names.
const CALL_NAME_TEXTS: &[&str] = &[
    "socket",
    "bind",
    "listen",
    "connect",
    "accept",
    "send",
    "write",
    "send_all",
    "sendto",
    "read",
    "recv",
    "recvfrom",
    "recv_to_eof",
    "shutdown",
    "close",
    "setsockopt",
    "getsockopt",
    "fcntl",
    "getsockname",
    "getpeername",
    "dup",
    "fork",
    "sleep",
];
const CALL_NAMES: [CallName; 23] = [
    CallName::Socket,
    CallName::Bind,
    CallName::Listen,
    CallName::Connect,
    CallName::Accept,
    CallName::Send,
    CallName::Send,
    CallName::SendAll,
    CallName::Sendto,
    CallName::Recv,
    CallName::Recv,
    CallName::Recvfrom,
    CallName::RecvToEof,
    CallName::Shutdown,
    CallName::Close,
    CallName::Setsockopt,
    CallName::Getsockopt,
    CallName::Fcntl,
    CallName::Getsockname,
    CallName::Getpeername,
    CallName::Dup,
    CallName::Fork,
    CallName::Sleep,
];

/// The type of one argument of a call, which says how its JSON value is read.
#[derive(Clone, Copy)]
enum ArgKind {
    Text,
    OptionalText,
    Addr,
    Count,
    OptionalCount,
    Flag,
    Millis,
    SockType,
    How,
    OptName,
    OptValue,
    Child,
}

/// One argument of a call, read from its JSON value.
enum Arg {
    Text(String),
    OptionalText(Option<String>),
    Addr(SockAddr),
    Count(u32),
    OptionalCount(Option<u32>),
    Flag(bool),
    Millis(f64),
    SockType(SockType),
    How(How),
    OptName(OptName),
    OptValue(OptValue),
    Child(Box<ChildSpec>),
}

fn read_arg(kind: ArgKind, value: &json::Node) -> Result<Arg, read::Fail> {
    use read::value as v;
    Ok(match kind {
        ArgKind::Text => Arg::Text(v::string(value)?),
        ArgKind::OptionalText => Arg::OptionalText(v::option(value, v::string)?),
        ArgKind::Addr => Arg::Addr(v::string(value)?.parse().map_err(read::Fail::custom)?),
        ArgKind::Count => Arg::Count(v::u32(value)?),
        ArgKind::OptionalCount => Arg::OptionalCount(v::option(value, v::u32)?),
        ArgKind::Flag => Arg::Flag(v::flag(value)?),
        ArgKind::Millis => Arg::Millis(v::float(value)?),
        ArgKind::SockType => Arg::SockType(match v::variant(value, &["stream", "dgram"])? {
            0 => SockType::Stream,
            _ => SockType::Dgram,
        }),
        ArgKind::How => Arg::How(match v::variant(value, &["SHUT_RD", "SHUT_WR", "SHUT_RDWR"])? {
            0 => How::Read,
            1 => How::Write,
            _ => How::Both,
        }),
        ArgKind::OptName => Arg::OptName(OPT_NAMES[v::variant(value, &OPT_NAME_TEXTS)?]),
        ArgKind::OptValue => Arg::OptValue(v::opt_value(value)?),
        ArgKind::Child => Arg::Child(Box::new(v::child(value)?)),
    })
}

/// Every socket option name, in declaration order, and (below) its spelling.
const OPT_NAMES: [OptName; 9] = [
    OptName::ReuseAddr,
    OptName::Linger,
    OptName::RcvBuf,
    OptName::SndBuf,
    OptName::NoDelay,
    OptName::KeepAlive,
    OptName::ReusePort,
    OptName::QuickAck,
    OptName::Error,
];
const OPT_NAME_TEXTS: [&str; 9] = {
    let mut texts = [""; 9];
    let mut index = 0;
    while index < texts.len() {
        texts[index] = OPT_NAMES[index].name();
        index += 1;
    }
    texts
};

/// Writes one [`Args`] accessor per required argument type: it takes the argument at an index,
/// which [`Args::read`] has read as that type; an argument the object does not have is serde's
/// "missing field" error.
macro_rules! required_args {
    ($($name:ident: $variant:ident -> $type:ty;)*) => {$(
        fn $name(&mut self, index: usize) -> Result<$type, read::Fail> {
            match self.values[index].take() {
                Some(Arg::$variant(value)) => Ok(value),
                _ => Err(read::Fail::missing_field(self.names[index])),
            }
        }
    )*};
}

/// The arguments of one call, read in the order serde's derive reads them: the object's keys
/// in order (a key the call does not take is an error at once), then a missing argument is an
/// error, in the order the call declares them.
struct Args {
    names: &'static [&'static str],
    values: Vec<Option<Arg>>,
}

impl Args {
    fn read(
        map: &[(&str, &json::Node)],
        fields: &'static [&'static str],
        kinds: &[ArgKind],
    ) -> Result<Args, read::Fail> {
        let mut values: Vec<Option<Arg>> = kinds.iter().map(|_| None).collect();
        for (key, value) in map {
            let Some(index) = fields.iter().position(|name| name == key) else {
                return Err(read::Fail::unknown_field(key, fields));
            };
            values[index] = Some(read_arg(kinds[index], value)?);
        }
        Ok(Args { names: fields, values })
    }

    required_args! {
        text: Text -> String;
        addr: Addr -> SockAddr;
        count: Count -> u32;
        flag: Flag -> bool;
        millis: Millis -> f64;
        how: How -> How;
        opt_name: OptName -> OptName;
        opt_value: OptValue -> OptValue;
        child: Child -> Box<ChildSpec>;
    }

    fn optional_text(&mut self, index: usize) -> Option<String> {
        match self.values[index].take() {
            Some(Arg::OptionalText(text)) => text,
            _ => None,
        }
    }

    fn optional_count(&mut self, index: usize) -> Option<u32> {
        match self.values[index].take() {
            Some(Arg::OptionalCount(count)) => count,
            _ => None,
        }
    }

    fn sock_type(&mut self, index: usize) -> SockType {
        match self.values[index].take() {
            Some(Arg::SockType(sock_type)) => sock_type,
            _ => SockType::default(),
        }
    }
}

/// Reads one call from its JSON object (with the step's own fields already taken out).
fn call_from_map(mut map: Vec<(&str, &json::Node)>) -> Result<Call, read::Fail> {
    use ArgKind as K;
    let Some(at) = map.iter().position(|(key, _)| *key == "call") else {
        return Err(read::Fail::missing_field("call"));
    };
    let name = CALL_NAMES[read::value::variant_identifier(map.remove(at).1, CALL_NAME_TEXTS)?];
    let map = &map[..];
    let fd_only: &[ArgKind] = &[K::Text];
    let fd_and_name: &[ArgKind] = &[K::Text, K::Text];
    let fd_and_len: &[ArgKind] = &[K::Text, K::Count];
    let payload: &[ArgKind] = &[K::Text, K::OptionalText, K::OptionalCount];
    Ok(match name {
        CallName::Socket => {
            let mut args = Args::read(map, &["as", "type"], &[K::Text, K::SockType])?;
            Call::Socket { name: args.text(0)?, sock_type: args.sock_type(1) }
        }
        CallName::Bind => {
            let mut args = Args::read(map, &["fd", "addr"], &[K::Text, K::Addr])?;
            Call::Bind { fd: args.text(0)?, addr: args.addr(1)? }
        }
        CallName::Listen => {
            let mut args = Args::read(map, &["fd", "backlog"], fd_and_len)?;
            Call::Listen { fd: args.text(0)?, backlog: args.count(1)? }
        }
        CallName::Connect => {
            let mut args = Args::read(map, &["fd", "addr"], &[K::Text, K::Addr])?;
            Call::Connect { fd: args.text(0)?, addr: args.addr(1)? }
        }
        CallName::Accept => {
            let mut args = Args::read(map, &["fd", "as"], fd_and_name)?;
            Call::Accept { fd: args.text(0)?, name: args.text(1)? }
        }
        CallName::Send => {
            let mut args = Args::read(map, &["fd", "data", "len"], payload)?;
            Call::Send { fd: args.text(0)?, data: args.optional_text(1), len: args.optional_count(2) }
        }
        CallName::SendAll => {
            let mut args = Args::read(map, &["fd", "data", "len"], payload)?;
            Call::SendAll { fd: args.text(0)?, data: args.optional_text(1), len: args.optional_count(2) }
        }
        CallName::Sendto => {
            let kinds = [K::Text, K::Addr, K::OptionalText, K::OptionalCount];
            let mut args = Args::read(map, &["fd", "addr", "data", "len"], &kinds)?;
            Call::Sendto {
                fd: args.text(0)?,
                addr: args.addr(1)?,
                data: args.optional_text(2),
                len: args.optional_count(3),
            }
        }
        CallName::Recv => {
            let mut args = Args::read(map, &["fd", "len"], fd_and_len)?;
            Call::Recv { fd: args.text(0)?, len: args.count(1)? }
        }
        CallName::Recvfrom => {
            let mut args = Args::read(map, &["fd", "len"], fd_and_len)?;
            Call::Recvfrom { fd: args.text(0)?, len: args.count(1)? }
        }
        CallName::RecvToEof => {
            let mut args = Args::read(map, &["fd", "len"], fd_and_len)?;
            Call::RecvToEof { fd: args.text(0)?, len: args.count(1)? }
        }
        CallName::Shutdown => {
            let mut args = Args::read(map, &["fd", "how"], &[K::Text, K::How])?;
            Call::Shutdown { fd: args.text(0)?, how: args.how(1)? }
        }
        CallName::Close => Call::Close { fd: Args::read(map, &["fd"], fd_only)?.text(0)? },
        CallName::Setsockopt => {
            let mut args = Args::read(map, &["fd", "opt", "value"], &[K::Text, K::OptName, K::OptValue])?;
            Call::Setsockopt { fd: args.text(0)?, opt: args.opt_name(1)?, value: args.opt_value(2)? }
        }
        CallName::Getsockopt => {
            let mut args = Args::read(map, &["fd", "opt"], &[K::Text, K::OptName])?;
            Call::Getsockopt { fd: args.text(0)?, opt: args.opt_name(1)? }
        }
        CallName::Fcntl => {
            let mut args = Args::read(map, &["fd", "nonblock"], &[K::Text, K::Flag])?;
            Call::Fcntl { fd: args.text(0)?, nonblock: args.flag(1)? }
        }
        CallName::Getsockname => Call::Getsockname { fd: Args::read(map, &["fd"], fd_only)?.text(0)? },
        CallName::Getpeername => Call::Getpeername { fd: Args::read(map, &["fd"], fd_only)?.text(0)? },
        CallName::Dup => {
            let mut args = Args::read(map, &["fd", "as"], fd_and_name)?;
            Call::Dup { fd: args.text(0)?, name: args.text(1)? }
        }
        CallName::Fork => Call::Fork { child: Args::read(map, &["child"], &[K::Child])?.child(0)? },
        CallName::Sleep => Call::Sleep { ms: Args::read(map, &["ms"], &[K::Millis])?.millis(0)? },
    })
}

/// The program of a forked child.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildSpec {
    pub name: String,
    pub steps: Vec<Step>,
}

impl Call {
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

/// Why a scenario was rejected: where (a JSON path such as `processes[1].steps[3].fd`) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "at {}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Largest scenario text accepted, so a pasted or linked scenario cannot exhaust memory.
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;
/// Most hosts, processes and steps in all a scenario may declare.
pub const MAX_HOSTS: usize = 256;
pub const MAX_STEPS: usize = 100_000;
/// Largest single send() a scenario may ask for (bigger transfers take several steps).
pub const MAX_SEND_BYTES: u32 = 64 << 20;

fn error(path: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError { path: path.into(), reason: reason.into() }
}

/// Parses and checks a scenario. Never panics, whatever the text.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    if text.len() > MAX_SCENARIO_BYTES {
        return Err(error(
            "",
            format!("the scenario is {} bytes; at most {MAX_SCENARIO_BYTES} are accepted", text.len()),
        ));
    }
    let scenario = read::scenario(text)?;
    validate(&scenario)?;
    Ok(scenario)
}

/// Checks what the types alone cannot: names refer to things that exist, values are in range.
pub fn validate(scenario: &Scenario) -> Result<(), ScenarioError> {
    if scenario.hosts.is_empty() {
        return Err(error("hosts", "a scenario needs at least one host"));
    }
    if scenario.hosts.len() > MAX_HOSTS {
        return Err(error("hosts", format!("at most {MAX_HOSTS} hosts are supported")));
    }
    let mut names = BTreeSet::new();
    let mut addrs = BTreeSet::new();
    for (index, host) in scenario.hosts.iter().enumerate() {
        let path = format!("hosts[{index}]");
        if host.name.is_empty() {
            return Err(error(format!("{path}.name"), "a host needs a name"));
        }
        if !names.insert(host.name.as_str()) {
            return Err(error(format!("{path}.name"), format!("host `{}` is declared twice", host.name)));
        }
        if host.addr.is_unspecified() {
            return Err(error(format!("{path}.addr"), "0.0.0.0 is the wildcard, not a host address"));
        }
        if !addrs.insert(host.addr) {
            return Err(error(format!("{path}.addr"), format!("address {} is used by two hosts", host.addr)));
        }
        check_tcp(&host.tcp, &format!("{path}.tcp"))?;
    }
    for (index, link) in scenario.links.iter().enumerate() {
        let path = format!("links[{index}]");
        for (field, name) in [("a", &link.a), ("b", &link.b)] {
            if !names.contains(name.as_str()) {
                return Err(error(format!("{path}.{field}"), format!("no host is named `{name}`")));
            }
        }
        if link.a == link.b {
            return Err(error(path, "a link joins two different hosts"));
        }
        if !(68..=65_536).contains(&link.mtu) {
            return Err(error(format!("{path}.mtu"), "the MTU must be between 68 and 65536"));
        }
        if link.latency_us > 10_000_000 {
            return Err(error(format!("{path}.latency_us"), "a one-way latency above 10 s is not supported"));
        }
    }
    for (index, fault) in scenario.faults.iter().enumerate() {
        check_fault(fault, &format!("faults[{index}]"), &names)?;
    }
    if scenario.limits.max_events == 0 {
        return Err(error("limits.max_events", "must be at least 1"));
    }
    let mut steps = 0usize;
    let mut process_names = BTreeSet::new();
    for (index, process) in scenario.processes.iter().enumerate() {
        let path = format!("processes[{index}]");
        if !names.contains(process.host.as_str()) {
            return Err(error(format!("{path}.host"), format!("no host is named `{}`", process.host)));
        }
        if !process_names.insert(process.name.as_str()) {
            return Err(error(format!("{path}.name"), format!("process `{}` is declared twice", process.name)));
        }
        check_steps(&process.steps, &path, &mut BTreeSet::new(), &mut steps)?;
    }
    Ok(())
}

fn check_fault(fault: &Fault, path: &str, hosts: &BTreeSet<&str>) -> Result<(), ScenarioError> {
    let host = |name: &str, field: &str| {
        if hosts.contains(name) {
            Ok(())
        } else {
            Err(error(format!("{path}.{field}"), format!("no host is named `{name}`")))
        }
    };
    let rate = |rate: f64| {
        if rate.is_finite() && (0.0..=1.0).contains(&rate) {
            Ok(())
        } else {
            Err(error(format!("{path}.rate"), "a rate is a probability between 0 and 1"))
        }
    };
    let matching = |matching: &SegmentMatch| -> Result<(), ScenarioError> {
        if let Some(name) = &matching.from {
            host(name, "from")?;
        }
        if let Some(name) = &matching.to {
            host(name, "to")?;
        }
        if let Some(flags) = &matching.flags {
            if crate::trace::Flags::parse_letters(flags).is_none() {
                return Err(error(
                    format!("{path}.flags"),
                    format!("`{flags}` is not tcpdump flag letters (S F P R .)"),
                ));
            }
        }
        for (field, time) in [("from_ms", matching.from_ms), ("until_ms", matching.until_ms)] {
            if let Some(time) = time {
                check_time_ms(time, format!("{path}.{field}"))?;
            }
        }
        Ok(())
    };
    match fault {
        Fault::Drop { matching: m, nth, count } => {
            if *nth == 0 || *count == 0 {
                return Err(error(path, "nth and count start at 1"));
            }
            matching(m)
        }
        Fault::Loss { rate: r, matching: m } | Fault::Duplicate { rate: r, matching: m } => {
            rate(*r)?;
            matching(m)
        }
        Fault::Reorder { rate: r, delay_us, matching: m } => {
            rate(*r)?;
            if *delay_us > 10_000_000 {
                return Err(error(format!("{path}.delay_us"), "at most 10 s"));
            }
            matching(m)
        }
        Fault::Delay { extra_us, matching: m } => {
            if *extra_us > 10_000_000 {
                return Err(error(format!("{path}.extra_us"), "at most 10 s"));
            }
            matching(m)
        }
        Fault::LinkDown { a, b, from_ms, until_ms } => {
            host(a, "a")?;
            host(b, "b")?;
            check_time_ms(*from_ms, format!("{path}.from_ms"))?;
            if let Some(until) = until_ms {
                check_time_ms(*until, format!("{path}.until_ms"))?;
            }
            Ok(())
        }
        Fault::Crash { host: name, at_ms } | Fault::Reboot { host: name, at_ms } => {
            host(name, "host")?;
            check_time_ms(*at_ms, format!("{path}.at_ms"))
        }
    }
}

/// The largest `rto_initial_ms`, `rto_min_ms` and `rto_max_ms` a scenario may set: one hour.
const MAX_RTO_MS: u64 = 3_600_000;
/// The largest other millisecond setting of a host's TCP (MSL, delayed ACK, FIN_WAIT2 and
/// keepalive times): the same 1e10 ms that bounds times in steps and faults.
const MAX_TIMER_MS: u64 = 10_000_000_000;

fn check_tcp(tcp: &TcpSettings, path: &str) -> Result<(), ScenarioError> {
    if tcp.wscale > 14 {
        return Err(error(format!("{path}.wscale"), "RFC 7323 allows shifts of 0 to 14"));
    }
    if let Some(mss) = tcp.mss {
        if mss < 88 {
            return Err(error(format!("{path}.mss"), "Linux's smallest MSS is 88 (TCP_MIN_MSS)"));
        }
    }
    if tcp.sndbuf == 0 || tcp.rcvbuf == 0 {
        return Err(error(path, "buffer sizes must be at least 1 byte"));
    }
    if tcp.rcvbuf > (1 << 30) || tcp.sndbuf > (1 << 30) {
        return Err(error(path, "buffer sizes above 1 GiB are not supported"));
    }
    // The engine counts time in microseconds: bounding every millisecond setting keeps the
    // conversions and the sums built on them (2*srtt + rto_min, doubled RTOs) far from u64's
    // limit. An hour is longer than any RTO Linux allows (TCP_RTO_MAX is 120 s).
    for (field, value) in
        [("rto_initial_ms", tcp.rto_initial_ms), ("rto_min_ms", tcp.rto_min_ms), ("rto_max_ms", tcp.rto_max_ms)]
    {
        if value > MAX_RTO_MS {
            return Err(error(format!("{path}.{field}"), format!("at most {MAX_RTO_MS} ms (one hour) is supported")));
        }
    }
    for (field, value) in [
        ("msl_ms", tcp.msl_ms),
        ("delack_ms", tcp.delack_ms),
        ("fin_timeout_ms", tcp.fin_timeout_ms),
        ("keepalive_time_ms", tcp.keepalive_time_ms),
        ("keepalive_intvl_ms", tcp.keepalive_intvl_ms),
    ] {
        if value > MAX_TIMER_MS {
            return Err(error(format!("{path}.{field}"), format!("at most {MAX_TIMER_MS} ms is supported")));
        }
    }
    if tcp.rto_min_ms == 0 || tcp.rto_initial_ms == 0 || tcp.rto_max_ms < tcp.rto_min_ms {
        return Err(error(path, "RTO bounds must be positive and rto_max_ms at least rto_min_ms"));
    }
    if tcp.initial_cwnd == 0 {
        return Err(error(format!("{path}.initial_cwnd"), "must be at least 1"));
    }
    if tcp.syn_retries > 32 || tcp.retries2 > 32 || tcp.synack_retries > 32 || tcp.keepalive_probes > 1000 {
        return Err(error(path, "retry counts above 32 are not supported"));
    }
    Ok(())
}

fn check_time_ms(value: f64, path: String) -> Result<(), ScenarioError> {
    if !value.is_finite() || !(0.0..=1.0e10).contains(&value) {
        return Err(error(path, "a time must be a number of milliseconds between 0 and 1e10"));
    }
    Ok(())
}

fn check_steps(
    steps: &[Step],
    path: &str,
    defined: &mut BTreeSet<String>,
    count: &mut usize,
) -> Result<(), ScenarioError> {
    for (index, step) in steps.iter().enumerate() {
        *count += 1;
        if *count > MAX_STEPS {
            return Err(error(path, format!("at most {MAX_STEPS} steps are supported in all")));
        }
        let path = format!("{path}.steps[{index}]");
        if let Some(at) = step.at_ms {
            check_time_ms(at, format!("{path}.at_ms"))?;
        }
        if let Some(fd) = step.call.fd() {
            if !defined.contains(fd) {
                return Err(error(
                    format!("{path}.fd"),
                    format!("descriptor `{fd}` is not created by an earlier step (socket, accept or dup with \"as\")"),
                ));
            }
        }
        match &step.call {
            Call::Send { data, len, .. } | Call::SendAll { data, len, .. } | Call::Sendto { data, len, .. } => {
                match (data, len) {
                    (Some(_), Some(_)) => return Err(error(path, "give either `data` or `len`, not both")),
                    (None, None) => return Err(error(path, "a send needs `data` (text) or `len` (a byte count)")),
                    (None, Some(len)) if *len > MAX_SEND_BYTES => {
                        return Err(error(format!("{path}.len"), format!("at most {MAX_SEND_BYTES} bytes per step")))
                    }
                    (Some(data), None) if data.len() > MAX_SEND_BYTES as usize => {
                        return Err(error(format!("{path}.data"), "too long"))
                    }
                    _ => {}
                }
            }
            Call::Recv { len, .. } | Call::RecvToEof { len, .. } | Call::Recvfrom { len, .. }
                if *len == 0 || *len > MAX_SEND_BYTES =>
            {
                return Err(error(format!("{path}.len"), format!("must be between 1 and {MAX_SEND_BYTES}")));
            }
            Call::Sleep { ms } => check_time_ms(*ms, format!("{path}.ms"))?,
            Call::Setsockopt { opt, value, .. } => {
                SockOpt::new(*opt, *value).map_err(|reason| error(format!("{path}.value"), reason))?;
            }
            Call::Listen { backlog, .. } if *backlog > 65_535 => {
                return Err(error(format!("{path}.backlog"), "must be at most 65535"));
            }
            Call::Fork { child } => {
                let mut inherited = defined.clone();
                check_steps(&child.steps, &format!("{path}.child"), &mut inherited, count)?;
            }
            _ => {}
        }
        if let Some(name) = step.call.defines() {
            if name.is_empty() {
                return Err(error(format!("{path}.as"), "a descriptor name must not be empty"));
            }
            defined.insert(name.to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(text: &str, path: &str, reason_part: &str) {
        let err = parse(text).expect_err("scenario should be rejected");
        assert_eq!(err.path, path, "{err}");
        assert!(err.reason.contains(reason_part), "{err}");
    }

    const MINIMAL: &str = r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[
        {"name":"p","host":"a","steps":[{"call":"socket","as":"s"},{"call":"close","fd":"s"}]}]}"#;

    #[test]
    fn minimal_scenario_parses_with_linux_defaults() {
        let scenario = parse(MINIMAL).unwrap();
        assert_eq!(scenario.hosts[0].tcp.msl_ms, 30_000);
        assert_eq!(scenario.hosts[0].tcp.rcvbuf, 131_072);
        assert_eq!(scenario.seed, 1);
    }

    #[test]
    fn errors_name_the_json_path() {
        check_err(r#"{"hosts":[{"name":"a","addr":"10.0.0.300"}],"processes":[]}"#, "hosts[0].addr", "octet");
        check_err(
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[{"name":"p","host":"a","steps":[{"call":"bind","fd":"s","addr":"*:1"}]}]}"#,
            "processes[0].steps[0].fd",
            "not created",
        );
        check_err(
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[{"name":"p","host":"b","steps":[]}]}"#,
            "processes[0].host",
            "no host",
        );
        check_err(
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1","colour":1}],"processes":[]}"#,
            "hosts[0].colour",
            "colour",
        );
        check_err(
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[{"name":"p","host":"a","steps":[{"call":"teleport"}]}]}"#,
            "processes[0].steps[0]",
            "teleport",
        );
    }

    #[test]
    fn setsockopt_and_expectations_parse() {
        let text = r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[{"name":"p","host":"a","steps":[
            {"call":"socket","as":"s"},
            {"call":"setsockopt","fd":"s","opt":"SO_LINGER","value":{"onoff":true,"linger":0}},
            {"call":"setsockopt","fd":"s","opt":"SO_REUSEADDR","value":true},
            {"call":"connect","fd":"s","addr":"10.0.0.1:1","expect":"ECONNREFUSED"},
            {"call":"write","fd":"s","data":"hi","expect":2}]}]}"#;
        let scenario = parse(text).unwrap();
        let steps = &scenario.processes[0].steps;
        assert_eq!(
            steps[1].call,
            Call::Setsockopt {
                fd: "s".into(),
                opt: OptName::Linger,
                value: OptValue::Linger(Linger { onoff: true, linger: 0 })
            }
        );
        assert_eq!(steps[3].expect, Some(Expect::Errno(Errno::ECONNREFUSED)));
        assert_eq!(steps[4].expect, Some(Expect::Value(2)));
    }

    #[test]
    fn garbage_never_panics() {
        for text in ["", "{", "[]", "null", "{\"hosts\":5}", "\u{0}", "{\"hosts\":[],\"processes\":[]}"] {
            assert!(parse(text).is_err());
        }
    }
}

#[cfg(test)]
mod fault_tests {
    use super::*;

    fn with_faults(faults: &str) -> Result<Scenario, ScenarioError> {
        parse(&format!(
            r#"{{"hosts":[{{"name":"a","addr":"10.0.0.1"}},{{"name":"b","addr":"10.0.0.2"}}],"processes":[],"faults":{faults}}}"#
        ))
    }

    #[test]
    fn faults_parse_as_values() {
        let scenario = with_faults(
            r#"[{"fault":"drop","match":{"from":"b","flags":"F."},"nth":2},
                {"fault":"loss","rate":0.3},
                {"fault":"crash","host":"b","at_ms":1500}]"#,
        )
        .unwrap();
        assert_eq!(scenario.faults.len(), 3);
        match &scenario.faults[0] {
            Fault::Drop { matching, nth, count } => {
                assert_eq!(matching.flags.as_deref(), Some("F."));
                assert_eq!((*nth, *count), (2, 1));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Millisecond settings are bounded so that their microsecond forms (and 2*srtt + rto_min,
    /// doubled RTOs) cannot overflow; before the bounds, a run of such a scenario panicked in
    /// a debug build.
    #[test]
    fn huge_tcp_times_are_rejected_with_their_field() {
        let with_tcp = |tcp: &str| {
            parse(&format!(
                r#"{{"hosts":[{{"name":"a","addr":"10.0.0.1","tcp":{tcp}}},{{"name":"b","addr":"10.0.0.2"}}],"processes":[]}}"#
            ))
        };
        for (tcp, field) in [
            (r#"{"rto_initial_ms":3600001}"#, "rto_initial_ms"),
            (r#"{"rto_min_ms":3600001,"rto_max_ms":3600000}"#, "rto_min_ms"),
            (r#"{"rto_max_ms":3600001}"#, "rto_max_ms"),
        ] {
            let err = with_tcp(tcp).unwrap_err();
            assert_eq!(err.path, format!("hosts[0].tcp.{field}"), "{err}");
            assert!(err.reason.contains("3600000"), "{err}");
        }
        let err = with_tcp(r#"{"rto_min_ms":18446744073709551,"rto_max_ms":18446744073709551}"#).unwrap_err();
        assert!(err.path.ends_with(".rto_min_ms"), "{err}");
        let err = with_tcp(r#"{"keepalive_time_ms":18446744073709551615}"#).unwrap_err();
        assert!(err.path.ends_with(".keepalive_time_ms"), "{err}");
        assert!(with_tcp(r#"{"rto_min_ms":3600000,"rto_initial_ms":3600000,"rto_max_ms":3600000}"#).is_ok());
    }

    #[test]
    fn bad_faults_are_rejected_with_their_path() {
        let err = with_faults(r#"[{"fault":"loss","rate":1.5}]"#).unwrap_err();
        assert_eq!(err.path, "faults[0].rate");
        let err = with_faults(r#"[{"fault":"crash","host":"c","at_ms":1}]"#).unwrap_err();
        assert_eq!(err.path, "faults[0].host");
        let err = with_faults(r#"[{"fault":"drop","match":{"flags":"XYZ"}}]"#).unwrap_err();
        assert_eq!(err.path, "faults[0].flags");
        let err = with_faults(r#"[{"fault":"drop","match":{"colour":"red"}}]"#).unwrap_err();
        assert!(err.reason.contains("colour"), "{err}");
    }
}
