//! Browser tests of packetdrill scripts in the page, as an engineer would bring one: carried
//! in a link's `#pkt=` fragment, dropped on the player's page, or picked with "Open a file…".
//! Screenshots go to `target/screenshots/`.

use serde_json::json;
use sockscope_frontend_e2e::{at, keys, pack_scenario, run, Browser, FileRoute, Result};

const SCRIPT: &str = include_str!("../../../engine/tests/packetdrill/server-handshake-write-close.pkt");

/// The number of the script line the narration on screen quotes, if it quotes one.
fn narrated_line(browser: &Browser) -> Result<Option<u32>> {
    let text = browser.text("[data-testid=narration]")?.unwrap_or_default();
    Ok(text.split("Script line ").nth(1).and_then(|rest| rest.split(':').next()).and_then(|n| n.parse().ok()))
}

#[test]
fn a_pkt_link_opens_the_script_in_the_studio_line_by_line() {
    run("pkt_link", 1366, 900, |browser, base| {
        // No studio=1: the fragment alone makes boot.js load the studio's build.
        browser.open(&format!("{}#pkt={}", at(base, ""), pack_scenario(SCRIPT)))?;
        browser.wait_for(
            "the script's pane",
            "return document.querySelector('[data-testid=script]') !== null",
            json!([]),
        )?;
        let title = browser.text("[data-testid=title]")?.unwrap_or_default();
        if !title.starts_with("packetdrill: sockscope's own script") {
            return Err(format!("the title is {title:?}"));
        }
        let verdict = browser.text("[data-testid=script-verdict]")?.unwrap_or_default();
        if !verdict.starts_with("PASS") {
            return Err(format!("the verdict is {verdict:?}"));
        }
        // Step until the narration quotes a line; the pane then marks that line as current.
        let mut seen = Vec::new();
        for _ in 0..40 {
            browser.press(keys::RIGHT, false)?;
            if let Some(line) = narrated_line(browser)? {
                let current = browser.wait_for(
                    "the pane to follow the step",
                    "const li = document.querySelector('[data-testid=script] li[aria-current=step]');
                     return li && Number(li.dataset.line) === arguments[0] && li.dataset.line",
                    json!(line),
                )?;
                seen.push(current);
            }
            if seen.len() >= 3 {
                break;
            }
        }
        if seen.len() < 3 {
            return Err(format!("only {} steps quoted a script line", seen.len()));
        }
        // A line's number moves the page to that line's step.
        let last_write = SCRIPT.lines().position(|line| line.contains("write(4")).ok_or("no write line")? + 1;
        browser.click(&format!("[data-testid=script] li[data-line='{last_write}'] button"))?;
        browser.wait_for(
            "the step of the write",
            "return (document.querySelector('[data-testid=narration]').textContent || '').includes(`Script line ${arguments[0]}:`)",
            json!(last_write),
        )?;
        let address = browser.run("return location.href", json!([]))?;
        if !address.as_str().is_some_and(|href| href.contains("#pkt=")) {
            return Err(format!("the address does not carry the script: {address}"));
        }
        browser.screenshot("pkt-link-line-by-line")?;
        Ok(())
    });
}

#[test]
fn a_pkt_dropped_on_the_player_opens_and_marks_where_it_fails() {
    run("pkt_drop", 1366, 900, |browser, base| {
        browser.open(&at(base, "?s=three-way-handshake"))?;
        // The FIN is written as acknowledging one byte too many.
        let broken = SCRIPT.replace("+0 > F. 1001:1001(0) ack 2", "+0 > F. 1001:1001(0) ack 3");
        let line = broken.lines().position(|line| line.contains("ack 3")).ok_or("not changed")? + 1;
        browser.give_file("fin-ack.pkt", json!(broken), FileRoute::Dropped)?;
        let verdict = browser.wait_across_navigation(
            "the dropped script's verdict",
            "const v = document.querySelector('[data-testid=script-verdict]'); return v && v.textContent",
        )?;
        let wanted = format!("FAIL at line {line}");
        if !verdict.as_str().is_some_and(|verdict| verdict.starts_with(&wanted)) {
            return Err(format!("the verdict is {verdict}, not {wanted}…"));
        }
        if browser.text("[data-testid=script] li.stopped")?.is_none_or(|text| !text.contains("ack 3")) {
            return Err("the pane does not mark the failing line".into());
        }
        browser.press(keys::END, false)?;
        let mark = format!("✗ line {line}");
        browser.wait_for(
            "the failure's mark on the diagram",
            "return [...document.querySelectorAll('[data-testid=state-mark]')].some(m => m.textContent === arguments[0])",
            json!(mark),
        )?;
        browser.run("document.querySelector('[data-testid=diagram]').scrollIntoView()", json!([]))?;
        browser.screenshot("pkt-dropped-fails-at-its-line")?;
        Ok(())
    });
}

#[test]
fn a_scenario_picked_with_open_a_file_stays_in_the_player() {
    run("open_file_json", 1366, 768, |browser, base| {
        browser.open(&at(base, "?s=three-way-handshake"))?;
        let scenario =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../engine/scenarios/four-way-close.json"))
                .map_err(|err| err.to_string())?;
        browser.give_file("close.json", json!(scenario), FileRoute::Picked)?;
        let title = browser.wait_across_navigation("the picked scenario",
            "return location.hash.startsWith('#scenario=') && document.querySelector('[data-testid=title]')?.textContent",
        )?;
        if !title.as_str().is_some_and(|title| title.starts_with("Closing a connection")) {
            return Err(format!("the page shows {title}"));
        }
        if browser.run("return document.querySelector('[data-testid=bench]') !== null", json!([]))? != json!(false) {
            return Err("a scenario file took the player to the studio".into());
        }
        // A file that is not text is refused with a message, and the page stays.
        browser.give_file("capture.pcap", json!([0xd4, 0xc3, 0xb2, 0xa1, 0, 0]), FileRoute::Dropped)?;
        let said = browser.wait_for(
            "the refusal",
            "const n = document.querySelector('[data-testid=open-file-note]'); return n && n.textContent",
            json!([]),
        )?;
        if !said.as_str().is_some_and(|said| said.contains("is not text")) {
            return Err(format!("the page said {said}"));
        }
        Ok(())
    });
}
