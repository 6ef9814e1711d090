//! Data checks over every event of every built-in scenario: the page only rests where a step
//! ends, every step says what it changed, and no two panes tell different queue levels or
//! states at any moment a reader can see.
//!
//! Each pane is a pure function of the snapshot (the process line is `call_status`, the
//! socket cards read the snapshot's sockets, the state diagram is `followed_socket`), so the
//! checks run natively, on the same functions the page draws with.

use std::collections::BTreeSet;

use sockscope_engine::builtin;
use sockscope_engine::format::Numbering;
use sockscope_engine::replay::{ProcessView, Snapshot};
use sockscope_engine::state::State;
use sockscope_engine::trace::{EventKind, Phase, Pid, SocketAction, SocketId};
use sockscope_frontend::call_status::call_status;
use sockscope_frontend::model::{self, Loaded};
use sockscope_frontend::steps::concern;
use sockscope_frontend::view::machine::{edge_for, followed_socket};

fn loaded(name: &str) -> Loaded {
    let text = builtin::source(name).expect("a built-in scenario").to_string();
    model::load_builtin(name, text).expect("the built-in scenario loads")
}

/// Collects what went wrong, and fails with the first few of them.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, problem: String) {
        self.0.push(problem);
    }

    fn assert_none(self, what: &str) {
        let shown: Vec<&String> = self.0.iter().take(25).collect();
        assert!(self.0.is_empty(), "{} {what}; the first ones:\n{shown:#?}", self.0.len());
    }
}

/// The words on a process's card.
fn card(snapshot: &Snapshot, process: &ProcessView) -> String {
    call_status(snapshot, process).text()
}

/// The number in `text` right after `prefix`, e.g. `holds 3` → 3.
fn number_after(text: &str, prefix: &str) -> Option<u64> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// What a process card says about a queue or a state, checked against the socket's own card.
fn check_process_cards(snapshot: &Snapshot, at: &str, problems: &mut Problems) {
    for process in snapshot.processes.values() {
        let text = card(snapshot, process);
        let Some(socket) = process.call.as_ref().and_then(|call| call.socket).and_then(|id| snapshot.sockets.get(&id))
        else {
            continue;
        };
        let mut claim = |holds: bool, what: &str| {
            if !holds {
                problems
                    .add(format!("{at}: {}'s card says “{text}” but socket #{} shows {what}", process.name, socket.id))
            }
        };
        let levels = format!(
            "{} with accept queue {}, RecvQ {}{}, SendQ {} / {}",
            socket.state.name(),
            socket.accept_q,
            socket.recv_q,
            if socket.rcv_fin { " + FIN" } else { "" },
            socket.send_q,
            socket.send_cap
        );
        if text.contains("accept queue is empty") {
            claim(socket.accept_q == 0, &levels);
        }
        if let Some(count) = number_after(&text, "the accept queue holds ") {
            claim(u64::from(socket.accept_q) == count, &levels);
        }
        if text.contains("waiting for the SYN+ACK") || text.contains("waiting for the connection to be established") {
            claim(matches!(socket.state, State::SynSent | State::SynRecv), &levels);
        }
        if text.contains("RecvQ is empty") {
            claim(socket.recv_q == 0 && !socket.rcv_fin, &levels);
        }
        if let Some(bytes) = number_after(&text, "RecvQ holds ") {
            claim(u64::from(socket.recv_q) == bytes, &levels);
        }
        if text.contains("SendQ is full") {
            claim(socket.send_q >= socket.send_cap, &levels);
        }
        if let Some(bytes) = number_after(&text, "SendQ holds ") {
            claim(u64::from(socket.send_q) == bytes, &levels);
            claim(
                number_after(&text, &format!("SendQ holds {bytes} of ")) == Some(u64::from(socket.send_cap)),
                &levels,
            );
        }
        if text.contains("lingering until the FIN is acknowledged") {
            claim(matches!(socket.state, State::FinWait1 | State::Closing | State::LastAck), &levels);
        }
        if text.contains("no datagram has arrived") {
            claim(socket.recv_q == 0, &levels);
        }
    }
}

