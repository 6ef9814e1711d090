//! Data tests of what the views show, over every event of every built-in scenario.
//!
//! A reader sees one moment through several views at once: the tcpdump pane, the sequence
//! diagram's arrows, the narration and `ss -tan`. These tests hold the views to one another
//! and to Linux: a segment has one set of numbers wherever it is printed, and `ss -tan`'s
//! queue columns follow the kernel's rule for each state (docs/linux-model.md, "Observing a
//! real kernel").

use std::collections::BTreeMap;

use sockscope_engine::format::{self, Numbering, SegmentNumbers};
use sockscope_engine::replay::{Snapshot, SocketView};
use sockscope_engine::trace::{Fate, Phase, Proto, Segment, SocketId};
use sockscope_engine::{builtin, run, EventKind, SockAddr, State, Trace};

fn run_builtin(name: &str) -> Trace {
    let scenario = builtin::get(name).unwrap_or_else(|| panic!("no built-in scenario `{name}`"));
    run(&scenario).unwrap_or_else(|err| panic!("{name}: {err}")).trace
}

// ===== one numbering for a segment in every view =====

/// The numbers a text prints for one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Printed {
    /// `seq N` or `seq N:M` (tcpdump, narration), or the books' `N:M(len)` (diagram).
    seq: Option<(u32, Option<u32>)>,
    ack: Option<u32>,
    /// The window field: tcpdump's `win N`, the narration's `window N × F = B bytes` or
    /// `window B bytes`.
    win: Option<u32>,
}

/// The number that starts `text`, and what follows it.
fn leading_number(text: &str) -> Option<(u32, &str)> {
    let end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    text[..end].parse().ok().map(|number| (number, &text[end..]))
}

/// The numbers after each `key ` in `text` that is followed by a digit.
fn numbers_after<'a>(text: &'a str, key: &'a str) -> impl Iterator<Item = (u32, &'a str)> + 'a {
    text.match_indices(key).filter_map(move |(at, _)| {
        let before_ok = at == 0 || !text.as_bytes()[at - 1].is_ascii_alphanumeric();
        before_ok.then(|| leading_number(&text[at + key.len()..])).flatten()
    })
}

fn printed(text: &str) -> Printed {
    let mut found = Printed::default();
    for (first, rest) in numbers_after(text, "seq ") {
        let last = rest.strip_prefix(':').and_then(leading_number).map(|(last, _)| last);
        found.seq = Some((first, last));
    }
    if found.seq.is_none() {
        // The diagram writes data as the books do: `1:17(16)`.
        for word in text.split_whitespace() {
            if let Some((first, rest)) = leading_number(word) {
                if let Some((last, rest)) = rest.strip_prefix(':').and_then(leading_number) {
                    if rest.starts_with('(') {
                        found.seq = Some((first, Some(last)));
                    }
                }
            }
        }
    }
    found.ack = numbers_after(text, "ack ").map(|(ack, _)| ack).last();
    found.win = numbers_after(text, "win ").map(|(win, _)| win).last();
    if let Some((number, rest)) = numbers_after(text, "window ").last() {
        if let Some(rest) = rest.strip_prefix(" × ") {
            let (factor, rest) = leading_number(rest).expect("a window factor");
            let (bytes, _) = leading_number(rest.strip_prefix(" = ").expect("= bytes")).expect("the bytes");
            assert_eq!(number * factor, bytes, "{text}");
            assert!(factor.is_power_of_two(), "{text}");
        }
        found.win = Some(number);
    }
    found
}

#[test]
fn the_number_parser_reads_every_view() {
    let tcpdump = "00:00:00.500000 IP 10.0.0.1.45678 > 10.0.0.2.9877: Flags [P.], seq 1:7, ack 1, win 502, length 6";
    assert_eq!(printed(tcpdump), Printed { seq: Some((1, Some(7))), ack: Some(1), win: Some(502) });
    assert_eq!(printed("P. 1:7(6) ack 1").seq, Some((1, Some(7))));
    let sentence = "client sends a bare ACK (ack 1, window 502 × 128 = 64256 bytes) to server.";
    assert_eq!(printed(sentence), Printed { seq: None, ack: Some(1), win: Some(502) });
}

