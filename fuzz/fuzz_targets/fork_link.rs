//! Any text after `fork=` in a studio link: reading it as faults and forking a built-in
//! scenario with them never panics, and a fork it accepts runs (or stops at its event limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_frontend::studio::fork::from_link;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(mut original) = sockscope_engine::builtin::get("three-way-handshake") else { return };
    original.limits.max_events = 20_000;
    if let Ok((fork, _)) = from_link(&original, text) {
        let _ = sockscope_engine::run(&fork);
    }
});
