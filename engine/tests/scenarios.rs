//! Data tests of the built-in scenario library.
//!
//! Each built-in scenario is run and rendered as one text: the tcpdump view, every socket's
//! sequence of TCP states, one line per returned system call (`time process call(args) =
//! result`) and any failed expectation. [`check`] compares that text with
//! `tests/expected/<name>.txt`; run with `UPDATE_EXPECT=1` to rewrite the files, then review
//! them as text against the figure each scenario reproduces.
//!
//! The golden files make the whole run visible; the targeted tests below assert what the
//! scenario catalogue says each scenario must show (`docs/scenarios.md`), so that a
//! change that keeps a file plausible but breaks the lesson still fails.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use sockscope_engine::replay::Snapshot;
use sockscope_engine::trace::{Fate, Phase, Pid, Proto, Segment, SendingLimits, SocketAction, SocketId};
use sockscope_engine::{builtin, format, run, Errno, Event, EventKind, SockAddr, State, Trace};

// ===== the data-test helper =====

/// Runs a built-in scenario; panics (failing the test) if it is missing or hits a limit.
fn run_builtin(name: &str) -> sockscope_engine::Run {
    let scenario = builtin::get(name).unwrap_or_else(|| panic!("no built-in scenario `{name}`"));
    run(&scenario).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// One line per returned system call, with the arguments it was called with.
fn syscall_lines(trace: &Trace) -> String {
    let mut entered: BTreeMap<Pid, String> = BTreeMap::new();
    let mut out = String::new();
    for event in &trace.events {
        let EventKind::Syscall { pid, process, call, args, phase, result, errno, value, .. } = &event.kind else {
            continue;
        };
        match phase {
            Phase::Enter => {
                entered.insert(*pid, args.clone());
            }
            Phase::Block => {}
            Phase::Return => {
                let args = entered.remove(pid).unwrap_or_else(|| args.clone());
                let outcome = match (errno, result) {
                    (Some(errno), _) => format!("-1 {errno}"),
                    (None, Some(result)) => result.to_string(),
                    (None, None) => "?".to_string(),
                };
                let shown = value.as_ref().map_or_else(String::new, |value| format!(" ({value})"));
                let _ = writeln!(out, "{} {process} {call}({args}) = {outcome}{shown}", format::clock(event.t_us));
            }
        }
    }
    out
}

/// The text a scenario's golden file holds.
fn render(name: &str) -> String {
    let result = run_builtin(name);
    let trace = &result.trace;
    let mut text = String::new();
    let _ = writeln!(text, "# {name}: {}", trace.title);
    let _ = writeln!(text, "# source: {}", trace.source);
    text.push_str("\n## tcpdump\n");
    text.push_str(&format::tcpdump(trace, format::Numbering::Relative));
    text.push_str("\n## states\n");
    text.push_str(&format::state_sequences(trace));
    text.push_str("\n## calls\n");
    text.push_str(&syscall_lines(trace));
    text.push_str("\n## failed expectations\n");
    if result.failed_expectations.is_empty() {
        text.push_str("none\n");
    }
    for failure in &result.failed_expectations {
        let _ = writeln!(text, "{failure}");
    }
    if let Some(Event { t_us, kind: EventKind::End { reason } }) = trace.events.last() {
        let _ = writeln!(text, "\n## end\n{} {reason}", format::clock(*t_us));
    }
    text
}

/// Compares a scenario's rendering with its golden file (or rewrites the file when
/// `UPDATE_EXPECT=1`), and fails on any failed step expectation.
fn check(name: &str) {
    let actual = render(name);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expected").join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_EXPECT").is_some_and(|value| value == "1") {
        std::fs::create_dir_all(path.parent().expect("the path has a parent")).expect("create tests/expected");
        std::fs::write(&path, &actual).expect("write the expected file");
    } else {
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("{}: {err} (run with UPDATE_EXPECT=1 to create it)", path.display()));
        if expected != actual {
            let first = expected.lines().zip(actual.lines()).position(|(want, got)| want != got);
            panic!(
                "{name} differs from {} (first differing line: {first:?}); run with UPDATE_EXPECT=1 and \
                 review the diff\n--- actual ---\n{actual}",
                path.display()
            );
        }
    }
    let failures = run_builtin(name).failed_expectations;
    assert!(failures.is_empty(), "{name}: {failures:#?}");
}

// ===== trace helpers for the targeted tests =====

/// Every segment put on the wire, with its time.
fn sent(trace: &Trace) -> Vec<(u64, Segment)> {
    trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Segment(segment) if segment.fate == Fate::Sent && segment.proto == Proto::Tcp => {
                Some((event.t_us, segment.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The time a segment (by id) was delivered.
fn delivered_at(trace: &Trace, id: u64) -> u64 {
    trace
        .events
        .iter()
        .find_map(|event| match &event.kind {
            EventKind::Segment(segment) if segment.id == id && segment.fate == Fate::Delivered => Some(event.t_us),
            _ => None,
        })
        .unwrap_or_else(|| panic!("segment {id} was never delivered"))
}

/// A returned system call: time, process, call name, result or errno, shown value.
#[derive(Clone, Debug)]
struct Returned {
    t_us: u64,
    process: String,
    call: String,
    result: Option<i64>,
    errno: Option<Errno>,
    value: Option<String>,
    socket: Option<SocketId>,
}

fn returns(trace: &Trace) -> Vec<Returned> {
    trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Syscall { process, call, phase: Phase::Return, result, errno, value, socket, .. } => {
                Some(Returned {
                    t_us: event.t_us,
                    process: process.clone(),
                    call: call.clone(),
                    result: *result,
                    errno: *errno,
                    value: value.clone(),
                    socket: *socket,
                })
            }
            _ => None,
        })
        .collect()
}

/// The returned calls of one process and call name, in order.
fn calls(trace: &Trace, process: &str, call: &str) -> Vec<Returned> {
    returns(trace).into_iter().filter(|r| r.process == process && r.call == call).collect()
}

/// State changes: (time, socket, local, from, to).
fn state_changes(trace: &Trace) -> Vec<(u64, SocketId, SockAddr, State, State)> {
    trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::State { socket, local, from, to, .. } => Some((event.t_us, *socket, *local, *from, *to)),
            _ => None,
        })
        .collect()
}

/// The states one socket passed through, starting with its first `from`.
fn states_of(trace: &Trace, socket: SocketId) -> Vec<State> {
    let mut states = Vec::new();
    for (_, id, _, from, to) in state_changes(trace) {
        if id == socket {
            if states.is_empty() {
                states.push(from);
            }
            states.push(to);
        }
    }
    states
}

/// Sockets that ever entered `state`.
fn sockets_entering(trace: &Trace, state: State) -> Vec<SocketId> {
    let mut ids: Vec<SocketId> =
        state_changes(trace).into_iter().filter(|change| change.4 == state).map(|change| change.1).collect();
    ids.dedup();
    ids
}

/// How long a socket stayed in `state` (first entry to the next change).
fn time_in(trace: &Trace, socket: SocketId, state: State) -> u64 {
    let changes: Vec<_> = state_changes(trace).into_iter().filter(|change| change.1 == socket).collect();
    let start = changes.iter().position(|change| change.4 == state).expect("the socket enters the state");
    changes[start + 1].0 - changes[start].0
}

/// Queue records of one socket: (time, send_q, recv_q, delivered, syn_q, accept_q).
fn queues(trace: &Trace, socket: SocketId) -> Vec<(u64, u32, u32, u64, u32, u32)> {
    trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Queues { socket: id, send_q, recv_q, delivered, syn_q, accept_q, .. } if *id == socket => {
                Some((event.t_us, *send_q, *recv_q, *delivered, *syn_q, *accept_q))
            }
            _ => None,
        })
        .collect()
}

/// A socket's queue levels as of time `t_us` (the last record at or before it).
fn queues_at(trace: &Trace, socket: SocketId, t_us: u64) -> (u32, u32, u64) {
    queues(trace, socket)
        .into_iter()
        .take_while(|record| record.0 <= t_us)
        .last()
        .map_or((0, 0, 0), |record| (record.1, record.2, record.3))
}

/// The socket that listens on `local` (the one that entered LISTEN there).
fn listener_on(trace: &Trace, local: &str) -> SocketId {
    state_changes(trace)
        .into_iter()
        .find(|change| change.4 == State::Listen && change.2.to_string() == local)
        .unwrap_or_else(|| panic!("nothing listens on {local}"))
        .1
}