/// Every segment of every built-in scenario, in both numberings: the tcpdump line, the
/// diagram's label and the narration's sentences (its sending, and its arrival or loss) print
/// the same sequence and acknowledgement numbers, and tcpdump's window field.
#[test]
fn every_segment_is_numbered_alike_in_tcpdump_the_diagram_and_the_story() {
    for name in builtin::names() {
        let trace = run_builtin(name);
        for numbering in [Numbering::Relative, Numbering::Absolute] {
            let tcpdump: BTreeMap<usize, String> = format::tcpdump_lines(&trace, numbering).into_iter().collect();
            let story: BTreeMap<usize, String> = format::story(&trace, numbering).into_iter().collect();
            let mut numbers = SegmentNumbers::new(numbering);
            let mut sent: BTreeMap<u64, Printed> = BTreeMap::new();
            for (index, event) in trace.events.iter().enumerate() {
                let EventKind::Segment(segment) = &event.kind else { continue };
                let shown = numbers.shown(segment);
                let sentence = story.get(&index).unwrap_or_else(|| panic!("{name}: segment event {index} untold"));
                let in_sentence = printed(sentence);
                let at = format!("{name} ({numbering:?}), event {index}");
                if segment.fate == Fate::Sent {
                    let line = tcpdump.get(&index).unwrap_or_else(|| panic!("{at}: no tcpdump line"));
                    let in_tcpdump = printed(line);
                    let label = format::segment_label(segment, &shown);
                    let in_label = printed(&label);
                    assert_eq!(in_label.seq, in_tcpdump.seq, "{at}: `{label}` / `{line}`");
                    assert_eq!(in_label.ack, in_tcpdump.ack, "{at}: `{label}` / `{line}`");
                    assert_eq!(in_sentence.seq, in_tcpdump.seq, "{at}: `{sentence}` / `{line}`");
                    assert_eq!(in_sentence.ack, in_tcpdump.ack, "{at}: `{sentence}` / `{line}`");
                    if in_sentence.win.is_some() {
                        assert_eq!(in_sentence.win, in_tcpdump.win, "{at}: `{sentence}` / `{line}`");
                    }
                    if numbering == Numbering::Absolute && segment.proto == Proto::Tcp {
                        assert_eq!(in_tcpdump.seq.map(|(first, _)| first).unwrap_or(segment.seq), segment.seq, "{at}");
                        assert_eq!(in_tcpdump.ack.unwrap_or(segment.ack), segment.ack, "{at}");
                    }
                    sent.insert(segment.id, in_sentence);
                } else {
                    assert_eq!(Some(&in_sentence), sent.get(&segment.id), "{at}: `{sentence}`");
                }
            }
        }
    }
}

/// The window a bare ACK's sentence gives is in bytes: the field scaled by the shift its
/// sender offered, when both SYNs offered one (RFC 7323 2.3).
#[test]
fn the_story_gives_windows_in_bytes() {
    let story = format::story(&run_builtin("lost-final-ack"), Numbering::Relative);
    let handshake_ack = story.iter().find(|(_, text)| text.starts_with("client sends a bare ACK")).expect("an ACK");
    assert_eq!(handshake_ack.1, "client sends a bare ACK (ack 1, window 502 × 128 = 64256 bytes) to server.");
    // The server of flow-control asked for a small buffer before listen(): no scaling.
    let story = format::story(&run_builtin("flow-control"), Numbering::Relative);
    assert!(story.iter().any(|(_, text)| text.starts_with("server sends a bare ACK (ack 731, window 730 bytes)")));
}

/// Where one host runs several connections, the story names each end by its port.
#[test]
fn the_story_names_the_connection_where_a_host_has_several() {
    let story = format::story(&run_builtin("listen-queues"), Numbering::Relative);
    let syns: Vec<&str> =
        story.iter().map(|(_, text)| text.as_str()).filter(|text| text.contains(" sends SYN ")).collect();
    assert_eq!(syns.len(), 3, "{syns:#?}");
    for (text, port) in syns.iter().zip([40001, 40002, 40003]) {
        assert!(text.starts_with(&format!("clients (port {port}) sends SYN (seq ")), "{text}");
    }
    assert!(story.iter().all(|(_, text)| !text.starts_with("clients sends")));
    let one = format::story(&run_builtin("three-way-handshake"), Numbering::Relative);
    assert!(one.iter().any(|(_, text)| text.starts_with("client sends SYN (seq ")));
}

