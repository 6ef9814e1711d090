//! `sockscope validate`: runs scenarios against the real Linux kernel on loopback and shows
//! where the engine agrees with it.
//!
//! For each scenario: the engine runs it under the loopback profile (`profile.rs`), and
//! `plan.rs` takes from that run what the check needs; the same processes run as threads with
//! real sockets in a fresh network namespace (`kernel.rs`, `real.rs`), while `capture.rs`
//! records the segments on `lo` and `observe.rs` every state change; `compare.rs` lines the
//! two up. A scenario's faults become nftables rules in
//! that namespace, changed as the run goes on (`faults.rs`). docs/validation.md explains what
//! is compared and which scenarios only the engine can run.

pub mod compare;
pub mod faults;
pub mod plan;
pub mod profile;

#[cfg(target_os = "linux")]
mod bench;
#[cfg(target_os = "linux")]
mod capture;
#[cfg(target_os = "linux")]
mod kernel;
#[cfg(target_os = "linux")]
mod observe;
#[cfg(target_os = "linux")]
mod real;
#[cfg(target_os = "linux")]
mod sys;

use std::process::ExitCode;

use sockscope_engine::validation::{DiffRow, Report, ScenarioReport, Verdict};
use sockscope_engine::{builtin, Scenario};

use compare::Observation;
use plan::{engine_fingerprint, prepare, Prepared};

pub const USAGE: &str = "\
       sockscope validate [<name | file.json>... | --all] [--report <file.json>] [--record <dir>] [--bench [<n>]]

  validate run scenarios against the real Linux kernel on loopback (root, Linux only):
             --all      every built-in scenario
             --report   write the JSON report (sockscope_engine::validation::Report)
             --record   also write each kernel observation to <dir>/<name>.kernel.json
             --bench    time <n> (default 10000) connect/1 KB each way/close lifecycles on
                        the real kernel and in the engine, and print both rates";

struct Options {
    names: Vec<String>,
    report: Option<String>,
    record: Option<String>,
    bench: Option<usize>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options { names: Vec::new(), report: None, record: None, bench: None };
    let mut all = false;
    let mut rest = args.iter().peekable();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--all" => all = true,
            "--report" => options.report = Some(rest.next().ok_or("--report needs a file name")?.clone()),
            "--record" => options.record = Some(rest.next().ok_or("--record needs a directory")?.clone()),
            "--bench" => {
                let count = match rest.peek().and_then(|next| next.parse::<usize>().ok()) {
                    Some(count) => {
                        rest.next();
                        count
                    }
                    None => 10_000,
                };
                options.bench = Some(count.max(1));
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option `{flag}`")),
            name => options.names.push(name.to_string()),
        }
    }
    if all {
        options.names = builtin::names().map(str::to_string).collect();
    }
    if options.names.is_empty() && options.bench.is_none() {
        return Err(format!("validate needs scenario names, --all or --bench\nusage:\n{USAGE}"));
    }
    Ok(options)
}

/// Entry point of `sockscope validate`.
pub fn main(args: &[String]) -> ExitCode {
    let options = match parse_options(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("sockscope: {message}");
            return ExitCode::FAILURE;
        }
    };
    run(&options)
}

#[cfg(not(target_os = "linux"))]
fn run(_options: &Options) -> ExitCode {
    eprintln!("sockscope: the loopback validator runs real sockets on Linux only");
    ExitCode::FAILURE
}

