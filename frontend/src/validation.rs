//! The loopback validator's report, embedded at build time when `static/validation-report.json`
//! existed (see `build.rs` and [`crate::report_source`]): each scenario's verdict and reason.
//! Without it the page says nothing about validation. The side-by-side rows are fetched when
//! a reader opens a comparison (`view/validation_rows.rs`).

use sockscope_engine::validation::Verdict;

/// The report as the page carries it: constants written by the build.
#[derive(Debug)]
pub struct Report {
    /// The kernel the scenarios ran against, e.g. `Linux 6.18.0`.
    pub kernel: &'static str,
    pub scenarios: &'static [Comparison],
}

/// How one scenario compared with the kernel.
#[derive(Debug)]
pub struct Comparison {
    pub name: &'static str,
    pub verdict: Verdict,
    /// Why a scenario could only run in the engine, or a one-line summary of a difference.
    pub reason: Option<&'static str>,
}

impl Report {
    pub fn scenario(&self, name: &str) -> Option<&'static Comparison> {
        self.scenarios.iter().find(|comparison| comparison.name == name)
    }
}

include!(concat!(env!("OUT_DIR"), "/validation_report.rs"));

/// The report, or `None` when the build had none (or it did not parse).
pub fn report() -> Option<&'static Report> {
    REPORT.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report_source::rust_source;

    #[test]
    fn a_missing_or_broken_report_shows_nothing() {
        let none = "pub static REPORT: Option<Report> = None;\n";
        assert_eq!(rust_source(None), (none.to_string(), None));
        assert_eq!(rust_source(Some("  \n")), (none.to_string(), None));
        let (source, problem) = rust_source(Some("{not json"));
        assert_eq!(source, none);
        assert!(problem.is_some_and(|problem| problem.contains("does not parse")));
    }

    #[test]
    fn a_report_becomes_constants_without_its_rows() {
        let (source, problem) = rust_source(Some(
            r#"{"kernel":"Linux 6.1.0","scenarios":[
                {"name":"x","verdict":"engine-only","reason":"needs two hosts"},
                {"name":"y","verdict":"differs","reason":"one \"quoted\" line","rows":[
                    {"aspect":"state","engine":"A -> B","kernel":"A -> B","same":true}]}]}"#,
        ));
        assert_eq!(problem, None);
        let expected = "pub static REPORT: Option<Report> = Some(Report {
    kernel: \"Linux 6.1.0\",
    scenarios: &[
        Comparison { name: \"x\", verdict: Verdict::EngineOnly, reason: Some(\"needs two hosts\") },
        Comparison { name: \"y\", verdict: Verdict::Differs, reason: Some(\"one \\\"quoted\\\" line\") },
    ],
});
";
        assert_eq!(source, expected);
    }

    #[test]
    fn the_embedded_report_matches_its_json() {
        // Whatever report this build embedded must say what the JSON file says.
        let Ok(text) =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../static/validation-report.json"))
        else {
            assert!(report().is_none());
            return;
        };
        let json: sockscope_engine::validation::Report = serde_json::from_str(&text).expect("the report parses");
        let embedded = report().expect("the build embedded the report");
        assert_eq!(embedded.kernel, json.kernel);
        assert_eq!(embedded.scenarios.len(), json.scenarios.len());
        for (ours, theirs) in embedded.scenarios.iter().zip(&json.scenarios) {
            assert_eq!(
                (ours.name, ours.verdict, ours.reason),
                (theirs.name.as_str(), theirs.verdict, theirs.reason.as_deref())
            );
        }
        assert!(embedded.scenario(&json.scenarios[0].name).is_some());
        assert!(embedded.scenario("no-such-scenario").is_none());
    }
}
