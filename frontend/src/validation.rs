//! The loopback validator's report, embedded at build time when `static/validation-report.json`
//! existed (see `build.rs` and [`crate::report_source`]); without it the page says nothing
//! about validation.

use sockscope_engine::validation::{Verdict, EMBEDDED_FIELD as FIELD, EMBEDDED_ROW as ROW};

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
    /// The compared aspects side by side, in the layout of [`crate::report_source`]; read
    /// them with [`Comparison::rows`].
    rows: &'static str,
}

/// One line of the side-by-side comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// `segment`, `state`, `result` or `queue`.
    pub aspect: &'static str,
    pub engine: &'static str,
    pub kernel: &'static str,
    pub same: bool,
}

impl Comparison {
    /// The rows, in the report's order.
    pub fn rows(&self) -> impl Iterator<Item = Row> {
        self.rows.split_terminator(ROW).map(|row| {
            let (same, row) = match row.strip_prefix('=') {
                Some(rest) => (true, rest),
                None => (false, row.strip_prefix('≠').unwrap_or(row)),
            };
            let mut fields = row.split(FIELD);
            let aspect = fields.next().unwrap_or_default();
            let engine = fields.next().unwrap_or_default();
            let kernel = fields.next().unwrap_or(engine);
            Row { aspect, engine, kernel, same }
        })
    }
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
    fn a_report_becomes_constants_with_one_text_per_agreeing_row() {
        let (source, problem) = rust_source(Some(
            r#"{"kernel":"Linux 6.1.0","scenarios":[
                {"name":"x","verdict":"engine-only","reason":"needs two hosts"},
                {"name":"y","verdict":"differs","reason":"one \"quoted\" line","rows":[
                    {"aspect":"state","engine":"A -> B","kernel":"A -> B","same":true},
                    {"aspect":"segment","engine":"[S] seq 0","kernel":"[S.] seq 0","same":false}]}]}"#,
        ));
        assert_eq!(problem, None);
        let expected = "pub static REPORT: Option<Report> = Some(Report {
    kernel: \"Linux 6.1.0\",
    scenarios: &[
        Comparison { name: \"x\", verdict: Verdict::EngineOnly, reason: Some(\"needs two hosts\"), rows: \"\" },
        Comparison { name: \"y\", verdict: Verdict::Differs, reason: Some(\"one \\\"quoted\\\" line\"), rows: \"=state\\u{1f}A -> B\\u{1e}≠segment\\u{1f}[S] seq 0\\u{1f}[S.] seq 0\\u{1e}\" },
    ],
});
";
        assert_eq!(source, expected);
    }

    #[test]
    fn embedded_rows_split_into_their_fields() {
        let comparison = Comparison {
            name: "y",
            verdict: Verdict::Differs,
            reason: None,
            rows: "=state\u{1f}A\u{1e}≠seg\u{1f}B\u{1f}C\u{1e}",
        };
        let rows: Vec<Row> = comparison.rows().collect();
        assert_eq!(
            rows,
            [
                Row { aspect: "state", engine: "A", kernel: "A", same: true },
                Row { aspect: "seg", engine: "B", kernel: "C", same: false }
            ]
        );
    }

    #[test]
    fn the_embedded_report_matches_its_json() {
        // Whatever report this build embedded must say what the JSON file says, row by row.
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
            assert_eq!(ours.rows().count(), theirs.rows.len(), "{}", ours.name);
            for (row, expected) in ours.rows().zip(&theirs.rows) {
                assert_eq!(
                    (row.aspect, row.engine, row.kernel, row.same),
                    (expected.aspect.as_str(), expected.engine.as_str(), expected.kernel.as_str(), expected.same)
                );
            }
        }
        assert!(embedded.scenario(&json.scenarios[0].name).is_some());
        assert!(embedded.scenario("no-such-scenario").is_none());
    }
}