#[cfg(target_os = "linux")]
fn run(options: &Options) -> ExitCode {
    let facts = kernel::facts();
    println!("validating against {} (the kernel announces window scale {})", facts.release, facts.wscale);
    let mut report = Report {
        kernel: facts.release.clone(),
        engine_commit: engine_commit(),
        profile_facts: Some(facts.profile_facts()),
        scenarios: Vec::new(),
    };
    let mut scenarios = Vec::new();
    for name in &options.names {
        match crate::load::scenario(name) {
            Ok(scenario) => scenarios.push(scenario),
            Err(message) => {
                eprintln!("sockscope: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    // A long real run mostly waits for kernel timers (TIME_WAIT, FIN_WAIT2, SYN retries), so
    // those run side by side in threads of their own, each in its own namespace, while the
    // short ones run one after another.
    let prepared: Vec<Prepared> = scenarios.iter().map(|scenario| prepare(scenario, &facts)).collect();
    let mut background = std::collections::BTreeMap::new();
    for (index, (scenario, prepared)) in scenarios.iter().zip(&prepared).enumerate() {
        if matches!(prepared, Ok(plan) if plan.engine.horizon_us > profile::SERIAL_RUN_US) {
            let (scenario, prepared) = (scenario.clone(), prepared.clone());
            println!("{}: a long real run; it goes on in the background", scenario.name);
            background.insert(index, std::thread::spawn(move || validate_twice(&scenario, &prepared)));
        }
    }
    let mut results = Vec::new();
    for (index, (scenario, prepared)) in scenarios.iter().zip(&prepared).enumerate() {
        if background.contains_key(&index) {
            results.push(None);
            continue;
        }
        let outcome = validate_twice(scenario, prepared);
        print_scenario(&outcome.0, outcome.2);
        results.push(Some(outcome));
    }
    for (index, handle) in background {
        let outcome = handle.join().unwrap_or_else(|_| {
            let reason = "the validator's thread for this scenario panicked".to_string();
            (engine_only(&scenarios[index], reason), None, 0.0)
        });
        print_scenario(&outcome.0, outcome.2);
        results[index] = Some(outcome);
    }
    for ((scenario, prepared), outcome) in scenarios.iter().zip(&prepared).zip(results) {
        let Some((mut scenario_report, kernel, _)) = outcome else { continue };
        scenario_report.engine_fingerprint = Some(engine_fingerprint(prepared));
        if let (Some(dir), Some(kernel)) = (&options.record, kernel) {
            let path = std::path::Path::new(dir).join(format!("{}.kernel.json", scenario.name));
            let text = serde_json::to_string_pretty(&kernel).unwrap_or_default();
            if let Err(err) = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, text + "\n")) {
                eprintln!("sockscope: cannot write {}: {err}", path.display());
            }
        }
        report.scenarios.push(scenario_report);
    }
    if !options.names.is_empty() {
        let (agree, differ, engine_only) = report.counts();
        println!(
            "\n{}: {agree} agree, {differ} differ, {engine_only} engine-only (of {} scenarios)",
            facts.release,
            report.scenarios.len()
        );
    }
    for scenario in &mut report.scenarios {
        let known = profile::KNOWN_DIFFERENCES.iter().find(|(name, _)| *name == scenario.name);
        if let (Verdict::Differs, Some((_, why))) = (scenario.verdict, known) {
            let known = format!("known difference: {why}");
            scenario.reason = Some(match scenario.reason.take() {
                Some(reason) => format!("{known}; {reason}"),
                None => known,
            });
        }
    }
    if let Some(path) = &options.report {
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(err) = std::fs::write(path, text + "\n") {
            eprintln!("sockscope: cannot write {path}: {err}");
            return ExitCode::FAILURE;
        }
        println!("report written to {path}");
    }
    if let Some(count) = options.bench {
        match bench::run(count) {
            Ok(text) => print!("{text}"),
            Err(message) => {
                eprintln!("sockscope: benchmark failed: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    let known = |name: &str| profile::KNOWN_DIFFERENCES.iter().any(|(known, _)| *known == name);
    let mut unexpected = Vec::new();
    for scenario in &report.scenarios {
        match (scenario.verdict, known(&scenario.name)) {
            (Verdict::Differs, true) => println!("known difference (does not fail the check): {}", scenario.name),
            (Verdict::Differs, false) => unexpected.push(scenario.name.as_str()),
            (Verdict::Agrees, true) => {
                println!("{} now agrees: remove it from profile::KNOWN_DIFFERENCES", scenario.name)
            }
            _ => {}
        }
    }
    if unexpected.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("differences not known before: {}", unexpected.join(", "));
        ExitCode::FAILURE
    }
}

/// The commit of the checkout this validator was built from (`git rev-parse HEAD`), with
/// `-dirty` when `engine/` or `cli/` has uncommitted changes, or `unknown`. `safe.directory`
/// lets root read a checkout that another user owns, as under `sudo`.
#[cfg(target_os = "linux")]
fn engine_commit() -> String {
    let checkout = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args(["-c", "safe.directory=*", "-C", checkout])
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let Some(commit) = git(&["rev-parse", "HEAD"]).filter(|commit| !commit.is_empty()) else {
        return "unknown".to_string();
    };
    match git(&["status", "--porcelain", "--untracked-files=no", "--", "engine", "cli"]) {
        Some(changes) if changes.is_empty() => commit,
        _ => format!("{commit}-dirty"),
    }
}

fn engine_only(scenario: &Scenario, reason: String) -> ScenarioReport {
    ScenarioReport {
        name: scenario.name.clone(),
        verdict: Verdict::EngineOnly,
        reason: Some(reason),
        rows: Vec::new(),
        engine_fingerprint: None,
    }
}

/// Adds the "not waited for" facts of both sides as note rows.
pub fn with_notes(mut report: ScenarioReport, engine: &Observation, kernel: &Observation) -> ScenarioReport {
    for note in &engine.notes {
        report.rows.push(DiffRow { aspect: "note".into(), engine: note.clone(), kernel: String::new(), same: true });
    }
    for note in &kernel.notes {
        report.rows.push(DiffRow { aspect: "note".into(), engine: String::new(), kernel: note.clone(), same: true });
    }
    report
}

/// Validates a scenario, and once more if it differs: a real run shares the machine with
/// everything else on it, and a thread delayed by tens of milliseconds (a busy CI machine)
/// changes what its peer's delayed ACK meets, so a difference must show on a second run too.
/// Returns the report, the kernel's observation and the seconds it took.
#[cfg(target_os = "linux")]
fn validate_twice(scenario: &Scenario, prepared: &Prepared) -> (ScenarioReport, Option<Observation>, f64) {
    let started = std::time::Instant::now();
    let (mut scenario_report, mut kernel) = validate_one(scenario, prepared);
    if scenario_report.verdict == Verdict::Differs {
        let (second, second_kernel) = validate_one(scenario, prepared);
        if second.verdict != Verdict::Differs {
            println!(
                "{}: differed on a first real run but not on a second; the second counts. The first:",
                scenario.name
            );
            let differing: Vec<DiffRow> = scenario_report.rows.iter().filter(|row| !row.same).cloned().collect();
            print!("{}", side_by_side(&differing));
        }
        (scenario_report, kernel) = (second, second_kernel);
    }
    (scenario_report, kernel, started.elapsed().as_secs_f64())
}

#[cfg(target_os = "linux")]
fn validate_one(scenario: &Scenario, prepared: &Prepared) -> (ScenarioReport, Option<Observation>) {
    let plan = match prepared {
        Ok(plan) => plan,
        Err(reason) => return (engine_only(scenario, reason.clone()), None),
    };
    let retries2 = plan.shortened.as_ref().map(|short| short.retries2);
    match kernel::observe(scenario, plan.engine.horizon_us, &plan.edges, retries2) {
        Ok(kernel) => {
            let report = compare::compare(scenario, &plan.engine, &kernel);
            (shortened_note(with_notes(report, &plan.engine, &kernel), plan.shortened.as_ref()), Some(kernel))
        }
        Err(reason) => (engine_only(scenario, reason), None),
    }
}

/// Says in the report that the check was a shortened one: the reason of an agreeing scenario
/// (put before a difference's own summary), and a note row that both sides share.
pub fn shortened_note(mut report: ScenarioReport, shortened: Option<&profile::Shortened>) -> ScenarioReport {
    let Some(shortened) = shortened else { return report };
    let said = shortened.reason();
    report.rows.push(DiffRow { aspect: "note".into(), engine: said.clone(), kernel: said.clone(), same: true });
    report.reason = Some(match report.reason.take() {
        Some(reason) => format!("{said}; {reason}"),
        None => said,
    });
    report
}

fn print_scenario(report: &ScenarioReport, seconds: f64) {
    let count = |aspect: &str| report.rows.iter().filter(|row| row.aspect == aspect).count();
    match report.verdict {
        Verdict::Agrees => {
            println!(
                "{:<24} agrees   ({} segments, {} state changes, {} results, {} queue checkpoints; {seconds:.1} s)",
                report.name,
                count("segment"),
                count("state"),
                count("result"),
                count("queue")
            );
            if let Some(reason) = &report.reason {
                println!("{:<24} {reason}", "");
            }
        }
        Verdict::EngineOnly => {
            println!("{:<24} engine-only: {}", report.name, report.reason.as_deref().unwrap_or(""));
        }
        Verdict::Differs => {
            println!("{:<24} DIFFERS  ({seconds:.1} s)", report.name);
            print!("{}", side_by_side(&report.rows));
        }
    }
}

/// The rows as two columns, `|` where they agree and `X` where they do not.
pub fn side_by_side(rows: &[DiffRow]) -> String {
    const WIDTH: usize = 78;
    let clip = |text: &str| -> String {
        if text.chars().count() > WIDTH {
            let mut clipped: String = text.chars().take(WIDTH - 1).collect();
            clipped.push('~');
            clipped
        } else {
            text.to_string()
        }
    };
    let mut out = format!("    {:<8} {:<WIDTH$}   {}\n", "", "engine (loopback profile)", "Linux kernel");
    for row in rows.iter().filter(|row| row.aspect != "note") {
        let mark = if row.same { '|' } else { 'X' };
        out.push_str(&format!("    {:<8} {:<WIDTH$} {mark} {}\n", row.aspect, clip(&row.engine), clip(&row.kernel)));
    }
    for row in rows.iter().filter(|row| row.aspect == "note") {
        let text =
            if row.engine.is_empty() { format!("kernel: {}", row.kernel) } else { format!("engine: {}", row.engine) };
        out.push_str(&format!("    note     {text}\n"));
    }
    out
}

/// The comparison tested on kernel observations recorded on Linux 6.18.44 (window scale 10)
/// with `sockscope validate <file> --record cli/src/validate/fixtures`; each sits beside a
/// copy of the scenario it was recorded from.
#[cfg(test)]
mod tests {
    use super::compare::{engine_horizon, engine_observation};
    use super::profile::{loopback_profile, KernelFacts, MAX_REAL_RUN_US};
    use super::*;

    const FIXTURES: &[(&str, &str, &str)] = &[
        (
            "tlpi-tcpdump",
            include_str!("fixtures/tlpi-tcpdump.scenario.json"),
            include_str!("fixtures/tlpi-tcpdump.kernel.json"),
        ),
        (
            "half-close",
            include_str!("fixtures/half-close.scenario.json"),
            include_str!("fixtures/half-close.kernel.json"),
        ),
        (
            "connection-refused",
            include_str!("fixtures/connection-refused.scenario.json"),
            include_str!("fixtures/connection-refused.kernel.json"),
        ),
        (
            "close-unread-data",
            include_str!("fixtures/close-unread-data.scenario.json"),
            include_str!("fixtures/close-unread-data.kernel.json"),
        ),
        (
            "peer-crash",
            include_str!("fixtures/peer-crash.scenario.json"),
            include_str!("fixtures/peer-crash.kernel.json"),
        ),
    ];

    fn recorded_facts() -> KernelFacts {
        KernelFacts {
            release: "Linux 6.18.44 (recorded)".into(),
            wscale: 10,
            congestion_control: "bbr".into(),
            wmem_max: 4 << 20,
        }
    }

    fn fixture(name: &str) -> (Scenario, Observation) {
        let (_, scenario, kernel) =
            FIXTURES.iter().find(|(candidate, _, _)| *candidate == name).expect("a known fixture");
        let scenario = sockscope_engine::parse_scenario(scenario).unwrap_or_else(|err| panic!("{name}: {err}"));
        let kernel: Observation = serde_json::from_str(kernel).unwrap_or_else(|err| panic!("{name}: {err}"));
        (scenario, kernel)
    }

    /// Compares a scenario's engine run, with `adjust` applied to every host's settings
    /// after the loopback profile, against the recorded kernel.
    fn compare_with(name: &str, adjust: impl Fn(&mut sockscope_engine::scenario::TcpSettings)) -> ScenarioReport {
        let (scenario, kernel) = fixture(name);
        compare_against(&scenario, &kernel, adjust)
    }

    /// Runs the engine on `scenario` under the loopback profile (then `adjust`) and
    /// compares it with a kernel observation.
    fn compare_against(
        scenario: &Scenario,
        kernel: &Observation,
        adjust: impl Fn(&mut sockscope_engine::scenario::TcpSettings),
    ) -> ScenarioReport {
        let mut profiled = loopback_profile(scenario, &recorded_facts());
        for host in &mut profiled.hosts {
            adjust(&mut host.tcp);
        }
        let run = sockscope_engine::run(&profiled).expect("the engine finishes");
        let engine = engine_observation(&run.trace, engine_horizon(&run.trace));
        compare::compare(scenario, &engine, kernel)
    }

    fn differing(report: &ScenarioReport) -> String {
        side_by_side(&report.rows.iter().filter(|row| !row.same).cloned().collect::<Vec<_>>())
    }

    #[test]
    fn the_engine_agrees_with_every_recorded_kernel_run() {
        // peer-crash was recorded shortened, with tcp_retries2 = 8 in the run's namespace; it
        // goes through prepare() below.
        for (name, _, _) in FIXTURES.iter().filter(|(name, _, _)| *name != "peer-crash") {
            let report = compare_with(name, |_| {});
            assert_eq!(report.verdict, Verdict::Agrees, "{name}:\n{}", differing(&report));
            assert!(report.rows.iter().any(|row| row.aspect == "segment"), "{name}: no segments compared");
            assert!(report.rows.iter().any(|row| row.aspect == "state"), "{name}: no states compared");
            assert!(report.rows.iter().any(|row| row.aspect == "result"), "{name}: no results compared");
        }
    }

    #[test]
    fn a_run_too_long_for_ci_is_checked_shortened_and_says_so() {
        let (scenario, kernel) = fixture("peer-crash");
        let plan = prepare(&scenario, &recorded_facts()).expect("peer-crash is checked, shortened");
        let shortened = plan.shortened.clone().expect("with a lower tcp_retries2");
        assert_eq!((shortened.retries2, shortened.scenario_retries2), (8, 15));
        assert!(plan.engine.horizon_us <= MAX_REAL_RUN_US, "{}", plan.engine.horizon_us);
        assert!(shortened.scenario_horizon_us > MAX_REAL_RUN_US);
        let report = compare::compare(&scenario, &plan.engine, &kernel);
        assert_eq!(report.verdict, Verdict::Agrees, "{}", differing(&report));
        // The lost 6 bytes go out ten times on both sides: first, then a tail loss probe at
        // the RTO instant, then eight RTO retransmissions with backoff; the next expiry gives up.
        let resent = report.rows.iter().filter(|row| row.aspect == "segment" && row.engine.contains("seq 7:13"));
        assert_eq!(resent.count(), 10);
        let report = shortened_note(report, plan.shortened.as_ref());
        let reason = report.reason.as_deref().expect("a reason");
        assert!(
            reason.starts_with("checked with tcp_retries2 = 8 on both sides (the scenario's 15 would take 928 s);"),
            "{reason}"
        );
        let note = report.rows.iter().find(|row| row.aspect == "note" && row.engine == reason).expect("a note row");
        assert_eq!(note.kernel, reason);
        // A difference keeps its own summary after the sentence about the shortening.
        let mut changed = kernel.clone();
        changed.calls.iter_mut().find(|call| call.errno.is_some()).expect("the ETIMEDOUT").errno =
            Some("ECONNRESET".into());
        let differs = shortened_note(compare::compare(&scenario, &plan.engine, &changed), plan.shortened.as_ref());
        assert_eq!(differs.verdict, Verdict::Differs);
        let reason = differs.reason.as_deref().unwrap_or("");
        assert!(reason.starts_with("checked with tcp_retries2 = 8") && reason.contains("; "), "{reason}");
    }

    #[test]
    fn a_wrong_delayed_ack_time_is_reported_as_a_mismatch() {
        // With a 200 ms delayed ACK, tlpi-tcpdump's server answers (after 100 ms) before its
        // ACK timer fires, so the reply carries the ACK and one segment goes missing.
        let report = compare_with("tlpi-tcpdump", |tcp| tcp.delack_ms = 200);
        assert_eq!(report.verdict, Verdict::Differs);
        let rows = differing(&report);
        assert!(rows.contains("segment"), "{rows}");
        assert!(report.reason.as_deref().unwrap_or("").contains("segment"), "{:?}", report.reason);
    }

    #[test]
    fn a_missing_quick_ack_is_reported_as_a_mismatch() {
        // Without quick-ACK mode the first request's ACK waits for the delayed-ACK timer
        // (or rides on data), where Linux acknowledges at once.
        let report = compare_with("half-close", |tcp| tcp.max_quickacks = 0);
        assert_eq!(report.verdict, Verdict::Differs, "{}", differing(&report));
    }

    #[test]
    fn a_changed_call_result_is_a_mismatch() {
        let (scenario, mut kernel) = fixture("connection-refused");
        let refused = kernel
            .calls
            .iter_mut()
            .find(|call| call.errno.as_deref() == Some("ECONNREFUSED"))
            .expect("a refused connect");
        refused.errno = Some("ETIMEDOUT".into());
        let report = compare_against(&scenario, &kernel, |_| {});
        assert_eq!(report.verdict, Verdict::Differs);
        let row = report.rows.iter().find(|row| !row.same).expect("a differing row");
        assert_eq!(row.aspect, "result");
        assert!(row.engine.contains("ECONNREFUSED") && row.kernel.contains("ETIMEDOUT"), "{row:?}");
    }

    #[test]
    fn a_changed_window_is_a_mismatch() {
        let (scenario, mut kernel) = fixture("half-close");
        let ack = kernel.segments.iter_mut().find(|segment| !segment.flags.syn).expect("a segment after the SYNs");
        ack.header.win += 1;
        let report = compare_against(&scenario, &kernel, |_| {});
        assert_eq!(report.verdict, Verdict::Differs);
        let row = report.rows.iter().find(|row| !row.same).expect("a differing row");
        assert_eq!(row.aspect, "segment");
    }

    #[test]
    fn fixtures_are_recorded_reports_not_engine_output() {
        // The recorded numbers are the kernel's own: random ISNs and ports, not the engine's.
        let (_, kernel) = fixture("tlpi-tcpdump");
        let syn = kernel.segments.first().expect("segments");
        assert!(syn.flags.syn && syn.win == 65_495, "Linux's loopback SYN window is 65495: {syn:?}");
    }
}
