//! `cargo xtask fuzz [--seconds S] [TARGET...]`: every fuzz target in `fuzz/` in turn (or the
//! ones named), each for S seconds (60 by default), then one line per target with the inputs it
//! ran and whether it crashed. Each target starts from its committed seeds in `fuzz/seeds/`
//! and grows its own corpus in `fuzz/corpus/` (not committed). Installs the nightly toolchain
//! and cargo-fuzz on first use.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{probe, run, Result};

/// What one target's run came to.
struct Outcome {
    target: String,
    runs: Option<u64>,
    /// The file libFuzzer wrote the crashing input to, if it crashed.
    crash: Option<String>,
}

pub fn fuzz(root: &Path, rest: &[String]) -> Result {
    let (seconds, wanted) = arguments(rest)?;
    ensure_tools()?;
    let dir = root.join("fuzz");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).map_err(|err| format!("fuzz/Cargo.toml: {err}"))?;
    let targets: Vec<String> =
        target_names(&manifest).into_iter().filter(|name| wanted.is_empty() || wanted.contains(name)).collect();
    if targets.is_empty() {
        return Err(format!("no fuzz target is called {}", wanted.join(", ")));
    }
    let mut outcomes = Vec::new();
    for target in &targets {
        let corpus = dir.join("corpus").join(target);
        let seeds = dir.join("seeds").join(target);
        std::fs::create_dir_all(&corpus).map_err(|err| format!("{}: {err}", corpus.display()))?;
        let mut command = Command::new("cargo");
        command.args(["+nightly", "fuzz", "run", target]).arg(&corpus);
        if seeds.is_dir() {
            command.arg(&seeds);
        }
        command
            .args(["--", &format!("-max_total_time={seconds}"), "-rss_limit_mb=2048", "-print_final_stats=1"])
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        println!("$ (cd fuzz && cargo +nightly fuzz run {target} corpus/{target} seeds/{target} -- -max_total_time={seconds} ...)");
        let output = command.output().map_err(|err| format!("could not start cargo fuzz: {err}"))?;
        let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let outcome = read_log(target, &log);
        if outcome.runs.is_none() && outcome.crash.is_none() {
            // Neither a count nor a crash: the build or the start failed; show why.
            eprintln!(
                "{}",
                log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
            );
            return Err(format!("fuzz target {target} did not run"));
        }
        outcomes.push(outcome);
    }
    println!("\n{:<20} {:>12}  crashes", "target", "executions");
    for outcome in &outcomes {
        let runs = outcome.runs.map_or_else(|| "?".to_string(), |runs| runs.to_string());
        let crash = outcome.crash.as_deref().map_or_else(|| "0".to_string(), |file| format!("1 ({file})"));
        println!("{:<20} {runs:>12}  {crash}", outcome.target);
    }
    if outcomes.iter().any(|outcome| outcome.crash.is_some()) {
        return Err("a fuzz target crashed; its input is named above".into());
    }
    Ok(())
}

fn arguments(rest: &[String]) -> Result<(u64, Vec<String>)> {
    let mut seconds = 60;
    let mut targets = Vec::new();
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = args
                .next()
                .and_then(|value| value.parse().ok())
                .filter(|&value| value > 0)
                .ok_or("--seconds takes a whole number of seconds")?;
        } else {
            targets.push(arg.clone());
        }
    }
    Ok((seconds, targets))
}

fn ensure_tools() -> Result {
    if probe(Command::new("cargo").args(["+nightly", "--version"])).is_none() {
        println!("installing the nightly toolchain with rustup (cargo-fuzz needs it)");
        run(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))?;
    }
    if probe(Command::new("cargo").args(["fuzz", "--version"])).is_none() {
        println!("installing cargo-fuzz with cargo install");
        run(Command::new("cargo").args(["install", "--locked", "cargo-fuzz"]))?;
    }
    Ok(())
}

/// The `[[bin]]` names of the fuzz crate's manifest: one per target.
fn target_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(value) = line.strip_prefix("name").map(str::trim).and_then(|rest| rest.strip_prefix('=')) {
            if in_bin {
                names.push(value.trim().trim_matches('"').to_string());
            }
        }
    }
    names
}

/// The executions and the crash file from libFuzzer's output: its final `Done N runs` line (or,
/// after a crash, the last `#N` status line) and its `Test unit written to FILE` line.
fn read_log(target: &str, log: &str) -> Outcome {
    let done = log.lines().find_map(|line| {
        let rest = line.strip_prefix("Done ")?;
        rest.split_whitespace().next()?.parse().ok()
    });
    let last_status = log.lines().rev().find_map(|line| {
        let rest = line.strip_prefix('#')?;
        rest.split_whitespace().next()?.parse().ok()
    });
    let crash =
        log.lines().find_map(|line| line.split_once("Test unit written to ").map(|(_, file)| file.trim().to_string()));
    Outcome { target: target.to_string(), runs: done.or(last_status), crash }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_bins_of_the_manifest() {
        let manifest = "[package]\nname = \"sockscope-fuzz\"\n\n[[bin]]\nname = \"scenario_json\"\npath = \"a.rs\"\n\n[dependencies]\nname = \"x\"\n\n[[bin]]\nname = \"packetdrill_run\"\n";
        assert_eq!(target_names(manifest), ["scenario_json", "packetdrill_run"]);
    }

    #[test]
    fn a_log_gives_its_runs_and_its_crash() {
        let clean = "#1024\tpulse  cov: 1\nDone 4021 runs in 2 second(s)\nstat::number_of_executed_units: 4021\n";
        let outcome = read_log("t", clean);
        assert_eq!((outcome.runs, outcome.crash), (Some(4021), None));
        let crashed = "#77\tNEW cov: 3\n==1== ERROR: libFuzzer: deadly signal\nartifact_prefix='a/'; Test unit written to a/crash-12\n";
        let outcome = read_log("t", crashed);
        assert_eq!((outcome.runs, outcome.crash.as_deref()), (Some(77), Some("a/crash-12")));
    }

    #[test]
    fn arguments_take_seconds_and_targets() {
        let args = |words: &[&str]| arguments(&words.iter().map(|word| word.to_string()).collect::<Vec<_>>());
        assert_eq!(args(&[]), Ok((60, vec![])));
        assert_eq!(args(&["--seconds", "5", "fork_link"]), Ok((5, vec!["fork_link".to_string()])));
        assert!(args(&["--seconds", "0"]).is_err());
    }
}
