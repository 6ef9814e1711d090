//! Text views of a trace: tcpdump lines, `ss -tan` tables, the sequence diagram's labels and
//! a narrated story.
//!
//! Each reads only the trace (and snapshots rebuilt from it). The views that print a
//! segment's numbers take them from one [`SegmentNumbers`], so that tcpdump, the diagram and
//! the narration number a segment alike.

use std::fmt::Write as _;

use crate::addr::{Ipv4, SockAddr};
use crate::replay::Snapshot;
use crate::state::State;
use crate::trace::{
    Event, EventKind, Fate, Phase, ProcessAction, Proto, Segment, SocketAction, TimerAction, TimerKind, Trace,
};
use crate::vecmap::VecMap;

mod numbers;

pub use numbers::{Numbering, SegmentNumbers, Shown};

/// `HH:MM:SS.uuuuuu` from simulated microseconds, as tcpdump prints wall-clock time.
pub fn clock(t_us: u64) -> String {
    let seconds = t_us / 1_000_000;
    format!("{:02}:{:02}:{:02}.{:06}", seconds / 3600, seconds / 60 % 60, seconds % 60, t_us % 1_000_000)
}

/// Seconds with millisecond precision, e.g. `60.040 s`.
pub fn seconds(t_us: u64) -> String {
    format!("{}.{:03} s", t_us / 1_000_000, t_us / 1000 % 1000)
}

/// A non-negative number as Rust's `{}` writes it (`1000`, `0.5`, `0.05`), for the scenario
/// values that the trace quotes (sleeps in milliseconds, loss rates), to six decimal places.
///
/// Written with integers because float formatting is several kilobytes of the web page's code.
/// For values given with at most six decimals, which is anything the engine can use (it counts
/// microseconds), the text is the one `{}` gives; a value with more decimals is rounded.
pub fn decimal(value: f64) -> String {
    const SCALE: u64 = 1_000_000;
    let sign = if value < 0.0 { "-" } else { "" };
    // Too large for six decimals in a u64 (or not a number): shown whole, the cast saturating.
    let scaled = (value.abs() * SCALE as f64).round();
    if scaled >= 1.8e19 || scaled.is_nan() {
        return format!("{sign}{}", value.abs() as u64);
    }
    let scaled = scaled as u64;
    let (whole, mut fraction) = (scaled / SCALE, scaled % SCALE);
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let mut places = 6;
    while fraction % 10 == 0 {
        fraction /= 10;
        places -= 1;
    }
    format!("{sign}{whole}.{fraction:0places$}")
}

/// The line tcpdump prints for a segment seen on the wire at `t_us`, with the numbers `shown`
/// (see [`SegmentNumbers`]: `tcpdump -n` or `tcpdump -n -S`).
pub fn tcpdump_line(t_us: u64, segment: &Segment, shown: &Shown) -> String {
    let mut line = format!("{} IP {} > {}: ", clock(t_us), segment.from.tcpdump(), segment.to.tcpdump());
    if segment.proto == Proto::Udp {
        let _ = write!(line, "UDP, length {}", segment.len);
        return line;
    }
    let _ = write!(line, "Flags [{}]", segment.flags.letters());
    if shows_seq(segment) {
        let _ = write!(line, ", seq {}", shown.seq);
        if segment.len > 0 {
            let _ = write!(line, ":{}", shown.seq.wrapping_add(segment.len));
        }
    }
    if segment.flags.ack {
        let _ = write!(line, ", ack {}", shown.ack);
    }
    let _ = write!(line, ", win {}", shown.win);
    if !segment.options.is_empty() {
        let _ = write!(line, ", options {}", segment.options.tcpdump());
    }
    let _ = write!(line, ", length {}", segment.len);
    line
}

/// Whether tcpdump prints a segment's sequence number: when it carries data, SYN, FIN or RST.
fn shows_seq(segment: &Segment) -> bool {
    segment.len > 0 || segment.flags.syn || segment.flags.fin || segment.flags.rst
}

