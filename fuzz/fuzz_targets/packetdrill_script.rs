//! Any text as a packetdrill script: reading it never panics, and an error names a line and a
//! column inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(err) = sockscope_engine::packetdrill::read(text) {
        let lines = text.split('\n').count().max(1) as u32;
        assert!(err.line >= 1 && err.line <= lines, "line {} of {lines}", err.line);
        assert!(err.column >= 1);
    }
});
