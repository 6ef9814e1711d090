//! The loopback validator's report, embedded at build time when `static/validation-report.json`
//! existed (see `build.rs`); without it the page says nothing about validation.

use std::sync::OnceLock;

use sockscope_engine::validation::Report;

const REPORT_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/validation-report.json"));

/// The report, or `None` when the build had none (or it did not parse).
pub fn report() -> Option<&'static Report> {
    static REPORT: OnceLock<Option<Report>> = OnceLock::new();
    REPORT.get_or_init(|| parse(REPORT_JSON)).as_ref()
}

fn parse(text: &str) -> Option<Report> {
    if text.trim().is_empty() {
        None
    } else {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_broken_report_shows_nothing() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("{not json"), None);
        let report = parse(
            r#"{"kernel":"Linux 6.1.0","scenarios":[{"name":"x","verdict":"engine-only","reason":"needs two hosts"}]}"#,
        )
        .expect("a valid report parses");
        assert_eq!(report.kernel, "Linux 6.1.0");
        assert_eq!(report.scenario("x").unwrap().reason.as_deref(), Some("needs two hosts"));
    }
}
