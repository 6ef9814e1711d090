//! `sockscope packetdrill`: runs packetdrill scripts in the engine and says, for each, PASS,
//! FAIL at the first line the engine did not meet, or UNSUPPORTED at the first line it
//! cannot model; then a summary. A folder is searched for `.pkt` files; when it holds
//! packetdrill's `kernel-results.txt`, each line also says what the real kernel did.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sockscope_engine::packetdrill::{self, Verdict};

pub const USAGE: &str = "\
       sockscope packetdrill <file.pkt | folder>... [--report <file.json>]

  packetdrill  run packetdrill scripts in the engine: PASS, FAIL line N (expected, got) or
               UNSUPPORTED line N (what the engine does not model) for each, then a summary;
               beside each, the kernel's verdict when the folder has kernel-results.txt
";

/// One script's result, as the report writes it.
#[derive(Serialize)]
struct Row {
    script: String,
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    construct: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kernel: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored: Vec<String>,
}

#[derive(Serialize)]
struct Report {
    passed: usize,
    failed: usize,
    unsupported: usize,
    scripts: Vec<Row>,
}

/// Runs the command; the text to print, and whether every script passed or was unsupported.
pub fn main(args: &[String]) -> Result<(String, bool), String> {
    let mut targets = Vec::new();
    let mut report_path = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--report" => report_path = Some(rest.next().ok_or("--report needs a file")?.clone()),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            path => targets.push(PathBuf::from(path)),
        }
    }
    if targets.is_empty() {
        return Err(format!("packetdrill needs a script or a folder\n{USAGE}"));
    }
    let mut rows = Vec::new();
    for target in &targets {
        let kernel = kernel_results(target);
        let mut scripts = Vec::new();
        if target.is_dir() {
            find_scripts(target, &mut scripts);
        } else {
            scripts.push(target.clone());
        }
        for script in scripts {
            let name = script.strip_prefix(target).ok().filter(|name| !name.as_os_str().is_empty());
            let name = name.unwrap_or(&script).display().to_string();
            let mut row = run_one(&script, name.clone());
            row.kernel = kernel.iter().find(|(path, _)| *path == name).map(|(_, verdict)| verdict.clone());
            rows.push(row);
        }
    }
    let count = |verdict: &str| rows.iter().filter(|row| row.verdict == verdict).count();
    let report =
        Report { passed: count("PASS"), failed: count("FAIL"), unsupported: count("UNSUPPORTED"), scripts: rows };
    let mut out = String::new();
    for row in &report.scripts {
        out.push_str(&line_of(row));
        out.push('\n');
    }
    out.push_str(&format!("{} passed, {} failed, {} unsupported\n", report.passed, report.failed, report.unsupported));
    let with_kernel: Vec<&Row> = report.scripts.iter().filter(|row| row.kernel.as_deref() == Some("PASS")).collect();
    if !with_kernel.is_empty() {
        let passed = with_kernel.iter().filter(|row| row.verdict == "PASS").count();
        out.push_str(&format!("of the {} the kernel passes, the engine passes {passed}\n", with_kernel.len()));
    }
    if let Some(path) = report_path {
        let text = serde_json::to_string_pretty(&report).map_err(|err| err.to_string())?;
        std::fs::write(&path, text + "\n").map_err(|err| format!("cannot write {path}: {err}"))?;
    }
    Ok((out, report.failed == 0))
}

