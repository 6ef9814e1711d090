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

/// The rows of scenario `name` in a report's JSON text, read with the engine's own JSON reader
/// (the page, which fetches the report only when a reader opens a comparison, carries no
/// serde_json). A scenario the report does not have has no rows.
pub fn rows_in(report: &str, name: &str) -> Result<Vec<DiffRow>, String> {
    use crate::scenario::json::{self, Kind, Node};
    fn field<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
        match &node.kind {
            Kind::Object(members, _) => members.iter().find(|member| member.key == key).map(|member| &member.value),
            _ => None,
        }
    }
    let document = json::parse(report);
    if let Some(error) = document.syntax_error {
        return Err(format!("the report does not parse ({error})"));
    }
    let text = |node: &Node, key: &str| match field(node, key).map(|value| &value.kind) {
        Some(Kind::Str(text)) => Ok(text.clone()),
        _ => Err(format!("a row of “{name}” has no text `{key}`")),
    };
    let Some(Kind::Array(scenarios, _)) = field(&document.root, "scenarios").map(|node| &node.kind) else {
        return Err("the report lists no scenarios".to_string());
    };
    let scenario = scenarios
        .iter()
        .find(|scenario| matches!(field(scenario, "name").map(|n| &n.kind), Some(Kind::Str(n)) if n == name));
    let Some(scenario) = scenario else { return Ok(Vec::new()) };
    let rows = match field(scenario, "rows").map(|node| &node.kind) {
        None => return Ok(Vec::new()),
        Some(Kind::Array(rows, _)) => rows,
        Some(_) => return Err(format!("the rows of “{name}” are not a list")),
    };
    rows.iter()
        .map(|row| {
            let same = match field(row, "same").map(|value| &value.kind) {
                Some(Kind::Bool(same)) => *same,
                _ => return Err(format!("a row of “{name}” does not say whether both sides agree")),
            };
            Ok(DiffRow {
                aspect: text(row, "aspect")?,
                engine: text(row, "engine")?,
                kernel: text(row, "kernel")?,
                same,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows the page reads from the shipped report are the rows serde reads, for every
    /// scenario.
    #[test]
    fn rows_read_without_serde_are_the_reports_rows() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../static/validation-report.json");
        let Ok(text) = std::fs::read_to_string(path) else { return };
        let report: Report = serde_json::from_str(&text).expect("the report parses");
        for scenario in &report.scenarios {
            assert_eq!(rows_in(&text, &scenario.name).as_ref(), Ok(&scenario.rows), "{}", scenario.name);
        }
        assert_eq!(rows_in(&text, "no-such-scenario"), Ok(Vec::new()));
        assert!(rows_in("{not json", "x").is_err());
        assert!(rows_in(r#"{"scenarios":[{"name":"x","rows":[{"aspect":"state"}]}]}"#, "x").is_err());
    }
}