/// (socket, listener) for every socket a listener created for an incoming SYN.
fn children(trace: &Trace) -> Vec<(SocketId, SocketId, Option<SockAddr>)> {
    trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Socket { socket, action: SocketAction::Create, listener: Some(listener), peer, .. } => {
                Some((*socket, *listener, *peer))
            }
            _ => None,
        })
        .collect()
}

fn addr(text: &str) -> SockAddr {
    text.parse().unwrap_or_else(|_| panic!("bad address {text}"))
}

/// A bare ACK: no data, no SYN, FIN or RST.
fn is_bare_ack(segment: &Segment) -> bool {
    segment.flags.ack && !segment.flags.syn && !segment.flags.fin && !segment.flags.rst && segment.len == 0
}

const MS: u64 = 1_000;
const SECOND: u64 = 1_000_000;

// ===== golden files: one test per built-in scenario =====

macro_rules! golden {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { check($name); })*

        /// Every built-in scenario has a golden test here.
        #[test]
        fn every_builtin_has_a_golden_test() {
            let tested = [$($name),*];
            for name in builtin::names() {
                assert!(tested.contains(&name), "built-in scenario `{name}` has no golden test");
            }
        }
    };
}

golden! {
    golden_three_way_handshake => "three-way-handshake",
    golden_listen_queues => "listen-queues",
    golden_connection_refused => "connection-refused",
    golden_simultaneous_open => "simultaneous-open",
    golden_lifecycle => "lifecycle",
    golden_tlpi_tcpdump => "tlpi-tcpdump",
    golden_send_recv_queues => "send-recv-queues",
    golden_one_write => "one-write",
    golden_delayed_ack => "delayed-ack",
    golden_four_way_close => "four-way-close",
    golden_half_close => "half-close",
    golden_simultaneous_close => "simultaneous-close",
    golden_close_unread_data => "close-unread-data",
    golden_linger_abort => "linger-abort",
    golden_shutdown_vs_close => "shutdown-vs-close",
    golden_concurrent_server => "concurrent-server",
    golden_time_wait_bind => "time-wait-bind",
    golden_demultiplexing => "demultiplexing",
    golden_ephemeral_port => "ephemeral-port",
    golden_backlog_overflow => "backlog-overflow",
    golden_connect_timeout => "connect-timeout",
    golden_flow_control => "flow-control",
    golden_deadlock => "deadlock",
    golden_partial_write => "partial-write",
    golden_nagle => "nagle",
    golden_nagle_off => "nagle-off",
    golden_lost_final_ack => "lost-final-ack",
    golden_linger_wait => "linger-wait",
    golden_fin_wait_2_orphan => "fin-wait-2-orphan",
    golden_peer_crash => "peer-crash",
    golden_peer_reboot => "peer-reboot",
    golden_keepalive => "keepalive",
    golden_retransmission => "retransmission",
    golden_udp_vs_tcp => "udp-vs-tcp",
}

// ===== whole-library properties =====

#[test]
fn every_builtin_runs_twice_to_identical_jsonl() {
    for name in builtin::names() {
        let first = run_builtin(name).trace.to_jsonl();
        let second = run_builtin(name).trace.to_jsonl();
        assert!(first == second, "{name}: two runs gave different traces");
    }
}

#[test]
fn catalogue_lists_every_scenario_with_source_and_description() {
    let catalogue = builtin::catalogue();
    assert_eq!(catalogue.len(), builtin::names().count(), "a built-in scenario failed to parse");
    for entry in catalogue {
        assert!(!entry.description.is_empty(), "{} has no description", entry.name);
        assert!(!entry.source.is_empty(), "{} has no source", entry.name);
    }
}

#[test]
fn every_step_of_every_builtin_is_narrated_or_checked() {
    // Each built-in explains itself: most steps carry a note, and every scenario checks its
    // results with `expect` on most calls.
    for name in builtin::names() {
        let scenario = builtin::get(name).expect("parses");
        let steps: Vec<_> = scenario.processes.iter().flat_map(|process| process.steps.iter()).collect();
        let notes = steps.iter().filter(|step| step.note.is_some() || step.note_on_return.is_some()).count();
        let expects = steps.iter().filter(|step| step.expect.is_some()).count();
        assert!(notes >= 3, "{name}: only {notes} notes");
        assert!(expects * 2 >= steps.len(), "{name}: only {expects} of {} steps check their result", steps.len());
    }
}

// ===== sending limits (congestion events) =====

/// Every socket's traced sending limits in order, with their times.
fn sending_limits(trace: &Trace) -> BTreeMap<SocketId, Vec<(u64, SendingLimits)>> {
    let mut traced: BTreeMap<SocketId, Vec<(u64, SendingLimits)>> = BTreeMap::new();
    for event in &trace.events {
        if let EventKind::Congestion { socket, cwnd, ssthresh, srtt_us, rto_us, .. } = &event.kind {
            let limits = SendingLimits { cwnd: *cwnd, ssthresh: *ssthresh, srtt_us: *srtt_us, rto_us: *rto_us };
            traced.entry(*socket).or_default().push((event.t_us, limits));
        }
    }
    traced
}

/// The socket of a connection whose own address is `local` and whose peer is `peer`.
fn connection_of(snapshot: &Snapshot, local: SockAddr, peer: SockAddr) -> Option<SocketId> {
    snapshot
        .sockets
        .values()
        .find(|socket| socket.local == Some(local) && socket.peer == Some(peer))
        .map(|socket| socket.id)
}

#[test]
fn every_builtin_traces_each_connections_sending_limits_on_change_within_the_rto_bounds() {
    for name in builtin::names() {
        let scenario = builtin::get(name).expect("parses");
        let trace = run_builtin(name).trace;
        // Both ends of every connection that carried data: the sender as it sends, the
        // receiver as the data arrives.
        let mut carried_data = BTreeSet::new();
        let mut snapshot = Snapshot::default();
        let mut last: BTreeMap<SocketId, SendingLimits> = BTreeMap::new();
        for event in &trace.events {
            match &event.kind {
                EventKind::Segment(segment) if segment.proto == Proto::Tcp && segment.len > 0 => {
                    let end = match segment.fate {
                        Fate::Sent => Some(
                            connection_of(&snapshot, segment.from, segment.to)
                                .unwrap_or_else(|| panic!("{name}: no socket sent {event:?}")),
                        ),
                        // The receiver may be gone (a crashed or rebooted peer).
                        Fate::Delivered => connection_of(&snapshot, segment.to, segment.from),
                        Fate::Dropped => None,
                    };
                    carried_data.extend(end);
                }
                EventKind::Congestion { host, socket, cwnd, ssthresh, srtt_us, rto_us } => {
                    let tcp = &scenario.hosts.iter().find(|spec| spec.name == *host).expect("a declared host").tcp;
                    let limits = SendingLimits { cwnd: *cwnd, ssthresh: *ssthresh, srtt_us: *srtt_us, rto_us: *rto_us };
                    assert!(*cwnd > 0, "{name}: an empty congestion window is traced: {event:?}");
                    assert!(
                        (tcp.rto_min_ms * MS..=tcp.rto_max_ms * MS).contains(rto_us),
                        "{name}: the RTO is outside [rto_min, rto_max] of {host}: {event:?}"
                    );
                    let view = snapshot.sockets.get(socket).expect("the socket exists when its limits are traced");
                    assert_eq!(view.proto, Proto::Tcp, "{name}: {event:?}");
                    assert_ne!(view.state, State::Listen, "{name}: a listener has no sending limits: {event:?}");
                    assert_ne!(last.insert(*socket, limits), Some(limits), "{name}: traced again unchanged: {event:?}");
                }
                _ => {}
            }
            snapshot.apply(event);
        }
        for socket in &carried_data {
            assert!(
                last.contains_key(socket),
                "{name}: socket {socket} carried data, but no sending limits were traced"
            );
        }
        // The snapshot keeps each live socket's last traced limits.
        for (id, view) in snapshot.sockets.iter() {
            assert_eq!(view.limits, last.get(id).copied(), "{name}: socket {id}");
        }
    }
}

