//! Why a scenario was rejected: a JSON path and a reason.

use std::fmt;

/// Why a scenario was rejected: where (a JSON path such as `processes[1].steps[3].fd`) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub path: String,
    pub reason: String,
}

impl ScenarioError {
    /// The path as a reader should see it. The path keeps serde_path_to_error's `?` for "where
    /// a key should have been" (the tests compare it with serde's), but `at ?:` tells a reader
    /// nothing: a `?` at the top names the whole text, and `hosts[0].?` names `hosts[0]`. The
    /// reason's line and column say exactly where.
    fn shown_path(&self) -> &str {
        let path = self.path.strip_suffix('?').map_or(self.path.as_str(), |path| path.trim_end_matches('.'));
        if path == "." {
            ""
        } else {
            path
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.shown_path() {
            "" => write!(f, "{}", self.reason),
            path => write!(f, "at {path}: {}", self.reason),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A [`ScenarioError`] at `path` (empty for the whole text) for `reason`.
pub(super) fn error(path: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError { path: path.into(), reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::error;

    #[test]
    fn a_path_says_where_or_nothing() {
        let cases = [
            ("", "", "trailing comma at line 1 column 13"),
            (".", "", "expected `:` at line 1 column 10"),
            ("?", "", "EOF while parsing an object at line 1 column 1"),
            ("hosts[0].?", "at hosts[0]: ", "key must be a string at line 1 column 24"),
            ("processes[0].steps[5]", "at processes[0].steps[5]: ", "unknown descriptor `x`"),
        ];
        for (path, shown, reason) in cases {
            assert_eq!(error(path, reason).to_string(), format!("{shown}{reason}"), "{path}");
        }
    }
}
