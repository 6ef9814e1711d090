//! A time–sequence graph in the style of tcptrace and Stevens (TCP/IP Illustrated): for one
//! direction of one connection, each segment the sender sends as a vertical bar from its first
//! to its last sequence number at the time it leaves, the acknowledged edge as the sender
//! learns it (a step line), and the edge of the window the receiver offers (ack + window,
//! scaled as the handshake agreed). Sequence numbers count from the sender's ISN, as tcpdump
//! prints them.

use sockscope_engine::addr::SockAddr;
use sockscope_engine::trace::{Fate, Proto, Segment};
use sockscope_engine::{EventKind, Trace};

/// One direction of a connection: the data flows `from` → `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Direction {
    pub from: SockAddr,
    pub to: SockAddr,
}

/// A segment the sender sent, as a bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub event: usize,
    pub t_us: u64,
    /// The first sequence number and one past the last (a SYN or FIN counts one).
    pub first: u64,
    pub end: u64,
    pub retransmission: bool,
    pub dropped: bool,
}

/// A point of a step line: from `t_us` on, the value is `value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub event: usize,
    pub t_us: u64,
    pub value: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    pub bars: Vec<Bar>,
    /// The highest acknowledgement the sender has received.
    pub acked: Vec<Step>,
    /// The right edge of the window the receiver offered, as the sender learned it.
    pub window: Vec<Step>,
}

/// What a run offers to plot, found in one pass over it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Survey {
    /// The directions of the run's TCP connections in which something was sent, in the
    /// order their first segment left.
    pub directions: Vec<Direction>,
    /// The direction that carries the most payload (the first of equals), the one a reader
    /// most likely wants.
    pub busiest: Option<Direction>,
    /// The run also sends UDP datagrams, which the graph leaves out.
    pub has_udp: bool,
}

pub fn survey(trace: &Trace) -> Survey {
    let mut survey = Survey::default();
    let mut bytes: Vec<u64> = Vec::new();
    for event in &trace.events {
        let EventKind::Segment(segment) = &event.kind else { continue };
        survey.has_udp |= segment.proto == Proto::Udp;
        if segment.proto != Proto::Tcp || segment.fate != Fate::Sent {
            continue;
        }
        let direction = Direction { from: segment.from, to: segment.to };
        let index = survey.directions.iter().position(|known| *known == direction).unwrap_or_else(|| {
            survey.directions.push(direction);
            bytes.push(0);
            survey.directions.len() - 1
        });
        bytes[index] += u64::from(segment.len);
    }
    let most = bytes.iter().copied().max();
    survey.busiest = bytes.iter().position(|&sum| Some(sum) == most).map(|index| survey.directions[index]);
    survey
}

