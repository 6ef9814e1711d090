//! Any text after `#scenario=` in a link: unpacking (base64url, then the page's own inflater)
//! never panics and never yields more than the page's limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_frontend::share::{unpack, MAX_SCENARIO_BYTES};

fuzz_target!(|data: &[u8]| {
    // Raw bytes straight into the inflater, and text as a link would carry it.
    if let Ok(out) = sockscope_frontend::inflate::inflate(data, MAX_SCENARIO_BYTES) {
        assert!(out.len() <= MAX_SCENARIO_BYTES);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(scenario) = unpack(text) {
            assert!(scenario.len() <= MAX_SCENARIO_BYTES);
        }
    }
});