#[test]
fn retransmission_timeout_sets_ssthresh_and_restarts_from_one_segment() {
    let trace = run_builtin("retransmission").trace;
    let segments = sent(&trace);
    let dropped = dropped_ids(&trace);
    let (_, lost) = segments.iter().find(|(_, s)| dropped.contains(&s.id)).cloned().expect("a lost segment");
    let (resent_at, _) =
        segments.iter().find(|(_, s)| s.retransmission && s.seq == lost.seq).cloned().expect("the segment is resent");
    let mut snapshot = Snapshot::default();
    let mut sender = None;
    for event in &trace.events {
        if let EventKind::Segment(segment) = &event.kind {
            if segment.id == lost.id && segment.fate == Fate::Sent {
                sender = connection_of(&snapshot, segment.from, segment.to);
            }
        }
        snapshot.apply(event);
    }
    let sender = sender.expect("the lost segment's socket");
    let limits = sending_limits(&trace).remove(&sender).expect("the sender's limits are traced");
    let (before, after): (Vec<_>, Vec<_>) = limits.iter().partition(|(t_us, _)| *t_us < resent_at);
    let &(_, last_before) = before.last().expect("limits traced before the loss");
    assert!(before.iter().all(|(_, limits)| limits.ssthresh.is_none()), "no ssthresh before the loss: {before:?}");
    let &(at, timeout) = after.first().expect("limits traced at the timeout");
    assert_eq!(at, resent_at, "the timeout's call traces the new limits");
    // tcp_enter_loss(): ssthresh = max(flight / 2, 2 segments), one segment of window, and
    // the RTO doubled (the 20 ms sample gave 220 ms).
    let mss = 1460;
    assert_eq!(last_before.rto_us, 220 * MS);
    assert_eq!(
        timeout,
        SendingLimits { cwnd: mss, ssthresh: Some(2 * mss), srtt_us: last_before.srtt_us, rto_us: 440 * MS }
    );
    assert!(after.iter().all(|(_, limits)| limits.ssthresh.is_some()), "ssthresh stays set: {after:?}");
    // The ACK of the resent segment brings the RTO back to the estimate's and grows the window.
    let &(_, recovered) = after.get(1).expect("the ACK's limits");
    assert_eq!(recovered.rto_us, 220 * MS);
    assert!(recovered.cwnd > mss, "{recovered:?}");
}

// ===== TLPI 61.8: the book's transcript, segment for segment =====

/// One line of TLPI's transcript: sender, flags, seq, ack, length, win.
type BookLine = (&'static str, &'static str, Option<u32>, Option<u32>, u32, u16);

#[test]
fn tlpi_tcpdump_reproduces_the_books_fifteen_segments() {
    // TLPI 61.8, with the options removed as in the book: (sender, flags, seq, ack, length,
    // win). Sequence and acknowledgement numbers are absolute on the SYNs and relative after,
    // as tcpdump prints them; `None` where the book prints none.
    const PUKAKI: &str = "10.0.0.1:60391";
    #[rustfmt::skip]
    let book: [BookLine; 15] = [
        (PUKAKI, "S", Some(3_412_991_013), None, 0, 5840),
        ("tekapo", "S", Some(1_149_562_427), Some(3_412_991_014), 0, 5792),
        (PUKAKI, ".", None, Some(1), 0, 5840),
        (PUKAKI, "P", Some(1), Some(1), 16, 5840),
        ("tekapo", ".", None, Some(17), 0, 1448),
        ("tekapo", "P", Some(1), Some(17), 4, 1448),
        (PUKAKI, ".", None, Some(5), 0, 5840),
        (PUKAKI, "P", Some(17), Some(5), 32, 5840),
        ("tekapo", ".", None, Some(49), 0, 1448),
        ("tekapo", "P", Some(5), Some(49), 4, 1448),
        (PUKAKI, ".", None, Some(9), 0, 5840),
        (PUKAKI, "F", Some(49), Some(9), 0, 5840),
        ("tekapo", ".", None, Some(50), 0, 1448),
        ("tekapo", "F", Some(9), Some(50), 0, 1448),
        (PUKAKI, ".", None, Some(10), 0, 5840),
    ];
    let trace = run_builtin("tlpi-tcpdump").trace;
    let segments = sent(&trace);
    assert_eq!(segments.len(), book.len(), "the book shows 15 segments");
    let (client_isn, server_isn) = (3_412_991_013u32, 1_149_562_427u32);
    for (index, ((_, segment), (who, flags, seq, ack, len, win))) in segments.iter().zip(book).enumerate() {
        let from_client = segment.from == addr(PUKAKI);
        assert_eq!(from_client, who == PUKAKI, "segment {index}: wrong direction");
        let letter = if segment.flags.syn {
            "S"
        } else if segment.flags.fin {
            "F"
        } else if segment.flags.psh {
            "P"
        } else {
            "."
        };
        assert_eq!(letter, flags, "segment {index}: flags");
        assert!(!segment.flags.rst, "segment {index}: no RST in the book");
        let (own_isn, peer_isn) = if from_client { (client_isn, server_isn) } else { (server_isn, client_isn) };
        if let Some(seq) = seq {
            let got = if segment.flags.syn { segment.seq } else { segment.seq.wrapping_sub(own_isn) };
            assert_eq!(got, seq, "segment {index}: seq");
        }
        match ack {
            Some(ack) => {
                assert!(segment.flags.ack, "segment {index}: the book shows an ack");
                let got = if segment.flags.syn { segment.ack } else { segment.ack.wrapping_sub(peer_isn) };
                assert_eq!(got, ack, "segment {index}: ack");
            }
            None => assert!(!segment.flags.ack, "segment {index}: the book shows no ack"),
        }
        assert_eq!(segment.len, len, "segment {index}: length");
        assert_eq!(segment.win, win, "segment {index}: win");
    }
}

// ===== Connection set-up =====

#[test]
fn three_way_handshake_shows_queues_and_return_order() {
    let trace = run_builtin("three-way-handshake").trace;
    let segments = sent(&trace);
    let (syn_at, syn) = &segments[0];
    let (_, syn_ack) = &segments[1];
    let (_, ack) = &segments[2];
    // SYN J, SYN+ACK K with ack J+1, ACK K+1.
    assert!(syn.flags.syn && !syn.flags.ack);
    assert!(syn_ack.flags.syn && syn_ack.flags.ack && syn_ack.ack == syn.seq.wrapping_add(1));
    assert!(is_bare_ack(ack) && ack.ack == syn_ack.seq.wrapping_add(1));
    // connect() moved the client to SYN_SENT when the SYN left.
    let client = state_changes(&trace).into_iter().find(|change| change.4 == State::SynSent).expect("SYN_SENT");
    assert_eq!(client.0, *syn_at);
    // The listener's SYN queue holds the half-open connection from the SYN's arrival until
    // the final ACK moves it to the accept queue.
    let listener = listener_on(&trace, "0.0.0.0:9877");
    let syn_arrives = delivered_at(&trace, syn.id);
    let ack_arrives = delivered_at(&trace, ack.id);
    let records = queues(&trace, listener);
    assert!(records.iter().any(|r| r.0 == syn_arrives && r.4 == 1 && r.5 == 0), "{records:?}");
    assert!(records.iter().any(|r| r.0 == ack_arrives && r.4 == 0 && r.5 == 1), "{records:?}");
    assert!(records.iter().filter(|r| r.0 > syn_arrives && r.0 < ack_arrives).all(|r| r.4 == 1));
    // connect() returns when the SYN+ACK arrives; accept() half a round trip later.
    let connect = &calls(&trace, "client", "connect")[0];
    let accept = &calls(&trace, "server", "accept")[0];
    assert_eq!(connect.t_us, delivered_at(&trace, syn_ack.id));
    assert_eq!(accept.t_us, ack_arrives);
    assert!(connect.t_us < accept.t_us);
    // accept() returns a new socket that shares the listener's local port.
    let accepted = children(&trace)[0].0;
    assert_ne!(accepted, listener);
    let local = state_changes(&trace).into_iter().find(|change| change.1 == accepted).expect("states").2;
    assert_eq!(local.port, 9877);
    assert_eq!(states_of(&trace, accepted)[..3], [State::Closed, State::SynRecv, State::Established]);
}

