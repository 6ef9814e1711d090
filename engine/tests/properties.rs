//! Property tests over random programs on 2-4 hosts, with and without network faults.
//!
//! Invariants checked on every run: it never panics; event times never go backwards; RecvQ
//! stays within its capacity and SendQ within one send buffer of its own (as on Linux); a
//! socket's sending limits are traced only when they change, with a congestion window and
//! an RTO within [rto_min, rto_max]; the bytes each program reads equal, in order, the bytes
//! its peer wrote; with both programs closing, every connection is gone within a bounded
//! time; and the same scenario gives the same trace twice.

use proptest::prelude::*;
use serde_json::{json, Value};
use sockscope_engine::{parse_scenario, run, EventKind, Run};

/// One connection's two programs: the client writes `client_sends`, half-closes and reads to
/// end of file; the server reads to end of file, answers with `server_sends` and closes.
#[derive(Clone, Debug)]
struct Conversation {
    client_host: usize,
    server_host: usize,
    start_ms: u32,
    client_sends: Vec<(u32, u32)>,
    server_reads: Vec<u32>,
    server_sends: Vec<(u32, u32)>,
    nodelay: bool,
    rcvbuf: Option<u32>,
}

fn conversation(hosts: usize) -> impl Strategy<Value = Conversation> {
    (
        0..hosts,
        0..hosts,
        1u32..200,
        prop::collection::vec((1u32..6000, 0u32..80), 0..5),
        prop::collection::vec(1u32..3000, 0..3),
        prop::collection::vec((1u32..6000, 0u32..80), 0..4),
        any::<bool>(),
        prop::option::of(2_000u32..20_000),
    )
        .prop_map(
            |(client_host, server_host, start_ms, client_sends, server_reads, server_sends, nodelay, rcvbuf)| {
                Conversation {
                    client_host,
                    server_host,
                    start_ms,
                    client_sends,
                    server_reads,
                    server_sends,
                    nodelay,
                    rcvbuf,
                }
            },
        )
}

fn sends(fd: &str, sends: &[(u32, u32)]) -> Vec<Value> {
    let mut steps = Vec::new();
    for (len, pause) in sends {
        if *pause > 0 {
            steps.push(json!({"call": "sleep", "ms": pause}));
        }
        steps.push(json!({"call": "send", "fd": fd, "len": len, "expect": len}));
    }
    steps
}

fn scenario_text(hosts: usize, conversations: &[Conversation], faults: Value, seed: u64) -> String {
    let host_list: Vec<Value> =
        (0..hosts).map(|index| json!({"name": format!("h{index}"), "addr": format!("10.0.0.{}", index + 1)})).collect();
    let mut processes = Vec::new();
    for (index, talk) in conversations.iter().enumerate() {
        let port = 5000 + index;
        let server_addr = format!("10.0.0.{}:{port}", talk.server_host + 1);
        let mut server = vec![json!({"call": "socket", "as": "l"})];
        if let Some(rcvbuf) = talk.rcvbuf {
            server.push(json!({"call": "setsockopt", "fd": "l", "opt": "SO_RCVBUF", "value": rcvbuf}));
        }
        server.push(json!({"call": "bind", "fd": "l", "addr": format!("*:{port}"), "expect": 0}));
        server.push(json!({"call": "listen", "fd": "l", "backlog": 4, "expect": 0}));
        server.push(json!({"call": "accept", "fd": "l", "as": "c"}));
        for len in &talk.server_reads {
            server.push(json!({"call": "recv", "fd": "c", "len": len}));
        }
        server.push(json!({"call": "recv_to_eof", "fd": "c", "len": 4096}));
        server.extend(sends("c", &talk.server_sends));
        server.push(json!({"call": "close", "fd": "c", "expect": 0}));
        server.push(json!({"call": "close", "fd": "l", "expect": 0}));
        processes
            .push(json!({"name": format!("server{index}"), "host": format!("h{}", talk.server_host), "steps": server}));

        let mut client = vec![json!({"call": "socket", "as": "s", "at_ms": talk.start_ms})];
        if talk.nodelay {
            client.push(json!({"call": "setsockopt", "fd": "s", "opt": "TCP_NODELAY", "value": true}));
        }
        client.push(json!({"call": "connect", "fd": "s", "addr": server_addr, "expect": 0}));
        client.extend(sends("s", &talk.client_sends));
        client.push(json!({"call": "shutdown", "fd": "s", "how": "SHUT_WR", "expect": 0}));
        client.push(json!({"call": "recv_to_eof", "fd": "s", "len": 4096}));
        client.push(json!({"call": "close", "fd": "s", "expect": 0}));
        processes
            .push(json!({"name": format!("client{index}"), "host": format!("h{}", talk.client_host), "steps": client}));
    }
    json!({"name": "random", "seed": seed, "hosts": host_list, "processes": processes, "faults": faults}).to_string()
}

