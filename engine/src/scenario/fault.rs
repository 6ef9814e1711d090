//! Faults: network trouble (drops, loss, duplicates, reordering, delay, a link going down)
//! and host failures (crash, reboot), as values the run applies in order.

use serde::{Deserialize, Serialize};

/// Which segments a fault applies to. Every given field must match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentMatch {
    /// The sending host's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The receiving host's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// tcpdump's flag letters, exactly (`S`, `S.`, `.`, `P.`, `F.`, `FP.`, `R.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<String>,
    /// Only segments that carry data (true) or none (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<bool>,
    /// Relative sequence numbers `[first, last]` (1 is the first data byte, as tcpdump
    /// numbers them); the segment's sequence number must fall in this range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<[u32; 2]>,
    /// Only from this simulated time on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<f64>,
    /// Only before this simulated time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<f64>,
}

/// A fault: a value the engine applies while the run goes on (turmoil-net style).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Drop the `nth` matching segment (1 = the first) and the `count - 1` matches after it.
    Drop {
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
        #[serde(default = "one")]
        nth: u32,
        #[serde(default = "one")]
        count: u32,
    },
    /// Drop each matching segment with probability `rate` (0 to 1), drawn from the seed.
    Loss {
        rate: f64,
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
    },
    /// Deliver a matching segment twice with probability `rate`; with `nth`, only the
    /// `nth` match and the `count - 1` after it are candidates.
    Duplicate {
        rate: f64,
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nth: Option<u32>,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        count: u32,
    },
    /// Hold a matching segment back by `delay_us` with probability `rate`, so later ones
    /// overtake it.
    Reorder {
        rate: f64,
        delay_us: u64,
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
    },
    /// Add `extra_us` to every matching segment's latency; with `nth`, only to the `nth`
    /// match and the `count - 1` after it.
    Delay {
        extra_us: u64,
        #[serde(rename = "match", default)]
        matching: SegmentMatch,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nth: Option<u32>,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        count: u32,
    },
    /// The link between `a` and `b` carries nothing from `from_ms` until `until_ms`.
    LinkDown {
        a: String,
        b: String,
        from_ms: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_ms: Option<f64>,
    },
    /// The host stops at `at_ms`: its processes and sockets vanish without a word.
    Crash { host: String, at_ms: f64 },
    /// A crashed host comes back at `at_ms` with empty tables: old connections draw RST.
    Reboot { host: String, at_ms: f64 },
}

impl Fault {
    /// Which segments a per-segment fault applies to (none for link and host faults).
    pub fn matching(&self) -> Option<&SegmentMatch> {
        match self {
            Fault::Drop { matching, .. }
            | Fault::Loss { matching, .. }
            | Fault::Duplicate { matching, .. }
            | Fault::Reorder { matching, .. }
            | Fault::Delay { matching, .. } => Some(matching),
            Fault::LinkDown { .. } | Fault::Crash { .. } | Fault::Reboot { .. } => None,
        }
    }
}

fn one() -> u32 {
    1
}

fn is_one(count: &u32) -> bool {
    *count == 1
}
