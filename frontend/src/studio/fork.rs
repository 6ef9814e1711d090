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
    let (from, to) = (host_of(trace, segment.from.ip)?, host_of(trace, segment.to.ip)?);
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

fn host_of(trace: &Trace, ip: sockscope_engine::Ipv4) -> Option<String> {
    trace.events.iter().find_map(|event| match &event.kind {
        EventKind::Host { host, addr } if *addr == ip => Some(host.clone()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::trace::Flags;
    use sockscope_engine::{builtin, run};

    #[test]
    fn dropping_the_syn_ack_makes_the_server_send_it_again_after_its_rto() {
        let scenario = builtin::get("three-way-handshake").expect("built in");
        let original = run(&scenario).expect("runs").trace;
        let sent = original
            .events
            .iter()
            .position(|e| matches!(&e.kind, EventKind::Segment(s) if s.flags == Flags::SYN_ACK))
            .expect("a SYN+ACK");
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

    #[test]
    fn a_crash_comes_after_the_moment_shown() {
        assert_eq!(label(&crash("server", 41_000)), "crash server just after 41 ms");
        let Fault::Crash { at_ms, .. } = crash("server", 41_000) else { panic!() };
        assert_eq!(at_ms, 41.001);
    }
}