fn check_invariants(run: &Run) {
    let events = &run.trace.events;
    for pair in events.windows(2) {
        assert!(pair[0].t_us <= pair[1].t_us, "time went backwards: {:?} then {:?}", pair[0], pair[1]);
    }
    // The generated hosts keep Linux's default RTO bounds.
    let rto_bounds = 200_000..=120_000_000;
    let mut traced_limits = std::collections::BTreeMap::new();
    for event in events {
        match &event.kind {
            EventKind::Queues { send_q, recv_q, send_cap, recv_cap, accept_q, backlog, .. } => {
                // Linux checks SO_SNDBUF only before it starts a send buffer and then fills that
                // buffer, so SendQ may exceed its capacity by less than one 64 KB buffer.
                assert!(*send_q < send_cap + 65_536, "SendQ over capacity: {event:?}");
                assert!(recv_q <= recv_cap, "RecvQ over capacity: {event:?}");
                assert!(*accept_q <= backlog + 1, "accept queue over backlog+1: {event:?}");
            }
            EventKind::Congestion { socket, cwnd, ssthresh, srtt_us, rto_us, .. } => {
                assert!(*cwnd > 0, "an empty congestion window: {event:?}");
                assert!(rto_bounds.contains(rto_us), "RTO outside [rto_min, rto_max]: {event:?}");
                let limits = (*cwnd, *ssthresh, *srtt_us, *rto_us);
                assert_ne!(traced_limits.insert(*socket, limits), Some(limits), "traced again unchanged: {event:?}");
            }
            _ => {}
        }
    }
}

/// Every byte a program read is, in order, what its peer wrote; `complete` demands all of it.
fn check_streams(run: &Run, complete: bool) {
    for stream in &run.streams {
        let Some(peer) = run.streams.iter().find(|other| other.local == stream.peer && other.peer == stream.local)
        else {
            continue;
        };
        assert!(
            peer.written.starts_with(&stream.read),
            "{} read bytes its peer {} never wrote in that order",
            stream.local,
            stream.peer
        );
        if complete {
            assert_eq!(
                stream.read.len(),
                peer.written.len(),
                "{} did not read everything {} wrote",
                stream.local,
                stream.peer
            );
        }
    }
}

/// Every TCP socket has been freed when the run ends, and the end came in bounded time.
fn check_all_closed(run: &Run, bound_s: u64) {
    let mut live = std::collections::BTreeSet::new();
    for event in &run.trace.events {
        match &event.kind {
            EventKind::Socket { socket, action: sockscope_engine::trace::SocketAction::Create, .. } => {
                live.insert(*socket);
            }
            EventKind::Socket { socket, action: sockscope_engine::trace::SocketAction::Free, .. } => {
                live.remove(socket);
            }
            _ => {}
        }
    }
    assert!(live.is_empty(), "sockets {live:?} were never freed");
    let end = run.trace.events.last().map_or(0, |event| event.t_us);
    assert!(end <= bound_s * 1_000_000, "the run took {end} us");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_conversations_keep_every_invariant(
        hosts in 2usize..=4,
        talks in prop::collection::vec(conversation(4), 1..4),
        seed in any::<u64>(),
    ) {
        let talks: Vec<Conversation> = talks
            .into_iter()
            .map(|mut talk| { talk.client_host %= hosts; talk.server_host %= hosts; talk })
            .collect();
        let text = scenario_text(hosts, &talks, json!([]), seed);
        let scenario = parse_scenario(&text).expect("generated scenarios are valid");
        let first = run(&scenario).expect("runs finish within the event limit");
        check_invariants(&first);
        check_streams(&first, true);
        prop_assert!(first.failed_expectations.is_empty(), "{:?}", first.failed_expectations);
        check_all_closed(&first, 200);
        // Determinism: the same scenario and seed give the same bytes.
        let second = run(&scenario).expect("second run");
        prop_assert_eq!(first.trace.to_jsonl(), second.trace.to_jsonl());
    }

    #[test]
    fn random_loss_duplication_and_reordering_never_break_a_stream(
        hosts in 2usize..=3,
        talks in prop::collection::vec(conversation(3), 1..3),
        loss in 0.0f64..0.3,
        duplicate in 0.0f64..0.3,
        reorder in 0.0f64..0.3,
        seed in any::<u64>(),
    ) {
        let talks: Vec<Conversation> = talks
            .into_iter()
            .map(|mut talk| { talk.client_host %= hosts; talk.server_host %= hosts; talk })
            .collect();
        let faults = json!([
            {"fault": "loss", "rate": loss},
            {"fault": "duplicate", "rate": duplicate},
            {"fault": "reorder", "rate": reorder, "delay_us": 3000},
        ]);
        let text = scenario_text(hosts, &talks, faults, seed);
        let scenario = parse_scenario(&text).expect("generated scenarios are valid");
        let result = run(&scenario).expect("runs finish within the event limit");
        check_invariants(&result);
        // Under loss a connection may time out, so only the in-order prefix is guaranteed.
        check_streams(&result, false);
        // 2MSL, a 924.6 s retransmission budget and the SYN schedule bound every life.
        check_all_closed(&result, 3 * 3600);
        // Determinism holds under faults too: the seeded draws repeat exactly.
        let second = run(&scenario).expect("second run");
        prop_assert_eq!(result.trace.to_jsonl(), second.trace.to_jsonl());
    }
}
