//! Reads a [`Scenario`] from the [`json`] tree by hand.
//!
//! This replaces serde's derived `Deserialize` (driven through serde_path_to_error) in the
//! web page, where the derive and its generic machinery were about a fifth of the code. The
//! reader follows what the derive did, step for step: keys in the order they are written, an
//! unknown or repeated key is an error at once, then missing fields in declaration order; the
//! messages are worded as serde's and serde_json's error constructors word them (see [`Fail`]),
//! and the path and "line L column C" are the ones the streaming parse reported. A fault,
//! which serde buffered before reading, reports its field errors at the fault as it did; a
//! step, which serde read into a `serde_json::Value` map first, is read with the rules and
//! messages serde applied to that map (see [`value`]).
//!
//! One thing the derive accepted is not accepted here: an array in place of an object (serde
//! reads a struct from a sequence of its fields in order). The format, the JSON Schema and
//! the documentation only ever had objects.
//!
//! One message is worded differently on purpose: a float in "invalid type: floating point
//! `X`" is shown as written in the scenario, where serde printed the shortest text that reads
//! back as the same f64 (which needs a float formatter in the page). The two agree for a
//! number written plainly, such as `1.5` or `2.0`; they differ for text such as `1e3` (serde
//! printed `1000.0`), `2.50` (`2.5`) or `-0` (`-0.0`).

use std::fmt::{self, Display};

use super::json::{self, Kind, Member, Node, Number, Tail};
use super::*;

/// What a value was found to be, in an "invalid type" or "invalid value" message (serde's
/// `Unexpected`, as serde_json displays it).
#[derive(Clone, Copy)]
pub(super) enum Unexpected<'a> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    /// A float, as written in the scenario.
    Float(&'a str),
    Str(&'a str),
    Seq,
    Map,
}

impl Display for Unexpected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Unexpected::Null => f.write_str("null"),
            Unexpected::Bool(flag) => write!(f, "boolean `{flag}`"),
            Unexpected::Unsigned(value) => write!(f, "integer `{value}`"),
            Unexpected::Signed(value) => write!(f, "integer `{value}`"),
            Unexpected::Float(text) => write!(f, "floating point `{text}`"),
            Unexpected::Str(text) => write!(f, "string {text:?}"),
            Unexpected::Seq => f.write_str("sequence"),
            Unexpected::Map => f.write_str("map"),
        }
    }
}

