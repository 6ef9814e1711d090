//! Finds the scenario a command names: a built-in one by name, a scenario file, or a
//! packetdrill script.

use sockscope_engine::packetdrill::{self, Verdict};
use sockscope_engine::{builtin, Scenario, Trace};

/// The built-in scenario named `target`, or the scenario in the file `target`.
pub fn scenario(target: &str) -> Result<Scenario, String> {
    if let Some(scenario) = builtin::get(target) {
        return Ok(scenario);
    }
    let looks_like_file = target.ends_with(".json") || target.contains('/') || std::path::Path::new(target).exists();
    if !looks_like_file {
        return Err(format!("no built-in scenario is named `{target}` (try `sockscope list`)"));
    }
    let text = std::fs::read_to_string(target).map_err(|err| format!("cannot read {target}: {err}"))?;
    sockscope_engine::parse_scenario(&text).map_err(|err| format!("{target}: {err}"))
}

/// Runs the packetdrill script in the file `target`: its trace, and its verdict as a line.
pub fn packetdrill(target: &str) -> Result<(Trace, Vec<String>), String> {
    let text = std::fs::read_to_string(target).map_err(|err| format!("cannot read {target}: {err}"))?;
    let script = packetdrill::read(&text).map_err(|err| format!("{target}: {err}"))?;
    let outcome = packetdrill::run(&script);
    let verdict = match outcome.verdict {
        Verdict::Pass => "PASS".to_string(),
        Verdict::Fail { line, expected, actual } => format!("FAIL line {line}: expected {expected}, got {actual}"),
        Verdict::Unsupported { line, construct } => format!("UNSUPPORTED line {line}: {construct}"),
    };
    let mut notes = vec![verdict];
    notes.extend(outcome.ignored.iter().map(|ignored| format!("not modelled: {ignored}")));
    Ok((outcome.trace, notes))
}
