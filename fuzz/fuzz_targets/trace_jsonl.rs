//! Any text given as a JSON Lines trace: parsing never panics, and a trace that parses can
//! be replayed and formatted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_engine::{format, replay, Trace};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(events) = Trace::events_from_jsonl(text) {
        let trace = Trace { scenario: String::new(), title: String::new(), source: String::new(), events };
        let timeline = replay::Timeline::new(&trace);
        let snapshot = timeline.at(&trace, trace.events.len());
        for host in &snapshot.hosts {
            let _ = format::ss(&snapshot, &host.name);
        }
        for numbering in [format::Numbering::Relative, format::Numbering::Absolute] {
            let _ = format::tcpdump(&trace, numbering);
            let _ = format::narrate(&trace, numbering);
        }
    }
});
