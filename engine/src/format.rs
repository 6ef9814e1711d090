//! Text views of a trace: tcpdump lines, `ss -tan` tables and a narrated story.
//!
//! Each reads only the trace (and snapshots rebuilt from it).

use std::fmt::Write as _;

use crate::addr::SockAddr;
use crate::replay::Snapshot;
use crate::state::State;
use crate::trace::{
    Event, EventKind, Fate, Phase, ProcessAction, Proto, Segment, SocketAction, TimerAction, TimerKind, Trace,
};
use crate::vecmap::VecMap;

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

/// tcpdump's relative sequence numbers: it remembers each conversation's initial numbers
/// from the first segment carrying an ACK (print-tcp.c), and subtracts them afterwards.
#[derive(Clone, Debug, Default)]
pub struct Tcpdump {
    conversations: VecMap<(SockAddr, SockAddr), (u32, u32)>,
}

impl Tcpdump {
    /// The line tcpdump prints for a segment seen on the wire at `t_us`.
    pub fn line(&mut self, t_us: u64, segment: &Segment) -> String {
        let mut line = format!("{} IP {} > {}: ", clock(t_us), segment.from.tcpdump(), segment.to.tcpdump());
        if segment.proto == Proto::Udp {
            let _ = write!(line, "UDP, length {}", segment.len);
            return line;
        }
        let (mut seq, mut ack) = (segment.seq, segment.ack);
        if segment.flags.ack {
            let reverse = segment.from > segment.to;
            let key = if reverse { (segment.to, segment.from) } else { (segment.from, segment.to) };
            match self.conversations.get(&key) {
                Some(&(key_seq, key_ack)) if !segment.flags.syn => {
                    if reverse {
                        seq = seq.wrapping_sub(key_ack);
                        ack = ack.wrapping_sub(key_seq);
                    } else {
                        seq = seq.wrapping_sub(key_seq);
                        ack = ack.wrapping_sub(key_ack);
                    }
                }
                _ => {
                    let entry = if reverse { (ack.wrapping_sub(1), seq) } else { (seq, ack.wrapping_sub(1)) };
                    self.conversations.insert(key, entry);
                }
            }
        }
        let _ = write!(line, "Flags [{}]", segment.flags.letters());
        if segment.len > 0 || segment.flags.syn || segment.flags.fin || segment.flags.rst {
            let _ = write!(line, ", seq {seq}");
            if segment.len > 0 {
                let _ = write!(line, ":{}", seq.wrapping_add(segment.len));
            }
        }
        if segment.flags.ack {
            let _ = write!(line, ", ack {ack}");
        }
        let _ = write!(line, ", win {}", segment.win);
        if !segment.options.is_empty() {
            let _ = write!(line, ", options {}", segment.options.tcpdump());
        }
        let _ = write!(line, ", length {}", segment.len);
        line
    }
}

/// Every segment as tcpdump on the path would print it, with the index of its `sent` event.
/// Dropped segments were still on the wire, so they are listed too.
pub fn tcpdump_lines(trace: &Trace) -> Vec<(usize, String)> {
    let mut tcpdump = Tcpdump::default();
    trace
        .events
        .iter()
        .enumerate()
        .filter_map(|(index, event)| match &event.kind {
            EventKind::Segment(segment) if segment.fate == Fate::Sent => {
                Some((index, tcpdump.line(event.t_us, segment)))
            }
            _ => None,
        })
        .collect()
}