/// A connection's card says which of its listener's queues it waits in; the listener's
/// counts must include it.
fn check_listener_queues(snapshot: &Snapshot, at: &str, problems: &mut Problems) {
    for listener in snapshot.sockets.values().filter(|socket| socket.state == State::Listen) {
        let children = snapshot.sockets.values().filter(|socket| socket.listener == Some(listener.id));
        let (half_open, complete): (Vec<_>, Vec<_>) = children.partition(|socket| socket.state == State::SynRecv);
        if (half_open.len(), complete.len()) != (listener.syn_q as usize, listener.accept_q as usize) {
            problems.add(format!(
                "{at}: listener #{} shows SYN queue {} and accept queue {}, but {} connections say they wait in its \
                 SYN queue and {} in its accept queue",
                listener.id,
                listener.syn_q,
                listener.accept_q,
                half_open.len(),
                complete.len()
            ));
        }
    }
}

#[test]
fn process_cards_agree_with_the_socket_cards_after_every_event() {
    let mut problems = Problems::default();
    for name in builtin::NAMES {
        let loaded = loaded(name);
        let mut snapshot = Snapshot::default();
        for (index, event) in loaded.trace.events.iter().enumerate() {
            snapshot.apply(event);
            check_process_cards(&snapshot, &format!("{name} after event {}", index + 1), &mut problems);
        }
    }
    problems.assert_none("process cards disagree with a socket card");
}

#[test]
fn panes_agree_at_every_position_a_reader_can_land_on() {
    let mut problems = Problems::default();
    for name in builtin::NAMES {
        let loaded = loaded(name);
        for &stop in loaded.timing.steps.stops() {
            let snapshot = loaded.timeline.at(&loaded.trace, stop);
            let at = format!("{name} at {stop}");
            check_process_cards(&snapshot, &at, &mut problems);
            check_listener_queues(&snapshot, &at, &mut problems);
            // The state diagram shows the state the socket's card shows.
            if let Some(followed) = followed_socket(&loaded, &snapshot, stop, None) {
                let card = snapshot.sockets.get(&followed.id).map(|socket| socket.state);
                if followed.alive && followed.state != card {
                    problems.add(format!(
                        "{at}: the diagram shows #{} in {:?}, its card {card:?}",
                        followed.id, followed.state
                    ));
                }
                if !followed.alive && followed.current_node().is_some_and(|node| node.state() != State::Closed) {
                    problems.add(format!("{at}: the diagram shows the freed #{} in {:?}", followed.id, followed.state));
                }
            }
            // The sentence on screen holds in the world on screen.
            let Some((opener, sentence)) = loaded.narration(stop, Numbering::Relative) else { continue };
            match &loaded.trace.events[opener].kind {
                EventKind::State { socket, to, .. } => {
                    if let Some(view) = snapshot.sockets.get(socket) {
                        if view.state != *to {
                            problems.add(format!("{at}: “{sentence}” but #{socket} shows {}", view.state.name()));
                        }
                    }
                }
                EventKind::Syscall { pid, phase, call, .. } => {
                    let Some(process) = snapshot.processes.get(pid) else { continue };
                    let text = card(&snapshot, process);
                    let fits = match phase {
                        Phase::Block => text.contains(" — blocked"),
                        Phase::Return => text.starts_with(&format!("{call}() = ")) || process.exited,
                        Phase::Enter => process.call.as_ref().is_some_and(|view| &view.call == call),
                    };
                    if !fits {
                        problems.add(format!("{at}: “{sentence}” but {}'s card says “{text}”", process.name));
                    }
                }
                EventKind::Socket { socket, action: SocketAction::Accepted, .. }
                    if snapshot.sockets.get(socket).is_some_and(|view| view.listener.is_some()) =>
                {
                    problems.add(format!("{at}: “{sentence}” but #{socket} still says it waits in a queue"));
                }
                _ => {}
            }
        }
    }
    problems.assert_none("panes disagree");
}