// ===== ss -tan =====

/// What the test follows of one connection on the wire, to find `write_seq - snd_una`'s
/// SYN and FIN without asking the socket's state.
#[derive(Clone, Copy, Default)]
struct Wire {
    /// connect() has queued our SYN.
    syn_queued: bool,
    /// The sequence number after our SYN, once sent.
    syn_end: Option<u32>,
    /// close() or shutdown() has queued our FIN.
    fin_queued: bool,
    /// The sequence number after our FIN, once sent.
    fin_end: Option<u32>,
    /// The highest acknowledgement that has reached us.
    snd_una: Option<u32>,
    /// A recv() has taken the peer's FIN (it returned 0, or emptied RecvQ behind the FIN).
    fin_read: bool,
}

fn acked(wire: &Wire, end: Option<u32>) -> bool {
    match (end, wire.snd_una) {
        (Some(end), Some(una)) => una.wrapping_sub(end) as i32 >= 0,
        _ => false,
    }
}

/// The Recv-Q and Send-Q that Linux's `ss -tan` shows for a socket, computed from the wire:
/// `rcv_nxt - copied_seq` and `write_seq - snd_una` for a full socket (tcp_diag_get_info()),
/// the accept queue and the backlog for a listener, and nothing for the kernel's minisockets
/// (TIME_WAIT, and SYN_RECV on a listener's behalf), which have no queues.
fn expected_ss(socket: &SocketView, wire: &Wire) -> (u32, u32) {
    match socket.state {
        State::Listen => (socket.accept_q, socket.backlog),
        State::TimeWait => (0, 0),
        State::SynRecv if socket.listener.is_some() => (0, 0),
        _ => {
            let syn = u32::from(wire.syn_queued && !acked(wire, wire.syn_end));
            let fin = u32::from(wire.fin_queued && !acked(wire, wire.fin_end));
            (socket.recv_q + u32::from(socket.rcv_fin && !wire.fin_read), socket.send_q + syn + fin)
        }
    }
}

fn socket_between(snapshot: &Snapshot, local: SockAddr, peer: SockAddr) -> Option<SocketId> {
    snapshot
        .sockets
        .values()
        .find(|socket| {
            socket.proto == Proto::Tcp
                && socket.state != State::Closed
                && socket.local == Some(local)
                && socket.peer == Some(peer)
        })
        .map(|socket| socket.id)
}

fn follow_segment(snapshot: &Snapshot, segment: &Segment, wires: &mut BTreeMap<SocketId, Wire>) {
    if segment.proto != Proto::Tcp {
        return;
    }
    match segment.fate {
        Fate::Sent => {
            let Some(id) = socket_between(snapshot, segment.from, segment.to) else { return };
            let wire = wires.entry(id).or_default();
            let end = segment.seq.wrapping_add(segment.len).wrapping_add(1);
            if segment.flags.syn && wire.syn_end.is_none() {
                wire.syn_end = Some(end);
            }
            if segment.flags.fin && wire.fin_end.is_none() {
                wire.fin_end = Some(end);
            }
        }
        Fate::Delivered if segment.flags.ack && !segment.flags.rst => {
            let Some(id) = socket_between(snapshot, segment.to, segment.from) else { return };
            let wire = wires.entry(id).or_default();
            let newer = wire.snd_una.is_none_or(|una| segment.ack.wrapping_sub(una) as i32 > 0);
            if newer {
                wire.snd_una = Some(segment.ack);
            }
        }
        _ => {}
    }
}

