//! A packetdrill script as read: its options, and its events in order, each with the line it
//! starts on. Nothing here is interpreted yet; running a script gives these their meaning.

/// A whole script.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// `--name=value` lines at the top, in order (`value` is empty for a bare flag).
    pub options: Vec<ScriptOption>,
    pub events: Vec<Event>,
    /// The script's lines as written, so that a run can quote the line each event comes from.
    pub source: Vec<String>,
}

impl Script {
    /// Line `line` (counted from 1) as written, trimmed; empty past the end.
    pub fn line_text(&self, line: u32) -> &str {
        self.source.get((line as usize).wrapping_sub(1)).map_or("", |text| text.trim())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScriptOption {
    pub line: u32,
    pub name: String,
    pub value: String,
}

/// One line of the script (or several, for a call whose arguments run on).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub line: u32,
    /// `None` for a shell command before the first event or after the last, which has no time.
    pub time: Option<EventTime>,
    pub action: Action,
}

/// When an event happens, in microseconds: since the script's start (`0.1`), since the
/// previous event (`+0.1`), at any time (`*`), or within a range (`0.1~0.2`, `+0.1~+0.2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventTime {
    Absolute(u64),
    Relative(u64),
    Any,
    AbsoluteRange(u64, u64),
    RelativeRange(u64, u64),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Packet(Packet),
    Syscall(Syscall),
    /// A back-quoted shell command, as written.
    Shell(String),
    /// A `%{ … }%` Python block, as written.
    Python(String),
    /// A line of the grammar that sockscope reads past (a UDP or ICMP packet, an
    /// encapsulation, IP-level marks), named.
    Unsupported(String),
}

/// Who sends a packet line's segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the script's remote peer sends it to the socket under test.
    Inbound,
    /// `>`: the socket under test must send it.
    Outbound,
}

/// A TCP packet line: `< S. 0:0(0) ack 1 win 5792 <mss 1460,nop,wscale 7>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub direction: Direction,
    /// The flag letters as written (`S`, `P`, `F`, `R`, `E`, `W`, `U`), without the dot.
    pub flags: String,
    /// The dot after the letters: the ACK flag.
    pub ack_flag: bool,
    pub start: u32,
    pub end: u32,
    pub len: u32,
    pub ack: Option<u32>,
    pub win: Option<u32>,
    pub urg: Option<u32>,
    pub options: PacketOptions,
}

/// The TCP options of a packet line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketOptions {
    /// No option list: an outbound segment must carry none, as packetdrill checks.
    Unwritten,
    /// `<...>`: any options.
    Any,
    List(Vec<TcpOption>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOption {
    Nop,
    Eol,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(Vec<(u32, u32)>),
    Timestamp {
        value: u32,
        echo: u32,
    },
    /// An option this reader names but does not model (`md5`, `FO`, `FOEXP`), as written.
    Other(String),
}

/// A system call line: `+0...0.2 accept(3, ..., ...) = 4`.
#[derive(Clone, Debug, PartialEq)]
pub struct Syscall {
    /// `...t`: the call blocks and returns at `t` (µs, relative as the event's time is).
    pub end: Option<u64>,
    pub name: String,
    pub args: Vec<Expr>,
    pub result: Expr,
    /// `-1 ECONNREFUSED`: the errno's name.
    pub errno: Option<String>,
    /// The words in parentheses after the result, as written.
    pub note: Option<String>,
}

/// An argument or a result.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `...`: anything.
    Ellipsis,
    Integer(i64),
    /// A symbol: `SOCK_STREAM`, `O_NONBLOCK`, `POLLIN`.
    Word(String),
    Str(String),
    /// `"abc"...`: a string, then anything.
    StrThenAny(String),
    /// `A|B`.
    Or(Vec<Expr>),
    /// `name=value` or `msg_iov(1)=[...]` inside braces.
    Assign(Box<Expr>, Box<Expr>),
    /// `[1]`, `[]`.
    Array(Vec<Expr>),
    /// `{...}`: a structure, by its fields.
    Struct(Vec<Expr>),
    /// `htons(8080)`, `inet_addr("192.0.2.1")`, `msg_name(...)`.
    Call(String, Vec<Expr>),
}
