//! Any text given as a scenario: parsing never panics, and a scenario that parses runs to
//! an end (or a clear event-limit error) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(mut scenario) = sockscope_engine::parse_scenario(text) {
        // Keep each run short so the fuzzer explores inputs rather than long simulations.
        scenario.limits.max_events = scenario.limits.max_events.min(20_000);
        let _ = sockscope_engine::run(&scenario);
    }
});