/// serde's list of the names it expected: `` `a` ``, `` `a` or `b` ``, or
/// `` one of `a`, `b`, `c` ``.
struct OneOf<'a>(&'a [&'a str]);

impl Display for OneOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "`{one}`"),
            [first, second] => write!(f, "`{first}` or `{second}`"),
            names => {
                f.write_str("one of ")?;
                for (index, name) in names.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{name}`")?;
                }
                Ok(())
            }
        }
    }
}

/// Why a value was rejected, without a position: the message serde's `de::Error` constructors
/// (with serde_json's display of the unexpected value) give, built here so that the page links
/// neither serde_json's error type nor serde's float display.
#[derive(Debug)]
pub(super) struct Fail(String);

impl Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Fail {
    pub fn custom(message: impl Display) -> Fail {
        Fail(message.to_string())
    }

    pub fn invalid_type(unexpected: Unexpected, expected: &str) -> Fail {
        Fail(format!("invalid type: {unexpected}, expected {expected}"))
    }

    pub fn invalid_value(unexpected: Unexpected, expected: &str) -> Fail {
        Fail(format!("invalid value: {unexpected}, expected {expected}"))
    }

    pub fn invalid_length(length: usize, expected: &str) -> Fail {
        Fail(format!("invalid length {length}, expected {expected}"))
    }

    /// Every list of names here has at least one (serde words an empty one differently).
    pub fn unknown_field(key: &str, fields: &[&str]) -> Fail {
        Fail(format!("unknown field `{key}`, expected {}", OneOf(fields)))
    }

    pub fn unknown_variant(name: &str, names: &[&str]) -> Fail {
        Fail(format!("unknown variant `{name}`, expected {}", OneOf(names)))
    }

    pub fn missing_field(name: &str) -> Fail {
        Fail(format!("missing field `{name}`"))
    }

    pub fn duplicate_field(name: &str) -> Fail {
        Fail(format!("duplicate field `{name}`"))
    }
}

/// The path of the whole scenario, as serde_path_to_error writes it.
const ROOT: &str = ".";

/// Where an error is reported. A streamed value reports at its own path and offset; a value
/// serde buffered first (a fault's fields) reports every error at the buffered value.
#[derive(Clone, Copy)]
enum Mode<'a> {
    Stream,
    Buffered { path: &'a str, pos: usize },
}

struct Reader<'t> {
    text: &'t str,
    /// serde_json's message for the first syntax error in the text, if there is one.
    syntax_error: Option<String>,
}

pub(super) fn scenario(text: &str) -> Result<Scenario, ScenarioError> {
    let json::Document { root, syntax_error } = json::parse(text);
    Reader { text, syntax_error }.scenario(&root)
}

impl Reader<'_> {
    fn error(&self, mode: Mode, path: &str, pos: usize, message: impl Display) -> ScenarioError {
        let (path, pos) = match mode {
            Mode::Stream => (path, pos),
            Mode::Buffered { path, pos } => (path, pos),
        };
        let (line, column) = json::line_column(self.text, pos);
        error(path, format!("{message} at line {line} column {column}"))
    }

    /// The first syntax error, reported at the path where serde_path_to_error placed it.
    fn syntax(&self, node: &Node, path: &str) -> ScenarioError {
        let path = json::broken_path(node, path).unwrap_or_else(|| path.to_string());
        // The tree has a broken node (or an unfinished array or object) only where the reader
        // met a syntax error, so the message is always there.
        let reason = self.syntax_error.clone().unwrap_or_else(|| "the scenario is not valid JSON".to_string());
        error(path, reason)
    }

    /// `fail`, raised by one of the [`value`] readers on `node`, placed where serde_json stops
    /// reading that value: past a scalar, on the bracket of an array or object. A node where
    /// the text stops being JSON reports the syntax error instead.
    fn place(&self, mode: Mode, node: &Node, path: &str, fail: Fail) -> ScenarioError {
        if let Kind::Broken = node.kind {
            return self.syntax(node, path);
        }
        let pos = if matches!(node.kind, Kind::Array(..) | Kind::Object(..)) { node.start } else { node.end };
        self.error(mode, path, pos, fail)
    }

    /// serde_json's "invalid type" error for `node`, placed as [`Reader::place`] does.
    fn invalid_type(&self, mode: Mode, node: &Node, path: &str, expected: &str) -> ScenarioError {
        self.place(mode, node, path, value::invalid_type(node, expected))
    }

    fn string(&self, mode: Mode, node: &Node, path: &str) -> Result<String, ScenarioError> {
        value::string(node).map_err(|fail| self.place(mode, node, path, fail))
    }

    fn flag(&self, mode: Mode, node: &Node, path: &str) -> Result<bool, ScenarioError> {
        value::flag(node).map_err(|fail| self.place(mode, node, path, fail))
    }

    fn float(&self, mode: Mode, node: &Node, path: &str) -> Result<f64, ScenarioError> {
        value::float(node).map_err(|fail| self.place(mode, node, path, fail))
    }

    /// An unsigned integer of at most `max`, named `expected` (`u32`, `usize`, ...) in errors.
    fn unsigned(&self, mode: Mode, node: &Node, path: &str, max: u64, expected: &str) -> Result<u64, ScenarioError> {
        value::unsigned(node, max, expected).map_err(|fail| self.place(mode, node, path, fail))
    }

    fn u64(&self, mode: Mode, node: &Node, path: &str) -> Result<u64, ScenarioError> {
        self.unsigned(mode, node, path, u64::MAX, "u64")
    }

    fn u32(&self, mode: Mode, node: &Node, path: &str) -> Result<u32, ScenarioError> {
        Ok(self.unsigned(mode, node, path, u32::MAX.into(), "u32")? as u32)
    }

    fn u16(&self, mode: Mode, node: &Node, path: &str) -> Result<u16, ScenarioError> {
        Ok(self.unsigned(mode, node, path, u16::MAX.into(), "u16")? as u16)
    }

    fn seq<T>(
        &self,
        mode: Mode,
        node: &Node,
        path: &str,
        mut read: impl FnMut(&Node, &str) -> Result<T, ScenarioError>,
    ) -> Result<Vec<T>, ScenarioError> {
        let Kind::Array(elements, tail) = &node.kind else {
            return Err(self.invalid_type(mode, node, path, "a sequence"));
        };
        let mut values = Vec::with_capacity(elements.len().min(4096));
        for (index, element) in elements.iter().enumerate() {
            values.push(read(element, &format!("{path}[{index}]"))?);
        }
        if !matches!(tail, Tail::Complete) {
            return Err(self.syntax(node, path));
        }
        Ok(values)
    }

    /// The members of a struct's object, each handed to `field` with its index in `fields`.
    /// Returns which fields were given (bit `index`). `expected` is serde's description
    /// (`struct HostSpec`).
    fn fields(
        &self,
        mode: Mode,
        node: &Node,
        path: &str,
        expected: &str,
        fields: &'static [&'static str],
        mut field: impl FnMut(usize, &Node, &str) -> Result<(), ScenarioError>,
    ) -> Result<u64, ScenarioError> {
        let Kind::Object(members, tail) = &node.kind else {
            return Err(self.invalid_type(mode, node, path, expected));
        };
        let mut seen = 0u64;
        // serde_json places an error raised between key and value after the whitespace that
        // follows the key (and after a closing brace right there).
        let mut check_key = |key: &str, key_end: usize| {
            self.field_index(mode, path, end_map_pos(self.text, key_end), fields, &mut seen, key)
        };
        for Member { key, key_end, value } in members {
            let index = check_key(key, *key_end)?;
            field(index, value, &json::join(path, key))?;
        }
        match tail {
            Tail::Complete => Ok(seen),
            Tail::Colon { key, key_end } => {
                check_key(key, *key_end)?;
                Err(self.syntax(node, path))
            }
            Tail::Here | Tail::Key => Err(self.syntax(node, path)),
        }
    }

    /// The index of `key` among a struct's `fields`, marked in `seen` (bit `index`); serde's
    /// error, placed at `pos`, for a key the struct does not have or has had already.
    fn field_index(
        &self,
        mode: Mode,
        path: &str,
        pos: usize,
        fields: &'static [&'static str],
        seen: &mut u64,
        key: &str,
    ) -> Result<usize, ScenarioError> {
        let Some(index) = fields.iter().position(|name| *name == key) else {
            return Err(self.error(mode, &json::join(path, key), pos, Fail::unknown_field(key, fields)));
        };
        if *seen & (1 << index) != 0 {
            return Err(self.error(mode, path, pos, Fail::duplicate_field(fields[index])));
        }
        *seen |= 1 << index;
        Ok(index)
    }

    /// serde's "missing field" error for a struct's object, reported past its closing brace.
    fn missing(&self, mode: Mode, node: &Node, path: &str, name: &'static str) -> ScenarioError {
        self.error(mode, path, node.end, Fail::missing_field(name))
    }

    fn scenario(&self, node: &Node) -> Result<Scenario, ScenarioError> {
        const FIELDS: &[&str] = &[
            "name",
            "title",
            "source",
            "group",
            "description",
            "seed",
            "hosts",
            "links",
            "processes",
            "faults",
            "limits",
        ];
        let mode = Mode::Stream;
        let mut texts: [String; 5] = Default::default();
        let mut seed = default_seed();
        let mut hosts = None;
        let mut links = Vec::new();
        let mut processes = None;
        let mut faults = Vec::new();
        let mut limits = Limits::default();
        self.fields(mode, node, ROOT, "struct Scenario", FIELDS, |index, value, path| {
            match index {
                0..=4 => texts[index] = self.string(mode, value, path)?,
                5 => seed = self.u64(mode, value, path)?,
                6 => hosts = Some(self.seq(mode, value, path, |node, path| self.host(node, path))?),
                7 => links = self.seq(mode, value, path, |node, path| self.link(node, path))?,
                8 => processes = Some(self.seq(mode, value, path, |node, path| self.process(node, path))?),
                9 => faults = self.seq(mode, value, path, |node, path| self.fault(node, path))?,
                _ => limits = self.limits(value, path)?,
            }
            Ok(())
        })?;
        let Some(hosts) = hosts else { return Err(self.missing(mode, node, ROOT, "hosts")) };
        let Some(processes) = processes else { return Err(self.missing(mode, node, ROOT, "processes")) };
        let [name, title, source, group, description] = texts;
        Ok(Scenario { name, title, source, group, description, seed, hosts, links, processes, faults, limits })
    }

    fn host(&self, node: &Node, path: &str) -> Result<HostSpec, ScenarioError> {
        let mode = Mode::Stream;
        let mut name = None;
        let mut addr = None;
        let mut tcp = TcpSettings::default();
        self.fields(mode, node, path, "struct HostSpec", &["name", "addr", "tcp"], |index, value, path| {
            match index {
                0 => name = Some(self.string(mode, value, path)?),
                1 => {
                    let text = self.string(mode, value, path)?;
                    // The address's own error is raised after serde_json has read the string,
                    // so it is placed where the host's object reading stopped.
                    let parsed = text
                        .parse()
                        .map_err(|err| self.error(mode, path, end_map_pos(self.text, value.end), Fail::custom(err)))?;
                    addr = Some(parsed);
                }
                _ => tcp = self.tcp(value, path)?,
            }
            Ok(())
        })?;
        let Some(name) = name else { return Err(self.missing(mode, node, path, "name")) };
        let Some(addr) = addr else { return Err(self.missing(mode, node, path, "addr")) };
        Ok(HostSpec { name, addr, tcp })
    }

    fn tcp(&self, node: &Node, path: &str) -> Result<TcpSettings, ScenarioError> {
        const FIELDS: &[&str] = &[
            "isn",
            "ephemeral_ports",
            "msl_ms",
            "sndbuf",
            "rcvbuf",
            "mss",
            "window_scaling",
            "wscale",
            "window_clamp",
            "timestamps",
            "sack",
            "delayed_ack",
            "delack_ms",
            "max_quickacks",
            "rto_initial_ms",
            "rto_min_ms",
            "rto_max_ms",
            "syn_retries",
            "syn_linear_timeouts",
            "synack_retries",
            "retries2",
            "fin_timeout_ms",
            "keepalive_time_ms",
            "keepalive_intvl_ms",
            "keepalive_probes",
            "initial_cwnd",
            "somaxconn",
            "abort_on_overflow",
            "wmem_max",
            "congestion_control",
        ];
        let m = Mode::Stream;
        let mut tcp = TcpSettings::default();
        self.fields(m, node, path, "struct TcpSettings", FIELDS, |index, v, p| {
            match index {
                0 => tcp.isn = self.seq(m, v, p, |v, p| self.u32(m, v, p))?,
                1 => tcp.ephemeral_ports = self.seq(m, v, p, |v, p| self.u16(m, v, p))?,
                2 => tcp.msl_ms = self.u64(m, v, p)?,
                3 => tcp.sndbuf = self.u32(m, v, p)?,
                4 => tcp.rcvbuf = self.u32(m, v, p)?,
                5 => tcp.mss = value::option(v, |v| self.u16(m, v, p))?,
                6 => tcp.window_scaling = self.flag(m, v, p)?,
                7 => tcp.wscale = self.unsigned(m, v, p, u8::MAX.into(), "u8")? as u8,
                8 => tcp.window_clamp = value::option(v, |v| self.u32(m, v, p))?,
                9 => tcp.timestamps = self.flag(m, v, p)?,
                10 => tcp.sack = self.flag(m, v, p)?,
                11 => tcp.delayed_ack = self.flag(m, v, p)?,
                12 => tcp.delack_ms = self.u64(m, v, p)?,
                13 => tcp.max_quickacks = self.u32(m, v, p)?,
                14 => tcp.rto_initial_ms = self.u64(m, v, p)?,
                15 => tcp.rto_min_ms = self.u64(m, v, p)?,
                16 => tcp.rto_max_ms = self.u64(m, v, p)?,
                17 => tcp.syn_retries = self.u32(m, v, p)?,
                18 => tcp.syn_linear_timeouts = self.u32(m, v, p)?,
                19 => tcp.synack_retries = self.u32(m, v, p)?,
                20 => tcp.retries2 = self.u32(m, v, p)?,
                21 => tcp.fin_timeout_ms = self.u64(m, v, p)?,
                22 => tcp.keepalive_time_ms = self.u64(m, v, p)?,
                23 => tcp.keepalive_intvl_ms = self.u64(m, v, p)?,
                24 => tcp.keepalive_probes = self.u32(m, v, p)?,
                25 => tcp.initial_cwnd = self.u32(m, v, p)?,
                26 => tcp.somaxconn = self.u32(m, v, p)?,
                27 => tcp.abort_on_overflow = self.flag(m, v, p)?,
                28 => tcp.wmem_max = self.u32(m, v, p)?,
                _ => tcp.congestion_control = self.string(m, v, p)?,
            }
            Ok(())
        })?;
        Ok(tcp)
    }

    fn link(&self, node: &Node, path: &str) -> Result<LinkSpec, ScenarioError> {
        let m = Mode::Stream;
        let mut ends = [None, None];
        let mut latency_us = default_latency_us();
        let mut mtu = default_mtu();
        self.fields(m, node, path, "struct LinkSpec", &["a", "b", "latency_us", "mtu"], |index, v, p| {
            match index {
                0 | 1 => ends[index] = Some(self.string(m, v, p)?),
                2 => latency_us = self.u64(m, v, p)?,
                _ => mtu = self.u32(m, v, p)?,
            }
            Ok(())
        })?;
        let [Some(a), b] = ends else { return Err(self.missing(m, node, path, "a")) };
        let Some(b) = b else { return Err(self.missing(m, node, path, "b")) };
        Ok(LinkSpec { a, b, latency_us, mtu })
    }

    fn limits(&self, node: &Node, path: &str) -> Result<Limits, ScenarioError> {
        let m = Mode::Stream;
        let mut limits = Limits::default();
        self.fields(m, node, path, "struct Limits", &["max_events", "max_time_ms"], |index, v, p| {
            match index {
                0 => limits.max_events = self.unsigned(m, v, p, usize::MAX as u64, "usize")? as usize,
                _ => limits.max_time_ms = self.u64(m, v, p)?,
            }
            Ok(())
        })?;
        Ok(limits)
    }

    fn process(&self, node: &Node, path: &str) -> Result<ProcessSpec, ScenarioError> {
        let m = Mode::Stream;
        let mut texts = [None, None];
        let mut steps = None;
        self.fields(m, node, path, "struct ProcessSpec", &["name", "host", "steps"], |index, v, p| {
            match index {
                0 | 1 => texts[index] = Some(self.string(m, v, p)?),
                _ => steps = Some(self.seq(m, v, p, |v, p| self.step(v, p))?),
            }
            Ok(())
        })?;
        let [Some(name), host] = texts else { return Err(self.missing(m, node, path, "name")) };
        let Some(host) = host else { return Err(self.missing(m, node, path, "host")) };
        let Some(steps) = steps else { return Err(self.missing(m, node, path, "steps")) };
        Ok(ProcessSpec { name, host, steps })
    }

    /// A step. serde_json used to read its object into a map, and [`step`] reads it as that
    /// map; its errors carry no position of their own, so they are placed where serde_json
    /// stopped reading the array of steps after this one.
    fn step(&self, node: &Node, path: &str) -> Result<Step, ScenarioError> {
        if !matches!(node.kind, Kind::Object(..)) {
            return Err(self.invalid_type(Mode::Stream, node, path, "a map"));
        }
        if json::broken_path(node, path).is_some() {
            return Err(self.syntax(node, path));
        }
        step(node).map_err(|reason| self.error(Mode::Stream, path, end_seq_pos(self.text, node.end), reason))
    }

    /// A fault. serde reads the whole object first (its tag, and every other member kept
    /// aside in order), then reads the fault's fields from what it kept; errors in that second
    /// part are reported at the fault, where serde_json stopped reading the array of faults.
    fn fault(&self, node: &Node, path: &str) -> Result<Fault, ScenarioError> {
        const KINDS: &[&str] = &["drop", "loss", "duplicate", "reorder", "delay", "link_down", "crash", "reboot"];
        let stream = Mode::Stream;
        let Kind::Object(members, tail) = &node.kind else {
            return Err(self.invalid_type(stream, node, path, "internally tagged enum Fault"));
        };
        let mut kind = None;
        let mut rest = Vec::new();
        let tag_key = |key: &str, key_end: usize, kind: &Option<usize>| {
            if key == "fault" && kind.is_some() {
                let pos = end_map_pos(self.text, key_end);
                return Err(self.error(stream, path, pos, Fail::duplicate_field("fault")));
            }
            Ok(key == "fault")
        };
        for member in members {
            let field_path = json::join(path, &member.key);
            if tag_key(&member.key, member.key_end, &kind)? {
                let value = &member.value;
                let index = value::variant_identifier(value, KINDS)
                    .map_err(|fail| self.place(stream, value, &field_path, fail))?;
                kind = Some(index);
            } else if json::broken_path(&member.value, &field_path).is_some() {
                return Err(self.syntax(&member.value, &field_path));
            } else {
                rest.push(member);
            }
        }
        match tail {
            Tail::Complete => {}
            Tail::Colon { key, key_end } => {
                tag_key(key, *key_end, &kind)?;
                return Err(self.syntax(node, path));
            }
            Tail::Here | Tail::Key => return Err(self.syntax(node, path)),
        }
        let Some(kind) = kind else { return Err(self.missing(stream, node, path, "fault")) };
        let pos = end_seq_pos(self.text, node.end);
        let m = Mode::Buffered { path, pos };
        let fields: &'static [&'static str] = match kind {
            0 => &["match", "nth", "count"],
            1 | 2 => &["rate", "match"],
            3 => &["rate", "delay_us", "match"],
            4 => &["extra_us", "match"],
            5 => &["a", "b", "from_ms", "until_ms"],
            _ => &["host", "at_ms"],
        };
        let mut matching = SegmentMatch::default();
        let mut counts = [1u32, 1];
        let mut rate = 0.0;
        let mut micros = 0;
        let mut texts = [None, None];
        let mut times = [None, None];
        let mut seen = 0u64;
        for Member { key, value: v, .. } in rest {
            // In the buffered mode every error is placed at the fault, so no position is needed.
            match fields[self.field_index(m, path, 0, fields, &mut seen, key)?] {
                "match" => matching = self.segment_match(m, v, path)?,
                "nth" => counts[0] = self.u32(m, v, path)?,
                "count" => counts[1] = self.u32(m, v, path)?,
                "rate" => rate = self.float(m, v, path)?,
                "delay_us" | "extra_us" => micros = self.u64(m, v, path)?,
                "a" | "host" => texts[0] = Some(self.string(m, v, path)?),
                "b" => texts[1] = Some(self.string(m, v, path)?),
                "from_ms" | "at_ms" => times[0] = Some(self.float(m, v, path)?),
                _ => times[1] = value::option(v, |v| self.float(m, v, path))?,
            }
        }
        let missing = fields.iter().enumerate().find(|(index, name)| {
            seen & (1 << index) == 0 && !matches!(**name, "match" | "nth" | "count" | "until_ms")
        });
        if let Some((_, name)) = missing {
            return Err(self.missing(m, node, path, name));
        }
        let text = |index: usize| texts[index].clone().unwrap_or_default();
        let time = times[0].unwrap_or(0.0);
        Ok(match kind {
            0 => Fault::Drop { matching, nth: counts[0], count: counts[1] },
            1 => Fault::Loss { rate, matching },
            2 => Fault::Duplicate { rate, matching },
            3 => Fault::Reorder { rate, delay_us: micros, matching },
            4 => Fault::Delay { extra_us: micros, matching },
            5 => Fault::LinkDown { a: text(0), b: text(1), from_ms: time, until_ms: times[1] },
            6 => Fault::Crash { host: text(0), at_ms: time },
            _ => Fault::Reboot { host: text(0), at_ms: time },
        })
    }

    fn segment_match(&self, m: Mode, node: &Node, path: &str) -> Result<SegmentMatch, ScenarioError> {
        const FIELDS: &[&str] = &["from", "to", "flags", "data", "seq", "from_ms", "until_ms"];
        let mut matching = SegmentMatch::default();
        self.fields(m, node, path, "struct SegmentMatch", FIELDS, |index, v, p| {
            let text = |v: &Node| value::option(v, |v| self.string(m, v, p));
            let time = |v: &Node| value::option(v, |v| self.float(m, v, p));
            match index {
                0 => matching.from = text(v)?,
                1 => matching.to = text(v)?,
                2 => matching.flags = text(v)?,
                3 => matching.data = value::option(v, |v| self.flag(m, v, p))?,
                4 => matching.seq = value::option(v, |v| self.pair(m, v, p))?,
                5 => matching.from_ms = time(v)?,
                _ => matching.until_ms = time(v)?,
            }
            Ok(())
        })?;
        Ok(matching)
    }

    /// `[first, last]`, read as serde reads a `[u32; 2]` it had buffered.
    fn pair(&self, m: Mode, node: &Node, path: &str) -> Result<[u32; 2], ScenarioError> {
        let Kind::Array(elements, _) = &node.kind else {
            return Err(self.invalid_type(m, node, path, "an array of length 2"));
        };
        let mut pair = [0; 2];
        for (index, slot) in pair.iter_mut().enumerate() {
            let Some(element) = elements.get(index) else {
                return Err(self.error(m, path, 0, Fail::invalid_length(index, "an array of length 2")));
            };
            *slot = self.u32(m, element, path)?;
        }
        if elements.len() > 2 {
            return Err(self.error(m, path, 0, Fail::invalid_length(elements.len(), "2 elements in sequence")));
        }
        Ok(pair)
    }
}

fn number_unexpected(number: &Number) -> Unexpected<'_> {
    match number {
        Number::U64(value) => Unexpected::Unsigned(*value),
        Number::I64(value) => Unexpected::Signed(*value),
        Number::F64(_, text) => Unexpected::Float(text),
    }
}

/// Where serde_json stands after trying to close an object at `pos`: past whitespace, and past
/// the closing brace if that comes next.
fn end_map_pos(text: &str, pos: usize) -> usize {
    let pos = json::skip_ws(text, pos);
    if text.as_bytes().get(pos) == Some(&b'}') {
        pos + 1
    } else {
        pos
    }
}

/// Where serde_json stands after trying to close an array at `pos`: past whitespace, then past
/// a closing bracket, or past a comma and the whitespace after it.
fn end_seq_pos(text: &str, pos: usize) -> usize {
    let pos = json::skip_ws(text, pos);
    match text.as_bytes().get(pos) {
        Some(b']') => pos + 1,
        Some(b',') => json::skip_ws(text, pos + 1),
        _ => pos,
    }
}

/// The members of an object as serde_json's map holds them: sorted by key, the last of
/// repeated keys kept.
pub(super) fn as_map(node: &Node) -> Vec<(&str, &Node)> {
    let Kind::Object(members, _) = &node.kind else { return Vec::new() };
    let mut map: Vec<(&str, &Node)> = members.iter().map(|member| (member.key.as_str(), &member.value)).collect();
    // The sort is stable, so repeated keys stay in the order written; each later one hands
    // its value to the first before it is dropped (the whole thing stays O(n log n), which
    // matters for a step with many thousands of keys).
    map.sort_by(|a, b| a.0.cmp(b.0));
    map.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 = later.1;
        }
        same
    });
    map
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
    let expect = take("expect");
    let at_ms = match at_ms {
        None => None,
        Some(node) => Some(value::float(node).map_err(|err| format!("at_ms: {err}"))?),
    };
    let note = match note {
        None => None,
        Some(node) => Some(value::string(node).map_err(|err| format!("note: {err}"))?),
    };
    let expect = match expect {
        None => None,
        Some(node) => Some(
            value::expect(node)
                .map_err(|err| format!("expect: {err} (give a number or an errno name such as \"ECONNREFUSED\")"))?,
        ),
    };
    let call = call_from_map(map).map_err(|err| err.to_string())?;
    Ok(Step { call, at_ms, note, expect })
}

/// Readers with the rules and messages of serde reading a `serde_json::Value` (where a step's
/// arguments used to come from): no positions, maps in key order.
pub(super) mod value {
    use super::*;

    pub fn unexpected(node: &Node) -> Unexpected<'_> {
        match &node.kind {
            Kind::Null => Unexpected::Null,
            Kind::Bool(flag) => Unexpected::Bool(*flag),
            Kind::Number(number) => number_unexpected(number),
            Kind::Str(text) => Unexpected::Str(text),
            Kind::Array(..) => Unexpected::Seq,
            Kind::Object(..) | Kind::Broken => Unexpected::Map,
        }
    }

    pub fn invalid_type(node: &Node, expected: &str) -> Fail {
        Fail::invalid_type(unexpected(node), expected)
    }

    pub fn string(node: &Node) -> Result<String, Fail> {
        match &node.kind {
            Kind::Str(text) => Ok(text.clone()),
            _ => Err(invalid_type(node, "a string")),
        }
    }

    pub fn flag(node: &Node) -> Result<bool, Fail> {
        match node.kind {
            Kind::Bool(flag) => Ok(flag),
            _ => Err(invalid_type(node, "a boolean")),
        }
    }

    pub fn float(node: &Node) -> Result<f64, Fail> {
        match &node.kind {
            Kind::Number(number) => Ok(number.as_f64()),
            _ => Err(invalid_type(node, "f64")),
        }
    }

    /// An unsigned integer of at most `max`, named `expected` (`u32`, `usize`, ...) in errors.
    pub fn unsigned(node: &Node, max: u64, expected: &str) -> Result<u64, Fail> {
        if let Kind::Number(number) = &node.kind {
            let invalid = match (number.as_u64(), number.as_i64()) {
                (Some(value), _) if value <= max => return Ok(value),
                (Some(value), _) => Unexpected::Unsigned(value),
                (None, Some(value)) => Unexpected::Signed(value),
                (None, None) => return Err(invalid_type(node, expected)),
            };
            return Err(Fail::invalid_value(invalid, expected));
        }
        Err(invalid_type(node, expected))
    }

    pub fn u32(node: &Node) -> Result<u32, Fail> {
        Ok(unsigned(node, u32::MAX.into(), "u32")? as u32)
    }

    /// `null` is `None`; anything else is read by `read` (used with either error type).
    pub fn option<T, E>(node: &Node, read: impl FnOnce(&Node) -> Result<T, E>) -> Result<Option<T>, E> {
        match node.kind {
            Kind::Null => Ok(None),
            _ => read(node).map(Some),
        }
    }

    /// A field-less enum variant: its name as a string, or a map of its name to null.
    /// Returns the index of the name in `names`.
    pub fn variant(node: &Node, names: &'static [&'static str]) -> Result<usize, Fail> {
        let (name, value) = variant_name(node)?;
        let Some(index) = names.iter().position(|known| *known == name) else {
            return Err(Fail::unknown_variant(name, names));
        };
        unit(value)?;
        Ok(index)
    }

    /// The name of an enum variant given as a string or as a map with a single key, and the
    /// value given with it.
    fn variant_name(node: &Node) -> Result<(&str, Option<&Node>), Fail> {
        match &node.kind {
            Kind::Str(name) => Ok((name.as_str(), None)),
            Kind::Object(..) => match as_map(node)[..] {
                [(name, value)] => Ok((name, Some(value))),
                _ => Err(Fail::invalid_value(Unexpected::Map, "map with a single key")),
            },
            _ => Err(invalid_type(node, "string or map")),
        }
    }

    /// A field-less variant may come with null and nothing else.
    fn unit(value: Option<&Node>) -> Result<(), Fail> {
        match value {
            Some(value) if !matches!(value.kind, Kind::Null) => Err(invalid_type(value, "unit")),
            _ => Ok(()),
        }
    }

    /// An enum variant's name given as a string (the value of `"call"`).
    pub fn variant_identifier(node: &Node, names: &'static [&'static str]) -> Result<usize, Fail> {
        let Kind::Str(name) = &node.kind else { return Err(invalid_type(node, "variant identifier")) };
        names.iter().position(|known| known == name).ok_or_else(|| Fail::unknown_variant(name, names))
    }

    /// What a step must return: a number that fits an i64, an errno name, or a map of an errno
    /// name to null (serde's untagged enum tries each in turn).
    pub fn expect(node: &Node) -> Result<Expect, Fail> {
        if let Kind::Number(number) = &node.kind {
            if let Some(value) = number.as_i64() {
                return Ok(Expect::Value(value));
            }
        }
        let errno = || {
            let (name, value) = variant_name(node).ok()?;
            let errno = Errno::ALL.into_iter().find(|errno| errno.to_string() == name)?;
            unit(value).ok()?;
            Some(errno)
        };
        errno().map(Expect::Errno).ok_or_else(|| Fail::custom("data did not match any variant of untagged enum Expect"))
    }

    /// A socket option's value: a flag, a number, or `{"onoff": .., "linger": ..}` (also as
    /// the pair `[onoff, linger]`), tried in that order as serde's untagged enum does.
    pub fn opt_value(node: &Node) -> Result<OptValue, Fail> {
        let linger = || -> Option<Linger> {
            match &node.kind {
                Kind::Array(elements, _) => match &elements[..] {
                    [onoff, linger] => Some(Linger { onoff: flag(onoff).ok()?, linger: u32(linger).ok()? }),
                    _ => None,
                },
                Kind::Object(..) => match as_map(node)[..] {
                    [("linger", linger), ("onoff", onoff)] => {
                        Some(Linger { onoff: flag(onoff).ok()?, linger: u32(linger).ok()? })
                    }
                    _ => None,
                },
                _ => None,
            }
        };
        if let Kind::Bool(flag) = node.kind {
            return Ok(OptValue::Flag(flag));
        }
        if let Ok(number) = u32(node) {
            return Ok(OptValue::Number(number));
        }
        linger()
            .map(OptValue::Linger)
            .ok_or_else(|| Fail::custom("data did not match any variant of untagged enum OptValue"))
    }

    /// A forked child's program, as serde reads a struct from a value: a map (in key order)
    /// or a sequence of its fields.
    pub fn child(node: &Node) -> Result<ChildSpec, Fail> {
        const FIELDS: &[&str] = &["name", "steps"];
        const EXPECTED: &str = "struct ChildSpec with 2 elements";
        let steps = |node: &Node| -> Result<Vec<Step>, Fail> {
            let Kind::Array(elements, _) = &node.kind else { return Err(invalid_type(node, "a sequence")) };
            elements
                .iter()
                .map(|element| match element.kind {
                    Kind::Object(..) => step(element).map_err(Fail::custom),
                    _ => Err(invalid_type(element, "a map")),
                })
                .collect()
        };
        match &node.kind {
            Kind::Array(elements, _) => {
                let name = string(elements.first().ok_or_else(|| Fail::invalid_length(0, EXPECTED))?)?;
                let steps = steps(elements.get(1).ok_or_else(|| Fail::invalid_length(1, EXPECTED))?)?;
                if elements.len() > 2 {
                    return Err(Fail::invalid_length(elements.len(), "fewer elements in array"));
                }
                Ok(ChildSpec { name, steps })
            }
            Kind::Object(..) => {
                let (mut name, mut read) = (None, None);
                for (key, value) in as_map(node) {
                    match key {
                        "name" => name = Some(string(value)?),
                        "steps" => read = Some(steps(value)?),
                        _ => return Err(Fail::unknown_field(key, FIELDS)),
                    }
                }
                let name = name.ok_or_else(|| Fail::missing_field("name"))?;
                let steps = read.ok_or_else(|| Fail::missing_field("steps"))?;
                Ok(ChildSpec { name, steps })
            }
            _ => Err(invalid_type(node, "struct ChildSpec")),
        }
    }
}
