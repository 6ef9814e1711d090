//! The trace: the only output of the engine, and the only input of every view.
//!
//! A trace is a list of [`Event`]s in the order the simulation produced them; their times
//! never go backwards. Each event is self-describing (it names its host, socket and
//! addresses) so that a view can be rebuilt from the events alone (see [`crate::replay`]).
//! The JSON Lines form is documented in `docs/trace-format.md`.

use serde::{Deserialize, Serialize};

use crate::addr::{Ipv4, SockAddr};
use crate::errno::Errno;
use crate::state::State;

/// Identifies a socket for the whole run (sockets are never renumbered). In the trace it is
/// a plain number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SocketId(pub u32);

/// Identifies a process for the whole run. In the trace it is a plain number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pid(pub u32);

impl std::fmt::Display for SocketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for Pid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One thing that happened at one simulated moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Simulated time in microseconds since the start of the run.
    pub t_us: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Serialized with a `kind` tag in snake case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The scenario declares a host (always at time 0, before anything else).
    Host { host: String, addr: Ipv4 },
    /// A process starts, forks or exits.
    Process {
        pid: Pid,
        host: String,
        name: String,
        action: ProcessAction,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<Pid>,
    },
    /// A system call enters, blocks or returns.
    Syscall {
        pid: Pid,
        process: String,
        host: String,
        call: String,
        /// The arguments as a C programmer would write them, e.g. `3, 16 bytes`.
        args: String,
        phase: Phase,
        /// The socket the call works on, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        socket: Option<SocketId>,
        /// The return value (on `return` without error).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<i64>,
        /// The error (on `return` with error).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        errno: Option<Errno>,
        /// Why the call blocks (on `block`), e.g. `accept queue empty`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// A value the call hands back besides its return value, e.g. the peer address
        /// accept() fills in or the address getsockname() reports.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A descriptor comes to refer to a socket, or stops referring to it.
    Fd { pid: Pid, fd: i32, socket: SocketId, action: FdAction },
    /// A socket is created, gets an address, is accepted or is freed.
    Socket {
        host: String,
        socket: SocketId,
        action: SocketAction,
        proto: Proto,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        local: Option<SockAddr>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<SockAddr>,
        /// For a connection a listener created: the listener.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        listener: Option<SocketId>,
    },
    /// A TCP socket changes state.
    State {
        host: String,
        socket: SocketId,
        local: SockAddr,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<SockAddr>,
        from: State,
        to: State,
        cause: String,
    },
    /// A socket's queue levels after a change.
    Queues {
        host: String,
        socket: SocketId,
        /// Bytes written by the application and not yet acknowledged by the peer.
        send_q: u32,
        /// Bytes received in order and not yet read by the application.
        recv_q: u32,
        /// Bytes the application has read so far (Sockets-in-C's "Delivered").
        delivered: u64,
        send_cap: u32,
        recv_cap: u32,
        /// A listener's embryonic connections (SYN_RECV).
        #[serde(default, skip_serializing_if = "is_zero")]
        syn_q: u32,
        /// A listener's completed, not yet accepted connections.
        #[serde(default, skip_serializing_if = "is_zero")]
        accept_q: u32,
        /// A listener's backlog argument; the accept queue holds backlog+1.
        #[serde(default, skip_serializing_if = "is_zero")]
        backlog: u32,
        /// The peer's FIN has arrived (it stays true once recv() has read it; `ss` counts
        /// it in Recv-Q only until then).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        rcv_fin: bool,
    },
    /// A TCP socket's sending limits after a change: the congestion window, the slow-start
    /// threshold, the RTT estimate and the retransmission timeout. Traced from the moment
    /// the socket takes its peer's SYN (SYN_RECV of a passive open, the SYN+ACK of an active
    /// one), when its segment size and so its window in bytes are known, until it is freed.
    Congestion {
        host: String,
        socket: SocketId,
        /// The congestion window in bytes: Linux's `snd_cwnd` (counted in segments) times
        /// the MSS.
        cwnd: u32,
        /// The slow-start threshold in bytes; None while unset (Linux's
        /// `TCP_INFINITE_SSTHRESH`, which `ss -ti` leaves out).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ssthresh: Option<u32>,
        /// The smoothed round-trip time; None before the first RTT sample.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        srtt_us: Option<u64>,
        /// The retransmission timeout (Linux's `icsk_rto`).
        rto_us: u64,
    },
    /// A TCP segment (or UDP datagram) is sent, delivered or dropped.
    Segment(Segment),
    /// A timer is armed, fires or is cancelled.
    Timer { host: String, socket: SocketId, timer: TimerKind, action: TimerAction, deadline_us: u64 },
    /// A sentence of scenario narration attached to a step, or a fact the engine noticed
    /// (such as a deadlock).
    Note {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<Pid>,
        text: String,
    },
    /// The run ended.
    End { reason: String },
}

