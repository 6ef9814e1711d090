//! Turns the loopback validator's JSON report into Rust source for the page (used by
//! `build.rs`, and compiled into the library's tests so that it is tested natively).
//!
//! The page carries each scenario's verdict and reason as constants, parsed here once with the
//! engine's own types, so that the first screen can say "matches Linux" without a request or
//! a JSON reader. The side-by-side rows, most of the report, are not embedded: the page fetches
//! the report when a reader opens a comparison (`view/validation_rows.rs`), which keeps them
//! out of the download every visitor makes.

use sockscope_engine::validation::{Report, Verdict};

/// The Rust source of `REPORT: Option<Report>` (see `validation.rs` for the types) for the
/// report text, or `None` when there is no report. A report that does not parse is an error,
/// which the build shows as a warning before building the page without it.
pub fn rust_source(json: Option<&str>) -> (String, Option<String>) {
    let none = "pub static REPORT: Option<Report> = None;\n".to_string();
    let Some(json) = json.filter(|text| !text.trim().is_empty()) else { return (none, None) };
    let report: Report = match serde_json::from_str(json) {
        Ok(report) => report,
        Err(err) => return (none, Some(format!("static/validation-report.json does not parse ({err})"))),
    };
    let mut out = String::from("pub static REPORT: Option<Report> = Some(Report {\n");
    out.push_str(&format!("    kernel: {:?},\n    scenarios: &[\n", report.kernel));
    for scenario in &report.scenarios {
        let verdict = match scenario.verdict {
            Verdict::Agrees => "Agrees",
            Verdict::Differs => "Differs",
            Verdict::EngineOnly => "EngineOnly",
        };
        out.push_str(&format!(
            "        Comparison {{ name: {:?}, verdict: Verdict::{verdict}, reason: {:?} }},\n",
            scenario.name, scenario.reason
        ));
    }
    out.push_str("    ],\n});\n");
    (out, None)
}