/// Every moment of every built-in scenario: each row of `ss -tan` shows the queue columns
/// that Linux would, derived here from the segments on the wire rather than from the state.
///
/// A moment is the world after the last event of a simulated instant, when a real `ss` could
/// run. Within an instant the trace lists one change at a time (a segment arrives, then the
/// state it causes), which Linux makes at once under the socket's lock.
#[test]
fn ss_queue_columns_follow_linux_for_every_state_at_every_moment() {
    for name in builtin::names() {
        let trace = run_builtin(name);
        let mut snapshot = Snapshot::default();
        let mut wires: BTreeMap<SocketId, Wire> = BTreeMap::new();
        for (index, event) in trace.events.iter().enumerate() {
            match &event.kind {
                EventKind::Segment(segment) => follow_segment(&snapshot, segment, &mut wires),
                EventKind::State { socket, to: State::SynSent, .. } => {
                    wires.entry(*socket).or_default().syn_queued = true;
                }
                EventKind::State { socket, to: State::FinWait1 | State::LastAck, .. } => {
                    wires.entry(*socket).or_default().fin_queued = true;
                }
                EventKind::Socket { socket, .. } if !snapshot.sockets.contains_key(socket) => {
                    wires.remove(socket);
                }
                _ => {}
            }
            snapshot.apply(event);
            if let EventKind::Syscall { call, phase: Phase::Return, socket: Some(id), errno: None, .. } = &event.kind {
                if let Some(view) = snapshot.sockets.get(id) {
                    if (call == "recv" || call == "recvfrom") && view.rcv_fin && view.recv_q == 0 {
                        wires.entry(*id).or_default().fin_read = true;
                    }
                }
            }
            let settled = trace.events.get(index + 1).is_none_or(|next| next.t_us > event.t_us);
            if !settled {
                continue;
            }
            for host in &snapshot.hosts {
                let table = format::ss(&snapshot, &host.name);
                let rows: Vec<Vec<&str>> =
                    table.lines().skip(1).map(|line| line.split_whitespace().collect()).collect();
                let sockets = snapshot.sockets_of(&host.name).filter(|socket| {
                    socket.proto == Proto::Tcp && socket.state != State::Closed && socket.local.is_some()
                });
                for socket in sockets {
                    let local = socket.local.expect("filtered").to_string();
                    let row = rows
                        .iter()
                        .find(|row| {
                            row[0] == socket.state.ss_name() && row[3] == local && {
                                let peer = socket.peer.map_or("0.0.0.0:*".to_string(), |peer| peer.to_string());
                                row[4] == peer || socket.state == State::Listen
                            }
                        })
                        .unwrap_or_else(|| panic!("{name}, event {index}: no row for #{}\n{table}", socket.id));
                    let wire = wires.get(&socket.id).copied().unwrap_or_default();
                    let (recv_q, send_q) = expected_ss(socket, &wire);
                    assert_eq!(
                        (row[1], row[2]),
                        (recv_q.to_string().as_str(), send_q.to_string().as_str()),
                        "{name}, after event {index}: socket #{} in {}\n{table}",
                        socket.id,
                        socket.state.name()
                    );
                }
            }
        }
    }
}

/// `ss -tan` at moments of the built-in scenarios, against what the real command printed
/// on the reference machine for a socket in the same situation (docs/linux-model.md).
#[test]
fn ss_shows_what_linux_showed() {
    // (scenario, the moment: the first event after which `ss` on `host` shows `row`)
    let cases = [
        // The handshake's SYN is one sequence number: SYN-SENT 0 1 until it is acknowledged.
        ("three-way-handshake", "client", "SYN-SENT 0 1 10.0.0.1:41952 10.0.0.2:9877"),
        // A connection on a listener's behalf is a request socket, without queues.
        ("three-way-handshake", "server", "SYN-RECV 0 0 10.0.0.2:9877 10.0.0.1:41952"),
        // Simultaneous open makes SYN_RECV a full socket whose SYN is unacknowledged.
        ("simultaneous-open", "alpha", "SYN-RECV 0 1"),
        // A listener: the accept queue's length and the backlog.
        ("listen-queues", "server", "LISTEN 3 5 0.0.0.0:9877 0.0.0.0:*"),
        // The peer's FIN counts as a byte until recv() takes it.
        ("three-way-handshake", "server", "CLOSE-WAIT 1 0 10.0.0.2:9877 10.0.0.1:41952"),
        ("three-way-handshake", "server", "CLOSE-WAIT 0 0 10.0.0.2:9877 10.0.0.1:41952"),
        // The closer's FIN counts in Send-Q until it is acknowledged.
        ("three-way-handshake", "client", "FIN-WAIT-1 0 1 10.0.0.1:41952 10.0.0.2:9877"),
        ("lost-final-ack", "server", "LAST-ACK 0 1 10.0.0.2:9877 10.0.0.1:45678"),
        ("simultaneous-close", "client", "CLOSING 1 1"),
        ("three-way-handshake", "client", "TIME-WAIT 0 0 10.0.0.1:41952 10.0.0.2:9877"),
    ];
    for (name, host, row) in cases {
        let trace = run_builtin(name);
        let wanted: Vec<&str> = row.split_whitespace().collect();
        let mut snapshot = Snapshot::default();
        let seen = trace.events.iter().any(|event| {
            snapshot.apply(event);
            format::ss(&snapshot, host).lines().any(|line| {
                let columns: Vec<&str> = line.split_whitespace().collect();
                columns.len() >= wanted.len() && columns[..wanted.len()] == wanted[..]
            })
        });
        assert!(seen, "{name}: `ss -tan` on {host} never shows `{row}`");
    }
}

