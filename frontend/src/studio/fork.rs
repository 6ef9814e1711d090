//! What-if forks: the run shown, again, with one more fault that touches exactly one segment
//! (dropped, delayed or duplicated) or crashes a host at the moment shown.
//!
//! A fault names its segment by what the fabric sees when it sends it: the two hosts, the
//! flags, the microsecond it left, and which of the segments alike in all of these it was
//! (`nth`). Rules of rate 1 take no random draw, so the fork keeps the original's ports and
//! ISNs, and everything before the fault happens as it did.

use sockscope_engine::scenario::{Fault, SegmentMatch};
use sockscope_engine::trace::{Fate, Segment};
use sockscope_engine::{EventKind, Scenario, Trace};

/// The most faults a fork link may add (each fork of a fork adds one).
pub const MAX_FAULTS: usize = 16;

/// What happens to the chosen segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhatIf {
    Drop,
    /// Arrives this many milliseconds later.
    Delay(u32),
    Duplicate,
}

/// The fault that does `what_if` to the segment sent at event `sent`, or `None` when that
/// event is not a sent segment.
pub fn segment_fault(trace: &Trace, sent: usize, what_if: WhatIf) -> Option<Fault> {
    let event = trace.events.get(sent)?;
    let EventKind::Segment(segment) = &event.kind else { return None };
    if segment.fate != Fate::Sent {
        return None;
    }
    let hosts = super::hosts_of(trace);
    let (from, to) = (hosts.host_of_addr(segment.from)?.to_string(), hosts.host_of_addr(segment.to)?.to_string());
    let flags = segment.flags.letters();
    let alike = |other: &Segment| {
        other.fate == Fate::Sent
            && other.from.ip == segment.from.ip
            && other.to.ip == segment.to.ip
            && other.flags == segment.flags
    };
    // Which of the segments alike sent in the same microsecond this one is.
    let nth = 1 + trace.events[..sent]
        .iter()
        .filter(|e| e.t_us == event.t_us && matches!(&e.kind, EventKind::Segment(other) if alike(other)))
        .count() as u32;
    let matching = SegmentMatch {
        from: Some(from),
        to: Some(to),
        flags: Some(flags),
        from_ms: Some(event.t_us as f64 / 1000.0),
        until_ms: Some((event.t_us + 1) as f64 / 1000.0),
        ..SegmentMatch::default()
    };
    Some(match what_if {
        WhatIf::Drop => Fault::Drop { matching, nth, count: 1 },
        WhatIf::Delay(ms) => Fault::Delay { extra_us: u64::from(ms) * 1000, matching, nth: Some(nth), count: 1 },
        WhatIf::Duplicate => Fault::Duplicate { rate: 1.0, matching, nth: Some(nth), count: 1 },
    })
}

/// A crash of `host` just after `t_us`: the events of that microsecond still happen.
pub fn crash(host: &str, t_us: u64) -> Fault {
    Fault::Crash { host: host.to_string(), at_ms: (t_us + 1) as f64 / 1000.0 }
}

/// `scenario` with `fault` tried before its own rules, so that it decides its segment.
pub fn forked(scenario: &Scenario, fault: Fault) -> Scenario {
    let mut fork = scenario.clone();
    fork.faults.insert(0, fault);
    fork
}

/// The fork a link carries (`fork=`, the faults it added as JSON, in the order added) of
/// `original`: the fork's scenario and its faults, or why the link cannot be followed. The
/// text is untrusted; what it makes is checked as any scenario is.
pub fn from_link(original: &Scenario, faults: &str) -> Result<(Scenario, Vec<Fault>), String> {
    let faults: Vec<Fault> =
        serde_json::from_str(faults).map_err(|err| format!("its faults are not a list of faults ({err})"))?;
    if faults.is_empty() {
        return Err("it adds no fault".to_string());
    }
    if faults.len() > MAX_FAULTS {
        return Err(format!("it adds {} faults; a fork link carries at most {MAX_FAULTS}", faults.len()));
    }
    let mut fork = original.clone();
    for fault in &faults {
        fork = forked(&fork, fault.clone());
    }
    sockscope_engine::scenario::validate(&fork).map_err(|err| format!("its faults do not fit the scenario ({err})"))?;
    Ok((fork, faults))
}