#[test]
fn every_step_is_one_narrated_event_and_changes_only_what_that_event_is_about() {
    let mut problems = Problems::default();
    for name in builtin::NAMES {
        let loaded = loaded(name);
        let stops = loaded.timing.steps.stops();
        for pair in stops.windows(2) {
            let (start, end) = (pair[0], pair[1]);
            let at = format!("{name} step {start}..{end}");
            let narrated: Vec<usize> = loaded
                .numbered(Numbering::Relative)
                .story
                .iter()
                .map(|(index, _)| *index)
                .filter(|index| (start..end).contains(index))
                .collect();
            if narrated.len() != 1 {
                problems.add(format!("{at}: {} narrated events (a step must have exactly one)", narrated.len()));
                continue;
            }
            let opener = narrated[0];
            if loaded.narration(end, Numbering::Relative).map(|(index, _)| index) != Some(opener) {
                problems.add(format!("{at}: the narration shown is not the step's own sentence"));
            }
            let before = loaded.timeline.at(&loaded.trace, start);
            let after = loaded.timeline.at(&loaded.trace, end);
            let at_opener = loaded.timeline.at(&loaded.trace, opener);
            let about = concern(&at_opener, &loaded.trace.events[opener]);
            if about.whole_world {
                continue;
            }
            // What the event is about reaches a connection's listener, a listener's
            // connections, a process's sockets, and the processes waiting on those sockets.
            let mut sockets: BTreeSet<SocketId> = about.sockets.iter().copied().collect();
            let mut processes: BTreeSet<Pid> = about.processes.iter().copied().collect();
            for snapshot in [&before, &after] {
                for pid in &about.processes {
                    if let Some(process) = snapshot.processes.get(pid) {
                        sockets.extend(process.fds.values().copied());
                    }
                }
                let listeners: Vec<SocketId> = sockets
                    .iter()
                    .filter_map(|id| snapshot.sockets.get(id).and_then(|socket| socket.listener))
                    .collect();
                sockets.extend(listeners);
                let children: Vec<SocketId> = snapshot
                    .sockets
                    .values()
                    .filter(|socket| socket.listener.is_some_and(|listener| sockets.contains(&listener)))
                    .map(|socket| socket.id)
                    .collect();
                sockets.extend(children);
            }
            for snapshot in [&before, &after] {
                for process in snapshot.processes.values() {
                    if process.call.as_ref().and_then(|call| call.socket).is_some_and(|id| sockets.contains(&id)) {
                        processes.insert(process.pid);
                    }
                }
            }
            let socket_ids: BTreeSet<SocketId> = before.sockets.keys().chain(after.sockets.keys()).copied().collect();
            for id in socket_ids {
                if before.sockets.get(&id) != after.sockets.get(&id) && !sockets.contains(&id) {
                    problems.add(format!(
                        "{at}: socket #{id} changes in a step about “{}”",
                        loaded.narration(end, Numbering::Relative).map_or("", |(_, text)| text)
                    ));
                }
            }
            let pids: BTreeSet<Pid> = before.processes.keys().chain(after.processes.keys()).copied().collect();
            for pid in pids {
                let line = |snapshot: &Snapshot| {
                    snapshot.processes.get(&pid).map(|process| (process.clone(), card(snapshot, process)))
                };
                if line(&before) != line(&after) && !processes.contains(&pid) {
                    problems.add(format!(
                        "{at}: process {pid}'s card changes in a step about “{}”",
                        loaded.narration(end, Numbering::Relative).map_or("", |(_, text)| text)
                    ));
                }
            }
        }
    }
    problems.assert_none("steps change something their sentence is not about");
}