#[test]
fn listen_queues_fill_before_accept_and_data_waits() {
    let trace = run_builtin("listen-queues").trace;
    let listener = listener_on(&trace, "0.0.0.0:9877");
    let records = queues(&trace, listener);
    let first_accept = calls(&trace, "server", "accept")[0].t_us;
    assert_eq!(records.iter().map(|r| r.4).max(), Some(3), "three half-open connections at once");
    assert_eq!(records.iter().map(|r| r.5).max(), Some(3), "three completed connections at once");
    let before_accept = records.iter().rfind(|r| r.0 < first_accept).expect("records");
    assert_eq!((before_accept.4, before_accept.5), (0, 3), "all three wait in the accept queue");
    let last = records.last().expect("records");
    assert_eq!((last.4, last.5), (0, 0), "both queues drained");
    // Client 1's bytes were acknowledged and queued before anyone accepted the connection.
    let accepted = children(&trace)[0].0;
    let (_, recv_q, _) = queues_at(&trace, accepted, first_accept - 1);
    assert_eq!(recv_q, 19);
    assert_eq!(calls(&trace, "server", "recv")[0].result, Some(19));
}

#[test]
fn connection_refused_is_an_immediate_rst() {
    let trace = run_builtin("connection-refused").trace;
    let segments = sent(&trace);
    assert_eq!(segments.len(), 2, "one SYN, one RST, no retransmission");
    let (syn_at, syn) = &segments[0];
    let (_, rst) = &segments[1];
    assert!(rst.flags.rst && rst.flags.ack);
    assert_eq!((rst.seq, rst.ack, rst.win), (0, syn.seq.wrapping_add(1), 0));
    let connect = &calls(&trace, "client", "connect")[0];
    assert_eq!(connect.errno, Some(Errno::ECONNREFUSED));
    assert_eq!(connect.t_us - syn_at, 20 * MS, "one round trip on a 10 ms link");
}

#[test]
fn simultaneous_open_takes_four_segments_through_syn_rcvd() {
    let trace = run_builtin("simultaneous-open").trace;
    let handshake: Vec<_> = sent(&trace).into_iter().filter(|(_, s)| s.flags.syn).collect();
    assert_eq!(handshake.len(), 4);
    assert_eq!(handshake.iter().filter(|(_, s)| !s.flags.ack).count(), 2, "two SYNs");
    assert_eq!(handshake.iter().filter(|(_, s)| s.flags.ack).count(), 2, "two SYN+ACKs");
    let all = sent(&trace);
    let first_data = all.iter().position(|(_, s)| s.len > 0).expect("data");
    assert_eq!(first_data, 4, "no other segment before the data");
    for socket in sockets_entering(&trace, State::SynSent) {
        assert_eq!(states_of(&trace, socket)[..4], [State::Closed, State::SynSent, State::SynRecv, State::Established]);
    }
    assert!(calls(&trace, "peer-a", "accept").is_empty() && calls(&trace, "peer-b", "listen").is_empty());
}

// ===== Data transfer and queues =====

#[test]
fn lifecycle_matches_unp_figure_2_5() {
    let trace = run_builtin("lifecycle").trace;
    let segments = sent(&trace);
    assert_eq!(segments.len(), 10, "ten segments as in the figure");
    assert_eq!(segments[0].1.options.mss, Some(536));
    assert_eq!(segments[1].1.options.mss, Some(1460));
    let request = &segments[3].1;
    let reply = &segments[4].1;
    assert_eq!(request.len, 28);
    assert!(reply.len == 52 && reply.ack == request.seq.wrapping_add(request.len), "the reply piggybacks the ACK");
    assert!(is_bare_ack(&segments[5].1), "the client acknowledges the reply");
    let flags: Vec<(bool, bool)> = segments[6..].iter().map(|(_, s)| (s.flags.fin, is_bare_ack(s))).collect();
    assert_eq!(flags, [(true, false), (false, true), (true, false), (false, true)], "four-segment close");
    let client = sockets_entering(&trace, State::TimeWait);
    assert_eq!(client.len(), 1, "only the active closer waits");
    assert_eq!(time_in(&trace, client[0], State::TimeWait), 60 * SECOND);
}

#[test]
fn send_recv_queues_reproduce_figures_7_2_to_7_4() {
    let trace = run_builtin("send-recv-queues").trace;
    let sends = calls(&trace, "sender", "send");
    assert_eq!(sends.iter().map(|r| r.result).collect::<Vec<_>>(), [Some(1000), Some(2000), Some(5000)]);
    let recvs = calls(&trace, "receiver", "recv");
    let sender = sends[0].socket.expect("socket");
    let receiver = recvs[0].socket.expect("socket");
    // Figure 7.2: after the three sends, before any recv(): 6500 bytes in the sender's SendQ,
    // 1500 in the receiver's RecvQ, none delivered.
    let first_recv = recvs[0].t_us;
    assert!(sends[2].t_us < first_recv);
    assert_eq!(queues_at(&trace, sender, first_recv - 1).0, 6500);
    assert_eq!(queues_at(&trace, receiver, first_recv - 1), (0, 1500, 0));
    // recv(2000) returns 1500 bytes: all of the first send and half of the second.
    assert_eq!(recvs[0].result, Some(1500));
    // Figure 7.3 to 7.4: a later recv(4000) returns 4000 and Delivered reaches 5500.
    assert_eq!(recvs[1].result, Some(4000));
    let after = queues(&trace, receiver).into_iter().find(|record| record.0 >= recvs[1].t_us).expect("record");
    assert_eq!(after.3, 5500);
}

#[test]
fn one_write_exchange_takes_three_segments_and_one_round_trip() {
    let trace = run_builtin("one-write").trace;
    let sends = calls(&trace, "client", "send");
    let request_at = sends[1].t_us;
    let close_at = calls(&trace, "client", "close")[0].t_us;
    let exchange: Vec<_> = sent(&trace).into_iter().filter(|(t, _)| *t >= request_at && *t < close_at).collect();
    assert_eq!(exchange.len(), 3, "{exchange:?}");
    let (_, request) = &exchange[0];
    let (reply_at, reply) = &exchange[1];
    let (ack_at, ack) = &exchange[2];
    assert_eq!(request.len, 6);
    assert!(reply.len == 6 && reply.ack == request.seq.wrapping_add(6), "the reply acknowledges the request");
    assert!(is_bare_ack(ack) && ack.ack == reply.seq.wrapping_add(6));
    let answer = calls(&trace, "client", "recv")[1].t_us;
    assert_eq!(answer - request_at, 20 * MS, "the response takes one round trip");
    assert_eq!(ack_at - delivered_at(&trace, reply.id), 40 * MS, "the client's ACK is delayed 40 ms");
    let _ = reply_at;
}

#[test]
fn delayed_ack_is_piggybacked_or_sent_alone_after_40_ms() {
    let trace = run_builtin("delayed-ack").trace;
    let segments = sent(&trace);
    let from_server = |t0: u64, t1: u64| -> Vec<(u64, Segment)> {
        segments.iter().filter(|(t, s)| *t >= t0 && *t < t1 && s.from.port == 9877).cloned().collect()
    };
    let requests: Vec<_> = segments.iter().filter(|(_, s)| s.len > 0 && s.to.port == 9877).cloned().collect();
    assert_eq!(requests.len(), 3);
    // Request 1: quick-ACK mode answers at once, with a bare ACK.
    let arrive1 = delivered_at(&trace, requests[0].1.id);
    let first = from_server(arrive1, arrive1 + 1);
    assert!(is_bare_ack(&first[0].1), "the first data is acknowledged at once");
    // Request 2: the reply 10 ms later carries the ACK; no bare ACK from the server before it.
    let arrive2 = delivered_at(&trace, requests[1].1.id);
    let second = from_server(arrive2, arrive2 + 100 * MS);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].0 - arrive2, 10 * MS);
    assert!(second[0].1.len == 9 && second[0].1.ack == requests[1].1.seq.wrapping_add(9));
    // Request 3: the server takes 1 s; a bare ACK goes out after 40 ms, the reply later.
    let arrive3 = delivered_at(&trace, requests[2].1.id);
    let third = from_server(arrive3, arrive3 + 2 * SECOND);
    assert!(is_bare_ack(&third[0].1) && third[0].0 - arrive3 == 40 * MS);
    assert!(third[1].1.len == 9 && third[1].0 - arrive3 == SECOND);
}

// ===== Closing =====