/// What limits a TCP socket's sending at one moment, as a [`EventKind::Congestion`] event
/// carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SendingLimits {
    /// The congestion window in bytes.
    pub cwnd: u32,
    /// The slow-start threshold in bytes, once set.
    pub ssthresh: Option<u32>,
    /// The smoothed round-trip time, once measured.
    pub srtt_us: Option<u64>,
    /// The retransmission timeout.
    pub rto_us: u64,
}

impl SendingLimits {
    /// The event that traces these limits for `socket` of host `host`.
    pub fn event(self, host: &str, socket: SocketId) -> EventKind {
        let SendingLimits { cwnd, ssthresh, srtt_us, rto_us } = self;
        EventKind::Congestion { host: host.to_string(), socket, cwnd, ssthresh, srtt_us, rto_us }
    }
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessAction {
    Start,
    Fork,
    Exit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Enter,
    Block,
    Return,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FdAction {
    Open,
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketAction {
    /// socket() made it, or a listener made it for an arriving SYN.
    Create,
    /// It got a local address (bind, or an implicit ephemeral port) or a peer.
    Address,
    /// accept() took it out of its listener's accept queue.
    Accepted,
    /// The kernel forgot it: every descriptor is closed and its last state has ended.
    Free,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    Sent,
    Delivered,
    Dropped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// Retransmission of SYN, SYN-ACK, data or FIN (RFC 6298).
    Retransmit,
    /// Delayed acknowledgement (Linux TCP_DELACK_MIN, 40 ms).
    DelayedAck,
    /// Zero-window probe.
    Persist,
    Keepalive,
    /// TIME_WAIT's 2MSL.
    TimeWait,
    /// An orphaned FIN_WAIT2 socket's tcp_fin_timeout.
    FinWait2,
    /// SO_LINGER {1, N}: how long close() may block.
    Linger,
    /// The tail loss probe timer (RACK-TLP, RFC 8985 section 7): about two round trips after
    /// the last transmission, a sender whose data is still unacknowledged sends one probe
    /// segment instead of waiting for the retransmission timeout (Linux's
    /// `ICSK_TIME_LOSS_PROBE`, which shares one kernel timer with the retransmission timer).
    LossProbe,
}

impl TimerKind {
    /// Every kind, in the order in which a socket's timers are cancelled together (the order
    /// of their cancel events in the trace).
    pub const ALL: [TimerKind; 8] = [
        TimerKind::Retransmit,
        TimerKind::LossProbe,
        TimerKind::DelayedAck,
        TimerKind::Persist,
        TimerKind::Keepalive,
        TimerKind::TimeWait,
        TimerKind::FinWait2,
        TimerKind::Linger,
    ];

    /// Whether this timer only sends probes that a live peer answers without changing
    /// anything (zero-window and keepalive probes), which the deadlock check looks past.
    pub fn only_probes(self) -> bool {
        matches!(self, TimerKind::Persist | TimerKind::Keepalive)
    }

    /// Whether this timer, when it fires, can still move a connection along and so wake a
    /// blocked process (the deadlock check waits for these). TIME_WAIT and FIN_WAIT2 timers
    /// only end sockets that no process waits on.
    pub fn moves_a_connection(self) -> bool {
        matches!(self, TimerKind::Retransmit | TimerKind::LossProbe | TimerKind::DelayedAck | TimerKind::Linger)
    }

    /// The socket's deadline slot for this kind.
    pub(crate) fn slot(self) -> usize {
        self as usize
    }
    pub fn label(self) -> &'static str {
        match self {
            TimerKind::Retransmit => "retransmission",
            TimerKind::DelayedAck => "delayed ACK",
            TimerKind::Persist => "persist",
            TimerKind::Keepalive => "keepalive",
            TimerKind::TimeWait => "TIME_WAIT (2MSL)",
            TimerKind::FinWait2 => "FIN_WAIT2",
            TimerKind::Linger => "linger",
            TimerKind::LossProbe => "tail loss probe",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerAction {
    Armed,
    Fired,
    Cancelled,
}

/// TCP options carried by a segment (only SYNs carry MSS and window scale).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mss: Option<u16>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sack_ok: bool,
    /// Timestamps option: (TSval, TSecr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<(u32, u32)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wscale: Option<u8>,
}

impl TcpOptions {
    pub fn is_empty(&self) -> bool {
        *self == TcpOptions::default()
    }

    /// The options as Linux lays them out (`tcp_options_write()`): MSS; SACK-permitted
    /// packed with timestamps, or each padded with two NOPs; one NOP before window scale.
    pub fn layout(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(mss) = self.mss {
            parts.push(format!("mss {mss}"));
        }
        match (self.sack_ok, self.ts) {
            (true, Some((val, ecr))) => {
                parts.push("sackOK".to_string());
                parts.push(format!("TS val {val} ecr {ecr}"));
            }
            (false, Some((val, ecr))) => {
                parts.extend(["nop".to_string(), "nop".to_string()]);
                parts.push(format!("TS val {val} ecr {ecr}"));
            }
            (true, None) => parts.extend(["nop".to_string(), "nop".to_string(), "sackOK".to_string()]),
            (false, None) => {}
        }
        if let Some(wscale) = self.wscale {
            parts.push("nop".to_string());
            parts.push(format!("wscale {wscale}"));
        }
        parts
    }

    /// Bytes these options take in the TCP header (always a multiple of 4 in Linux's layout).
    pub fn header_len(&self) -> u32 {
        self.layout()
            .iter()
            .map(|part| match part.split(' ').next() {
                Some("mss") => 4,
                Some("sackOK") => 2,
                Some("TS") => 10,
                Some("wscale") => 3,
                _ => 1,
            })
            .sum()
    }

    /// tcpdump's rendering, e.g. `[mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7]`.
    pub fn tcpdump(&self) -> String {
        format!("[{}]", self.layout().join(","))
    }
}

/// TCP header flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

impl Flags {
    pub const SYN: Flags = Flags { syn: true, ack: false, fin: false, rst: false, psh: false };
    pub const SYN_ACK: Flags = Flags { syn: true, ack: true, fin: false, rst: false, psh: false };
    pub const ACK: Flags = Flags { syn: false, ack: true, fin: false, rst: false, psh: false };
    pub const RST: Flags = Flags { syn: false, ack: false, fin: false, rst: true, psh: false };
    pub const RST_ACK: Flags = Flags { syn: false, ack: true, fin: false, rst: true, psh: false };

    /// tcpdump's letters: `S`, `F`, `P`, `R` in that order, then `.` for ACK.
    pub fn letters(self) -> String {
        let mut text = String::new();
        if self.syn {
            text.push('S');
        }
        if self.fin {
            text.push('F');
        }
        if self.psh {
            text.push('P');
        }
        if self.rst {
            text.push('R');
        }
        if self.ack {
            text.push('.');
        }
        if text.is_empty() {
            text.push_str("none");
        }
        text
    }

    pub fn parse_letters(text: &str) -> Option<Flags> {
        let mut flags = Flags::default();
        if text == "none" {
            return Some(flags);
        }
        for letter in text.chars() {
            let slot = match letter {
                'S' => &mut flags.syn,
                'F' => &mut flags.fin,
                'P' => &mut flags.psh,
                'R' => &mut flags.rst,
                '.' => &mut flags.ack,
                _ => return None,
            };
            *slot = true;
        }
        Some(flags)
    }
}

impl Serialize for Flags {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.letters())
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Flags::parse_letters(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not tcpdump flag letters")))
    }
}

/// What a segment's headers say, as a capture of the wire would show them: the one header
/// type of the trace, the simulated wire and the validator's captures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentHeader {
    pub proto: Proto,
    pub from: SockAddr,
    pub to: SockAddr,
    pub flags: Flags,
    /// Absolute sequence number of the first byte (or of the SYN / FIN).
    pub seq: u32,
    /// Absolute acknowledgement number (meaningful when the ACK flag is set).
    pub ack: u32,
    /// The window field as carried on the wire (unscaled).
    pub win: u16,
    /// Payload length in bytes.
    pub len: u32,
    #[serde(default, skip_serializing_if = "TcpOptions::is_empty")]
    pub options: TcpOptions,
}

/// One segment as it was sent, delivered or dropped. A segment keeps its `id` from the
/// moment it is sent to the moment it arrives or is dropped, so a view can draw one arrow.
/// In the JSON Lines its header's fields stand beside `id` and `fate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub id: u64,
    pub fate: Fate,
    #[serde(flatten)]
    pub header: SegmentHeader,
    /// Why a segment was dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a sent segment: true when it repeats bytes sent before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retransmission: bool,
}

/// A traced segment reads as its header (`segment.seq`), since that is most of what views ask.
impl std::ops::Deref for Segment {
    type Target = SegmentHeader;
    fn deref(&self) -> &SegmentHeader {
        &self.header
    }
}

/// A whole run: the events plus the scenario's identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub scenario: String,
    pub title: String,
    pub source: String,
    pub events: Vec<Event>,
}

