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
    pub scenarios: Vec<ScenarioReport>,
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
