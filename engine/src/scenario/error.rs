//! Why a scenario was rejected: a JSON path and a reason.

use std::fmt;

/// Why a scenario was rejected: where (a JSON path such as `processes[1].steps[3].fd`) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "at {}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A [`ScenarioError`] at `path` (empty for the whole text) for `reason`.
pub(super) fn error(path: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError { path: path.into(), reason: reason.into() }
}
