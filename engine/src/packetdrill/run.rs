//! Running a script against the engine: the script's system calls run in a process on the
//! host under test, its `<` segments come from a host the run plays itself, and each segment
//! the engine sends is held to the next `>` line. The first difference ends the run.
//!
//! What packetdrill does, and so what this does (packetdrill's `run.c`):
//! - a relative time (`+t`) counts from the previous event's script time when both are
//!   inbound packets, and otherwise from when the previous event actually happened;
//! - a time is met within max(`--tolerance_usecs`, `--tolerance_percent` of the time since the
//!   previous event), 4 ms and 12.5 % unless the script says otherwise;
//! - sequence numbers are relative: an inbound segment's to the peer's initial sequence
//!   number, which the run picks, and its acknowledgement to the engine's, learned from the
//!   engine's SYN or SYN+ACK; an outbound segment's the other way round;
//! - the socket under test is bound to port 8080 of 192.168.0.1, and connect() goes to port
//!   8080 of the peer, 192.0.2.1.

use crate::addr::{Ipv4, SockAddr};
use crate::scenario::{
    AtEnd, Call, HostSpec, How, IoctlRequest, Limits, Linger, LinkSpec, OptName, OptValue, ProcessSpec, Scenario,
    SockType, Step, TcpSettings,
};
use crate::trace::{Event, EventKind, Fate, Flags, Phase, Pid, Segment, TcpOptions, Trace};
use crate::wire::Wire;
use crate::world::World;

use super::notes;
use super::python::{self, Checked};
use super::script::{Action, Direction, EventTime, Expr, Packet, PacketOptions, Script, Syscall, TcpOption};
use super::settings::{self, Settings};
use super::tcp_info;

/// The addresses packetdrill gives the two ends.
const LOCAL: Ipv4 = Ipv4([192, 168, 0, 1]);
const REMOTE: Ipv4 = Ipv4([192, 0, 2, 1]);
/// The port the socket under test binds to, and the one connect() goes to.
const PORT: u16 = 8080;
/// The peer's port when it opens the connection.
const REMOTE_PORT: u16 = 45_000;
/// The peer's initial sequence number: any will do, since the script's are relative to it.
const REMOTE_ISN: u32 = 1_000_000;
/// The window of an inbound segment whose line writes none.
const DEFAULT_WINDOW: u16 = 65_535;
/// How far into simulated time a script may go: an hour from its start. A line past it is
/// reported as unsupported, and a wait for a segment ends there.
const LIMIT_MS: u64 = 3_600_000;
/// The longest payload an inbound IPv4 segment can carry.
const MAX_PAYLOAD: u32 = 65_495;

/// What a run came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The first line whose expectation the engine did not meet.
    Fail {
        line: u32,
        expected: String,
        actual: String,
    },
    /// The first line that uses something the engine does not model.
    Unsupported {
        line: u32,
        construct: String,
    },
}

impl Verdict {
    /// The line the verdict is about, unless the script passed.
    pub fn line(&self) -> Option<u32> {
        match self {
            Verdict::Pass => None,
            Verdict::Fail { line, .. } | Verdict::Unsupported { line, .. } => Some(*line),
        }
    }
}

/// A run: its verdict, the trace up to where it stopped, and what of the script's settings
/// the engine took no notice of.
pub struct Outcome {
    pub verdict: Verdict,
    pub trace: Trace,
    pub ignored: Vec<String>,
    /// Where the trace tells each line the run reached, in event order; the run's last note,
    /// its verdict, is the failing line's when the script did not pass.
    pub lines: Vec<LineNote>,
}

/// A script line and the trace's note that quotes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineNote {
    pub line: u32,
    /// The index of the note in the trace's events.
    pub event: usize,
}

pub fn run(script: &Script) -> Outcome {
    let settings = settings::read(script);
    let mut runner = Runner::new(&settings);
    let verdict = match settings.unsupported.clone() {
        Some((line, construct)) => Verdict::Unsupported { line, construct },
        None => runner.events(script),
    };
    let said = notes::verdict(&verdict, |line| quote(script, line));
    runner.note(verdict.line(), said);
    let trace = Trace {
        scenario: "packetdrill".into(),
        title: "packetdrill script".into(),
        source: String::new(),
        events: std::mem::take(&mut runner.world.trace.events),
    };
    Outcome { verdict, trace, ignored: settings.ignored, lines: runner.lines }
}

/// Line `line` of the script as a note quotes it: its first line, trimmed and kept short.
fn quote(script: &Script, line: u32) -> String {
    crate::format::clipped(script.line_text(line), 120)
}

struct Runner {
    world: World,
    pid: Pid,
    remote: crate::ids::HostId,
    tolerance_us: u64,
    tolerance_percent: f64,
    /// The engine's initial sequence number, once it has sent its SYN or SYN+ACK.
    local_isn: Option<u32>,
    /// The connection's ends, once known: (the socket under test, the peer).
    ends: Option<(SockAddr, SockAddr)>,
    /// The engine's timestamp clock minus the script's, from the first outbound TS option.
    ts_offset: Option<u32>,
    /// Trace events already looked at for outbound segments and returns.
    seen_segments: usize,
    /// The previous event: its script time, when it actually happened, and whether it was an
    /// inbound packet.
    last: Option<(u64, u64, bool)>,
    /// A blocking call still in progress: its line, the return time the script gives, and
    /// what it must return.
    blocked: Option<Pending>,
    /// The notes that quote the script's lines so far.
    lines: Vec<LineNote>,
    /// Every return of the script's process so far, read from the trace as it grows, and how
    /// many of the trace's events have been read for them.
    returns: Vec<Returned>,
    returns_read: usize,
}

