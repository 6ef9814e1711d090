//! packetdrill scripts in the engine: sockscope's own (`tests/packetdrill/`) must pass, and
//! packetdrill's own suite must read without an error and keep passing the scripts listed in
//! `tests/packetdrill-suite-passes.txt`. That suite is another project's (GPL-2.0) and is not
//! part of this repository: the tests read it from `SOCKSCOPE_PACKETDRILL` or from
//! `shared/packetdrill` in the folder beside the checkout, and skip, saying so, when neither
//! exists.

use std::path::{Path, PathBuf};

fn suite() -> Option<PathBuf> {
    let dir = std::env::var_os("SOCKSCOPE_PACKETDRILL").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..").join("shared").join("packetdrill")
    });
    dir.is_dir().then_some(dir)
}

fn scripts(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            scripts(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "pkt") {
            out.push(path);
        }
    }
}

#[test]
fn every_script_of_packetdrills_suite_reads() {
    let Some(dir) = suite() else {
        println!("skipping: packetdrill's suite is not beside the checkout (set SOCKSCOPE_PACKETDRILL to its folder)");
        return;
    };
    let mut found = Vec::new();
    scripts(&dir, &mut found);
    assert!(!found.is_empty(), "no .pkt under {}", dir.display());
    let mut failed = Vec::new();
    for path in &found {
        let text = std::fs::read_to_string(path).expect("readable");
        if let Err(err) = sockscope_engine::packetdrill::read(&text) {
            failed.push(format!("{}: {err}", path.display()));
        }
    }
    println!("{} scripts read, {} with errors", found.len(), failed.len());
    assert!(failed.is_empty(), "{failed:#?}");
}

/// Runs every script of the suite, prints each verdict beside the kernel's (from
/// `kernel-results.txt`), and fails if a script listed as passing no longer does.
#[test]
fn packetdrills_suite_keeps_passing_what_it_passed() {
    use sockscope_engine::packetdrill::Verdict;
    let Some(dir) = suite() else {
        println!("skipping: packetdrill's suite is not beside the checkout (set SOCKSCOPE_PACKETDRILL to its folder)");
        return;
    };
    let listed = include_str!("packetdrill-suite-passes.txt");
    let listed: Vec<&str> = listed.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let kernel = std::fs::read_to_string(dir.join("kernel-results.txt")).unwrap_or_default();
    let mut found = Vec::new();
    scripts(&dir, &mut found);
    let (mut passed, mut failed, mut unsupported) = (Vec::new(), 0, 0);
    for path in &found {
        let name = path.strip_prefix(&dir).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).expect("readable");
        let Ok(script) = sockscope_engine::packetdrill::read(&text) else { continue };
        let verdict = match sockscope_engine::packetdrill::run(&script).verdict {
            Verdict::Pass => {
                passed.push(name.clone());
                "PASS".to_string()
            }
            Verdict::Fail { line, expected, actual } => {
                failed += 1;
                format!("FAIL line {line}: expected {expected}, got {actual}")
            }
            Verdict::Unsupported { line, construct } => {
                unsupported += 1;
                format!("UNSUPPORTED line {line}: {construct}")
            }
        };
        let on_kernel =
            kernel.lines().find(|line| line.ends_with(&name)).and_then(|line| line.split_whitespace().next());
        println!("{name}: {verdict} (kernel: {})", on_kernel.unwrap_or("not run"));
    }
    println!("{} passed, {failed} failed, {unsupported} unsupported", passed.len());
    let lost: Vec<&&str> = listed.iter().filter(|name| !passed.iter().any(|passed| passed == **name)).collect();
    assert!(lost.is_empty(), "scripts that passed before and do not now: {lost:?}");
    for name in passed.iter().filter(|name| !listed.contains(&name.as_str())) {
        println!("passes now and is not listed in packetdrill-suite-passes.txt: {name}");
    }
}

