//! Turns the loopback validator's JSON report into Rust source for the page (used by
//! `build.rs`, and compiled into the library's tests so that it is tested natively).
//!
//! Embedding the JSON text would put a JSON reader for the report's types into the page's code
//! and keep every row twice whenever sockscope and the kernel agree (the report writes both
//! sides), so the build parses it once with the engine's own types and writes constants the
//! page reads directly. A scenario's rows are one string,
//! in the report's order, so that they stay together and compress as well as the JSON did;
//! a row is `=` or `≠` (same or not), the aspect, sockscope's text and, only where it differs,
//! the kernel's, separated by [`FIELD`] and ended by [`ROW`].

use sockscope_engine::validation::{Report, Verdict, EMBEDDED_FIELD as FIELD, EMBEDDED_ROW as ROW};

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
            "        Comparison {{ name: {:?}, verdict: Verdict::{verdict}, reason: {:?}, rows: ",
            scenario.name, scenario.reason
        ));
        let mut rows = String::new();
        for row in &scenario.rows {
            let fields = [row.aspect.as_str(), row.engine.as_str(), row.kernel.as_str()];
            if fields.iter().any(|field| field.contains([FIELD, ROW])) {
                let problem =
                    format!("a row of “{}” holds a control character the page uses as a separator", scenario.name);
                return (none, Some(problem));
            }
            rows.push_str(if row.same { "=" } else { "≠" });
            rows.push_str(&fields[..2].join(&FIELD.to_string()));
            // The kernel's side is written only where it differs from sockscope's text.
            if row.kernel != row.engine {
                rows.push(FIELD);
                rows.push_str(&row.kernel);
            }
            rows.push(ROW);
        }
        out.push_str(&format!("{rows:?} }},\n"));
    }
    out.push_str("    ],\n});\n");
    (out, None)
}