/// A call's return as the trace tells it: when, its result or errno, and a value it handed
/// back (getsockopt()'s).
#[derive(Clone)]
struct Returned {
    at: u64,
    result: Option<i64>,
    errno: Option<String>,
    value: Option<String>,
}

struct Pending {
    line: u32,
    end_us: u64,
    start_us: u64,
    call: String,
    expect: (Expr, Option<String>),
    /// The number of Syscall returns of the process before this call.
    returns_before: usize,
}

impl Runner {
    fn new(settings: &Settings) -> Runner {
        let scenario = Scenario {
            name: "packetdrill".into(),
            title: "packetdrill script".into(),
            source: String::new(),
            group: String::new(),
            description: String::new(),
            seed: 1,
            hosts: vec![
                HostSpec { name: "local".into(), addr: LOCAL, tcp: settings.tcp.clone() },
                HostSpec { name: "remote".into(), addr: REMOTE, tcp: TcpSettings::default() },
            ],
            links: vec![LinkSpec { a: "local".into(), b: "remote".into(), latency_us: 0, mtu: settings.mtu }],
            processes: vec![ProcessSpec {
                name: "script".into(),
                host: "local".into(),
                steps: Vec::new(),
                at_end: AtEnd::Wait,
            }],
            faults: Vec::new(),
            limits: Limits { max_time_ms: LIMIT_MS, ..Limits::default() },
            predict: Default::default(),
        };
        let mut world = World::new(&scenario);
        let remote = world.host_named("remote").unwrap_or_default();
        world.play_host(remote);
        world.run_to(0);
        Runner {
            world,
            pid: Pid(0),
            remote,
            tolerance_us: settings.tolerance_us,
            tolerance_percent: settings.tolerance_percent,
            local_isn: None,
            ends: None,
            ts_offset: None,
            seen_segments: 0,
            last: None,
            blocked: None,
            lines: Vec::new(),
            returns: Vec::new(),
            returns_read: 0,
        }
    }

    /// Adds a note to the trace now; `line` is the script line it quotes, if any.
    fn note(&mut self, line: Option<u32>, text: String) {
        let event = self.world.trace.events.len();
        self.world.emit(EventKind::Note { pid: None, text });
        if let (Some(line), true) = (line, self.world.trace.events.len() > event) {
            self.lines.push(LineNote { line, event });
        }
    }

    /// Puts a note for `line` just before the trace's event `index` (an outbound segment the
    /// run has only now held to its line), at that event's time.
    fn note_before(&mut self, index: usize, line: u32, text: String) {
        let events = &mut self.world.trace.events;
        let Some(t_us) = events.get(index).map(|event| event.t_us) else { return };
        events.insert(index, Event { t_us, kind: EventKind::Note { pid: None, text } });
        if self.seen_segments > index {
            self.seen_segments += 1;
        }
        if self.returns_read > index {
            self.returns_read += 1;
        }
        for note in &mut self.lines {
            if note.event >= index {
                note.event += 1;
            }
        }
        let at = self.lines.partition_point(|note| note.event < index);
        self.lines.insert(at, LineNote { line, event: index });
    }

    fn events(&mut self, script: &Script) -> Verdict {
        for event in &script.events {
            let text = quote(script, event.line);
            let Some(time) = event.time else { continue };
            let inbound = matches!(&event.action, Action::Packet(packet) if packet.direction == Direction::Inbound);
            let (start, end) = self.script_times(time, inbound);
            if start > LIMIT_MS * 1000 {
                return Verdict::Unsupported {
                    line: event.line,
                    construct: format!("a time past the run's limit of {} s", LIMIT_MS / 1000),
                };
            }
            let verdict = match &event.action {
                Action::Packet(packet) if packet.direction == Direction::Inbound => {
                    self.inbound(event.line, &text, packet, start)
                }
                Action::Packet(packet) => self.outbound(event.line, &text, packet, time, start, end),
                Action::Syscall(call) => self.syscall(event.line, &text, call, time, start),
                // Settings are made before the run; changing them during it is not modelled.
                Action::Shell(command) if settings::understood(command).is_some() => Err(Verdict::Unsupported {
                    line: event.line,
                    construct: format!("a change of settings during the run (`{}`)", command.trim()),
                }),
                Action::Shell(command) => Err(Verdict::Unsupported {
                    line: event.line,
                    construct: format!("the shell command `{}`", command.trim()),
                }),
                Action::Python(block) => self.python(event.line, &text, block, start),
                Action::Unsupported(construct) => {
                    Err(Verdict::Unsupported { line: event.line, construct: construct.clone() })
                }
            };
            if let Err(verdict) = verdict {
                return verdict;
            }
            if let Err(verdict) = self.check_blocked_return() {
                return verdict;
            }
        }
        // A call still blocked at the end must have returned when the script said.
        if let Some(pending) = &self.blocked {
            let deadline = pending.end_us.saturating_add(self.tolerance(pending.end_us, pending.start_us));
            self.world.run_to(deadline);
            if let Err(verdict) = self.check_blocked_return() {
                return verdict;
            }
            if let Some(pending) = &self.blocked {
                return Verdict::Fail {
                    line: pending.line,
                    expected: format!("{}() to return at {}", pending.call, seconds(pending.end_us)),
                    actual: format!("it was still blocked at {}", seconds(deadline)),
                };
            }
        }
        Verdict::Pass
    }

