//! Finds the scenario a command names: a built-in one by name, or a scenario file.

use sockscope_engine::{builtin, Scenario};

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
