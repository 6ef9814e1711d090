//! Writes two tables into the page's code: the loopback validator's report
//! (`static/validation-report.json`, when it exists) and the picker's catalogue of built-in
//! scenarios.
//!
//! The report is optional: without it the page simply says nothing about validation. Embedding
//! it saves the page a request for every scenario shown and keeps the build independent of
//! whether the validator has run. The report is read here, with the engine's own types, and
//! written out as Rust constants (see `src/report_source.rs`), so the page carries no JSON
//! reader for it.

use std::path::Path;

#[path = "src/report_source.rs"]
mod report_source;

fn main() {
    let report = Path::new("../static/validation-report.json");
    // Watching the folder notices the report appearing, changing or disappearing.
    println!("cargo:rerun-if-changed=../static");
    println!("cargo:rerun-if-changed=src/report_source.rs");
    let text = std::fs::read_to_string(report).ok();
    let (source, problem) = report_source::rust_source(text.as_deref());
    if let Some(problem) = problem {
        println!("cargo:warning={problem}; the page is built without validation results");
    }
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    std::fs::write(Path::new(&out).join("validation_report.rs"), source).expect("OUT_DIR is writable");

    // The picker's table: the page does not carry the built-in scenarios (it fetches the one
    // it shows), so their titles, sources and groups are read here, from the engine's copy.
    println!("cargo:rerun-if-changed=../engine/scenarios");
    let mut table = String::from("pub const CATALOGUE: &[Entry] = &[\n");
    for entry in sockscope_engine::builtin::catalogue() {
        table.push_str(&format!(
            "    Entry {{ name: {:?}, title: {:?}, source: {:?}, group: {:?} }},\n",
            entry.name, entry.title, entry.source, entry.group
        ));
    }
    table.push_str("];\n");
    std::fs::write(Path::new(&out).join("catalogue.rs"), table).expect("OUT_DIR is writable");
}
