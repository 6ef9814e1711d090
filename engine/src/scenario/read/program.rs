//! Reading a step and its call. serde read a step's object into a `serde_json::Value` map
//! first, so these readers follow the rules and messages serde applied to that map (see
//! `value.rs`): no positions, keys in sorted order. The same readers give `Step` and `Call`
//! their `Deserialize`, for serde's derive of the rest of the scenario.

use serde::Deserialize;

use super::fail::Fail;
use super::value::{self, as_map};
use crate::addr::SockAddr;
use crate::scenario::json::{self, Kind, Node};
use crate::scenario::{Call, ChildSpec, How, IoctlRequest, OptName, OptValue, SockType, Step};

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        step_from_map(map).map_err(serde::de::Error::custom)
    }
}

/// Reads a step from its JSON object (as a map, for serde's derive of
/// [`Scenario`](crate::scenario::Scenario)).
fn step_from_map(map: serde_json::Map<String, serde_json::Value>) -> Result<Step, String> {
    step(&json::from_value(serde_json::Value::Object(map)))
}

impl<'de> Deserialize<'de> for Call {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let node = json::from_value(serde_json::Value::Object(map));
        call_from_map(as_map(&node)).map_err(serde::de::Error::custom)
    }
}

/// Reads a step from its object (already known to be one). serde cannot combine `flatten`
/// with `deny_unknown_fields`, so the step's own fields are taken out by hand and the rest must
/// be exactly one call. The error is serde's message, without a position.
pub(super) fn step(node: &Node) -> Result<Step, String> {
    let mut map = as_map(node);
    let mut take = |name: &str| {
        let at = map.iter().position(|(key, _)| *key == name)?;
        Some(map.remove(at).1)
    };
    let at_ms = take("at_ms");
    let note = take("note");
    let note_on_return = take("note_on_return");
    let expect = take("expect");
    let at_ms = match at_ms {
        None => None,
        Some(node) => Some(value::float(node).map_err(|err| format!("at_ms: {err}"))?),
    };
    let note = match note {
        None => None,
        Some(node) => Some(value::string(node).map_err(|err| format!("note: {err}"))?),
    };
    let note_on_return = match note_on_return {
        None => None,
        Some(node) => Some(value::string(node).map_err(|err| format!("note_on_return: {err}"))?),
    };
    let expect = match expect {
        None => None,
        Some(node) => Some(
            value::expect(node)
                .map_err(|err| format!("expect: {err} (give a number or an errno name such as \"ECONNREFUSED\")"))?,
        ),
    };
    let call = call_from_map(map).map_err(|err| err.to_string())?;
    Ok(Step { call, at_ms, note, note_on_return, expect })
}