#[test]
fn four_way_close_passes_every_closing_state_and_time_wait_lasts_60_s() {
    let trace = run_builtin("four-way-close").trace;
    let active = sockets_entering(&trace, State::FinWait1);
    let passive = sockets_entering(&trace, State::CloseWait);
    assert_eq!((active.len(), passive.len()), (1, 1));
    assert_eq!(
        states_of(&trace, active[0])[2..],
        [State::Established, State::FinWait1, State::FinWait2, State::TimeWait, State::Closed]
    );
    assert_eq!(
        states_of(&trace, passive[0])[2..],
        [State::Established, State::CloseWait, State::LastAck, State::Closed]
    );
    assert_eq!(time_in(&trace, active[0], State::TimeWait), 60 * SECOND);
    let close: Vec<_> = sent(&trace).into_iter().skip(3).map(|(_, s)| (s.flags.fin, is_bare_ack(&s))).collect();
    assert_eq!(close, [(true, false), (false, true), (true, false), (false, true)]);
    assert_eq!(calls(&trace, "server", "recv")[0].result, Some(0), "recv() returns 0 at the passive side");
}

#[test]
fn half_close_keeps_the_other_direction_open() {
    let trace = run_builtin("half-close").trace;
    let server_reads: Vec<_> = calls(&trace, "server", "recv").iter().map(|r| r.result).collect();
    assert_eq!(server_reads, [Some(36), Some(0)], "the server reads the request, then end of file");
    let client_reads: Vec<_> = calls(&trace, "client", "recv").iter().map(|r| r.result).collect();
    assert_eq!(client_reads, [Some(19), Some(0)], "the client reads the answer, then end of file");
    let segments = sent(&trace);
    let client_fin = segments.iter().position(|(_, s)| s.flags.fin && s.from.port == 45678).expect("client FIN");
    let answer = segments.iter().position(|(_, s)| s.len > 0 && s.from.port == 9877).expect("answer");
    assert!(client_fin < answer, "the answer travels after the client's FIN");
    let shutdown = &calls(&trace, "client", "shutdown")[0];
    assert_eq!(segments[client_fin].0, shutdown.t_us, "shutdown(SHUT_WR) sends the FIN");
}

#[test]
fn simultaneous_close_goes_through_closing_on_both_sides() {
    let trace = run_builtin("simultaneous-close").trace;
    let closing = sockets_entering(&trace, State::Closing);
    assert_eq!(closing.len(), 2);
    for socket in closing {
        let states = states_of(&trace, socket);
        assert_eq!(states[states.len() - 4..], [State::FinWait1, State::Closing, State::TimeWait, State::Closed]);
        assert_eq!(time_in(&trace, socket, State::TimeWait), 60 * SECOND);
    }
}

#[test]
fn close_with_unread_data_sends_rst_and_skips_time_wait() {
    let trace = run_builtin("close-unread-data").trace;
    let from_server: Vec<_> = sent(&trace).into_iter().filter(|(_, s)| s.from.port == 9877).collect();
    assert!(from_server.iter().all(|(_, s)| !s.flags.fin), "no FIN from the server");
    let (rst_at, rst) = from_server.iter().find(|(_, s)| s.flags.rst).expect("an RST");
    // The server's first close() is its listener's; the second is the connection's.
    assert_eq!(*rst_at, calls(&trace, "server", "close")[1].t_us, "close() sends the RST at once");
    assert!(rst.flags.ack);
    assert!(sockets_entering(&trace, State::TimeWait).is_empty(), "no TIME_WAIT after an RST");
    let recv = &calls(&trace, "client", "recv")[0];
    assert_eq!(recv.errno, Some(Errno::ECONNRESET));
    assert_eq!(calls(&trace, "client", "send")[1].errno, Some(Errno::EPIPE));
}

#[test]
fn linger_zero_aborts_and_discards_sendq() {
    let trace = run_builtin("linger-abort").trace;
    let close = &calls(&trace, "client", "close")[0];
    let socket = calls(&trace, "client", "connect")[0].socket.expect("socket");
    let (send_q, _, _) = queues_at(&trace, socket, close.t_us - 1);
    assert!(send_q > 5000, "most of the 10000 bytes wait in SendQ: {send_q}");
    let from_client: Vec<_> = sent(&trace).into_iter().filter(|(_, s)| s.from.port == 45678).collect();
    let (rst_at, _) = from_client.iter().find(|(_, s)| s.flags.rst).expect("an RST");
    assert_eq!(*rst_at, close.t_us, "RST at once");
    assert!(from_client.iter().all(|(_, s)| !s.flags.fin), "no FIN");
    let bytes_sent: u32 = from_client.iter().filter(|(_, s)| !s.retransmission).map(|(_, s)| s.len).sum();
    // Linux offers half of the 2304-byte buffer as window (tcp_full_space(), scaling_ratio 50%).
    assert_eq!(bytes_sent, 1152, "only what the window allowed ever left; the rest was discarded");
    assert!(from_client.iter().all(|(t, s)| *t <= close.t_us || s.flags.rst), "nothing after the RST");
    assert!(sockets_entering(&trace, State::TimeWait).is_empty());
    let reads: Vec<_> = calls(&trace, "server", "recv").iter().map(|r| (r.result, r.errno)).collect();
    assert_eq!(reads, [(Some(1152), None), (None, Some(Errno::ECONNRESET))]);
}

#[test]
fn shutdown_sends_fin_but_closing_a_duplicate_does_not() {
    let trace = run_builtin("shutdown-vs-close").trace;
    let close_copy = calls(&trace, "client", "close")[0].t_us;
    let shutdown = calls(&trace, "client", "shutdown")[0].t_us;
    let segments = sent(&trace);
    assert!(
        segments.iter().all(|(t, _)| *t < close_copy || *t >= shutdown),
        "nothing on the wire between close() of a copy and shutdown()"
    );
    let fin = segments.iter().find(|(_, s)| s.flags.fin && s.from.port == 45678).expect("client FIN");
    assert_eq!(fin.0, shutdown, "shutdown(SHUT_WR) sends the FIN at once");
    // Two descriptors were still open when the FIN left.
    let fds_open = trace
        .events
        .iter()
        .take_while(|event| event.t_us <= shutdown)
        .filter_map(|event| match &event.kind {
            EventKind::Fd { pid: Pid(1), action, .. } => Some(action),
            _ => None,
        })
        .fold(0i32, |open, action| match action {
            sockscope_engine::trace::FdAction::Open => open + 1,
            sockscope_engine::trace::FdAction::Close => open - 1,
        });
    assert_eq!(fds_open, 2);
}

// ===== Servers, ports, demultiplexing =====

#[test]
fn concurrent_server_parent_close_sends_nothing_and_pairs_are_distinct() {
    let trace = run_builtin("concurrent-server").trace;
    let segments = sent(&trace);
    for close in calls(&trace, "server", "close").iter().take(2) {
        assert!(
            segments.iter().all(|(t, s)| *t != close.t_us || !s.flags.fin),
            "the parent's close(connfd) at {} sent a FIN",
            close.t_us
        );
    }
    let pairs: Vec<_> = children(&trace).iter().map(|(_, _, peer)| peer.expect("peer")).collect();
    assert_eq!(pairs, [addr("206.168.112.219:1500"), addr("206.168.112.219:1501")]);
    let server_fins: Vec<_> = segments.iter().filter(|(_, s)| s.flags.fin && s.from.port == 21).collect();
    assert_eq!(server_fins.len(), 2, "each child's close() sends its connection's FIN");
    assert!(server_fins.iter().all(|(_, s)| s.from == addr("12.106.32.254:21")));
}

#[test]
fn time_wait_blocks_bind_until_it_ends_unless_both_reuse() {
    let trace = run_builtin("time-wait-bind").trace;
    let time_wait = sockets_entering(&trace, State::TimeWait);
    assert_eq!(time_wait.len(), 2);
    let v2 = calls(&trace, "server-v2", "bind");
    assert_eq!(v2[0].errno, Some(Errno::EADDRINUSE), "bind() during TIME_WAIT fails");
    let first_tw_end =
        state_changes(&trace).into_iter().find(|c| c.1 == time_wait[0] && c.3 == State::TimeWait).expect("end").0;
    assert!(v2[0].t_us < first_tw_end && v2[1].t_us > first_tw_end);
    assert_eq!(v2[1].result, Some(0), "bind() after TIME_WAIT succeeds");
    assert_eq!(time_in(&trace, time_wait[0], State::TimeWait), 60 * SECOND);
    let v3 = &calls(&trace, "server-v3", "bind")[0];
    let second_tw_end =
        state_changes(&trace).into_iter().find(|c| c.1 == time_wait[1] && c.3 == State::TimeWait).expect("end").0;
    assert!(v3.t_us < second_tw_end, "the TIME_WAIT socket still exists");
    assert_eq!(v3.result, Some(0), "with SO_REUSEADDR on both, bind() succeeds");
}