/// sockscope's own scripts (`engine/tests/packetdrill/`, written for the lessons of the
/// built-in scenarios) all pass in the engine.
#[test]
fn the_projects_own_scripts_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("packetdrill");
    let mut found = Vec::new();
    scripts(&dir, &mut found);
    assert!(found.len() >= 3, "{found:?}");
    let mut failed = Vec::new();
    for path in &found {
        let text = std::fs::read_to_string(path).expect("readable");
        let script =
            sockscope_engine::packetdrill::read(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        let outcome = sockscope_engine::packetdrill::run(&script);
        if outcome.verdict != sockscope_engine::packetdrill::Verdict::Pass {
            failed.push(format!("{}: {:?}", path.display(), outcome.verdict));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// Every timed line of a passing script is quoted by a note in the trace, once, so that the
/// page can show each step's line; the last note gives the verdict.
#[test]
fn every_line_a_run_reaches_is_quoted_in_its_trace() {
    use sockscope_engine::trace::EventKind;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("packetdrill");
    let mut found = Vec::new();
    scripts(&dir, &mut found);
    for path in &found {
        let text = std::fs::read_to_string(path).expect("readable");
        let script = sockscope_engine::packetdrill::read(&text).expect("reads");
        let outcome = sockscope_engine::packetdrill::run(&script);
        let timed: Vec<u32> =
            script.events.iter().filter(|event| event.time.is_some()).map(|event| event.line).collect();
        // Each line once; in the trace's order, which puts a `>` line's note before its segment
        // even when that segment left during an earlier line's call.
        let mut quoted: Vec<u32> = outcome.lines.iter().map(|note| note.line).collect();
        quoted.sort_unstable();
        assert_eq!(quoted, timed, "{}", path.display());
        assert!(outcome.lines.windows(2).all(|pair| pair[0].event < pair[1].event), "{}", path.display());
        for note in &outcome.lines {
            let EventKind::Note { text, .. } = &outcome.trace.events[note.event].kind else {
                panic!("{}: event {} is not a note", path.display(), note.event)
            };
            assert!(text.starts_with(&format!("Script line {}:", note.line)), "{}: {text}", path.display());
        }
        let Some(EventKind::Note { text, .. }) = outcome.trace.events.last().map(|event| &event.kind) else {
            panic!("{}: the trace does not end with the verdict", path.display())
        };
        assert!(text.starts_with("The script passes"), "{}: {text}", path.display());
    }
}

/// A script the engine does not meet ends with a note at the failing line that says what the
/// line expected and what the engine did, and that note is the run's last line note.
#[test]
fn a_failing_line_is_told_where_it_fails() {
    use sockscope_engine::packetdrill::Verdict;
    use sockscope_engine::trace::EventKind;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/packetdrill/server-handshake-write-close.pkt");
    let text = std::fs::read_to_string(path).expect("readable");
    // The data segment is written as acknowledging a byte the peer never sent.
    let broken = text.replace("+0 > P. 1:1001(1000) ack 1\n", "+0 > P. 1:1001(1000) ack 7\n");
    assert_ne!(broken, text);
    let line = broken.lines().position(|line| line.contains("ack 7")).expect("present") as u32 + 1;
    let outcome = sockscope_engine::packetdrill::run(&sockscope_engine::packetdrill::read(&broken).expect("reads"));
    assert!(matches!(&outcome.verdict, Verdict::Fail { line: failed, .. } if *failed == line), "{:?}", outcome.verdict);
    let last = outcome.lines.last().expect("lines were quoted");
    assert_eq!(last.line, line);
    let EventKind::Note { text, .. } = &outcome.trace.events[last.event].kind else { panic!("not a note") };
    assert!(text.starts_with(&format!("The script fails at line {line}")), "{text}");
    assert!(text.contains("the acknowledgement differs"), "{text}");
    // The line's own note stands before the segment that did not meet it.
    let before = &outcome.lines[outcome.lines.len() - 2];
    assert_eq!(before.line, line);
    assert!(matches!(outcome.trace.events[before.event + 1].kind, EventKind::Segment(_)));
}

/// Found by the `packetdrill_run` fuzz target: a socket closed in SYN_RECV after a simultaneous
/// open goes to FIN_WAIT1 with its SYN+ACK unacknowledged, and its retransmission timer resends
/// the SYN+ACK (it used to resend from the SYN's sequence number as if it were data, and
/// panicked reading past SendQ).
#[test]
fn a_socket_closed_in_syn_recv_resends_its_syn_ack() {
    use sockscope_engine::trace::{EventKind, Fate};
    let text = "    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
   +0 < S 0:0(0) win 65535
   +1 close(3) = 0
   +5 < . 1:1(0) ack 1 win 65535
";
    let outcome = sockscope_engine::packetdrill::run(&sockscope_engine::packetdrill::read(text).expect("reads"));
    assert_eq!(outcome.verdict, sockscope_engine::packetdrill::Verdict::Pass);
    let resent_syn_acks = outcome
        .trace
        .events
        .iter()
        .filter(|event| event.t_us > 1_000_000)
        .filter(|event| {
            matches!(&event.kind, EventKind::Segment(segment)
                if segment.fate == Fate::Sent && segment.flags.syn && segment.flags.ack && segment.retransmission)
        })
        .count();
    assert!(resent_syn_acks >= 1, "no SYN+ACK went again after close()");
}
