//! A scenario's fault as a rule of the fabric: it owns its match counter and takes its own
//! random draws, and answers a verdict for each segment it matches (turmoil-net's rules).

use crate::format;
use crate::rng::Rng;
use crate::scenario::{Fault, SegmentMatch};
use crate::time::fractional_ms_to_us;
use crate::trace::Flags;
use crate::wire::Wire;

/// What a rule decides for a segment.
pub(crate) enum Verdict {
    /// Deliver it after the link's latency plus `extra_us`, twice if `copies` says so.
    Pass { extra_us: u64, copies: Copies },
    /// Lose it, for this reason.
    Drop(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copies {
    One,
    Two,
}

impl Verdict {
    /// A segment that no rule touches.
    pub const UNTOUCHED: Verdict = Verdict::Pass { extra_us: 0, copies: Copies::One };
}

/// The names of a segment's two hosts, which rules match by.
pub(crate) struct Hop<'a> {
    pub from: &'a str,
    pub to: &'a str,
}

pub(crate) struct FaultRule {
    fault: Fault,
    /// Where the fault stands in the scenario, for the trace's reasons.
    index: usize,
    /// How many segments this rule has matched so far (a `drop` rule's count).
    hits: u32,
}

impl FaultRule {
    pub fn new(fault: Fault, index: usize) -> FaultRule {
        FaultRule { fault, index, hits: 0 }
    }

    /// This rule's verdict for a segment, or None when it has nothing to say and the next
    /// rule decides.
    pub fn on_segment(&mut self, hop: &Hop<'_>, wire: &Wire, now: u64, rng: &mut Rng) -> Option<Verdict> {
        let index = self.index;
        if let Some(matching) = self.fault.matching() {
            if !segment_matches(matching, hop, wire, now) {
                return None;
            }
        }
        match &self.fault {
            Fault::Drop { nth, count, .. } => picks(&mut self.hits, Some(*nth), *count)
                .then(|| Verdict::Drop(format!("dropped by the scenario (faults[{index}])"))),
            Fault::Loss { rate, .. } => rng
                .chance(*rate)
                .then(|| Verdict::Drop(format!("lost at random (faults[{index}], rate {})", format::decimal(*rate)))),
            Fault::Duplicate { rate, nth, count, .. } => (picks(&mut self.hits, *nth, *count) && rng.chance(*rate))
                .then_some(Verdict::Pass { extra_us: 0, copies: Copies::Two }),
            Fault::Reorder { rate, delay_us, .. } => {
                rng.chance(*rate).then_some(Verdict::Pass { extra_us: *delay_us, copies: Copies::One })
            }
            Fault::Delay { extra_us, nth, count, .. } => picks(&mut self.hits, *nth, *count)
                .then_some(Verdict::Pass { extra_us: *extra_us, copies: Copies::One }),
            Fault::LinkDown { a, b, from_ms, until_ms } => {
                let pair = (hop.from == a && hop.to == b) || (hop.from == b && hop.to == a);
                let active = now >= fractional_ms_to_us(*from_ms)
                    && until_ms.is_none_or(|until| now < fractional_ms_to_us(until));
                (pair && active).then(|| Verdict::Drop(format!("the link between {a} and {b} is down")))
            }
            Fault::Crash { .. } | Fault::Reboot { .. } => None,
        }
    }
}

/// Counts a match in `hits` and says whether it is one of those picked by `nth` and `count`
/// (every match when `nth` is absent).
fn picks(hits: &mut u32, nth: Option<u32>, count: u32) -> bool {
    *hits += 1;
    nth.is_none_or(|nth| *hits >= nth && *hits < nth.saturating_add(count))
}

fn segment_matches(matching: &SegmentMatch, hop: &Hop<'_>, wire: &Wire, now: u64) -> bool {
    if matching.from.as_deref().is_some_and(|name| name != hop.from)
        || matching.to.as_deref().is_some_and(|name| name != hop.to)
    {
        return false;
    }
    if let Some(flags) = &matching.flags {
        if Flags::parse_letters(flags) != Some(wire.flags) {
            return false;
        }
    }
    if matching.data.is_some_and(|data| data == wire.payload().is_empty()) {
        return false;
    }
    if let Some([first, last]) = matching.seq {
        let Some(isn) = wire.isn else { return false };
        let relative = wire.seq.wrapping_sub(isn);
        if relative < first || relative > last {
            return false;
        }
    }
    if matching.from_ms.is_some_and(|from| now < fractional_ms_to_us(from))
        || matching.until_ms.is_some_and(|until| now >= fractional_ms_to_us(until))
    {
        return false;
    }
    true
}
