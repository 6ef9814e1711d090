//! The loopback validator's report: how each scenario compared with the real Linux kernel.
//!
//! Only the data lives here (the engine does no I/O): `sockscope validate` writes it as
//! JSON, and the page reads it to show "matches Linux <version>" or the differences.

use serde::{Deserialize, Serialize};

/// One validation run over some scenarios.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The kernel the scenarios ran against, e.g. `Linux 6.18.0`.
    pub kernel: String,
    /// The sockscope commit the report was made with (`git rev-parse HEAD`, followed by
    /// `-dirty` when `engine/` or `cli/` had uncommitted changes), or `unknown` outside a git
    /// checkout.
    #[serde(default)]
    pub engine_commit: String,
    /// What the validator read from the kernel and gave the engine's loopback profile; with
    /// it the engine's side of every check can be recomputed without a kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_facts: Option<ProfileFacts>,
    pub scenarios: Vec<ScenarioReport>,
}

/// The kernel's own choices that the loopback profile copies into every host's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileFacts {
    /// The window scale the kernel announces on its SYNs.
    pub wscale: u8,
    /// `net.ipv4.tcp_congestion_control`.
    pub congestion_control: String,
    /// `tcp_wmem[2]`: the largest send buffer the kernel grows a socket to.
    pub wmem_max: u32,
}

/// How one scenario compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    pub verdict: Verdict,
    /// Why a scenario could only run in the engine, or a one-line summary of a difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The compared aspects side by side.
    #[serde(default)]
    pub rows: Vec<DiffRow>,
    /// A digest of the engine's side of the check: 16 hex digits of the 64-bit FNV-1a hash of
    /// what the validator compared from the engine (its observation under the loopback
    /// profile, the fault schedule and any shortening), or of the reason it could not be
    /// checked. A test recomputes it with today's engine to tell a stale report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_fingerprint: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Segments, states, call results and checked queue levels agree.
    Agrees,
    /// At least one compared aspect differs.
    Differs,
    /// The scenario could not be reproduced on loopback; the reason says why.
    EngineOnly,
}

/// One line of the side-by-side comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRow {
    /// `segment`, `state`, `result` or `queue`.
    pub aspect: String,
    pub engine: String,
    pub kernel: String,
    pub same: bool,
}

impl Report {
    /// (agreeing, differing, engine-only) counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |verdict| self.scenarios.iter().filter(|report| report.verdict == verdict).count();
        (count(Verdict::Agrees), count(Verdict::Differs), count(Verdict::EngineOnly))
    }

    pub fn scenario(&self, name: &str) -> Option<&ScenarioReport> {
        self.scenarios.iter().find(|report| report.name == name)
    }
}

/// Separates the fields of a report row where the page embeds the report as text (ASCII
/// unit separator); the page's build writes these and the page reads them.
pub const EMBEDDED_FIELD: char = '\u{1f}';
/// Ends a report row in the page's embedded text (ASCII record separator).
pub const EMBEDDED_ROW: char = '\u{1e}';
