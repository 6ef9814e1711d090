//! Every script of packetdrill's own suite reads without an error (running them is another
//! matter). The suite is another project's (GPL-2.0) and is not part of this repository: the
//! test reads it from `SOCKSCOPE_PACKETDRILL` or from `packetdrill/` in the folder beside the
//! checkout, and skips, saying so, when neither exists.

use std::path::{Path, PathBuf};

fn suite() -> Option<PathBuf> {
    let dir = std::env::var_os("SOCKSCOPE_PACKETDRILL").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..").join("shared").join("packetdrill")
    });
    dir.is_dir().then_some(dir)
}

fn scripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            scripts(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "pkt") {
            out.push(path);
        }
    }
}

#[test]
fn every_script_of_packetdrills_suite_reads() {
    let Some(dir) = suite() else {
        println!("skipping: packetdrill's suite is not beside the checkout (set SOCKSCOPE_PACKETDRILL to its folder)");
        return;
    };
    let mut found = Vec::new();
    scripts(&dir, &mut found);
    assert!(!found.is_empty(), "no .pkt under {}", dir.display());
    let mut failed = Vec::new();
    for path in &found {
        let text = std::fs::read_to_string(path).expect("readable");
        if let Err(err) = sockscope_engine::packetdrill::read(&text) {
            failed.push(format!("{}: {err}", path.display()));
        }
    }
    println!("{} scripts read, {} with errors", found.len(), failed.len());
    assert!(failed.is_empty(), "{failed:#?}");
}