impl Trace {
    /// One JSON object per line, each with `t_us` and `kind`, ending in a newline.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for event in &self.events {
            // Serializing plain data with string keys cannot fail.
            out.push_str(&serde_json::to_string(event).expect("trace events always serialize"));
            out.push('\n');
        }
        out
    }

    /// Parses JSON Lines written by [`Trace::to_jsonl`]; says which line is wrong and why.
    pub fn events_from_jsonl(text: &str) -> Result<Vec<Event>, String> {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| serde_json::from_str(line).map_err(|err| format!("line {}: {err}", index + 1)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_print_like_tcpdump() {
        assert_eq!(Flags::SYN.letters(), "S");
        assert_eq!(Flags::SYN_ACK.letters(), "S.");
        assert_eq!(Flags { psh: true, ack: true, ..Flags::default() }.letters(), "P.");
        assert_eq!(Flags { fin: true, ack: true, ..Flags::default() }.letters(), "F.");
        assert_eq!(Flags::RST_ACK.letters(), "R.");
        for letters in ["S", "S.", ".", "P.", "F.", "FP.", "R", "R."] {
            assert_eq!(Flags::parse_letters(letters).unwrap().letters(), letters);
        }
    }

    #[test]
    fn options_follow_linux_layout() {
        let syn = TcpOptions { mss: Some(65495), sack_ok: true, ts: Some((1, 0)), wscale: Some(7) };
        assert_eq!(syn.tcpdump(), "[mss 65495,sackOK,TS val 1 ecr 0,nop,wscale 7]");
        assert_eq!(syn.header_len(), 20);
        let data = TcpOptions { ts: Some((5, 6)), ..TcpOptions::default() };
        assert_eq!(data.tcpdump(), "[nop,nop,TS val 5 ecr 6]");
        assert_eq!(data.header_len(), 12);
        let plain = TcpOptions { mss: Some(1460), wscale: Some(0), ..TcpOptions::default() };
        assert_eq!(plain.tcpdump(), "[mss 1460,nop,wscale 0]");
        assert_eq!(plain.header_len(), 8);
    }

    #[test]
    fn events_round_trip_through_jsonl() {
        let trace = Trace {
            scenario: "x".into(),
            title: "x".into(),
            source: "x".into(),
            events: vec![
                Event {
                    t_us: 5,
                    kind: EventKind::Segment(Segment {
                        id: 1,
                        fate: Fate::Sent,
                        header: SegmentHeader {
                            proto: Proto::Tcp,
                            from: "10.0.0.1:1".parse().unwrap(),
                            to: "10.0.0.2:2".parse().unwrap(),
                            flags: Flags::SYN,
                            seq: 7,
                            ack: 0,
                            win: 100,
                            len: 0,
                            options: TcpOptions { mss: Some(1460), wscale: Some(2), ..TcpOptions::default() },
                        },
                        reason: None,
                        retransmission: false,
                    }),
                },
                Event { t_us: 6, kind: EventKind::End { reason: "done".into() } },
            ],
        };
        let text = trace.to_jsonl();
        assert!(text.starts_with("{\"t_us\":5,\"kind\":\"segment\""), "{text}");
        assert_eq!(Trace::events_from_jsonl(&text).unwrap(), trace.events);
    }
}