#[test]
fn demultiplexing_prefers_the_fewest_wildcards() {
    let trace = run_builtin("demultiplexing").trace;
    let wildcard = listener_on(&trace, "0.0.0.0:99");
    let specific = listener_on(&trace, "10.1.2.3:99");
    let made: BTreeMap<SockAddr, SocketId> =
        children(&trace).into_iter().map(|(_, listener, peer)| (peer.expect("peer"), listener)).collect();
    assert_eq!(made[&addr("192.168.3.7:40000")], wildcard, "before listener 1 exists, listener 0 takes it");
    assert_eq!(made[&addr("172.16.1.10:56789")], specific, "the book's packet goes to listener 1");
    // Data on the old connection goes to socket 2, the exact match, not to either listener.
    let socket2 = children(&trace).into_iter().find(|c| c.2 == Some(addr("192.168.3.7:40000"))).expect("socket 2").0;
    let read = &calls(&trace, "server0", "recv")[0];
    assert_eq!((read.socket, read.result), (Some(socket2), Some(10)));
    assert_eq!(calls(&trace, "server1", "bind")[0].errno, Some(Errno::EADDRINUSE), "Linux needs SO_REUSEPORT");
}

#[test]
fn ephemeral_ports_come_from_linux_range() {
    let trace = run_builtin("ephemeral-port").trace;
    let port_of = |value: &Option<String>| addr(value.as_deref().expect("an address")).port;
    let server = port_of(&calls(&trace, "server", "getsockname")[0].value);
    let client = calls(&trace, "client", "getsockname");
    assert_eq!(port_of(&client[0].value), 0, "an unbound socket has port 0");
    let client_port = port_of(&client[1].value);
    for port in [server, client_port] {
        assert!((32768..=60999).contains(&port), "{port} is outside ip_local_port_range");
    }
    assert_eq!(calls(&trace, "client", "connect")[0].result, Some(0));
}

// ===== Issue 4: loss, timers, flow control, host failures (failure-scenario tests) =====

/// Segments that were dropped on the way, by id.
fn dropped_ids(trace: &Trace) -> Vec<u64> {
    trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Segment(segment) if segment.fate == Fate::Dropped => Some(segment.id),
            _ => None,
        })
        .collect()
}

/// The reason the run ended.
fn end_reason(trace: &Trace) -> String {
    match trace.events.last().map(|event| &event.kind) {
        Some(EventKind::End { reason }) => reason.clone(),
        other => panic!("the trace does not end with an End event: {other:?}"),
    }
}

/// Gaps between consecutive times.
fn gaps(times: &[u64]) -> Vec<u64> {
    times.windows(2).map(|pair| pair[1] - pair[0]).collect()
}

#[test]
fn connect_timeout_follows_linux_syn_schedule_and_fails_at_131_s() {
    // tcp_syn_retries = 6 plus tcp_syn_linear_timeouts = 4 (docs/linux-model.md, "Retries and refusals").
    let trace = run_builtin("connect-timeout").trace;
    let syns: Vec<u64> = sent(&trace).iter().filter(|(_, s)| s.flags.syn).map(|(t, _)| *t).collect();
    assert_eq!(syns, [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67].map(|s| s * SECOND));
    assert_eq!(dropped_ids(&trace).len(), syns.len(), "no SYN reaches the server");
    assert!(sent(&trace).iter().all(|(_, s)| s.from.port == 45678), "nothing ever comes back: no SYN+ACK, no RST");
    let connect = &calls(&trace, "client", "connect")[0];
    assert_eq!((connect.t_us, connect.errno), (131 * SECOND, Some(Errno::ETIMEDOUT)));
}

#[test]
fn backlog_overflow_admits_backlog_plus_one_and_drops_the_rest_silently() {
    let trace = run_builtin("backlog-overflow").trace;
    let first_accept = calls(&trace, "server", "accept")[0].t_us;
    assert_eq!(first_accept, SECOND);
    let established_before_accept: Vec<_> = state_changes(&trace)
        .into_iter()
        .filter(|change| change.4 == State::Established && change.0 < first_accept && change.2.port == 9877)
        .collect();
    assert_eq!(established_before_accept.len(), 2, "listen(fd, 1) completes backlog + 1 = 2 handshakes");
    let to_server: Vec<_> = sent(&trace).into_iter().filter(|(_, s)| s.to.port == 9877 && s.flags.syn).collect();
    let dropped = dropped_ids(&trace);
    let dropped_syns: Vec<(u64, u16)> =
        to_server.iter().filter(|(_, s)| dropped.contains(&s.id)).map(|(t, s)| (*t, s.from.port)).collect();
    assert_eq!(
        dropped_syns,
        [(300 * MS, 45003), (400 * MS, 45004), (1400 * MS, 45004)],
        "clients 3 and 4 are dropped, and client 4 once more after client 3 took the freed place"
    );
    assert!(sent(&trace).iter().all(|(_, s)| !s.flags.rst), "a full accept queue never answers with RST");
    let connected: Vec<u64> = (3..=4).map(|n| calls(&trace, &format!("client{n}"), "connect")[0].t_us).collect();
    assert_eq!(connected, [1302 * MS, 2402 * MS], "each retransmitted SYN gets in after an accept() made room");
}

#[test]
fn retransmission_resends_the_lost_segment_after_the_rto_and_one_ack_covers_all() {
    let trace = run_builtin("retransmission").trace;
    let segments = sent(&trace);
    let dropped = dropped_ids(&trace);
    let (lost_at, lost) = segments.iter().find(|(_, s)| dropped.contains(&s.id)).cloned().expect("a lost segment");
    assert_eq!((lost.len, lost.retransmission), (1460, false));
    let (resent_at, _) = segments
        .iter()
        .find(|(_, s)| s.retransmission && s.seq == lost.seq && s.len == 1460)
        .cloned()
        .expect("the segment is retransmitted");
    // RFC 6298 with Linux's constants: one 20 ms sample gives srtt + max(2 * 20 ms, 200 ms).
    assert_eq!(resent_at - lost_at, 220 * MS);
    let from_server: Vec<_> = segments.iter().filter(|(_, s)| s.from.port == 9877).collect();
    let dup_acks = from_server.iter().filter(|(t, s)| *t > lost_at && *t < resent_at && s.ack == lost.seq).count();
    assert_eq!(dup_acks, 2, "each out-of-order segment draws a duplicate ACK; two are too few for fast retransmit");
    let (_, cover) = from_server.iter().find(|(t, _)| *t > resent_at).expect("an ACK after the retransmission");
    assert_eq!(cover.ack, lost.seq + 3000, "the ACK covers all 3000 bytes at once");
    assert_eq!(segments.iter().filter(|(_, s)| s.retransmission).count(), 1, "only the lost segment is resent");
}

#[test]
fn peer_crash_backs_off_exponentially_then_times_out() {
    let trace = run_builtin("peer-crash").trace;
    let send = calls(&trace, "client", "send")[1].t_us;
    let copies: Vec<u64> = sent(&trace).iter().filter(|(t, s)| *t >= send && s.len == 6).map(|(t, _)| *t).collect();
    assert_eq!(copies.len(), 16, "the original and 15 retransmissions");
    let expected_gaps: Vec<u64> = (0..15).map(|n| ((220 * MS) << n).min(120 * SECOND)).collect();
    assert_eq!(gaps(&copies), expected_gaps, "the RTO doubles from 220 ms up to the 120 s maximum");
    let recv = calls(&trace, "client", "recv").last().cloned().expect("a recv");
    assert_eq!(recv.errno, Some(Errno::ETIMEDOUT));
    // tcp_retries2 = 15: given up at the first expiry at least 924.6 s after the first send.
    let last_gap = 120 * SECOND;
    assert_eq!(recv.t_us, copies[15] + last_gap);
    assert!(recv.t_us - send >= 924_600 * MS && copies[15] - send < 924_600 * MS);
}