/// A short name for a fork's tab and announcement: "drop S. client→server at 20.000 ms".
pub fn label(fault: &Fault) -> String {
    let at = |matching: &SegmentMatch| {
        format!(
            "{} {}→{} at {} ms",
            matching.flags.as_deref().unwrap_or(""),
            matching.from.as_deref().unwrap_or("?"),
            matching.to.as_deref().unwrap_or("?"),
            sockscope_engine::format::decimal(matching.from_ms.unwrap_or(0.0))
        )
    };
    match fault {
        Fault::Drop { matching, .. } => format!("drop {}", at(matching)),
        Fault::Delay { matching, extra_us, .. } => format!("delay {} by {} ms", at(matching), extra_us / 1000),
        Fault::Duplicate { matching, .. } => format!("duplicate {}", at(matching)),
        Fault::Crash { host, at_ms } => {
            let shown_us = ((at_ms * 1000.0).round() as u64).saturating_sub(1);
            format!("crash {host} just after {} ms", sockscope_engine::format::decimal(shown_us as f64 / 1000.0))
        }
        _ => "fault".to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sockscope_engine::trace::Flags;
    use sockscope_engine::{builtin, run};

    #[test]
    fn dropping_the_syn_ack_makes_the_server_send_it_again_after_its_rto() {
        let (scenario, original, sent) = first("three-way-handshake", Flags::SYN_ACK);
        let fault = segment_fault(&original, sent, WhatIf::Drop).expect("a sent segment");
        assert_eq!(label(&fault), "drop S. server→client at 120 ms");
        let fork = run(&forked(&scenario, fault)).expect("runs").trace;
        assert_eq!(fork.events[..sent], original.events[..sent], "the past is the same");
        let syn_acks: Vec<(u64, Fate)> = fork
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Segment(s) if s.flags == Flags::SYN_ACK => Some((e.t_us, s.fate)),
                _ => None,
            })
            .collect();
        assert_eq!(syn_acks[1].1, Fate::Dropped, "{syn_acks:?}");
        // The client's SYN is sent again after its 1 s RTO; the server answers it again.
        assert!(syn_acks.iter().any(|&(t, fate)| fate == Fate::Sent && t >= 1_000_000), "{syn_acks:?}");
        assert!(segment_fault(&original, 0, WhatIf::Drop).is_none(), "not a segment");
    }

    /// A built-in scenario, its run, and the event where its first segment of `flags` is sent.
    pub(crate) fn first(name: &str, flags: Flags) -> (Scenario, Trace, usize) {
        let scenario = builtin::get(name).expect("built in");
        let trace = run(&scenario).expect("runs").trace;
        let sent = trace
            .events
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Segment(s) if s.flags == flags && s.fate == Fate::Sent))
            .expect("such a segment");
        (scenario, trace, sent)
    }

    #[test]
    fn delaying_or_duplicating_touches_that_segment_only() {
        let (scenario, original, sent) = first("three-way-handshake", Flags::SYN);
        let arrivals = |trace: &Trace| -> Vec<u64> {
            trace
                .events
                .iter()
                .filter(
                    |e| matches!(&e.kind, EventKind::Segment(s) if s.flags == Flags::SYN && s.fate == Fate::Delivered),
                )
                .map(|e| e.t_us)
                .collect()
        };
        let delayed = segment_fault(&original, sent, WhatIf::Delay(300)).expect("a segment");
        assert_eq!(label(&delayed), "delay S client→server at 100 ms by 300 ms");
        let late = run(&forked(&scenario, delayed)).expect("runs").trace;
        assert_eq!(arrivals(&original), [120_000]);
        assert_eq!(arrivals(&late), [420_000], "20 ms of link and 300 ms more");
        let twice = run(&forked(&scenario, segment_fault(&original, sent, WhatIf::Duplicate).expect("a segment")))
            .expect("runs")
            .trace;
        assert_eq!(arrivals(&twice), [120_000, 120_000]);
        // The first segments of both forks carry the original's ports and ISN.
        let header = |trace: &Trace| match &trace.events[sent].kind {
            EventKind::Segment(s) => s.header,
            _ => unreachable!(),
        };
        assert_eq!((header(&late), header(&twice)), (header(&original), header(&original)));
    }

    #[test]
    fn a_crashed_server_leaves_the_client_retransmitting() {
        let (scenario, original, sent) = first("four-way-close", Flags::SYN_ACK);
        let at = original.events[sent].t_us + 30_000;
        let fork = run(&forked(&scenario, crash("server", at))).expect("runs").trace;
        assert_eq!(fork.events[..cursor(&original, at)], original.events[..cursor(&original, at)]);
        assert!(fork.events.iter().any(|e| matches!(&e.kind, EventKind::Segment(s) if s.retransmission)));
    }

    fn cursor(trace: &Trace, t_us: u64) -> usize {
        trace.events.partition_point(|e| e.t_us <= t_us)
    }

    #[test]
    fn a_fork_travels_in_its_link() {
        let (scenario, original, sent) = first("three-way-handshake", Flags::SYN_ACK);
        let drop = segment_fault(&original, sent, WhatIf::Drop).expect("a segment");
        let crash = crash("client", 2_000_000);
        let link = serde_json::to_string(&[drop.clone(), crash.clone()]).expect("serializes");
        let (fork, faults) = from_link(&scenario, &link).expect("the link opens");
        assert_eq!(faults, [drop.clone(), crash.clone()]);
        assert_eq!(fork, forked(&forked(&scenario, drop), crash));
        for (bad, why) in [
            ("", "are not a list of faults"),
            ("[]", "adds no fault"),
            ("[{\"fault\": \"crash\", \"host\": \"mars\", \"at_ms\": 1}]", "do not fit the scenario"),
            ("[{\"fault\": \"drop\", \"nth\": 0}]", "do not fit the scenario"),
        ] {
            let err = from_link(&scenario, bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn a_crash_comes_after_the_moment_shown() {
        assert_eq!(label(&crash("server", 41_000)), "crash server just after 41 ms");
        let Fault::Crash { at_ms, .. } = crash("server", 41_000) else { panic!() };
        assert_eq!(at_ms, 41.001);
    }
}
