//! Embeds the loopback validator's report (`static/validation-report.json`) when it exists.
//!
//! The report is optional: without it the page simply says nothing about validation. Embedding
//! it keeps the page free of requests at run time (its Content-Security-Policy allows only its
//! own files anyway) and keeps the build independent of whether the validator has run.

use std::path::Path;

fn main() {
    let report = Path::new("../static/validation-report.json");
    // Watching the folder notices the report appearing, changing or disappearing.
    println!("cargo:rerun-if-changed=../static");
    let text = std::fs::read_to_string(report).unwrap_or_default();
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    std::fs::write(Path::new(&out).join("validation-report.json"), text).expect("OUT_DIR is writable");
}