/// The graph of `direction` in `trace`.
pub fn graph(trace: &Trace, direction: Direction) -> Graph {
    let forward = |s: &Segment| s.proto == Proto::Tcp && s.from == direction.from && s.to == direction.to;
    let backward = |s: &Segment| s.proto == Proto::Tcp && s.from == direction.to && s.to == direction.from;
    let sent = |s: &&Segment| s.fate == Fate::Sent;
    // The sender's ISN (its SYN's number), or the first number it sent; the window scale both
    // sides agreed on their SYNs (RFC 7323: it applies only when both offered it).
    let segments = || {
        trace.events.iter().filter_map(|event| match &event.kind {
            EventKind::Segment(s) => Some(s),
            _ => None,
        })
    };
    let isn = segments().filter(|s| forward(s)).find(sent).map_or(0, |s| s.seq);
    let scale_offered = |pick: &dyn Fn(&Segment) -> bool| {
        segments().filter(|s| pick(s) && s.flags.syn).find(sent).and_then(|s| s.options.wscale)
    };
    let receiver_scale = match (scale_offered(&forward), scale_offered(&backward)) {
        (Some(_), Some(scale)) => u32::from(scale),
        _ => 0,
    };
    let relative = |seq: u32| u64::from(seq.wrapping_sub(isn));
    let mut graph = Graph::default();
    let mut dropped: Vec<u64> = Vec::new();
    for (index, event) in trace.events.iter().enumerate() {
        let EventKind::Segment(s) = &event.kind else { continue };
        if forward(s) {
            match s.fate {
                // A pure ACK carries no sequence number: no bar.
                Fate::Sent if s.len == 0 && !s.flags.syn && !s.flags.fin => {}
                Fate::Sent => {
                    let first = relative(s.seq);
                    let length = u64::from(s.len) + u64::from(s.flags.syn) + u64::from(s.flags.fin);
                    graph.bars.push(Bar {
                        event: index,
                        t_us: event.t_us,
                        first,
                        end: first + length,
                        retransmission: s.retransmission,
                        dropped: false,
                    });
                }
                Fate::Dropped => dropped.push(s.id),
                Fate::Delivered => {}
            }
        } else if backward(s) && s.fate == Fate::Delivered && s.flags.ack {
            // What the sender learns when the ACK reaches it.
            let acked = relative(s.ack);
            // The window field of a SYN is never scaled (RFC 7323, 2.2).
            let scale = if s.flags.syn { 0 } else { receiver_scale };
            let edge = acked + (u64::from(s.win) << scale);
            if graph.acked.last().is_none_or(|last| acked > last.value) {
                graph.acked.push(Step { event: index, t_us: event.t_us, value: acked });
            }
            if graph.window.last().is_none_or(|last| edge != last.value) {
                graph.window.push(Step { event: index, t_us: event.t_us, value: edge });
            }
        }
    }
    // A bar whose segment was lost is drawn as lost.
    let ids: Vec<(usize, u64)> = trace
        .events
        .iter()
        .enumerate()
        .filter_map(|(index, event)| match &event.kind {
            EventKind::Segment(s) if s.fate == Fate::Sent => Some((index, s.id)),
            _ => None,
        })
        .collect();
    for bar in &mut graph.bars {
        if let Some((_, id)) = ids.iter().find(|(index, _)| *index == bar.event) {
            bar.dropped = dropped.contains(id);
        }
    }
    graph
}

#[cfg(test)]
mod tests {
    use super::*;
    use sockscope_engine::{builtin, run};

    #[test]
    fn a_transfer_climbs_and_its_acks_follow() {
        let trace = run(&builtin::get("nagle").expect("built in")).expect("runs").trace;
        let direction = survey(&trace).busiest.expect("a connection");
        let graph = graph(&trace, direction);
        assert!(graph.bars.len() > 3);
        assert_eq!(graph.bars[0].first, 0, "the SYN is sequence number 0");
        assert_eq!(graph.bars[0].end, 1, "and takes one");
        // Bars never go back except for retransmissions, and acks only go up.
        for pair in graph.acked.windows(2) {
            assert!(pair[1].value > pair[0].value && pair[1].t_us >= pair[0].t_us);
        }
        let top = graph.bars.iter().map(|bar| bar.end).max().unwrap_or(0);
        assert_eq!(graph.acked.last().map(|step| step.value), Some(top), "everything sent is acknowledged");
        assert!(graph.window.iter().all(|step| step.value >= 1));
        assert!(graph.bars.iter().all(|bar| bar.end > bar.first), "pure ACKs are not bars");
        // nagle's server offers 64240 bytes, scaled by its wscale 7 once the SYN+ACK is past.
        assert!(graph.window.iter().all(|step| step.value < 1 << 20), "{:?}", graph.window);
    }

    #[test]
    fn a_lost_segment_is_marked_and_sent_again() {
        let trace = run(&builtin::get("retransmission").expect("built in")).expect("runs").trace;
        let graph = graph(&trace, survey(&trace).busiest.expect("a connection"));
        assert!(graph.bars.iter().any(|bar| bar.dropped), "{:?}", graph.bars);
        assert!(graph.bars.iter().any(|bar| bar.retransmission));
    }
}