/// The whole tcpdump text, one line per segment.
pub fn tcpdump(trace: &Trace) -> String {
    let mut out = String::new();
    for (_, line) in tcpdump_lines(trace) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `ss -tan` for one host of a snapshot: listeners first, then connections, in socket order.
/// A listener's Recv-Q is its accept-queue length and its Send-Q its backlog; a connection's
/// Recv-Q counts an unread FIN as one byte, as Linux's does.
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
        let (recv_q, send_q, peer) = if socket.state == State::Listen {
            (socket.accept_q, socket.backlog, "0.0.0.0:*".to_string())
        } else {
            let peer = socket.peer.map_or_else(|| "0.0.0.0:*".to_string(), |peer| peer.to_string());
            (socket.recv_q + u32::from(socket.rcv_fin), socket.send_q, peer)
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

/// The shape of a segment in the books' diagrams: `SYN J`, `SYN K, ACK J+1`, `data 1:17 (16)`.
pub fn segment_summary(segment: &Segment) -> String {
    if segment.proto == Proto::Udp {
        return format!("UDP datagram of {} bytes", segment.len);
    }
    let flags = segment.flags;
    let mut parts = Vec::new();
    if flags.rst {
        parts.push("RST".to_string());
    }
    if flags.syn {
        parts.push(format!("SYN {}", segment.seq));
    }
    if segment.len > 0 {
        parts.push(format!("{} bytes of data", segment.len));
    }
    if flags.fin {
        parts.push("FIN".to_string());
    }
    if flags.ack {
        parts.push(format!("ACK {}", segment.ack));
    }
    let mut text = parts.join(", ");
    if flags.ack && !flags.syn && !flags.fin && !flags.rst && segment.len == 0 {
        text = format!("a bare ACK {} (window {})", segment.ack, segment.win);
    }
    // A sent segment's reason says why it went out when that is not the ordinary flow.
    let why = if segment.fate == Fate::Sent { segment.reason.as_deref() } else { None };
    match (segment.retransmission, why) {
        (true, Some(why)) => {
            let _ = write!(text, " (retransmission: {why})");
        }
        (true, None) => text.push_str(" (retransmission)"),
        (false, Some(why)) => {
            let _ = write!(text, " ({why})");
        }
        (false, None) => {}
    }
    text
}

/// One sentence for an event that matters to a reader, given the world just before it.
pub fn sentence(before: &Snapshot, event: &Event) -> Option<String> {
    let host_of = |addr: SockAddr| before.host_of_addr(addr).unwrap_or("?").to_string();
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
        EventKind::Syscall { process, call, args, phase, result, errno, reason, value, .. } => match phase {
            Phase::Enter => Some(format!("{process} calls {call}({args}).")),
            Phase::Block => {
                Some(format!("{process}'s {call}() blocks: {}.", reason.as_deref().unwrap_or("it must wait")))
            }
            Phase::Return => Some(match (errno, result) {
                (Some(errno), _) => format!("{call}() fails with {errno} ({}).", errno.describe()),
                (None, Some(result)) => match value {
                    Some(value) => format!("{call}() returns {result} ({value})."),
                    None => format!("{call}() returns {result}."),
                },
                (None, None) => format!("{call}() returns."),
            }),
        },
        EventKind::Segment(segment) => {
            let from = host_of(segment.from);
            let to = host_of(segment.to);
            let summary = segment_summary(segment);
            Some(match segment.fate {
                Fate::Sent => format!("{from} sends {summary} to {to}."),
                Fate::Delivered => format!("{to} receives {summary}."),
                Fate::Dropped => format!(
                    "The segment from {from} ({summary}) is lost: {}.",
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
            ) => Some(format!("{host} starts the {} timer; it expires at {}.", timer.label(), seconds(*deadline_us))),
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
                process
                    .call
                    .as_ref()
                    .is_some_and(|call| call.call == "send" && call.socket == Some(*socket) && call.blocked.is_some())
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
        EventKind::Fd { .. } | EventKind::Socket { .. } => None,
    }
}

/// The story of a run: `(event index, sentence)` for every event that matters.
pub fn story(trace: &Trace) -> Vec<(usize, String)> {
    let mut snapshot = Snapshot::default();
    let mut lines = Vec::new();
    for (index, event) in trace.events.iter().enumerate() {
        if let Some(text) = sentence(&snapshot, event) {
            lines.push((index, text));
        }
        snapshot.apply(event);
    }
    lines
}

/// The story as text: `[seconds] sentence` per line.
pub fn narrate(trace: &Trace) -> String {
    let mut out = String::new();
    for (index, text) in story(trace) {
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
