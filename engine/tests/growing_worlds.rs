//! What the page's playground and what-if forks ask of the engine.
//!
//! The playground grows a scenario one call at a time and runs it again from the start; a
//! fork adds one fault. Both lean on three promises tested here: a scenario written back as
//! JSON reads as the same scenario; a step added at time T leaves every event before T as it
//! was; and processes that wait at the end of their steps keep their sockets open.

use sockscope_engine::scenario::{AtEnd, Call, Fault, SegmentMatch, Step};
use sockscope_engine::trace::{Fate, Flags};
use sockscope_engine::{builtin, parse_scenario, run, EventKind, Scenario, Trace};

fn builtin_scenario(name: &str) -> Scenario {
    builtin::get(name).unwrap_or_else(|| panic!("no built-in scenario `{name}`"))
}

fn trace_of(scenario: &Scenario) -> Trace {
    run(scenario).unwrap_or_else(|err| panic!("{}: {err}", scenario.name)).trace
}

fn step(call: Call, at_ms: f64) -> Step {
    Step { call, at_ms: Some(at_ms), note: None, note_on_return: None, expect: None }
}

#[test]
fn every_builtin_scenario_reads_back_from_its_json() {
    for name in builtin::names() {
        let scenario = builtin_scenario(name);
        let text = serde_json::to_string_pretty(&scenario).expect("a scenario serializes");
        let again = parse_scenario(&text).unwrap_or_else(|err| panic!("{name} does not read back: {err}\n{text}"));
        assert_eq!(again, scenario, "{name}");
    }
}

#[test]
fn a_step_added_later_leaves_the_earlier_trace_as_it_was() {
    // A close() added to the client of the handshake at 5 ms, 10 ms, ... changes nothing
    // before that moment, whatever the moment.
    let mut base = builtin_scenario("three-way-handshake");
    for process in &mut base.processes {
        process.at_end = AtEnd::Wait;
    }
    let before = trace_of(&base);
    let client = base.processes.iter().position(|process| process.name == "client").expect("a client");
    for at_ms in [5.0, 10.0, 20.5, 41.0, 100.0] {
        let mut grown = base.clone();
        grown.processes[client].steps.push(step(Call::Close { fd: "fd".to_string() }, at_ms));
        let after = trace_of(&grown);
        let at_us = (at_ms * 1000.0) as u64;
        let earlier = |trace: &Trace| trace.events.iter().filter(|e| e.t_us < at_us).cloned().collect::<Vec<_>>();
        assert_eq!(earlier(&after), earlier(&before), "at {at_ms} ms");
        assert!(after.events.len() > earlier(&after).len());
    }
}

#[test]
fn a_waiting_process_keeps_its_connection_open() {
    // The handshake without its close() calls: the processes stop after the handshake.
    let mut scenario = builtin_scenario("three-way-handshake");
    for process in &mut scenario.processes {
        process.steps.retain(|step| !matches!(step.call, Call::Close { .. }));
    }
    let exits = trace_of(&scenario);
    let fins = |trace: &Trace| {
        trace.events.iter().filter(|e| matches!(&e.kind, EventKind::Segment(s) if s.header.flags.fin)).count()
    };
    assert!(fins(&exits) > 0, "the kernel closes the sockets of processes that exit");
    for process in &mut scenario.processes {
        process.at_end = AtEnd::Wait;
    }
    let waits = trace_of(&scenario);
    assert_eq!(fins(&waits), 0, "nobody closes");
    let Some(EventKind::End { reason }) = waits.events.last().map(|e| &e.kind) else { panic!("the run ends") };
    assert!(reason.contains("waiting for a next call"), "{reason}");
    // Written back and read again, the choice is kept.
    let text = serde_json::to_string(&scenario).expect("serializes");
    assert!(text.contains("\"at_end\":\"wait\""), "{text}");
    assert_eq!(parse_scenario(&text).expect("reads").processes[0].at_end, AtEnd::Wait);
}

/// The SYN+ACK, as the fork of the playground's "drop this segment" writes it: the one
/// segment with these flags between these hosts in this microsecond.
fn syn_ack_match(trace: &Trace) -> SegmentMatch {
    let host_of = |ip| {
        trace.events.iter().find_map(|e| match &e.kind {
            EventKind::Host { host, addr } if *addr == ip => Some(host.clone()),
            _ => None,
        })
    };
    let (t_us, from, to) = trace
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Segment(s) if s.header.flags == Flags::SYN_ACK => {
                Some((e.t_us, host_of(s.header.from.ip), host_of(s.header.to.ip)))
            }
            _ => None,
        })
        .expect("a SYN+ACK");
    SegmentMatch {
        from,
        to,
        flags: Some("S.".to_string()),
        from_ms: Some(t_us as f64 / 1000.0),
        until_ms: Some((t_us + 1) as f64 / 1000.0),
        ..SegmentMatch::default()
    }
}

fn fates(trace: &Trace) -> Vec<(u64, Fate)> {
    trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Segment(s) => Some((e.t_us, s.fate)),
            _ => None,
        })
        .collect()
}

#[test]
fn picked_faults_touch_one_segment_and_draw_nothing() {
    let base = builtin_scenario("three-way-handshake");
    let original = trace_of(&base);
    let matching = syn_ack_match(&original);
    let with = |fault: Fault| {
        let mut fork = base.clone();
        fork.faults.push(fault);
        let text = serde_json::to_string(&fork).expect("serializes");
        trace_of(&parse_scenario(&text).expect("the fork reads back"))
    };
    let duplicated = with(Fault::Duplicate { rate: 1.0, matching: matching.clone(), nth: Some(1), count: 1 });
    let delayed = with(Fault::Delay { extra_us: 5000, matching: matching.clone(), nth: Some(1), count: 1 });
    let dropped = with(Fault::Drop { matching, nth: 1, count: 1 });
    let syn_acks_delivered = |trace: &Trace| {
        let delivered = |e: &&sockscope_engine::Event| matches!(&e.kind, EventKind::Segment(s) if s.fate == Fate::Delivered && s.header.flags == Flags::SYN_ACK);
        trace.events.iter().filter(delivered).count()
    };
    assert_eq!(syn_acks_delivered(&original), 1);
    assert_eq!(syn_acks_delivered(&duplicated), 2, "one more copy arrives");
    assert!(fates(&delayed).len() == fates(&original).len());
    assert!(fates(&dropped).iter().any(|(_, fate)| *fate == Fate::Dropped));
    // No random draw was taken: ports and ISNs are those of the original run.
    let first_segment = |trace: &Trace| {
        trace.events.iter().find_map(|e| match &e.kind {
            EventKind::Segment(s) => Some(s.header),
            _ => None,
        })
    };
    for fork in [&duplicated, &delayed, &dropped] {
        assert_eq!(first_segment(fork), first_segment(&original));
    }
}