/// A forked child's program, as serde reads a struct from a value: a map (in key order)
/// or a sequence of its fields.
fn child(node: &Node) -> Result<ChildSpec, Fail> {
    const FIELDS: &[&str] = &["name", "steps"];
    const EXPECTED: &str = "struct ChildSpec with 2 elements";
    let steps = |node: &Node| -> Result<Vec<Step>, Fail> {
        let Kind::Array(elements, _) = &node.kind else { return Err(value::invalid_type(node, "a sequence")) };
        elements
            .iter()
            .map(|element| match element.kind {
                Kind::Object(..) => step(element).map_err(Fail::custom),
                _ => Err(value::invalid_type(element, "a map")),
            })
            .collect()
    };
    match &node.kind {
        Kind::Array(elements, _) => {
            let name = value::string(elements.first().ok_or_else(|| Fail::invalid_length(0, EXPECTED))?)?;
            let steps = steps(elements.get(1).ok_or_else(|| Fail::invalid_length(1, EXPECTED))?)?;
            if elements.len() > 2 {
                return Err(Fail::invalid_length(elements.len(), "fewer elements in array"));
            }
            Ok(ChildSpec { name, steps })
        }
        Kind::Object(..) => {
            let (mut name, mut read) = (None, None);
            for (key, member) in as_map(node) {
                match key {
                    "name" => name = Some(value::string(member)?),
                    "steps" => read = Some(steps(member)?),
                    _ => return Err(Fail::unknown_field(key, FIELDS)),
                }
            }
            let name = name.ok_or_else(|| Fail::missing_field("name"))?;
            let steps = read.ok_or_else(|| Fail::missing_field("steps"))?;
            Ok(ChildSpec { name, steps })
        }
        _ => Err(value::invalid_type(node, "struct ChildSpec")),
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
    Ioctl,
    Getsockname,
    Getpeername,
    Dup,
    Fork,
    Sleep,
}

/// The spellings `"call"` accepts, in the order an unknown name's error lists them (serde's
/// order: each call's name followed by its alias), with the call each one names.
const CALL_SPELLINGS: [(&str, CallName); 24] = [
    ("socket", CallName::Socket),
    ("bind", CallName::Bind),
    ("listen", CallName::Listen),
    ("connect", CallName::Connect),
    ("accept", CallName::Accept),
    ("send", CallName::Send),
    ("write", CallName::Send),
    ("send_all", CallName::SendAll),
    ("sendto", CallName::Sendto),
    ("read", CallName::Recv),
    ("recv", CallName::Recv),
    ("recvfrom", CallName::Recvfrom),
    ("recv_to_eof", CallName::RecvToEof),
    ("shutdown", CallName::Shutdown),
    ("close", CallName::Close),
    ("setsockopt", CallName::Setsockopt),
    ("getsockopt", CallName::Getsockopt),
    ("fcntl", CallName::Fcntl),
    ("ioctl", CallName::Ioctl),
    ("getsockname", CallName::Getsockname),
    ("getpeername", CallName::Getpeername),
    ("dup", CallName::Dup),
    ("fork", CallName::Fork),
    ("sleep", CallName::Sleep),
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
    OptionalFlag,
    Millis,
    SockType,
    How,
    OptName,
    OptValue,
    Request,
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
    OptionalFlag(Option<bool>),
    Millis(f64),
    SockType(SockType),
    How(How),
    OptName(OptName),
    OptValue(OptValue),
    Request(IoctlRequest),
    Child(Box<ChildSpec>),
}

fn read_arg(kind: ArgKind, value: &json::Node) -> Result<Arg, Fail> {
    use super::value as v;
    Ok(match kind {
        ArgKind::Text => Arg::Text(v::string(value)?),
        ArgKind::OptionalText => Arg::OptionalText(v::option(value, v::string)?),
        ArgKind::Addr => Arg::Addr(v::string(value)?.parse().map_err(Fail::custom)?),
        ArgKind::Count => Arg::Count(v::u32(value)?),
        ArgKind::OptionalCount => Arg::OptionalCount(v::option(value, v::u32)?),
        ArgKind::Flag => Arg::Flag(v::flag(value)?),
        ArgKind::OptionalFlag => Arg::OptionalFlag(v::option(value, v::flag)?),
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
        ArgKind::Request => Arg::Request(REQUESTS[v::variant(value, &REQUEST_TEXTS)?]),
        ArgKind::Child => Arg::Child(Box::new(child(value)?)),
    })
}

/// Every ioctl() request, in declaration order, and its spelling.
const REQUESTS: [IoctlRequest; 2] = [IoctlRequest::InQ, IoctlRequest::OutQ];
const REQUEST_TEXTS: [&str; 2] = ["SIOCINQ", "SIOCOUTQ"];

/// Every socket option name, in declaration order, and (below) its spelling.
const OPT_NAMES: [OptName; 13] = [
    OptName::ReuseAddr,
    OptName::Linger,
    OptName::RcvBuf,
    OptName::SndBuf,
    OptName::NoDelay,
    OptName::KeepAlive,
    OptName::ReusePort,
    OptName::QuickAck,
    OptName::Error,
    OptName::MaxSeg,
    OptName::UserTimeout,
    OptName::Cork,
    OptName::Inq,
];
const OPT_NAME_TEXTS: [&str; 13] = {
    let mut texts = [""; 13];
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
        fn $name(&mut self, index: usize) -> Result<$type, Fail> {
            match self.values[index].take() {
                Some(Arg::$variant(value)) => Ok(value),
                _ => Err(Fail::missing_field(self.names[index])),
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
    fn read(map: &[(&str, &json::Node)], fields: &'static [&'static str], kinds: &[ArgKind]) -> Result<Args, Fail> {
        let mut values: Vec<Option<Arg>> = kinds.iter().map(|_| None).collect();
        for (key, value) in map {
            let Some(index) = fields.iter().position(|name| name == key) else {
                return Err(Fail::unknown_field(key, fields));
            };
            values[index] = Some(read_arg(kinds[index], value)?);
        }
        Ok(Args { names: fields, values })
    }

    required_args! {
        text: Text -> String;
        addr: Addr -> SockAddr;
        count: Count -> u32;
        millis: Millis -> f64;
        how: How -> How;
        opt_name: OptName -> OptName;
        opt_value: OptValue -> OptValue;
        request: Request -> IoctlRequest;
        child: Child -> Box<ChildSpec>;
    }

    fn optional_text(&mut self, index: usize) -> Option<String> {
        match self.values[index].take() {
            Some(Arg::OptionalText(text)) => text,
            _ => None,
        }
    }

    fn optional_flag(&mut self, index: usize) -> Option<bool> {
        match self.values[index].take() {
            Some(Arg::OptionalFlag(flag)) => flag,
            _ => None,
        }
    }

    /// A flag that may be left out, as `#[serde(default)]` reads it.
    fn flag_or_false(&mut self, index: usize) -> bool {
        matches!(self.values[index].take(), Some(Arg::Flag(true)))
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
fn call_from_map(mut map: Vec<(&str, &json::Node)>) -> Result<Call, Fail> {
    use ArgKind as K;
    let Some(at) = map.iter().position(|(key, _)| *key == "call") else {
        return Err(Fail::missing_field("call"));
    };
    let name = value::variant_in(map.remove(at).1, &CALL_SPELLINGS)?;
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
            let kinds = [K::Text, K::OptionalText, K::OptionalCount, K::Flag, K::Flag];
            let mut args = Args::read(map, &["fd", "data", "len", "more", "eor"], &kinds)?;
            Call::Send {
                fd: args.text(0)?,
                data: args.optional_text(1),
                len: args.optional_count(2),
                more: args.flag_or_false(3),
                eor: args.flag_or_false(4),
            }
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
            let mut args = Args::read(map, &["fd", "nonblock"], &[K::Text, K::OptionalFlag])?;
            Call::Fcntl { fd: args.text(0)?, nonblock: args.optional_flag(1) }
        }
        CallName::Ioctl => {
            let mut args = Args::read(map, &["fd", "request"], &[K::Text, K::Request])?;
            Call::Ioctl { fd: args.text(0)?, request: args.request(1)? }
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
