//! The series plotted under the time–sequence graph, for the same direction of the same
//! connection: the sender's congestion window and slow-start threshold beside the window the
//! receiver advertises, the sender's SendQ and the receiver's RecvQ, and the sender's RTO
//! beside its smoothed RTT. Each is a step line of the values the trace carries (`congestion`,
//! `queues` and `segment` events), so every point is an event the page can seek to.

use sockscope_engine::trace::{Fate, Proto, SocketId};
use sockscope_engine::{EventKind, Trace};

use super::time_sequence::{Direction, Step};

/// What a chart's values count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Micros,
}

/// One line of a chart; `class` names its look in studio.css (colour and dash, so that lines
/// are told apart without colour too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub points: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    pub title: &'static str,
    pub unit: Unit,
    pub series: Vec<Series>,
}

/// The three charts of `direction` in `trace`, in the order they are drawn.
pub fn charts(trace: &Trace, direction: Direction) -> Vec<Chart> {
    let sender = sockets(trace, direction);
    let receiver = sockets(trace, Direction { from: direction.to, to: direction.from });
    let scale = receiver_scale(trace, direction);
    let mut cwnd = Vec::new();
    let mut ssthresh = Vec::new();
    let mut advertised = Vec::new();
    let mut send_q = Vec::new();
    let mut recv_q = Vec::new();
    let mut rto = Vec::new();
    let mut srtt = Vec::new();
    for (index, event) in trace.events.iter().enumerate() {
        let at = |value: u64| Step { event: index, t_us: event.t_us, value };
        match &event.kind {
            EventKind::Congestion { socket, cwnd: window, ssthresh: threshold, srtt_us, rto_us, .. }
                if sender.contains(socket) =>
            {
                push(&mut cwnd, at(u64::from(*window)));
                if let Some(threshold) = threshold {
                    push(&mut ssthresh, at(u64::from(*threshold)));
                }
                push(&mut rto, at(*rto_us));
                if let Some(srtt_us) = srtt_us {
                    push(&mut srtt, at(*srtt_us));
                }
            }
            EventKind::Queues { socket, send_q: queued, .. } if sender.contains(socket) => {
                push(&mut send_q, at(u64::from(*queued)));
            }
            EventKind::Queues { socket, recv_q: queued, .. } if receiver.contains(socket) => {
                push(&mut recv_q, at(u64::from(*queued)));
            }
            // The window the receiver offers, as it writes it on the wire (a SYN's is never
            // scaled, RFC 7323 2.2).
            EventKind::Segment(segment)
                if segment.proto == Proto::Tcp
                    && segment.fate == Fate::Sent
                    && segment.from == direction.to
                    && segment.to == direction.from =>
            {
                let shift = if segment.flags.syn { 0 } else { scale };
                push(&mut advertised, at(u64::from(segment.win) << shift));
            }
            _ => {}
        }
    }
    vec![
        Chart {
            title: "Windows",
            unit: Unit::Bytes,
            series: vec![
                Series { name: "cwnd (sender)", class: "cwnd", points: cwnd },
                Series { name: "ssthresh (sender)", class: "ssthresh", points: ssthresh },
                Series { name: "adv. window (receiver)", class: "advertised", points: advertised },
            ],
        },
        Chart {
            title: "Queues",
            unit: Unit::Bytes,
            series: vec![
                Series { name: "SendQ (sender)", class: "sendq", points: send_q },
                Series { name: "RecvQ (receiver)", class: "recvq", points: recv_q },
            ],
        },
        Chart {
            title: "Timers",
            unit: Unit::Micros,
            series: vec![
                Series { name: "RTO (sender)", class: "rto", points: rto },
                Series { name: "smoothed RTT (sender)", class: "srtt", points: srtt },
            ],
        },
    ]
}

/// Every point of `charts` as (time, event), one per event, in event order: where a click or
/// an arrow key on the panels goes.
pub fn points(charts: &[Chart]) -> Vec<(u64, usize)> {
    let mut points: Vec<(u64, usize)> = charts
        .iter()
        .flat_map(|chart| &chart.series)
        .flat_map(|series| &series.points)
        .map(|step| (step.t_us, step.event))
        .collect();
    points.sort_unstable_by_key(|&(_, event)| event);
    points.dedup_by_key(|point| point.1);
    points
}

