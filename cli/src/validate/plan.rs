//! The engine's half of a check, everything before the real run: whether the scenario can be
//! checked on loopback at all, the engine's observation under the loopback profile, when the
//! real run changes its fault rules, and whether the check is a shortened one. It runs only
//! the engine, so a test recomputes it for every scenario of the shipped report, without a
//! kernel, to tell when the report is stale.

use serde::Serialize;
use sockscope_engine::Scenario;

use super::compare::{engine_horizon, engine_observation, Observation};
use super::faults::{self, Edge};
use super::profile::{self, engine_only_reason, loopback_profile, KernelFacts, MAX_REAL_RUN_US};

/// Everything up to the real run: the engine's observation under the loopback profile (with
/// the horizon both sides stop at), when the real run changes its fault rules and whether the
/// check is a shortened one.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub engine: Observation,
    pub edges: Vec<Edge>,
    /// Set when both sides run with a lower `tcp_retries2` than the scenario's, which would
    /// make the real run too long (see [`profile::shorten_retransmissions`]).
    pub shortened: Option<profile::Shortened>,
}

/// The plan for a scenario, or why it cannot be reproduced at all.
pub type Prepared = Result<Plan, String>;

/// Runs the engine on the scenario under the loopback profile: see [`Prepared`].
pub fn prepare(scenario: &Scenario, facts: &KernelFacts) -> Prepared {
    if let Some(reason) = faults::unsupported_reason(scenario).or_else(|| engine_only_reason(scenario)) {
        return Err(reason);
    }
    let profiled = loopback_profile(scenario, facts);
    let mut run = sockscope_engine::run(&profiled).map_err(|err| format!("the engine could not finish it: {err}"))?;
    let mut horizon = engine_horizon(&run.trace);
    let mut shortened = None;
    if horizon > MAX_REAL_RUN_US {
        let Some((short, _, short_run, short_horizon)) =
            profile::shorten_retransmissions(&profiled, &run, horizon, MAX_REAL_RUN_US)
        else {
            return Err(format!(
                "its last call returns {:.1} s into the run; a real run that long would make CI too slow \
                 (the limit is {} s)",
                horizon as f64 / 1e6,
                MAX_REAL_RUN_US / 1_000_000
            ));
        };
        (run, horizon, shortened) = (short_run, short_horizon, Some(short));
    }
    if let Some(reason) = profile::racing_threads(&run.trace) {
        return Err(reason);
    }
    let edges = faults::schedule(scenario, &run.trace)?;
    Ok(Plan { engine: engine_observation(&run.trace, horizon), edges, shortened })
}

/// The report's `engine_fingerprint` of a prepared check: 16 hex digits of the 64-bit FNV-1a
/// hash of its JSON, which holds everything the validator takes from the engine (the
/// observation compared with the kernel's, the horizon and fault schedule the real run
/// follows, the shortening), or the reason the scenario could not be checked.
pub fn engine_fingerprint(prepared: &Prepared) -> String {
    let json = serde_json::to_string(prepared).expect("a plan holds no map with non-string keys, so it serializes");
    format!("{:016x}", fnv1a_64(json.as_bytes()))
}

/// The 64-bit FNV-1a hash (Fowler, Noll and Vo; the offset basis and prime of
/// draft-eastlake-fnv): stable across platforms and Rust versions, which `std`'s hashers are not
/// promised to be. It only has to notice a change, not resist a forger.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use sockscope_engine::validation::Report;

    use super::*;

    #[test]
    fn fnv1a_64_gives_the_published_values() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn faults_no_rule_can_express_make_a_scenario_engine_only() {
        let mut scenario = sockscope_engine::builtin::get("retransmission").expect("a built-in scenario");
        scenario.faults = vec![serde_json::from_str(r#"{"fault":"loss","rate":0.1}"#).expect("a fault")];
        let facts = KernelFacts {
            release: "Linux test".into(),
            wscale: 7,
            congestion_control: "cubic".into(),
            wmem_max: 4 << 20,
        };
        let reason = prepare(&scenario, &facts).expect_err("random loss cannot be reproduced");
        assert!(reason.starts_with("faults[0] loses segments at random (rate 0.1)"), "{reason}");
    }

    /// The shipped report must have been made with today's engine: each scenario's engine side
    /// is computed again, with the kernel facts the report recorded, and must give the
    /// fingerprint the report holds. A change to the engine's behaviour (or to the built-in
    /// scenarios, or to what the validator takes from the engine) makes the kernel's verdicts
    /// in the report stale, so it asks for a fresh kernel run.
    #[test]
    fn the_shipped_report_was_made_with_todays_engine() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../static/validation-report.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            // Without a report the page says nothing about validation, so nothing can be stale.
            return;
        };
        let report: Report = serde_json::from_str(&text).expect("static/validation-report.json parses");
        let commit = if report.engine_commit.is_empty() { "unknown" } else { report.engine_commit.as_str() };
        let rerun = format!(
            "the engine's behaviour changed since the report was made at commit {commit}: rerun \
             `sockscope validate --all --report static/validation-report.json` as root"
        );
        let Some(recorded) = &report.profile_facts else {
            panic!("{rerun} (the report records no kernel facts to recompute it with)");
        };
        let facts = KernelFacts {
            release: report.kernel.clone(),
            wscale: recorded.wscale,
            congestion_control: recorded.congestion_control.clone(),
            wmem_max: recorded.wmem_max,
        };
        let mut stale = Vec::new();
        for scenario_report in &report.scenarios {
            let name = &scenario_report.name;
            let Some(scenario) = sockscope_engine::builtin::get(name) else {
                stale.push(format!("{name}: no longer a built-in scenario"));
                continue;
            };
            let now = engine_fingerprint(&prepare(&scenario, &facts));
            match &scenario_report.engine_fingerprint {
                Some(then) if *then == now => {}
                Some(then) => stale.push(format!("{name}: engine fingerprint {then} then, {now} now")),
                None => stale.push(format!("{name}: no engine fingerprint recorded")),
            }
        }
        for name in sockscope_engine::builtin::names() {
            if report.scenario(name).is_none() {
                stale.push(format!("{name}: a built-in scenario the report does not cover"));
            }
        }
        assert!(stale.is_empty(), "{rerun}\n  {}", stale.join("\n  "));
    }
}