/// lost-final-ack at the server's FIN retransmission: the server has read end of
/// file and waits for the ACK of its FIN, the client is in TIME_WAIT.
#[test]
fn lost_final_ack_shows_last_ack_0_1_and_time_wait_0_0() {
    let trace = run_builtin("lost-final-ack");
    let resent_fin = trace
        .events
        .iter()
        .position(|event| {
            matches!(&event.kind, EventKind::Segment(segment)
                if segment.fate == Fate::Sent && segment.flags.fin && segment.retransmission)
        })
        .expect("the server resends its FIN");
    let timeline = sockscope_engine::replay::Timeline::new(&trace);
    let snapshot = timeline.at(&trace, resent_fin + 1);
    let rows = |host: &str| -> Vec<String> {
        format::ss(&snapshot, host)
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(rows("server"), ["LAST-ACK 0 1"]);
    assert_eq!(rows("client"), ["TIME-WAIT 0 0"]);
}

// ===== a blocked send() =====

/// The largest SendQ at which Linux wakes a blocked writer (sk_stream_is_writeable(): free
/// room at least half of what is queued), found by counting.
fn wake_level(sndbuf: u32) -> u32 {
    (0..=sndbuf).rev().find(|queued| sndbuf - queued >= queued / 2).unwrap_or(0)
}

/// What a blocked send() says, at every moment of every built-in scenario: how many of its
/// bytes it has copied (counted here from SendQ and the peer's acknowledgements on the wire)
/// and the SendQ level it waits for, which SendQ is above while it waits.
#[test]
fn a_blocked_send_says_what_it_copied_and_what_it_waits_for() {
    let mut blocked_moments = 0;
    for name in builtin::names() {
        let trace = run_builtin(name);
        let mut snapshot = Snapshot::default();
        // The highest ACK each socket has received, and per process its send()'s start:
        // (socket, SendQ, highest ACK).
        let mut una: BTreeMap<SocketId, u32> = BTreeMap::new();
        let mut entered: BTreeMap<sockscope_engine::trace::Pid, (SocketId, u32, u32)> = BTreeMap::new();
        for (index, event) in trace.events.iter().enumerate() {
            match &event.kind {
                EventKind::Segment(segment)
                    if segment.fate == Fate::Delivered && segment.flags.ack && segment.proto == Proto::Tcp =>
                {
                    if let Some(id) = socket_between(&snapshot, segment.to, segment.from) {
                        let newer = una.get(&id).is_none_or(|old| segment.ack.wrapping_sub(*old) as i32 > 0);
                        if newer {
                            una.insert(id, segment.ack);
                        }
                    }
                }
                EventKind::Syscall { pid, call, phase: Phase::Enter, socket: Some(id), .. } if call == "send" => {
                    let send_q = snapshot.sockets.get(id).map_or(0, |socket| socket.send_q);
                    entered.insert(*pid, (*id, send_q, una.get(id).copied().unwrap_or(0)));
                }
                _ => {}
            }
            snapshot.apply(event);
            if trace.events.get(index + 1).is_some_and(|next| next.t_us == event.t_us) {
                continue;
            }
            for process in snapshot.processes.values() {
                let Some(reason) = process.call.as_ref().and_then(|call| call.blocked.as_deref()) else { continue };
                let Some(rest) = reason.strip_prefix("no room in SendQ: ") else { continue };
                let at = format!("{name}, after event {index}: {reason}");
                let (copied, rest) = leading_number(rest).expect("the bytes copied");
                let (_, rest) = leading_number(rest.strip_prefix(" of the ").expect("of the")).expect("the total");
                let level = numbers_after(rest, "down to ").next().expect("a level").0;
                let (id, send_q_then, una_then) = entered[&process.pid];
                let socket = snapshot.sockets.get(&id).expect("a blocked send() has its socket");
                let acked = una.get(&id).copied().unwrap_or(0).wrapping_sub(una_then);
                assert_eq!(copied, socket.send_q + acked - send_q_then, "{at}");
                assert_eq!(level, wake_level(socket.send_cap), "{at}");
                assert!(socket.send_q > level, "{at}: SendQ is {}, so send() would not wait", socket.send_q);
                blocked_moments += 1;
            }
        }
    }
    assert!(blocked_moments > 10, "the scenarios block in send() at only {blocked_moments} moments");
}

// ===== the narration's own words =====

/// A step's `note_on_return` is told right after its call returns, so what it describes has
/// happened; in lost-final-ack the server hears of the client's FIN after the FIN arrives at
/// 1.01 s, not when its recv() starts at 0.51 s.
#[test]
fn notes_on_return_are_told_when_the_call_returns() {
    let mut told = 0;
    for name in builtin::names() {
        let scenario = builtin::get(name).expect("a built-in scenario");
        let on_return: Vec<(&str, &str)> = scenario
            .processes
            .iter()
            .flat_map(|process| process.steps.iter().map(move |step| (process.name.as_str(), step)))
            .filter_map(|(process, step)| Some((process, step.note_on_return.as_deref()?)))
            .collect();
        let trace = run_builtin(name);
        for (index, event) in trace.events.iter().enumerate() {
            let EventKind::Note { pid: Some(pid), text } = &event.kind else { continue };
            if !on_return.iter().any(|(_, note)| note == text) {
                continue;
            }
            let before = &trace.events[index - 1].kind;
            assert!(
                matches!(before, EventKind::Syscall { pid: caller, phase: Phase::Return, .. } if caller == pid),
                "{name}: `{text}` follows {before:?}"
            );
            told += 1;
        }
    }
    assert!(told >= 25, "only {told} notes on return were told");
    let trace = run_builtin("lost-final-ack");
    let fin_arrives = trace
        .events
        .iter()
        .position(|event| {
            matches!(&event.kind, EventKind::Segment(segment)
                if segment.fate == Fate::Delivered && segment.flags.fin && segment.to.port == 9877)
        })
        .expect("the client's FIN arrives");
    let note = trace
        .events
        .iter()
        .position(|event| matches!(&event.kind, EventKind::Note { text, .. } if text.contains("The client's FIN")))
        .expect("the server's note on the FIN");
    assert!(note > fin_arrives, "the note on the client's FIN comes before the FIN arrives");
}

/// The built-in scenarios' words spell TCP states as the trace and the diagrams do
/// (`FIN_WAIT1`, `SYN_RECV`), not as RFC 793 does (`FIN-WAIT-1`, `SYN-RECEIVED`) or with an
/// extra underscore (`FIN_WAIT_1`).
#[test]
fn the_scenarios_spell_states_as_the_trace_does() {
    let names: Vec<&str> = State::ALL.iter().map(|state| state.name()).collect();
    for name in builtin::names() {
        let scenario = builtin::get(name).expect("a built-in scenario");
        let mut texts = vec![scenario.title.clone(), scenario.description.clone()];
        for process in &scenario.processes {
            for step in &process.steps {
                texts.extend(step.note.iter().cloned());
                texts.extend(step.note_on_return.iter().cloned());
            }
        }
        for text in &texts {
            for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
                let stateish = ["SYN", "FIN", "CLOSE", "LAST", "TIME", "ESTAB", "LISTEN", "CLOSING"]
                    .iter()
                    .any(|start| word.starts_with(start))
                    && word.len() > 4
                    && (word.contains('_') || word.contains('-'));
                assert!(!stateish || names.contains(&word), "{name}: `{word}` in “{text}”");
            }
        }
    }
}
