//! Any text that reads as a packetdrill script, run as the studio runs a dropped or linked
//! `.pkt`: the run never panics and always ends, its trace ends with the verdict's note, and
//! every note that quotes a line names a line of the script.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_engine::EventKind;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(script) = sockscope_engine::packetdrill::read(text) else { return };
    let outcome = sockscope_engine::packetdrill::run(&script);
    assert!(matches!(outcome.trace.events.last().map(|event| &event.kind), Some(EventKind::Note { .. })));
    let lines = text.split('\n').count() as u32;
    for note in &outcome.lines {
        assert!(note.line >= 1 && note.line <= lines, "line {} of {lines}", note.line);
        assert!(matches!(outcome.trace.events[note.event].kind, EventKind::Note { .. }));
    }
});