fn run_one(path: &Path, name: String) -> Row {
    let mut row = Row {
        script: name,
        verdict: "FAIL",
        line: None,
        expected: None,
        actual: None,
        construct: None,
        kernel: None,
        ignored: Vec::new(),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            row.actual = Some(format!("the file cannot be read: {err}"));
            return row;
        }
    };
    let script = match packetdrill::read(&text) {
        Ok(script) => script,
        Err(err) => {
            row.line = Some(err.line);
            row.expected = Some("a packetdrill script".into());
            row.actual = Some(format!("column {}: {}", err.column, err.reason));
            return row;
        }
    };
    let outcome = packetdrill::run(&script);
    row.ignored = outcome.ignored;
    match outcome.verdict {
        Verdict::Pass => row.verdict = "PASS",
        Verdict::Fail { line, expected, actual } => {
            row.line = Some(line);
            row.expected = Some(expected);
            row.actual = Some(actual);
        }
        Verdict::Unsupported { line, construct } => {
            row.verdict = "UNSUPPORTED";
            row.line = Some(line);
            row.construct = Some(construct);
        }
    }
    row
}

/// `PASS name`, `FAIL name line N: expected …, got …`, `UNSUPPORTED name line N: …`, and the
/// kernel's verdict in brackets when known.
fn line_of(row: &Row) -> String {
    let line = row.line.map_or_else(String::new, |line| format!(" line {line}"));
    let detail = match row.verdict {
        "PASS" => String::new(),
        "UNSUPPORTED" => format!("{line}: {}", row.construct.as_deref().unwrap_or_default()),
        _ => format!(
            "{line}: expected {}, got {}",
            row.expected.as_deref().unwrap_or("?"),
            row.actual.as_deref().unwrap_or("?")
        ),
    };
    let kernel = row.kernel.as_ref().map_or_else(String::new, |kernel| format!("  [kernel: {kernel}]"));
    format!("{:<11} {}{detail}{kernel}", row.verdict, row.script)
}

/// `kernel-results.txt` of a folder: `PASS tcp/x/y.pkt` lines.
fn kernel_results(folder: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(folder.join("kernel-results.txt")) else { return Vec::new() };
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(verdict, path)| (path.trim().to_string(), verdict.to_string()))
        .collect()
}

fn find_scripts(folder: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    paths.sort();
    for path in paths {
        // A link to a folder is not followed: a link back up would never end.
        let is_folder = std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_dir());
        if is_folder {
            find_scripts(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "pkt") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_scripts() -> String {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/packetdrill").display().to_string()
    }

    #[test]
    fn the_projects_scripts_pass_and_the_report_says_so() {
        let report = std::env::temp_dir().join(format!("sockscope-packetdrill-{}.json", std::process::id()));
        let args = [own_scripts(), "--report".to_string(), report.display().to_string()];
        let (out, all_met) = main(&args).expect("runs");
        assert!(all_met, "{out}");
        assert!(
            out.lines().any(|line| line.starts_with("PASS") && line.ends_with("server-handshake-write-close.pkt")),
            "{out}"
        );
        assert!(out.contains(" passed, 0 failed, 0 unsupported"), "{out}");
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("written")).expect("json");
        let _ = std::fs::remove_file(&report);
        assert_eq!(written["failed"], 0);
        assert!(written["scripts"].as_array().is_some_and(|scripts| scripts.len() >= 3));
    }

    #[test]
    fn a_broken_or_unsupported_script_is_reported_at_its_line() {
        let dir = std::env::temp_dir().join(format!("sockscope-packetdrill-cases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        std::fs::write(dir.join("broken.pkt"), "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0\n")
            .expect("written");
        std::fs::write(dir.join("python.pkt"), "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 %{ print(1) }%\n")
            .expect("written");
        std::fs::write(dir.join("wrong.pkt"), "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4\n").expect("written");
        let (out, all_met) = main(&[dir.display().to_string()]).expect("runs");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!all_met, "{out}");
        assert!(out.contains("FAIL        broken.pkt line 2: expected a packetdrill script, got column 10"), "{out}");
        assert!(out.contains("UNSUPPORTED python.pkt line 2: a Python statement other than an assertion"), "{out}");
        assert!(out.contains("FAIL        wrong.pkt line 1: expected socket() = 4, got socket() = 3"), "{out}");
        assert!(out.contains("0 passed, 2 failed, 1 unsupported"), "{out}");
    }
}
