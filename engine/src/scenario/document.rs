//! The whole scenario: its catalogue texts, seed, hosts, links, processes, faults and the
//! limits of a run.

use serde::{Deserialize, Serialize};

use super::fault::Fault;
use super::network::{HostSpec, LinkSpec};
use super::predict::Predict;
use super::program::ProcessSpec;

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The id used by the CLI, the URL and the tests (`three-way-handshake`).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub title: String,
    /// Book and figure this scenario brings to life.
    #[serde(default)]
    pub source: String,
    /// The catalogue group ("Connection set-up", "Closing", ...).
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub description: String,
    /// Seed of the world's one random number generator (ISNs, ephemeral ports, loss).
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub hosts: Vec<HostSpec>,
    /// Links between hosts. When empty, every pair of hosts is joined by a default link.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    pub processes: Vec<ProcessSpec>,
    /// Network faults and host failures, applied in order (the first matching rule decides
    /// a segment's fate).
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub limits: Limits,
    /// A teacher's questions for predict mode.
    #[serde(default, skip_serializing_if = "Predict::is_default")]
    pub predict: Predict,
}

/// How far a run may go before it is stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The run fails with [`crate::RunError::EventLimit`] past this many trace events.
    pub max_events: usize,
    /// The run ends (normally) when simulated time would pass this.
    pub max_time_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_events: 2_000_000, max_time_ms: 3 * 3600 * 1000 }
    }
}

pub(super) fn default_seed() -> u64 {
    1
}
