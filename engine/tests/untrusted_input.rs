//! Untrusted input never panics: every truncation and random mutation of a real scenario,
//! arbitrary text, and damaged trace lines. (The same checks run under libFuzzer in
//! `fuzz/`; this file keeps a fast, deterministic share of them in every test run.)

use proptest::prelude::*;
use sockscope_engine::{builtin, format, parse_scenario, replay, run, Trace};

fn run_briefly(text: &str) {
    if let Ok(mut scenario) = parse_scenario(text) {
        scenario.limits.max_events = scenario.limits.max_events.min(20_000);
        let _ = run(&scenario);
    }
}

#[test]
fn every_truncation_of_every_builtin_is_rejected_or_runs() {
    for name in builtin::names() {
        let text = builtin::source(name).expect("listed names have sources").trim_end();
        for end in (0..text.len()).filter(|end| text.is_char_boundary(*end)) {
            // A prefix of a JSON object is never a complete object, so it must be an error.
            assert!(parse_scenario(&text[..end]).is_err(), "{name}: prefix of {end} bytes parsed");
        }
    }
}

#[test]
fn every_truncation_of_a_trace_replays_without_panicking() {
    let scenario = builtin::get("tlpi-tcpdump").expect("tlpi-tcpdump is built in");
    let jsonl = run(&scenario).expect("it runs").trace.to_jsonl();
    for end in (0..jsonl.len()).step_by(7).filter(|end| jsonl.is_char_boundary(*end)) {
        if let Ok(events) = Trace::events_from_jsonl(&jsonl[..end]) {
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
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        run_briefly(&text);
    }

    #[test]
    fn mutated_builtins_never_panic(
        which in 0usize..64,
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![
            "0", "-1", "4294967296", "1e400", "\"\"", "null", "[]", "{}", "\"x\"", "true", ",", "}", "\"SHUT_WR\"",
            "\"ECONNRESET\"", "99999999999", "0.5", "\"0.0.0.0:0\"", "\"255.255.255.255:65535\"",
        ])), 1..4),
    ) {
        let names: Vec<&str> = builtin::names().collect();
        let name = names[which % names.len()];
        let mut text = builtin::source(name).expect("listed names have sources").to_string();
        for (index, replacement) in edits {
            // Replace one token-ish span (a run of word characters) with a hostile value.
            let bytes = text.as_bytes();
            let start = index.index(bytes.len().max(1));
            let start = (start..bytes.len()).find(|&i| bytes[i].is_ascii_alphanumeric()).unwrap_or(0);
            let end = (start..bytes.len()).find(|&i| !bytes[i].is_ascii_alphanumeric()).unwrap_or(bytes.len());
            if text.is_char_boundary(start) && text.is_char_boundary(end) {
                text.replace_range(start..end, replacement);
            }
        }
        run_briefly(&text);
    }
}