#[test]
fn peer_reboot_draws_rst_then_econnreset_and_epipe() {
    let trace = run_builtin("peer-reboot").trace;
    let rst = sent(&trace).into_iter().find(|(_, s)| s.flags.rst).expect("an RST");
    assert_eq!((rst.0, rst.1.from.port), (10_010 * MS, 9877), "the rebooted host answers the data with RST");
    assert_eq!(calls(&trace, "client", "recv")[1].errno, Some(Errno::ECONNRESET));
    assert_eq!(calls(&trace, "client", "send")[2].errno, Some(Errno::EPIPE));
}

#[test]
fn keepalive_probes_find_the_dead_peer() {
    let trace = run_builtin("keepalive").trace;
    let probes: Vec<u64> = sent(&trace)
        .iter()
        .filter(|(t, s)| *t > 5 * SECOND && s.from.port == 45678 && !s.flags.rst)
        .map(|(t, _)| *t)
        .collect();
    // Idle since the last segment received at 0.52 s: 30 s, then 5 s apart (the host's settings).
    assert_eq!(probes, [30_520 * MS, 35_520 * MS, 40_520 * MS]);
    let recv = &calls(&trace, "client", "recv")[1];
    assert_eq!((recv.t_us, recv.errno), (45_520 * MS, Some(Errno::ETIMEDOUT)));
    let rst = sent(&trace).into_iter().find(|(_, s)| s.flags.rst).expect("tcp_keepalive_timer() sends an RST");
    assert_eq!(rst.0, recv.t_us);
}

#[test]
fn lost_final_ack_restarts_time_wait_from_the_second_ack() {
    let trace = run_builtin("lost-final-ack").trace;
    let segments = sent(&trace);
    let server_fins: Vec<_> = segments.iter().filter(|(_, s)| s.flags.fin && s.from.port == 9877).collect();
    assert_eq!(server_fins.len(), 2, "the server resends its FIN");
    assert!(server_fins[1].1.retransmission);
    let final_acks: Vec<u64> = segments
        .iter()
        .filter(|(t, s)| *t > server_fins[0].0 && s.from.port == 45678 && is_bare_ack(s))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(final_acks.len(), 2, "the TIME_WAIT side acknowledges the FIN again");
    let time_wait = sockets_entering(&trace, State::TimeWait);
    assert_eq!(time_wait.len(), 1);
    let end = state_changes(&trace).into_iter().find(|c| c.1 == time_wait[0] && c.3 == State::TimeWait).expect("end").0;
    assert_eq!(end, final_acks[1] + 60 * SECOND, "2MSL counts again from the second ACK");
    let server = sockets_entering(&trace, State::LastAck);
    assert_eq!(states_of(&trace, server[0]).last(), Some(&State::Closed), "the server closes cleanly, no RST");
    assert!(segments.iter().all(|(_, s)| !s.flags.rst));
}

#[test]
fn linger_wait_close_returns_when_the_fin_is_acknowledged() {
    let trace = run_builtin("linger-wait").trace;
    let close = &calls(&trace, "client", "close")[0];
    assert_eq!(close.result, Some(0));
    let fin = sent(&trace).into_iter().find(|(_, s)| s.flags.fin && s.from.port == 45678).expect("client FIN");
    let fin_ack = sent(&trace)
        .into_iter()
        .find(|(_, s)| s.from.port == 9877 && s.ack == fin.1.seq + fin.1.len + 1)
        .expect("the FIN is acknowledged");
    assert_eq!(close.t_us, delivered_at(&trace, fin_ack.1.id), "close() returns when the ACK of the FIN arrives");
    assert_eq!(close.t_us, 700 * MS, "two round trips of 100 ms after close() was called at 0.5 s");
    let linger_fired = trace.events.iter().any(|event| {
        matches!(
            &event.kind,
            EventKind::Timer {
                timer: sockscope_engine::trace::TimerKind::Linger,
                action: sockscope_engine::trace::TimerAction::Fired,
                ..
            }
        )
    });
    assert!(!linger_fired, "the linger deadline is cancelled once close() returns");
}

#[test]
fn fin_wait_2_orphan_expires_after_tcp_fin_timeout() {
    let trace = run_builtin("fin-wait-2-orphan").trace;
    let client = sockets_entering(&trace, State::FinWait2)[0];
    assert_eq!(time_in(&trace, client, State::FinWait2), 60 * SECOND);
    assert_eq!(states_of(&trace, client).last(), Some(&State::Closed));
    let late_fin = sent(&trace).into_iter().find(|(_, s)| s.flags.fin && s.from.port == 9877).expect("server FIN");
    let rst = sent(&trace).into_iter().find(|(_, s)| s.flags.rst).expect("an RST");
    assert_eq!((rst.1.from.port, rst.0), (45678, late_fin.0 + 10 * MS), "the forgotten connection answers with RST");
}

#[test]
fn flow_control_closes_the_window_probes_it_and_resumes() {
    let trace = run_builtin("flow-control").trace;
    let segments = sent(&trace);
    let zero = segments.iter().find(|(_, s)| s.from.port == 9877 && s.win == 0).expect("a zero window").0;
    let send = &calls(&trace, "client", "send")[0];
    assert_eq!(send.result, Some(20_000));
    let blocked = trace.events.iter().any(|event| {
        matches!(&event.kind, EventKind::Syscall { process, call, phase: Phase::Block, .. }
            if process == "client" && call == "send")
    });
    assert!(blocked, "send() blocks while the window is closed and SendQ is full");
    let reopen = segments.iter().find(|(t, s)| *t > zero && s.from.port == 9877 && s.win > 0).expect("reopened").0;
    assert!(reopen >= 10 * SECOND, "the window reopens only when the server reads");
    let probes: Vec<u64> =
        segments.iter().filter(|(t, s)| *t > zero && *t < reopen && s.from.port == 45678).map(|(t, _)| *t).collect();
    assert_eq!(probes.len(), 5);
    for (t, _) in segments.iter().filter(|(t, s)| *t > zero && *t < reopen && s.from.port == 9877) {
        assert!(probes.contains(&(t - 10 * MS)), "a probe is answered one round trip later");
    }
    // tcp_oow_rate_limited(): a probe arriving less than tcp_invalid_ratelimit (500 ms) after
    // the last one answered gets no answer.
    let answered: Vec<bool> =
        probes.iter().map(|p| segments.iter().any(|(t, s)| s.from.port == 9877 && *t == p + 10 * MS)).collect();
    assert_eq!(answered, [true, false, true, true, true]);
    // tcp_probe0_when(): each interval doubles; it counts from the answer (tcp_ack_probe()), or
    // from the probe itself when none came (tcp_probe_timer()).
    let starts: Vec<u64> = probes.iter().zip(&answered).map(|(t, a)| if *a { t + 20 * MS } else { *t }).collect();
    let intervals: Vec<u64> = probes[1..].iter().zip(&starts).map(|(probe, start)| probe - start).collect();
    assert!(intervals.windows(2).all(|pair| pair[1] == 2 * pair[0]), "{intervals:?}");
    assert!(send.t_us > reopen);
    let read: i64 = calls(&trace, "server", "recv").iter().filter_map(|r| r.result).sum();
    assert_eq!(read, 20_000);
}

#[test]
fn deadlock_is_detected_and_names_both_blocked_senders() {
    let trace = run_builtin("deadlock").trace;
    assert!(end_reason(&trace).starts_with("deadlock"), "{}", end_reason(&trace));
    let note = trace
        .events
        .iter()
        .find_map(|event| match &event.kind {
            EventKind::Note { text, .. } if text.starts_with("Deadlock") => Some(text.clone()),
            _ => None,
        })
        .expect("a deadlock note");
    assert!(note.contains("server in send()") && note.contains("client in send()"), "{note}");
    assert!(calls(&trace, "client", "send").is_empty() && calls(&trace, "server", "send").is_empty());
    assert!(dropped_ids(&trace).is_empty(), "nothing is lost: the deadlock is in the programs");
    assert!(sent(&trace).iter().all(|(_, s)| !s.retransmission));
}