/// `value` as an axis writes it: bytes in B, kB or MB; times in ms.
pub fn amount(value: u64, unit: Unit) -> String {
    match unit {
        Unit::Bytes if value >= 1_000_000 => format!("{:.1} MB", value as f64 / 1e6),
        Unit::Bytes if value >= 10_000 => format!("{:.0} kB", value as f64 / 1e3),
        Unit::Bytes => format!("{value} B"),
        Unit::Micros => format!("{:.0} ms", value as f64 / 1e3),
    }
}

/// What a screen reader hears for the panels: each series' range.
pub fn summary(charts: &[Chart]) -> String {
    let mut parts = Vec::new();
    for chart in charts {
        for series in &chart.series {
            let values = series.points.iter().map(|step| step.value);
            match (values.clone().min(), values.max()) {
                (Some(low), Some(high)) => parts.push(format!(
                    "{} from {} to {}",
                    series.name,
                    amount(low, chart.unit),
                    amount(high, chart.unit)
                )),
                _ => parts.push(format!("{}: none", series.name)),
            }
        }
    }
    format!("Series over time: {}", parts.join("; "))
}

/// Adds a point when the value changes: a step line needs no repeats.
fn push(line: &mut Vec<Step>, step: Step) {
    if line.last().is_none_or(|last| last.value != step.value) {
        line.push(step);
    }
}

/// The sockets that sent from `direction.from` to `direction.to` (one, unless the address
/// pair was used again after TIME_WAIT).
fn sockets(trace: &Trace, direction: Direction) -> Vec<SocketId> {
    let mut found = Vec::new();
    for event in &trace.events {
        if let EventKind::State { socket, local, peer: Some(peer), .. } = &event.kind {
            if *local == direction.from && *peer == direction.to && !found.contains(socket) {
                found.push(*socket);
            }
        }
    }
    found
}

/// The shift the receiver's window field takes: its window scale, when both SYNs offered one.
fn receiver_scale(trace: &Trace, direction: Direction) -> u32 {
    let offered = |from, to| {
        trace.events.iter().find_map(|event| match &event.kind {
            EventKind::Segment(s) if s.fate == Fate::Sent && s.flags.syn && s.from == from && s.to == to => {
                Some(s.options.wscale)
            }
            _ => None,
        })
    };
    match (offered(direction.from, direction.to), offered(direction.to, direction.from)) {
        (Some(Some(_)), Some(Some(scale))) => u32::from(scale),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::studio::time_sequence::survey;
    use sockscope_engine::{builtin, run};

    fn charts_of(name: &str) -> Vec<Chart> {
        let trace = run(&builtin::get(name).expect("built in")).expect("runs").trace;
        let direction = survey(&trace).busiest.expect("a connection");
        charts(&trace, direction)
    }

    fn line<'a>(charts: &'a [Chart], class: &str) -> &'a [Step] {
        let series = charts.iter().flat_map(|chart| &chart.series).find(|series| series.class == class);
        &series.expect("a series").points
    }

    #[test]
    fn a_transfer_has_every_series() {
        let charts = charts_of("flow-control");
        for class in ["cwnd", "advertised", "sendq", "recvq", "rto", "srtt"] {
            let points = line(&charts, class);
            assert!(!points.is_empty(), "{class}");
            assert!(points.windows(2).all(|pair| pair[0].t_us <= pair[1].t_us && pair[0].value != pair[1].value));
        }
        // flow-control's receiver reads slowly: its RecvQ fills and its window closes.
        assert!(line(&charts, "recvq").iter().any(|step| step.value > 0));
        assert!(line(&charts, "advertised").iter().any(|step| step.value == 0), "the window closes");
        assert!(line(&charts, "cwnd").iter().all(|step| step.value > 0));
    }

    #[test]
    fn a_loss_sets_ssthresh_and_backs_the_rto_off() {
        let charts = charts_of("retransmission");
        let ssthresh = line(&charts, "ssthresh");
        assert!(!ssthresh.is_empty(), "a loss sets ssthresh");
        let rto = line(&charts, "rto");
        assert!(rto.windows(2).any(|pair| pair[1].value == 2 * pair[0].value), "the RTO doubles: {rto:?}");
        let cwnd = line(&charts, "cwnd");
        let loss = ssthresh[0].event;
        let before = cwnd.iter().rev().find(|step| step.event < loss).expect("a window before the loss");
        let after = cwnd.iter().find(|step| step.event >= loss).expect("a window after");
        assert!(after.value < before.value, "the window shrinks: {before:?} then {after:?}");
    }
}