    /// The script time an event is due at (and the end of its range), from its written time.
    fn script_times(&self, time: EventTime, inbound: bool) -> (u64, u64) {
        let base = match self.last {
            Some((script, _, true)) if inbound => script,
            Some((_, actual, _)) => actual,
            None => 0,
        };
        match time {
            EventTime::Absolute(t) => (t, t),
            EventTime::Relative(t) => (base.saturating_add(t), base.saturating_add(t)),
            EventTime::Any => (base, u64::MAX),
            EventTime::AbsoluteRange(a, b) => (a, b),
            EventTime::RelativeRange(a, b) => (base.saturating_add(a), base.saturating_add(b)),
        }
    }

    /// packetdrill's tolerance for an event due at `due`.
    fn tolerance(&self, due: u64, previous: u64) -> u64 {
        let dynamic = (self.tolerance_percent / 100.0 * due.saturating_sub(previous) as f64) as u64;
        self.tolerance_us.max(dynamic)
    }

    fn previous_script_time(&self) -> u64 {
        self.last.map_or(0, |(script, _, _)| script)
    }

    fn inbound(&mut self, line: u32, text: &str, packet: &Packet, at: u64) -> Result<(), Verdict> {
        if packet.len > MAX_PAYLOAD || packet.win.is_some_and(|win| win > u32::from(u16::MAX)) {
            return Err(Verdict::Unsupported {
                line,
                construct: format!("a segment with more than {MAX_PAYLOAD} bytes or a window field above 65535"),
            });
        }
        self.world.run_to(at);
        self.note_outbound_so_far();
        let flags = flags_of(packet);
        let (local, remote) = match self.ends {
            Some(ends) => ends,
            None => {
                let ends = (SockAddr { ip: LOCAL, port: PORT }, SockAddr { ip: REMOTE, port: REMOTE_PORT });
                self.ends = Some(ends);
                ends
            }
        };
        let mut wire = Wire::bare(crate::trace::Proto::Tcp, remote, local, flags);
        let header = wire.header_mut();
        header.seq = REMOTE_ISN.wrapping_add(packet.start);
        header.ack = match (packet.ack, self.local_isn) {
            (Some(ack), Some(isn)) => isn.wrapping_add(ack),
            (Some(ack), None) => ack,
            (None, _) => 0,
        };
        header.win = packet.win.map_or(DEFAULT_WINDOW, |win| win as u16);
        header.options = self.inbound_options(&packet.options);
        wire.set_payload(vec![b'x'; packet.len as usize]);
        self.note(Some(line), notes::inbound(line, text));
        self.world.transmit(self.remote, wire);
        self.world.run_to(at);
        self.last = Some((at, at, true));
        Ok(())
    }