/// Every segment as tcpdump on the path would print it, with the index of its `sent` event.
/// Dropped segments were still on the wire, so they are listed too.
pub fn tcpdump_lines(trace: &Trace, numbering: Numbering) -> Vec<(usize, String)> {
    let mut numbers = SegmentNumbers::new(numbering);
    let mut lines = Vec::new();
    for (index, event) in trace.events.iter().enumerate() {
        if let EventKind::Segment(segment) = &event.kind {
            let shown = numbers.shown(segment);
            if segment.fate == Fate::Sent {
                lines.push((index, tcpdump_line(event.t_us, segment, &shown)));
            }
        }
    }
    lines
}

/// The whole tcpdump text, one line per segment.
pub fn tcpdump(trace: &Trace, numbering: Numbering) -> String {
    let mut out = String::new();
    for (_, line) in tcpdump_lines(trace, numbering) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `ss -tan` for one host of a snapshot: listeners first, then connections, in socket order.
/// The queue columns follow Linux's rule for each state
/// ([`SocketView::ss_queues`](crate::replay::SocketView::ss_queues)).
pub fn ss(snapshot: &Snapshot, host: &str) -> String {
    let mut rows = vec![[
        "State".to_string(),
        "Recv-Q".to_string(),
        "Send-Q".to_string(),
        "Local Address:Port".to_string(),
        "Peer Address:Port".to_string(),
    ]];
    let sockets: Vec<_> = snapshot
        .sockets_of(host)
        .filter(|socket| socket.proto == Proto::Tcp && socket.state != State::Closed && socket.local.is_some())
        .collect();
    let listeners = sockets.iter().filter(|socket| socket.state == State::Listen);
    let others = sockets.iter().filter(|socket| socket.state != State::Listen);
    for socket in listeners.chain(others) {
        let local = socket.local.unwrap_or_default();
        let (recv_q, send_q) = socket.ss_queues();
        let peer = match socket.peer {
            Some(peer) if socket.state != State::Listen => peer.to_string(),
            _ => "0.0.0.0:*".to_string(),
        };
        rows.push([
            socket.state.ss_name().to_string(),
            recv_q.to_string(),
            send_q.to_string(),
            local.to_string(),
            peer,
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let line = format!(
            "{:<w0$} {:<w1$} {:<w2$} {:>w3$} {:>w4$}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The hosts, by address, whose TCP segments leave from more than one port during the run,
/// such as one host running several clients. There a host's name does not say which
/// connection a segment belongs to, so the narration and the diagram add the port.
pub fn hosts_with_several_ports(trace: &Trace) -> Vec<Ipv4> {
    let mut ports: VecMap<Ipv4, Vec<u16>> = VecMap::new();
    for event in &trace.events {
        if let EventKind::Segment(segment) = &event.kind {
            if segment.proto == Proto::Tcp && segment.fate == Fate::Sent {
                let seen = ports.get_or_insert_with(segment.from.ip, Vec::new);
                if !seen.contains(&segment.from.port) {
                    seen.push(segment.from.port);
                }
            }
        }
    }
    ports.iter().filter(|(_, ports)| ports.len() > 1).map(|(ip, _)| *ip).collect()
}

/// The port that tells a segment's connection apart from the others between the same hosts:
/// the sender's when its host uses several ports, else the receiver's, else none.
pub fn connection_port(segment: &Segment, several_ports: &[Ipv4]) -> Option<u16> {
    if segment.proto != Proto::Tcp {
        return None;
    }
    [segment.from, segment.to].into_iter().find(|end| several_ports.contains(&end.ip)).map(|end| end.port)
}

/// A segment as the sequence diagram labels it, in tcpdump's letters and with the numbers
/// `shown`, as the books draw it: `S seq 2433363436`, `S. seq 3203108257 ack 2433363437`,
/// `. ack 1`, `P. 1:17(16) ack 1`, `F. seq 49 ack 5`.
pub fn segment_label(segment: &Segment, shown: &Shown) -> String {
    if segment.proto == Proto::Udp {
        return format!("UDP ({})", segment.len);
    }
    let mut label = segment.flags.letters();
    if segment.len > 0 && !segment.flags.syn {
        let _ = write!(label, " {}:{}({})", shown.seq, shown.seq.wrapping_add(segment.len), segment.len);
    } else if shows_seq(segment) {
        let _ = write!(label, " seq {}", shown.seq);
    }
    if segment.flags.ack {
        let _ = write!(label, " ack {}", shown.ack);
    }
    if segment.retransmission {
        label.push_str(" (rexmit)");
    }
    label
}

/// What a segment carries, in words, with the numbers `shown` as tcpdump prints them:
/// `SYN (seq 2433363436)`, `SYN+ACK (seq 3203108257, ack 2433363437)`, `6 bytes of data
/// (seq 1:7, ack 1)`, `a bare ACK (ack 7, window 502 × 128 = 64256 bytes)`.
pub fn segment_summary(segment: &Segment, shown: &Shown) -> String {
    if segment.proto == Proto::Udp {
        return format!("a UDP datagram of {} bytes", segment.len);
    }
    let flags = segment.flags;
    let bare_ack = flags.ack && !flags.syn && !flags.fin && !flags.rst && segment.len == 0;
    let what = match (flags.rst, flags.syn, flags.ack) {
        (true, _, true) => "RST+ACK".to_string(),
        (true, _, false) => "RST".to_string(),
        (false, true, true) => "SYN+ACK".to_string(),
        (false, true, false) => "SYN".to_string(),
        _ if segment.len > 0 && flags.fin => format!("{} bytes of data and a FIN", segment.len),
        _ if segment.len > 0 => format!("{} bytes of data", segment.len),
        _ if flags.fin => "FIN".to_string(),
        _ if bare_ack => "a bare ACK".to_string(),
        _ => "a segment without flags".to_string(),
    };
    let mut numbers = Vec::new();
    if shows_seq(segment) {
        numbers.push(if segment.len > 0 {
            format!("seq {}:{}", shown.seq, shown.seq.wrapping_add(segment.len))
        } else {
            format!("seq {}", shown.seq)
        });
    }
    if flags.ack {
        numbers.push(format!("ack {}", shown.ack));
    }
    if bare_ack {
        numbers.push(window_text(shown));
    }
    let mut text = if numbers.is_empty() { what } else { format!("{what} ({})", numbers.join(", ")) };
    // A sent segment's reason says why it went out when that is not the ordinary flow.
    let why = if segment.fate == Fate::Sent { segment.reason.as_deref() } else { None };
    match (segment.retransmission, why) {
        (true, Some(why)) => {
            let _ = write!(text, ", a retransmission sent as a {why}");
        }
        (true, None) => text.push_str(", a retransmission"),
        (false, Some(why)) => {
            let _ = write!(text, ", sent as a {why}");
        }
        (false, None) => {}
    }
    text
}

/// The window in bytes; with window scaling also the header's field and the factor, as the
/// receiver computes it: `window 502 × 128 = 64256 bytes` (RFC 7323 2.3).
fn window_text(shown: &Shown) -> String {
    if shown.window_shift == 0 {
        format!("window {} bytes", shown.window_bytes())
    } else {
        format!("window {} × {} = {} bytes", shown.win, 1u32 << shown.window_shift.min(14), shown.window_bytes())
    }
}

/// Tells the story of a trace, one event at a time: a sentence for each event that matters
/// to a reader, with segments numbered as the tcpdump pane numbers them.
pub struct Narrator {
    numbers: SegmentNumbers,
    several_ports: Vec<Ipv4>,
}

impl Narrator {
    pub fn new(trace: &Trace, numbering: Numbering) -> Narrator {
        Narrator { numbers: SegmentNumbers::new(numbering), several_ports: hosts_with_several_ports(trace) }
    }

    /// A host's name for one end of a segment, with the port when the host uses several:
    /// `server`, `clients (port 40001)`.
    fn end_name(&self, before: &Snapshot, addr: SockAddr) -> String {
        let host = before.host_of_addr(addr).unwrap_or("?");
        if self.several_ports.contains(&addr.ip) {
            format!("{host} (port {})", addr.port)
        } else {
            host.to_string()
        }
    }

    /// One sentence for an event, given the world just before it. Every event must be passed,
    /// in order, even those without a sentence, so that the segments' numbers follow the run.
    pub fn sentence(&mut self, before: &Snapshot, event: &Event) -> Option<String> {
        match &event.kind {
            EventKind::Host { host, addr } => Some(format!("Host {host} has address {addr}.")),
            EventKind::Process { name, host, action, parent, .. } => Some(match action {
                ProcessAction::Start => format!("Process {name} starts on {host}."),
                ProcessAction::Fork => {
                    let parent =
                        parent.and_then(|pid| before.processes.get(&pid)).map_or("?", |process| process.name.as_str());
                    format!("{parent} forks {name}; the child shares every open socket (each descriptor's count goes up by one).")
                }
                ProcessAction::Exit => format!("{name} exits."),
            }),
            EventKind::Syscall { pid, process, call, args, phase, result, errno, reason, value, .. } => match phase {
                Phase::Enter => Some(format!("{process} calls {call}({args}).")),
                Phase::Block => {
                    let reason = reason.as_deref().unwrap_or("it must wait");
                    let again = before
                        .processes
                        .get(pid)
                        .and_then(|process| process.call.as_ref())
                        .is_some_and(|call| call.blocked.is_some());
                    Some(if again {
                        format!("{process}'s {call}() blocks again: {reason}.")
                    } else {
                        format!("{process}'s {call}() blocks: {reason}.")
                    })
                }
                Phase::Return => Some(match (errno, result) {
                    (Some(errno), _) => format!("{call}() fails with {errno} ({}).", errno.describe()),
                    (None, Some(result)) => match value {
                        // ioctl()'s value is a queue's level: say which, in bytes.
                        Some(value) if call == "ioctl" && args.ends_with("SIOCINQ") => {
                            format!("ioctl() returns {result}: {value} bytes wait in RecvQ to be read (SIOCINQ).")
                        }
                        Some(value) if call == "ioctl" => format!(
                            "ioctl() returns {result}: {value} bytes written are not yet acknowledged (SIOCOUTQ)."
                        ),
                        Some(value) if call == "recv" => format!(
                            "recv() returns {result}; TCP_INQ says {value} left to read (a FIN received counts as one)."
                        ),
                        Some(value) => format!("{call}() returns {result} ({value})."),
                        None => format!("{call}() returns {result}."),
                    },
                    (None, None) => format!("{call}() returns."),
                }),
            },
            EventKind::Segment(segment) => {
                let shown = self.numbers.shown(segment);
                let from = self.end_name(before, segment.from);
                let to = self.end_name(before, segment.to);
                let summary = segment_summary(segment, &shown);
                Some(match segment.fate {
                    Fate::Sent => format!("{from} sends {summary} to {to}."),
                    Fate::Delivered => format!("{to} receives {summary}."),
                    Fate::Dropped => format!(
                        "{} from {from} is lost: {}.",
                        capitalized(&summary),
                        segment.reason.as_deref().unwrap_or("dropped")
                    ),
                })
            }
            EventKind::State { host, local, peer, from, to, cause, .. } => {
                let peer = peer.map_or_else(String::new, |peer| format!(" to {peer}"));
                Some(format!("{host}: socket {local}{peer} goes from {from} to {to}: {cause}."))
            }
            EventKind::Timer { host, timer, action, deadline_us, .. } => match (action, timer) {
                (
                    TimerAction::Armed,
                    TimerKind::TimeWait | TimerKind::FinWait2 | TimerKind::Linger | TimerKind::Keepalive,
                ) => {
                    Some(format!("{host} starts the {} timer; it expires at {}.", timer.label(), seconds(*deadline_us)))
                }
                (TimerAction::Fired, TimerKind::LossProbe) => Some(format!(
                    "{host}'s tail loss probe timer expires: about two round trips have passed since its last \
                     segment went out and no ACK has covered it. Rather than wait for the retransmission timeout, \
                     {host} sends one probe (new data if the window allows, else its last segment again); the \
                     peer must answer it at once, so its ACK shows whether anything was lost (RACK-TLP, RFC 8985 \
                     section 7; Linux's tcp_send_loss_probe()). With a single segment outstanding the probe also \
                     waits the 200 ms minimum RTO, in case the peer's ACK is a delayed one, so it fires when the \
                     retransmission timer would have."
                )),
                (TimerAction::Fired, _) => Some(format!("{host}'s {} timer expires.", timer.label())),
                _ => None,
            },
            EventKind::Note { text, .. } => Some(text.clone()),
            EventKind::End { reason } => Some(format!("The run ends: {reason}.")),
            // Taking a connection off the accept queue changes two cards (the listener's count
            // and the connection's), so it is a step of its own rather than part of another.
            EventKind::Socket { host, socket, action: SocketAction::Accepted, local, peer, listener, .. } => {
                let connection = match (local, peer) {
                    (Some(local), Some(peer)) => format!("the connection {local} to {peer} (socket #{socket})"),
                    _ => format!("socket #{socket}"),
                };
                let queue =
                    listener.map_or_else(|| "its listener's".to_string(), |listener| format!("listener #{listener}'s"));
                Some(format!("{host}: accept() takes {connection} off {queue} accept queue."))
            }
            // A writer blocked in send() that the run loop lets go on once SendQ has room copies
            // more bytes without a new system call in the trace: this is the only sign of it.
            EventKind::Queues { socket, send_q, send_cap, .. } => {
                let old = before.sockets.get(socket)?;
                let writer = before.processes.values().find(|process| {
                    process.call.as_ref().is_some_and(|call| {
                        call.call == "send" && call.socket == Some(*socket) && call.blocked.is_some()
                    })
                })?;
                (*send_q > old.send_q).then(|| {
                    format!(
                        "{}'s blocked send() wakes: SendQ has room, and it copies {} more bytes into it ({send_q} of \
                         {send_cap} B).",
                        writer.name,
                        send_q - old.send_q
                    )
                })
            }
            // The sending limits are for plotting; the story tells of the segments and timers
            // that change them.
            EventKind::Fd { .. } | EventKind::Socket { .. } | EventKind::Congestion { .. } => None,
        }
    }
}

/// `text` cut to its first `longest` characters, with `…` when something was cut: how quoted
/// text (a script line, a name from an address) is kept short in a sentence.
pub fn clipped(text: &str, longest: usize) -> String {
    let mut short: String = text.chars().take(longest).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// `text` with its first letter in upper case. The texts start in ASCII, and
/// `char::to_uppercase` would bring Unicode's case tables into the page for nothing.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| format!("{}{}", first.to_ascii_uppercase(), chars.as_str()))
}

/// The story of a run: `(event index, sentence)` for every event that matters.
pub fn story(trace: &Trace, numbering: Numbering) -> Vec<(usize, String)> {
    let mut narrator = Narrator::new(trace, numbering);
    let mut snapshot = Snapshot::default();
    let mut lines = Vec::new();
    for (index, event) in trace.events.iter().enumerate() {
        if let Some(text) = narrator.sentence(&snapshot, event) {
            lines.push((index, text));
        }
        snapshot.apply(event);
    }
    lines
}

/// The story as text: `[seconds] sentence` per line.
pub fn narrate(trace: &Trace, numbering: Numbering) -> String {
    let mut out = String::new();
    for (index, text) in story(trace, numbering) {
        let _ = writeln!(out, "[{:>10}] {text}", seconds(trace.events[index].t_us));
    }
    out
}

/// Every socket's sequence of states, one line per socket: `client 10.0.0.1:60391: CLOSED
/// SYN_SENT ESTABLISHED ...`. The data tests compare this with what the books draw.
pub fn state_sequences(trace: &Trace) -> String {
    let mut sequences: VecMap<crate::trace::SocketId, (String, String, Vec<State>)> = VecMap::new();
    for event in &trace.events {
        if let EventKind::State { host, socket, local, from, to, .. } = &event.kind {
            let entry = sequences.get_or_insert_with(*socket, || (host.clone(), local.to_string(), vec![*from]));
            entry.1 = local.to_string();
            entry.2.push(*to);
        }
    }
    let mut out = String::new();
    for (host, local, states) in sequences.values() {
        let names: Vec<&str> = states.iter().map(|state| state.name()).collect();
        let _ = writeln!(out, "{host} {local}: {}", names.join(" "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_what_display_writes() {
        for value in [0.0, 1.0, 0.5, 0.05, 0.25, 1.5, 40.0, 200.0, 1000.0, 0.001, 2.125, 60000.0, 0.1, 0.3, 123.456789]
        {
            assert_eq!(decimal(value), format!("{value}"), "{value}");
        }
        assert_eq!(decimal(-1.5), "-1.5");
        assert_eq!(decimal(0.0000004), "0", "rounded to six places");
        assert_eq!(decimal(1e300), format!("{}", u64::MAX), "saturates");
    }
}
