//! packetdrill scripts in the page: the studio's build opens a `.pkt` wherever it opens a
//! scenario (the editor, a link's `#pkt=` fragment, a dropped or picked file), runs it in the
//! engine as `sockscope packetdrill` does, and shows the run like a scenario's. The trace's
//! notes quote each line the run reached, so the narration shows each step's line; the
//! script's pane (`script_view.rs`) follows the cursor through the script, and a line the
//! engine did not meet is marked on the sequence diagram.

use std::rc::Rc;

use sockscope_engine::packetdrill::{self, Verdict};

use crate::model::{self, Loaded, ScriptLines, StateMark, Unopened};

/// The studio's way of opening custom text: a scenario's JSON, or else a packetdrill script.
pub fn load_custom(text: &str) -> Result<Loaded, Unopened> {
    if model::is_scenario_text(text) {
        return model::load_custom(text);
    }
    load_script(text)
}

fn load_script(text: &str) -> Result<Loaded, Unopened> {
    let script = packetdrill::read(text)
        .map_err(|err| Unopened { what: "packetdrill script", why: format!("does not read: {err}") })?;
    let outcome = packetdrill::run(&script);
    let mut warnings = Vec::new();
    let (verdict, stopped_at) = match &outcome.verdict {
        Verdict::Pass => ("PASS: the engine meets every line of the script.".to_string(), None),
        Verdict::Fail { line, expected, actual } => {
            let said = format!("FAIL at line {line}: expected {expected}; the engine gave {actual}.");
            warnings.push(said.clone());
            (said, Some(*line))
        }
        Verdict::Unsupported { line, construct } => {
            let said = format!("UNSUPPORTED at line {line}: sockscope does not model {construct}.");
            warnings.push(said.clone());
            (said, Some(*line))
        }
    };
    warnings.extend(outcome.ignored.iter().map(|ignored| format!("The engine takes no notice of {ignored}.")));
    let title = title_of(text);
    let mut loaded = model::from_trace(outcome.trace, text.to_string(), title, warnings);
    loaded.description = "A packetdrill script: the engine plays its local end, and the script plays the peer, \
                          sending each `<` segment and requiring each `>` one, to the millisecond."
        .to_string();
    // Marked where the line's own note is: before the segment that did not meet it, at the
    // call that did not, or where the wait for a segment that never came ended.
    let failed_note = stopped_at.and_then(|line| outcome.lines.iter().find(|note| note.line == line));
    if let (Some(line), Some(note)) = (stopped_at, failed_note) {
        let lane = loaded.hosts.iter().position(|host| host == "local").unwrap_or(0);
        let at = loaded.diagram.marks.partition_point(|mark| mark.event <= note.event);
        loaded.diagram.marks.insert(
            at,
            StateMark {
                event: note.event,
                lane,
                socket: sockscope_engine::trace::SocketId::default(),
                text: format!("✗ line {line}"),
            },
        );
    }
    loaded.script = Some(Rc::new(ScriptLines {
        lines: text.lines().map(str::to_string).collect(),
        quoted: outcome.lines.iter().map(|note| (note.event, note.line)).collect(),
        verdict,
        stopped_at,
    }));
    Ok(loaded)
}

/// The script's first comment, which most scripts open with, as its title.
fn title_of(text: &str) -> String {
    const LONGEST: usize = 80;
    let comment = text
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("//").map(str::trim).filter(|comment| !comment.is_empty()));
    comment.map_or_else(
        || "packetdrill script".to_string(),
        |comment| format!("packetdrill: {}", sockscope_engine::format::clipped(comment, LONGEST)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSING: &str = include_str!("../../../engine/tests/packetdrill/server-handshake-write-close.pkt");

    #[test]
    fn a_script_opens_with_its_lines_quoted_and_its_verdict() {
        let loaded = load_custom(PASSING).unwrap_or_else(|err| panic!("{err:?}"));
        let script = loaded.script.as_ref().expect("a script");
        assert!(script.verdict.starts_with("PASS"), "{}", script.verdict);
        assert_eq!(script.stopped_at, None);
        assert!(loaded.title.starts_with("packetdrill: sockscope's own script"), "{}", loaded.title);
        assert_eq!(loaded.hosts, ["local", "remote"]);
        assert!(!loaded.diagram.marks.iter().any(|mark| mark.text.starts_with('✗')));
        // Each quoted line's note is narrated: the page's steps show it.
        let story = &loaded.numbered(sockscope_engine::format::Numbering::Relative).story;
        for (event, line) in &script.quoted {
            let told = story.iter().find(|(index, _)| index == event).map(|(_, text)| text.as_str());
            assert!(told.is_some_and(|text| text.starts_with(&format!("Script line {line}:"))), "{told:?}");
        }
    }

    #[test]
    fn a_failing_script_is_marked_where_it_fails() {
        let broken = PASSING.replace("+0 > F. 1001:1001(0) ack 2", "+0 > F. 1001:1001(0) ack 3");
        let line = broken.lines().position(|line| line.contains("ack 3")).expect("changed") as u32 + 1;
        let loaded = load_custom(&broken).expect("opens");
        let script = loaded.script.as_ref().expect("a script");
        assert_eq!(script.stopped_at, Some(line));
        assert!(script.verdict.starts_with(&format!("FAIL at line {line}")), "{}", script.verdict);
        assert!(loaded.warnings.iter().any(|warning| warning.contains("acknowledgement differs")));
        let mark = loaded.diagram.marks.iter().find(|mark| mark.text.starts_with('✗')).expect("marked");
        assert_eq!(mark.text, format!("✗ line {line}"));
        assert_eq!(loaded.hosts[mark.lane], "local");
        // Where it happened: right before the FIN that acknowledges the wrong byte.
        assert!(matches!(&loaded.trace.events[mark.event + 1].kind,
            sockscope_engine::EventKind::Segment(segment) if segment.flags.fin));
    }

    #[test]
    fn predict_mode_asks_its_own_questions_about_a_script() {
        let loaded = load_custom(PASSING).expect("opens");
        let asked = crate::studio::predict::questions(&loaded, &Default::default());
        assert!(asked.asked.len() >= 3, "{} questions", asked.asked.len());
        assert!(asked.unplaced.is_empty());
    }

    #[test]
    fn scenarios_still_open_and_unreadable_scripts_say_where() {
        let Err(scenario) = load_custom(r#"{"hosts": []}"#) else { panic!("a scenario with no hosts opened") };
        assert_eq!(scenario.what, "scenario");
        let Err(script) = load_custom("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = \n+0 > ?") else { panic!("opened") };
        assert_eq!(script.what, "packetdrill script");
        assert!(script.why.starts_with("does not read: line "), "{}", script.why);
    }
}