    fn inbound_options(&self, options: &PacketOptions) -> TcpOptions {
        let mut out = TcpOptions::default();
        if let PacketOptions::List(list) = options {
            for option in list {
                match option {
                    TcpOption::Mss(mss) => out.mss = Some(*mss),
                    TcpOption::WindowScale(scale) => out.wscale = Some(*scale),
                    TcpOption::SackPermitted => out.sack_ok = true,
                    // The peer echoes what the engine sent: the script's value moved onto the
                    // engine's clock.
                    TcpOption::Timestamp { value, echo } => {
                        let echo = if *echo == 0 { 0 } else { echo.wrapping_add(self.ts_offset.unwrap_or(0)) };
                        out.ts = Some((*value, echo));
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Learns the connection's ends and the engine's ISN from what it has sent so far.
    fn note_outbound_so_far(&mut self) {
        let events = &self.world.trace.events;
        for event in &events[self.seen_segments.min(events.len())..] {
            if let EventKind::Segment(segment) = &event.kind {
                if segment.fate == Fate::Sent && segment.from.ip == LOCAL && segment.flags.syn {
                    self.local_isn.get_or_insert(segment.seq);
                    self.ends.get_or_insert((segment.from, segment.to));
                }
            }
        }
    }

    /// The next segment the engine sent that no `>` line has matched yet, with its index in
    /// the trace and its time.
    fn next_outbound(&mut self) -> Option<(usize, u64, Segment)> {
        let events = &self.world.trace.events;
        while self.seen_segments < events.len() {
            let index = self.seen_segments;
            let event = &events[index];
            self.seen_segments += 1;
            if let EventKind::Segment(segment) = &event.kind {
                if segment.fate == Fate::Sent && segment.from.ip == LOCAL && segment.to.ip == REMOTE {
                    return Some((index, event.t_us, segment.clone()));
                }
            }
        }
        None
    }

    fn outbound(
        &mut self,
        line: u32,
        text: &str,
        packet: &Packet,
        time: EventTime,
        due: u64,
        due_end: u64,
    ) -> Result<(), Verdict> {
        let previous = self.previous_script_time();
        let tolerance = if time == EventTime::Any { 0 } else { self.tolerance(due, previous) };
        let deadline = if time == EventTime::Any { u64::MAX } else { due_end.saturating_add(tolerance) };
        // Move the world on an event at a time, so that it stops where the segment leaves.
        let found = loop {
            if let Some(found) = self.next_outbound() {
                break Some(found);
            }
            match self.world.next_due() {
                // The run's time limit bounds the wait, so a line that never matches ends; a
                // trace at its event limit moves no more.
                Some(next) if next <= deadline && next <= LIMIT_MS * 1000 && !self.world.trace.overflow => {
                    self.world.run_to(next)
                }
                _ => break None,
            }
        };
        let expected = describe_packet(packet);
        let Some((index, sent_at, mut segment)) = found else {
            self.note(Some(line), notes::outbound(line, text));
            return Err(Verdict::Fail {
                line,
                expected: format!("{expected} at {}", seconds(due)),
                actual: "the engine sent nothing by then".into(),
            });
        };
        self.note_before(index, line, notes::outbound(line, text));
        self.join_burst(&mut segment, sent_at, packet.len);
        if segment.flags.syn {
            self.local_isn.get_or_insert(segment.seq);
            self.ends.get_or_insert((segment.from, segment.to));
        }
        let isn = self.local_isn.unwrap_or(segment.seq);
        let actual = describe_segment(&segment, isn, self.ts_offset);
        let mismatch = |what: &str| Verdict::Fail {
            line,
            expected: expected.clone(),
            actual: format!("{actual} ({what} differs)"),
        };
        if flags_of(packet) != segment.flags {
            return Err(mismatch("the flags"));
        }
        let start = segment.seq.wrapping_sub(isn);
        if start != packet.start || segment.len != packet.len {
            return Err(mismatch("the sequence range"));
        }
        if let Some(ack) = packet.ack {
            if segment.ack.wrapping_sub(REMOTE_ISN) != ack {
                return Err(mismatch("the acknowledgement"));
            }
        }
        if let Some(win) = packet.win {
            if u32::from(segment.win) != win {
                return Err(mismatch("the window"));
            }
        }
        if packet.options == PacketOptions::Unwritten && !segment.options.is_empty() {
            return Err(mismatch("the options (the line writes none)"));
        }
        if let PacketOptions::List(list) = &packet.options {
            if let Some(TcpOption::Timestamp { value, .. }) =
                list.iter().find(|option| matches!(option, TcpOption::Timestamp { .. }))
            {
                if let Some((engine_value, _)) = segment.options.ts {
                    self.ts_offset.get_or_insert(engine_value.wrapping_sub(*value));
                }
            }
            if !options_match(list, &segment.options) {
                return Err(mismatch("the options"));
            }
        }
        if time != EventTime::Any {
            let earliest = due.saturating_sub(tolerance);
            if sent_at < earliest || sent_at > deadline {
                return Err(Verdict::Fail {
                    line,
                    expected: format!("{expected} at {} (± {})", seconds(due), seconds(tolerance)),
                    actual: format!("{actual} at {}", seconds(sent_at)),
                });
            }
        }
        self.last = Some((if time == EventTime::Any { sent_at } else { due }, sent_at, false));
        Ok(())
    }

    /// Joins to `segment` the data segments sent right behind it in the same instant, up to
    /// `len` bytes in all: Linux hands packetdrill's tun device one TSO packet where the
    /// engine traces each MSS-sized segment it becomes on a wire.
    fn join_burst(&mut self, segment: &mut Segment, sent_at: u64, len: u32) {
        let events = &self.world.trace.events;
        let mut at = self.seen_segments;
        while segment.len < len && at < events.len() {
            let event = &events[at];
            at += 1;
            let EventKind::Segment(next) = &event.kind else { continue };
            if next.fate != Fate::Sent || next.from.ip != LOCAL {
                continue;
            }
            let follows = event.t_us == sent_at
                && next.seq == segment.seq.wrapping_add(segment.len)
                && next.ack == segment.ack
                && !next.flags.syn
                && !segment.flags.fin
                && segment.len + next.len <= len;
            if !follows {
                break;
            }
            segment.header.len += next.len;
            segment.header.flags.psh |= next.flags.psh;
            segment.header.flags.fin |= next.flags.fin;
            segment.header.win = next.win;
            self.seen_segments = at;
        }
    }

    fn syscall(&mut self, line: u32, text: &str, syscall: &Syscall, time: EventTime, at: u64) -> Result<(), Verdict> {
        if self.blocked.is_some() {
            // The blocked call may have returned by now.
            self.world.run_to(at);
            self.check_blocked_return()?;
        }
        if self.blocked.is_some() {
            return Err(Verdict::Unsupported {
                line,
                construct: "a system call while another one is still blocked".into(),
            });
        }
        let mut step = self.step_for(line, syscall)?;
        step.note = Some(notes::syscall(line, text));
        self.world.run_to(at);
        self.note_outbound_so_far();
        self.read_returns();
        let returns_before = self.returns.len();
        let events_before = self.world.trace.events.len();
        self.world.give_step(self.pid, step);
        self.world.run_to(at);
        let pid = self.pid;
        let told = self.world.trace.events[events_before..]
            .iter()
            .position(|event| matches!(&event.kind, EventKind::Note { pid: Some(by), .. } if *by == pid));
        if let Some(offset) = told {
            self.lines.push(LineNote { line, event: events_before + offset });
        }
        let expect = (syscall.result.clone(), syscall.errno.clone());
        if let Some(end) = syscall.end {
            let end_us = match time {
                EventTime::Absolute(_) | EventTime::AbsoluteRange(..) => end,
                _ => (at - time_offset(time)).saturating_add(end),
            };
            self.blocked =
                Some(Pending { line, end_us, start_us: at, call: syscall.name.clone(), expect, returns_before });
            self.last = Some((at, at, false));
            return Ok(());
        }
        self.read_returns();
        let Some(Returned { at: returned_at, result, errno, value }) = self.returns.get(returns_before).cloned() else {
            return Err(Verdict::Fail {
                line,
                expected: format!("{}() to return at once", syscall.name),
                actual: "it blocked".into(),
            });
        };
        check_result(line, &syscall.name, &expect, result, errno.as_deref())?;
        if errno.is_none() {
            check_value(line, syscall, value.as_deref())?;
        }
        self.last = Some((at, returned_at, false));
        Ok(())
    }

    /// A `%{ … }%` block's assertions on the socket under test's `tcp_info`, checked when its
    /// time comes.
    fn python(&mut self, line: u32, text: &str, block: &str, at: u64) -> Result<(), Verdict> {
        let assertions = python::assertions(block).map_err(|construct| Verdict::Unsupported { line, construct })?;
        self.world.run_to(at);
        self.note_outbound_so_far();
        self.note(Some(line), notes::python(line, text));
        let socket = self.ends.and_then(|(local, peer)| {
            self.world
                .sockets
                .iter()
                .find(|socket| !socket.freed && socket.local == Some(local) && socket.peer == Some(peer))
        });
        let Some(socket) = socket else {
            return Err(Verdict::Unsupported { line, construct: "tcp_info before the script has a connection".into() });
        };
        for assertion in &assertions {
            match assertion.check(|name| tcp_info::field(socket, at, name)) {
                Checked::Holds => {}
                Checked::Fails(actual) => {
                    return Err(Verdict::Fail { line, expected: "the assertion to hold".into(), actual })
                }
                Checked::Unknown(field) => {
                    return Err(Verdict::Unsupported { line, construct: format!("tcp_info's {field}") })
                }
            }
        }
        self.last = Some((at, at, false));
        Ok(())
    }

    /// A blocking call that has returned since: its time and its result, checked.
    fn check_blocked_return(&mut self) -> Result<(), Verdict> {
        let Some(returns_before) = self.blocked.as_ref().map(|pending| pending.returns_before) else { return Ok(()) };
        self.read_returns();
        let Some(Returned { at: returned_at, result, errno, .. }) = self.returns.get(returns_before).cloned() else {
            return Ok(());
        };
        let pending = self.blocked.take().expect("checked above");
        let tolerance = self.tolerance(pending.end_us, pending.start_us);
        if returned_at.saturating_add(tolerance) < pending.end_us
            || returned_at > pending.end_us.saturating_add(tolerance)
        {
            return Err(Verdict::Fail {
                line: pending.line,
                expected: format!(
                    "{}() to return at {} (± {})",
                    pending.call,
                    seconds(pending.end_us),
                    seconds(tolerance)
                ),
                actual: format!("it returned at {}", seconds(returned_at)),
            });
        }
        check_result(pending.line, &pending.call, &pending.expect, result, errno.as_deref())
    }

    /// Reads the returns of the script's process that the trace gained since the last read
    /// into `returns`.
    fn read_returns(&mut self) {
        let events = &self.world.trace.events;
        for event in &events[self.returns_read.min(events.len())..] {
            if let EventKind::Syscall { pid, phase: Phase::Return, result, errno, value, .. } = &event.kind {
                if *pid == self.pid {
                    self.returns.push(Returned {
                        at: event.t_us,
                        result: *result,
                        errno: errno.map(|errno| errno.to_string()),
                        value: value.clone(),
                    });
                }
            }
        }
        self.returns_read = events.len();
    }

    /// The engine's step for a script's call.
    fn step_for(&self, line: u32, syscall: &Syscall) -> Result<Step, Verdict> {
        let unsupported = |what: String| Verdict::Unsupported { line, construct: what };
        let args = &syscall.args;
        let fd = |index: usize| -> Result<String, Verdict> {
            match args.get(index) {
                Some(Expr::Integer(fd)) => Ok(format!("fd{fd}")),
                _ => Err(unsupported(format!("{}() without a descriptor number", syscall.name))),
            }
        };
        let number = |index: usize| -> Option<u32> {
            match args.get(index) {
                Some(Expr::Integer(value)) => u32::try_from(*value).ok(),
                _ => None,
            }
        };
        // The name a new descriptor gets: its number, as the script expects it.
        let result_fd = match &syscall.result {
            Expr::Integer(fd) if *fd >= 0 => format!("fd{fd}"),
            _ => "failed".to_string(),
        };
        let call = match syscall.name.as_str() {
            "socket" => match args.get(1) {
                Some(Expr::Word(kind)) if kind == "SOCK_STREAM" => {
                    Call::Socket { name: result_fd, sock_type: SockType::Stream }
                }
                _ => return Err(unsupported("a socket() that is not SOCK_STREAM".into())),
            },
            "bind" => Call::Bind { fd: fd(0)?, addr: SockAddr { ip: Ipv4([0, 0, 0, 0]), port: PORT } },
            "listen" => Call::Listen { fd: fd(0)?, backlog: number(1).unwrap_or(1) },
            "accept" => Call::Accept { fd: fd(0)?, name: result_fd },
            "connect" => Call::Connect { fd: fd(0)?, addr: SockAddr { ip: REMOTE, port: PORT } },
            "write" | "send" if !matches!(args.get(1), Some(Expr::Ellipsis)) => {
                return Err(unsupported(format!("{}() from a buffer given by address", syscall.name)));
            }
            "write" | "send" => {
                let len = number(2).ok_or_else(|| unsupported(format!("{}() without a length", syscall.name)))?;
                let SendFlags { more, eor } = match syscall.name.as_str() {
                    "send" => send_flags(args.get(3))
                        .ok_or_else(|| unsupported("send() with flags other than MSG_MORE and MSG_EOR".into()))?,
                    _ => SendFlags::default(),
                };
                Call::Send { fd: fd(0)?, data: None, len: Some(len), more, eor }
            }
            "sendmsg" => {
                let len = iov_length(args.get(1))
                    .ok_or_else(|| unsupported("sendmsg() other than of plain buffers with msg_flags=0".into()))?;
                let SendFlags { more, eor } = send_flags(args.get(2))
                    .ok_or_else(|| unsupported("sendmsg() with flags other than MSG_MORE and MSG_EOR".into()))?;
                Call::Send { fd: fd(0)?, data: None, len: Some(len), more, eor }
            }
            "recvmsg" => {
                let len = recv_iov_length(args.get(1)).ok_or_else(|| {
                    unsupported("recvmsg() other than into plain buffers, with TCP_CM_INQ at most".into())
                })?;
                if !matches!(args.get(2), Some(Expr::Integer(0))) {
                    return Err(unsupported("recvmsg() with flags".into()));
                }
                Call::Recv { fd: fd(0)?, len: len.max(1) }
            }
            "read" | "recv" if !matches!(args.get(1), Some(Expr::Ellipsis)) => {
                return Err(unsupported(format!("{}() into a buffer given by address", syscall.name)));
            }
            "read" | "recv" => {
                let len = number(2).ok_or_else(|| unsupported(format!("{}() without a length", syscall.name)))?;
                if syscall.name == "recv" && !matches!(args.get(3), Some(Expr::Integer(0))) {
                    return Err(unsupported("recv() with flags".into()));
                }
                Call::Recv { fd: fd(0)?, len: len.max(1) }
            }
            "close" => Call::Close { fd: fd(0)? },
            "shutdown" => {
                let how = match args.get(1) {
                    Some(Expr::Word(word)) if word == "SHUT_RD" => How::Read,
                    Some(Expr::Word(word)) if word == "SHUT_WR" => How::Write,
                    Some(Expr::Word(word)) if word == "SHUT_RDWR" => How::Both,
                    _ => return Err(unsupported("shutdown() without SHUT_RD, SHUT_WR or SHUT_RDWR".into())),
                };
                Call::Shutdown { fd: fd(0)?, how }
            }
            "fcntl" => match (args.get(1), args.get(2)) {
                (Some(Expr::Word(op)), Some(flags)) if op == "F_SETFL" => {
                    Call::Fcntl { fd: fd(0)?, nonblock: Some(mentions(flags, "O_NONBLOCK")) }
                }
                (Some(Expr::Word(op)), None) if op == "F_GETFL" => Call::Fcntl { fd: fd(0)?, nonblock: None },
                _ => return Err(unsupported("fcntl() other than F_SETFL and F_GETFL".into())),
            },
            "setsockopt" => {
                let (Some(Expr::Word(name)), Some(value)) = (args.get(2), args.get(3)) else {
                    return Err(unsupported("setsockopt() without an option name and value".into()));
                };
                let (opt, value) =
                    socket_option(name, value).ok_or_else(|| unsupported(format!("setsockopt() of {name}")))?;
                Call::Setsockopt { fd: fd(0)?, opt, value }
            }
            "ioctl" => {
                let request = match args.get(1) {
                    Some(Expr::Word(word)) if word == "SIOCINQ" || word == "FIONREAD" => IoctlRequest::InQ,
                    Some(Expr::Word(word)) if word == "SIOCOUTQ" || word == "TIOCOUTQ" => IoctlRequest::OutQ,
                    _ => return Err(unsupported("ioctl() other than SIOCINQ or SIOCOUTQ".into())),
                };
                Call::Ioctl { fd: fd(0)?, request }
            }
            "getsockopt" => {
                let Some(Expr::Word(name)) = args.get(2) else {
                    return Err(unsupported("getsockopt() without an option name".into()));
                };
                let opt = option_name(name).ok_or_else(|| unsupported(format!("getsockopt() of {name}")))?;
                let readable = |items: &[Expr]| matches!(items, [Expr::Integer(_)] | [Expr::Word(_)]);
                if !matches!(args.get(3), Some(Expr::Array(items)) if readable(items)) {
                    return Err(unsupported(format!("getsockopt() of {name} into anything but [number]")));
                }
                Call::Getsockopt { fd: fd(0)?, opt }
            }
            other => return Err(unsupported(format!("the system call {other}()"))),
        };
        Ok(Step { call, at_ms: None, note: None, note_on_return: None, expect: None })
    }
}

/// The offset a relative time adds to the base it counts from.
fn time_offset(time: EventTime) -> u64 {
    match time {
        EventTime::Relative(t) | EventTime::RelativeRange(t, _) => t,
        _ => 0,
    }
}

/// A send()'s flags as the engine takes them: none, MSG_MORE, MSG_EOR, or both.
fn send_flags(flags: Option<&Expr>) -> Option<SendFlags> {
    let mut out = SendFlags::default();
    let words = match flags? {
        Expr::Integer(0) => return Some(out),
        Expr::Or(parts) => parts.iter().collect::<Vec<_>>(),
        word => vec![word],
    };
    for word in words {
        match word {
            Expr::Word(word) if word == "MSG_MORE" => out.more = true,
            Expr::Word(word) if word == "MSG_EOR" => out.eor = true,
            _ => return None,
        }
    }
    Some(out)
}

/// The send() flags the engine models.
#[derive(Default)]
struct SendFlags {
    /// MSG_MORE.
    more: bool,
    /// MSG_EOR.
    eor: bool,
}

/// The bytes a `struct msghdr` of plain buffers carries: `{msg_name(...)=...,
/// msg_iov(N)=[{..., len}, ...], msg_flags=0}`, with no control messages.
fn iov_length(msghdr: Option<&Expr>) -> Option<u32> {
    let Expr::Struct(fields) = msghdr? else { return None };
    let mut total: Option<u32> = None;
    for field in fields {
        let Expr::Assign(name, value) = field else { return None };
        match (&**name, &**value) {
            (Expr::Call(name, _), _) if name == "msg_name" => {}
            (Expr::Word(name), Expr::Integer(0)) if name == "msg_flags" => {}
            (Expr::Call(name, _), Expr::Array(buffers)) if name == "msg_iov" => {
                let mut sum = 0u32;
                for buffer in buffers {
                    let Expr::Struct(parts) = buffer else { return None };
                    let [Expr::Ellipsis, Expr::Integer(len)] = parts.as_slice() else { return None };
                    sum = sum.checked_add(u32::try_from(*len).ok()?)?;
                }
                total = Some(sum);
            }
            _ => return None,
        }
    }
    total
}

/// The bytes a recvmsg()'s `struct msghdr` asks for: plain buffers, and at most a
/// TCP_CM_INQ control message (checked against the call's value, see [`inq_expected`]).
fn recv_iov_length(msghdr: Option<&Expr>) -> Option<u32> {
    let Expr::Struct(fields) = msghdr? else { return None };
    let plain: Vec<Expr> = fields
        .iter()
        .filter(|field| !matches!(field, Expr::Assign(name, _) if **name == Expr::Word("msg_control".into())))
        .cloned()
        .collect();
    if plain.len() + 1 < fields.len() || (plain.len() < fields.len() && inq_expected(msghdr).is_none()) {
        return None;
    }
    iov_length(Some(&Expr::Struct(plain)))
}

/// The bytes left to read that a recvmsg() line's TCP_CM_INQ control message expects.
fn inq_expected(msghdr: Option<&Expr>) -> Option<i64> {
    let Expr::Struct(fields) = msghdr? else { return None };
    let control = fields.iter().find_map(|field| match field {
        Expr::Assign(name, value) if **name == Expr::Word("msg_control".into()) => Some(&**value),
        _ => None,
    })?;
    let Expr::Array(messages) = control else { return None };
    let [Expr::Struct(parts)] = messages.as_slice() else { return None };
    let part = |key: &str| {
        parts.iter().find_map(|part| match part {
            Expr::Assign(name, value) if **name == Expr::Word(key.into()) => Some(&**value),
            _ => None,
        })
    };
    match (part("cmsg_level"), part("cmsg_type"), part("cmsg_data")) {
        (Some(Expr::Word(level)), Some(Expr::Word(kind)), Some(Expr::Integer(data)))
            if level == "SOL_TCP" && kind == "TCP_CM_INQ" =>
        {
            Some(*data)
        }
        _ => None,
    }
}

/// Whether `expr` is `word` or an `A|B` that has it.
fn mentions(expr: &Expr, word: &str) -> bool {
    match expr {
        Expr::Word(w) => w == word,
        Expr::Or(parts) => parts.iter().any(|part| mentions(part, word)),
        _ => false,
    }
}

/// An option getsockopt() reads that holds a number.
fn option_name(name: &str) -> Option<OptName> {
    Some(match name {
        "SO_REUSEADDR" => OptName::ReuseAddr,
        "SO_REUSEPORT" => OptName::ReusePort,
        "SO_KEEPALIVE" => OptName::KeepAlive,
        "SO_RCVBUF" => OptName::RcvBuf,
        "SO_SNDBUF" => OptName::SndBuf,
        "SO_ERROR" => OptName::Error,
        "TCP_NODELAY" => OptName::NoDelay,
        "TCP_CORK" => OptName::Cork,
        "TCP_INQ" => OptName::Inq,
        "TCP_QUICKACK" => OptName::QuickAck,
        "TCP_MAXSEG" => OptName::MaxSeg,
        "TCP_USER_TIMEOUT" => OptName::UserTimeout,
        _ => return None,
    })
}

/// An option setsockopt() sets, with its value as the engine takes it.
fn socket_option(name: &str, value: &Expr) -> Option<(OptName, OptValue)> {
    let number = match value {
        Expr::Array(items) => match items.first() {
            Some(Expr::Integer(value)) => u32::try_from(*value).ok(),
            _ => None,
        },
        _ => None,
    };
    let flag = number.map(|value| OptValue::Flag(value != 0));
    Some(match name {
        "SO_REUSEADDR" => (OptName::ReuseAddr, flag?),
        "SO_REUSEPORT" => (OptName::ReusePort, flag?),
        "SO_KEEPALIVE" => (OptName::KeepAlive, flag?),
        "TCP_NODELAY" => (OptName::NoDelay, flag?),
        "TCP_CORK" => (OptName::Cork, flag?),
        "TCP_INQ" => (OptName::Inq, flag?),
        "TCP_QUICKACK" => (OptName::QuickAck, flag?),
        "SO_RCVBUF" => (OptName::RcvBuf, OptValue::Number(number?)),
        "TCP_MAXSEG" => (OptName::MaxSeg, OptValue::Number(number?)),
        "TCP_USER_TIMEOUT" => (OptName::UserTimeout, OptValue::Number(number?)),
        "SO_SNDBUF" => (OptName::SndBuf, OptValue::Number(number?)),
        "SO_LINGER" => {
            let Expr::Struct(fields) = value else { return None };
            let field = |wanted: &str| {
                fields.iter().find_map(|field| match field {
                    Expr::Assign(name, value) if **name == Expr::Word(wanted.into()) => match **value {
                        Expr::Integer(value) => u32::try_from(value).ok(),
                        _ => None,
                    },
                    _ => None,
                })
            };
            (OptName::Linger, OptValue::Linger(Linger { onoff: field("onoff")? != 0, linger: field("linger")? }))
        }
        _ => return None,
    })
}

/// The value a call hands back against the script's: getsockopt()'s `[number]`.
fn check_value(line: u32, syscall: &Syscall, value: Option<&str>) -> Result<(), Verdict> {
    if syscall.name == "recvmsg" {
        let Some(expected) = inq_expected(syscall.args.get(1)) else { return Ok(()) };
        if value.and_then(|value| value.parse::<i64>().ok()) == Some(expected) {
            return Ok(());
        }
        return Err(Verdict::Fail {
            line,
            expected: format!("recvmsg() to give TCP_CM_INQ = {expected}"),
            actual: format!("TCP_CM_INQ = {}", value.unwrap_or("nothing (TCP_INQ is off)")),
        });
    }
    let written = match syscall.name.as_str() {
        "getsockopt" => syscall.args.get(3),
        "ioctl" => syscall.args.get(2),
        _ => None,
    };
    // A number, or an errno's name for SO_ERROR.
    let expected = match written {
        Some(Expr::Array(items)) => match items.as_slice() {
            [Expr::Integer(expected)] => expected.to_string(),
            [Expr::Word(expected)] => expected.clone(),
            _ => return Ok(()),
        },
        _ => return Ok(()),
    };
    if value == Some(expected.as_str()) {
        return Ok(());
    }
    let option = match syscall.args.get(if syscall.name == "ioctl" { 1 } else { 2 }) {
        Some(Expr::Word(name)) => name.as_str(),
        _ => "the value",
    };
    Err(Verdict::Fail {
        line,
        expected: format!("{}() to give {option} = {expected}", syscall.name),
        actual: format!("{option} = {}", value.unwrap_or("nothing")),
    })
}

/// A call's result against the script's: the number (or `...` for any), and the errno.
fn check_result(
    line: u32,
    call: &str,
    (result, errno): &(Expr, Option<String>),
    actual: Option<i64>,
    actual_errno: Option<&str>,
) -> Result<(), Verdict> {
    let shown = match (actual, actual_errno) {
        (_, Some(errno)) => format!("-1 {errno}"),
        (Some(value), None) => value.to_string(),
        (None, None) => "nothing".to_string(),
    };
    let wanted = match (result, errno) {
        (Expr::Integer(value), Some(errno)) => format!("{value} {errno}"),
        (Expr::Integer(value), None) => value.to_string(),
        (Expr::Ellipsis, _) => return Ok(()),
        (other, _) => format!("{other:?}"),
    };
    let agrees = match (result, errno, actual, actual_errno) {
        (Expr::Integer(-1), Some(errno), _, Some(actual)) => errno == actual,
        (Expr::Integer(value), None, Some(actual), None) => *value == actual,
        _ => false,
    };
    if agrees {
        Ok(())
    } else {
        Err(Verdict::Fail { line, expected: format!("{call}() = {wanted}"), actual: format!("{call}() = {shown}") })
    }
}

fn flags_of(packet: &Packet) -> Flags {
    let has = |letter: char| packet.flags.contains(letter);
    Flags { syn: has('S'), ack: packet.ack_flag, fin: has('F'), rst: has('R'), psh: has('P') }
}

/// Whether the engine's options are the ones the line writes, in Linux's layout. A timestamp's
/// own value is not compared (packetdrill compares it only when told the clock's tick), its
/// echo is, as the peer sent it.
fn options_match(list: &[TcpOption], actual: &TcpOptions) -> bool {
    let written: Vec<String> = list
        .iter()
        .map(|option| match option {
            TcpOption::Nop => "nop".to_string(),
            TcpOption::Eol => "eol".to_string(),
            TcpOption::Mss(mss) => format!("mss {mss}"),
            TcpOption::WindowScale(scale) => format!("wscale {scale}"),
            TcpOption::SackPermitted => "sackOK".to_string(),
            TcpOption::Sack(blocks) => format!("sack {blocks:?}"),
            TcpOption::Timestamp { value, echo } => format!("TS val {value} ecr {echo}"),
            TcpOption::Other(name) => name.clone(),
        })
        .collect();
    let mut engine = *actual;
    if let (Some((_, echo)), Some(TcpOption::Timestamp { value, .. })) =
        (engine.ts, list.iter().find(|option| matches!(option, TcpOption::Timestamp { .. })))
    {
        engine.ts = Some((*value, echo));
    }
    written == engine.layout()
}

fn describe_packet(packet: &Packet) -> String {
    let mut text = format!(
        "{}{} {}:{}({})",
        packet.flags,
        if packet.ack_flag { "." } else { "" },
        packet.start,
        packet.end,
        packet.len
    );
    if let Some(ack) = packet.ack {
        text.push_str(&format!(" ack {ack}"));
    }
    if let Some(win) = packet.win {
        text.push_str(&format!(" win {win}"));
    }
    text
}

fn describe_segment(segment: &Segment, isn: u32, ts_offset: Option<u32>) -> String {
    let start = segment.seq.wrapping_sub(isn);
    let mut text =
        format!("{} {}:{}({})", segment.flags.letters(), start, start.wrapping_add(segment.len), segment.len);
    if segment.flags.ack {
        text.push_str(&format!(" ack {}", segment.ack.wrapping_sub(REMOTE_ISN)));
    }
    text.push_str(&format!(" win {}", segment.win));
    let mut options = segment.options;
    if let Some((value, echo)) = options.ts {
        options.ts = Some((value.wrapping_sub(ts_offset.unwrap_or(0)), echo));
    }
    if !options.is_empty() {
        text.push_str(&format!(" <{}>", options.layout().join(",")));
    }
    text
}

fn seconds(us: u64) -> String {
    format!("{:.6} s", us as f64 / 1e6)
}