#[test]
fn three_way_handshake_steps_are_told_and_the_accept_queue_never_contradicts_the_server() {
    let loaded = loaded("three-way-handshake");
    let stops = loaded.timing.steps.stops();
    let mut seen_in_queue = false;
    for &stop in &stops[1..] {
        let snapshot = loaded.timeline.at(&loaded.trace, stop);
        let server = snapshot.processes.values().find(|process| process.name == "server");
        let listener = snapshot.sockets.values().find(|socket| socket.state == State::Listen);
        if let (Some(server), Some(listener)) = (server, listener) {
            let text = card(&snapshot, server);
            seen_in_queue |= listener.accept_q > 0;
            assert!(
                !(text.contains("accept queue is empty") && listener.accept_q > 0),
                "at {stop} the server says “{text}” beside a listener holding {}",
                listener.accept_q
            );
        }
    }
    assert!(seen_in_queue, "some step shows the connection in the accept queue");
    // No step leaves the sentence as it was: each press of → shows a new one.
    let sentences: Vec<usize> = stops[1..]
        .iter()
        .filter_map(|&stop| loaded.narration(stop, Numbering::Relative).map(|(index, _)| index))
        .collect();
    assert!(sentences.windows(2).all(|pair| pair[0] != pair[1]), "{sentences:?}");
    assert_eq!(sentences.len(), stops.len() - 1);
}

#[test]
fn the_state_diagram_follows_the_socket_the_step_is_about() {
    let mut problems = Problems::default();
    for name in builtin::NAMES {
        let loaded = loaded(name);
        for &stop in loaded.timing.steps.stops() {
            let Some((opener, sentence)) = loaded.narration(stop, Numbering::Relative) else { continue };
            let snapshot = loaded.timeline.at(&loaded.trace, stop);
            let Some(followed) = followed_socket(&loaded, &snapshot, stop, None) else { continue };
            let at_opener = loaded.timeline.at(&loaded.trace, opener);
            let about = concern(&at_opener, &loaded.trace.events[opener]).tcp_socket(&at_opener);
            if let Some(about) = about {
                if about != followed.id {
                    problems.add(format!(
                        "{name} at {stop}: “{sentence}” is about #{about}, the diagram shows #{}",
                        followed.id
                    ));
                }
            } else if !followed.alive {
                // A step about no socket keeps the last socket shown only while it exists.
                let alive = loaded
                    .focus
                    .iter()
                    .filter(|(event, _)| *event <= opener)
                    .any(|(_, id)| snapshot.sockets.contains_key(id));
                if alive {
                    problems
                        .add(format!("{name} at {stop}: “{sentence}”: the diagram shows the freed #{}", followed.id));
                }
            }
        }
    }
    problems.assert_none("state diagrams follow the wrong socket");
}

/// The position a reader lands on at `seconds` of simulated time (the first event from then).
fn at_time(loaded: &Loaded, seconds: f64) -> usize {
    let t_us = (seconds * 1e6) as u64;
    let index = loaded.trace.events.iter().position(|event| event.t_us >= t_us).expect("the run lasts that long");
    loaded.timing.steps.at_or_after(index + 1)
}

#[test]
fn the_issue_s_moments_show_a_live_socket() {
    for (name, seconds, state) in
        [("flow-control", 0.78, State::Established), ("peer-crash", 228.0, State::Established)]
    {
        let loaded = loaded(name);
        let stop = at_time(&loaded, seconds);
        let snapshot = loaded.timeline.at(&loaded.trace, stop);
        let followed = followed_socket(&loaded, &snapshot, stop, None).expect("a socket is followed");
        assert!(followed.alive, "{name} at {seconds} s follows the freed #{}: {}", followed.id, followed.caption());
        assert_eq!(followed.state, Some(state), "{name} at {seconds} s: {}", followed.caption());
        // A pinned socket stays, freed or not.
        let other = *snapshot.sockets.keys().find(|id| **id != followed.id).unwrap_or(&followed.id);
        assert_eq!(
            followed_socket(&loaded, &snapshot, stop, Some(other)).map(|f| (f.id, f.pinned)),
            Some((other, true))
        );
    }
}

#[test]
fn every_transition_of_every_builtin_is_an_edge_of_the_diagram() {
    let mut missing = BTreeSet::new();
    for name in builtin::NAMES {
        for event in &loaded(name).trace.events {
            if let EventKind::State { from, to, .. } = &event.kind {
                if edge_for(*from, *to).is_none() {
                    missing.insert(format!("{} → {} ({name})", from.name(), to.name()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "transitions the diagram cannot draw: {missing:#?}");
}