#[test]
fn partial_write_returns_a_short_count_and_the_loop_sends_the_rest() {
    let trace = run_builtin("partial-write").trace;
    let sends = calls(&trace, "client", "send");
    // SendQ is limited to 16384 bytes, but Linux fills a whole send buffer (the size goal,
    // 22 segments of 1460 bytes) before it checks the limit again.
    assert_eq!(sends[0].result, Some(32_120), "a nonblocking send() takes one size goal, then stops");
    assert!(sends.iter().any(|r| r.errno == Some(Errno::EAGAIN)), "the loop meets a full SendQ");
    let total: i64 = sends.iter().filter_map(|r| r.result).sum();
    assert_eq!(total, 50_000);
    let read: i64 = calls(&trace, "server", "recv").iter().filter_map(|r| r.result).sum();
    assert_eq!(read, 50_000);
}

/// The segments of the request/response exchange that starts with the first 1-byte write.
fn exchange(trace: &Trace) -> Vec<(u64, Segment)> {
    let first_byte = calls(trace, "client", "send")[1].t_us;
    let reply_ack = sent(trace)
        .into_iter()
        .position(|(t, s)| t > first_byte && s.from.port == 45678 && is_bare_ack(&s))
        .expect("the client acknowledges the answer");
    let all = sent(trace);
    all[..=reply_ack].iter().filter(|(t, _)| *t >= first_byte).cloned().collect()
}

#[test]
fn nagle_exchange_takes_six_segments_on_linux() {
    // FAQ II.17 case 1 on Linux: "h" alone, the delayed ACK, "ello\n", then a bare ACK the
    // read sends (the missed delayed ACK ended pingpong mode, and tcp_cleanup_rbuf() acks a
    // small segment at once outside it), the answer, and the client's ACK of the answer.
    let trace = run_builtin("nagle").trace;
    let shape: Vec<(u16, u32, bool)> =
        exchange(&trace).iter().map(|(_, s)| (s.from.port, s.len, s.flags.psh)).collect();
    assert_eq!(
        shape,
        [(45678, 1, true), (9877, 0, false), (45678, 5, true), (9877, 0, false), (9877, 6, true), (45678, 0, false)]
    );
    let times: Vec<u64> = exchange(&trace).iter().map(|(t, _)| *t).collect();
    assert_eq!(times[1] - times[0], 50 * MS, "the ACK of \"h\" leaves after the 40 ms delayed-ACK timeout");
    let answer = calls(&trace, "client", "recv")[1].t_us;
    assert_eq!(answer - times[0], 80 * MS, "two round trips plus the ACK delay");
}

#[test]
fn nagle_off_sends_one_segment_per_write() {
    let trace = run_builtin("nagle-off").trace;
    let shape: Vec<(u16, u32)> = exchange(&trace).iter().map(|(_, s)| (s.from.port, s.len)).collect();
    // Six 1-byte segments; the read of all six acks at once (two or more small segments were
    // waiting: ICSK_ACK_PUSHED2), then the answer and the client's ACK of it.
    assert_eq!(
        shape,
        [(45678, 1), (45678, 1), (45678, 1), (45678, 1), (45678, 1), (45678, 1), (9877, 0), (9877, 6), (45678, 0)]
    );
    let first = calls(&trace, "client", "send")[1].t_us;
    assert_eq!(calls(&trace, "client", "recv")[1].t_us - first, 20 * MS, "one round trip");
}

#[test]
fn udp_takes_two_datagrams_where_tcp_takes_ten_segments() {
    let trace = run_builtin("udp-vs-tcp").trace;
    let datagrams: Vec<_> = trace
        .events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::Segment(s) if s.fate == Fate::Sent && s.proto == Proto::Udp => Some(s.len),
            _ => None,
        })
        .collect();
    assert_eq!(datagrams, [6, 6]);
    assert_eq!(sent(&trace).len(), 10);
    let udp_reply = calls(&trace, "udp-client", "recvfrom")[0].t_us;
    assert_eq!(udp_reply - 100 * MS, 20 * MS, "UDP: one round trip");
    let tcp_reply = calls(&trace, "tcp-client", "recv")[0].t_us;
    assert_eq!(tcp_reply - 500 * MS, 40 * MS, "TCP: the handshake's round trip, then the request's");
}

#[test]
fn linger_time_running_out_ends_close_with_zero_and_the_kernel_carries_on() {
    // SO_LINGER {1, 1} while the peer's window is closed: the FIN cannot even be sent, so
    // close() returns 0 when the second is up (socket(7); Linux's tcp_close() does not
    // report the timeout), and the orphaned socket still delivers everything later.
    let text = r#"{"hosts": [{"name": "c", "addr": "10.0.0.1"}, {"name": "s", "addr": "10.0.0.2"}],
      "processes": [
        {"name": "server", "host": "s", "steps": [
          {"call": "socket", "as": "l"}, {"call": "setsockopt", "fd": "l", "opt": "SO_RCVBUF", "value": 2304},
          {"call": "bind", "fd": "l", "addr": "*:80"}, {"call": "listen", "fd": "l", "backlog": 1},
          {"call": "accept", "fd": "l", "as": "c"}, {"call": "sleep", "ms": 5000},
          {"call": "recv_to_eof", "fd": "c", "len": 65536}, {"call": "close", "fd": "c"}]},
        {"name": "client", "host": "c", "steps": [
          {"call": "socket", "as": "s"},
          {"call": "setsockopt", "fd": "s", "opt": "SO_LINGER", "value": {"onoff": true, "linger": 1}},
          {"call": "connect", "fd": "s", "addr": "10.0.0.2:80"},
          {"call": "send", "fd": "s", "len": 12000, "at_ms": 100},
          {"call": "close", "fd": "s", "expect": 0}]}]}"#;
    let scenario = sockscope_engine::parse_scenario(text).expect("valid");
    let result = run(&scenario).expect("runs");
    assert!(result.failed_expectations.is_empty(), "{:#?}", result.failed_expectations);
    let trace = result.trace;
    let close = &calls(&trace, "client", "close")[0];
    let entered = trace
        .events
        .iter()
        .find_map(|event| match &event.kind {
            EventKind::Syscall { process, call, phase: Phase::Enter, .. } if process == "client" && call == "close" => {
                Some(event.t_us)
            }
            _ => None,
        })
        .expect("close() is called");
    assert_eq!(close.t_us - entered, SECOND, "close() waited exactly the linger time");
    let fin = sent(&trace).into_iter().find(|(_, s)| s.flags.fin && s.from.port != 80).expect("a FIN, later");
    assert!(fin.0 > close.t_us, "the FIN leaves after close() has returned");
    let read: i64 = calls(&trace, "server", "recv").iter().filter_map(|r| r.result).sum();
    assert_eq!(read, 12_000, "the orphaned socket delivers every byte");
}

#[test]
fn a_failed_expectation_names_its_step_by_the_json_path_a_parse_error_would_use() {
    // The page and the CLI show both kinds of message; both count steps from 0, so
    // `processes[0].steps[2]` is the same step whether it failed to parse or to meet its
    // expectation. A forked child's steps sit under its fork step's `child`.
    let text = r#"{"hosts": [{"name": "a", "addr": "10.0.0.1"}],
      "processes": [
        {"name": "client", "host": "a", "steps": [
          {"call": "socket", "as": "s"},
          {"call": "fork", "child": {"name": "child", "steps": [
            {"call": "sleep", "ms": 1},
            {"call": "sleep", "ms": 1, "expect": 5}]}},
          {"call": "connect", "fd": "s", "addr": "10.0.0.1:9", "expect": "ETIMEDOUT"}]}]}"#;
    let scenario = sockscope_engine::parse_scenario(text).expect("valid");
    let result = run(&scenario).expect("runs");
    assert_eq!(
        result.failed_expectations,
        [
            "expectation failed: client's connect() at processes[0].steps[2] was expected to give ETIMEDOUT, it gave ECONNREFUSED",
            "expectation failed: child's sleep() at processes[0].steps[1].child.steps[1] was expected to give 5, it gave 0",
        ]
    );
    // A parse error in the same place gives the same path.
    let broken = text.replacen(
        r#""addr": "10.0.0.1:9", "expect": "ETIMEDOUT""#,
        r#""addr": "10.0.0.1:9", "expect": "EWHAT""#,
        1,
    );
    let err = sockscope_engine::parse_scenario(&broken).expect_err("an unknown errno");
    assert_eq!(err.path, "processes[0].steps[2]");
}
