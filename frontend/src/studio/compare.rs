//! Two runs side by side: which segments, state changes and call results they share, which
//! only one has, and which happen at another time.
//!
//! Each such event gets a key that leaves time out (a segment's hosts, flags, numbers, length
//! and fate; a socket's state change; a call's result). The runs' common start and end are
//! matched directly and the rest by a longest common subsequence of keys, so a fork that
//! adds a retransmission shows one added row, not a shifted tail.

use std::rc::Rc;

use sockscope_engine::replay::result_text;
use sockscope_engine::trace::{Fate, Phase};
use sockscope_engine::{EventKind, Trace};

/// The largest table the subsequence may fill (cells); past it, the unmatched middles are
/// listed as they are.
const MAX_CELLS: usize = 4_000_000;

/// One line of the comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Event indexes in the original run and in the other run.
    pub left: Option<usize>,
    pub right: Option<usize>,
    pub change: Change,
    /// What happened, without its time.
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Same,
    /// Both runs have it, at different times.
    Moved,
    OnlyLeft,
    OnlyRight,
}

/// The comparison of two runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    pub rows: Vec<Row>,
    /// In the right run: the `sent` events of segments the left run does not have as they
    /// are (absent, or at another time), sorted, for the diagram to mark.
    pub differs: Rc<Vec<usize>>,
}

impl Comparison {
    pub fn differences(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|row| row.change != Change::Same)
    }
}

/// The events a comparison looks at, with their keys.
fn keyed(trace: &Trace) -> Vec<(usize, String)> {
    let hosts = super::hosts_of(trace);
    let host = |addr| super::host_name(&hosts, addr);
    trace
        .events
        .iter()
        .enumerate()
        .filter_map(|(index, event)| {
            let key = match &event.kind {
                EventKind::Segment(segment) => {
                    let fate = match segment.fate {
                        Fate::Sent => "sent",
                        Fate::Delivered => "arrives",
                        Fate::Dropped => "is lost",
                    };
                    format!(
                        "{} {}→{} seq {} ack {} len {} {fate}",
                        segment.flags.letters(),
                        host(segment.from),
                        host(segment.to),
                        segment.seq,
                        segment.ack,
                        segment.len
                    )
                }
                EventKind::State { host, socket, from, to, .. } => {
                    format!("{host} socket {} {from} → {to}", socket.0)
                }
                EventKind::Syscall { process, call, phase: Phase::Return, result, errno, .. } => {
                    format!("{process}: {call}() = {}", result_text(*result, *errno))
                }
                _ => return None,
            };
            Some((index, key))
        })
        .collect()
}

/// Compares `left` (the original) with `right` (a fork of it).
pub fn compare(left: &Trace, right: &Trace) -> Comparison {
    let (a, b) = (keyed(left), keyed(right));
    let same_time = |i: usize, j: usize| left.events[a[i].0].t_us == right.events[b[j].0].t_us;
    let mut start = 0;
    while start < a.len() && start < b.len() && a[start].1 == b[start].1 && same_time(start, start) {
        start += 1;
    }
    let mut tail = 0;
    while tail < a.len() - start && tail < b.len() - start && a[a.len() - 1 - tail].1 == b[b.len() - 1 - tail].1 {
        tail += 1;
    }
    let pairs = common(&a[start..a.len() - tail], &b[start..b.len() - tail]);
    let mut rows = Vec::new();
    let row = |i: Option<usize>, j: Option<usize>| {
        let change = match (i, j) {
            (Some(i), Some(j)) if same_time(i, j) => Change::Same,
            (Some(_), Some(_)) => Change::Moved,
            (Some(_), None) => Change::OnlyLeft,
            _ => Change::OnlyRight,
        };
        let text = i.map_or_else(|| b[j.unwrap_or_default()].1.clone(), |i| a[i].1.clone());
        Row { left: i.map(|i| a[i].0), right: j.map(|j| b[j].0), change, text }
    };
    rows.extend((0..start).map(|k| row(Some(k), Some(k))));
    let (mut i, mut j) = (start, start);
    for (pi, pj) in pairs.into_iter().map(|(pi, pj)| (pi + start, pj + start)).chain([(a.len() - tail, b.len() - tail)])
    {
        rows.extend((i..pi).map(|k| row(Some(k), None)));
        rows.extend((j..pj).map(|k| row(None, Some(k))));
        if pi < a.len() - tail {
            rows.push(row(Some(pi), Some(pj)));
        }
        (i, j) = (pi + 1, pj + 1);
    }
    rows.extend((0..tail).map(|k| row(Some(a.len() - tail + k), Some(b.len() - tail + k))));
    let mut differs: Vec<usize> = rows
        .iter()
        .filter(|row| matches!(row.change, Change::OnlyRight | Change::Moved))
        .filter_map(|row| row.right)
        .filter(|&index| matches!(&right.events[index].kind, EventKind::Segment(s) if s.fate == Fate::Sent))
        .collect();
    differs.sort_unstable();
    Comparison { rows, differs: Rc::new(differs) }
}

/// The pairs `(i, j)` of a longest common subsequence of the keys, in order.
fn common(a: &[(usize, String)], b: &[(usize, String)]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 || (n + 1) * (m + 1) > MAX_CELLS {
        return Vec::new();
    }
    let width = m + 1;
    let mut table = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i * width + j] = if a[i].1 == b[j].1 {
                table[(i + 1) * width + j + 1] + 1
            } else {
                table[(i + 1) * width + j].max(table[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < n && j < m {
        if a[i].1 == b[j].1 {
            pairs.push((i, j));
            (i, j) = (i + 1, j + 1);
        } else if table[(i + 1) * width + j] >= table[i * width + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::studio::fork::tests::first;
    use crate::studio::fork::{forked, segment_fault, WhatIf};
    use sockscope_engine::trace::Flags;
    use sockscope_engine::{builtin, run};

    #[test]
    fn a_run_compared_with_itself_has_no_differences() {
        let trace = run(&builtin::get("four-way-close").expect("built in")).expect("runs").trace;
        let same = compare(&trace, &trace);
        assert_eq!(same.differences().count(), 0);
        assert!(same.differs.is_empty());
        assert!(same.rows.len() > 10);
    }

    #[test]
    fn a_dropped_syn_ack_shows_as_lost_and_its_retransmission_as_new() {
        let (scenario, original, sent) = first("three-way-handshake", Flags::SYN_ACK);
        let fork = run(&forked(&scenario, segment_fault(&original, sent, WhatIf::Drop).expect("a segment")))
            .expect("runs")
            .trace;
        let comparison = compare(&original, &fork);
        let texts: Vec<(Change, &str)> = comparison.differences().map(|row| (row.change, row.text.as_str())).collect();
        assert!(
            texts.iter().any(|(change, text)| *change == Change::OnlyRight
                && text.starts_with("S. server→client")
                && text.ends_with("is lost")),
            "{texts:#?}"
        );
        // The client's SYN goes again after its RTO, and only the fork has it.
        assert!(
            texts.iter().any(|(change, text)| *change == Change::OnlyRight
                && text.starts_with("S client→server")
                && text.ends_with("sent")),
            "{texts:#?}"
        );
        assert!(
            texts.iter().any(|(change, text)| *change == Change::Moved && text.starts_with("client: connect() = 0")),
            "{texts:#?}"
        );
        assert!(!comparison.differs.is_empty());
        for &index in comparison.differs.iter() {
            assert!(fork.events[index].t_us > original.events[sent].t_us, "only what follows the drop differs");
        }
    }
}
