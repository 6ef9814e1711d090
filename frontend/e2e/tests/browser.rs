//! End-to-end tests of the built page in headless Chromium (see the crate's documentation).
//!
//! Each test opens the served page as a reader would: by address, by key and by click, and
//! checks what is on screen through `data-testid` attributes. Screenshots of three scenarios,
//! the embedded view and a phone-width view go to `target/screenshots/`.

use serde_json::json;
use sockscope_frontend_e2e::keys::{END, HOME, LEFT, RIGHT, SPACE, TAB};
use sockscope_frontend_e2e::{at, pack_scenario, run, step_until, Browser, Result};

/// Picks each of `values` in turn in the `<select>` with this `data-testid`, in one script, as
/// a reader's quick successive choices would (each fires `change`).
fn choose(browser: &Browser, testid: &str, values: &[&str]) -> Result<()> {
    browser.run(
        "const s = document.querySelector(`[data-testid=${arguments[0]}]`); \
         for (const value of arguments[1]) { s.value = value; s.dispatchEvent(new Event('change', { bubbles: true })); }",
        json!([testid, values]),
    )?;
    Ok(())
}

#[test]
fn three_way_handshake_fills_the_syn_queue_and_establishes() {
    run("three_way_handshake", 1280, 1000, |browser, base| {
        browser.open(&at(base, "?s=three-way-handshake"))?;
        let title = browser.text("h1[data-testid=title]")?.unwrap_or_default();
        assert!(title.to_lowercase().contains("handshake"), "title: {title}");
        step_until(
            browser,
            "the SYN+ACK on the wire",
            "const line = document.querySelector('[data-testid=tcpdump] .line.current');
             return line !== null && line.textContent.includes('Flags [S.]')",
        )?;
        let client = browser
            .attr("[data-testid=socket][data-state=SYN_SENT]", "data-socket")?
            .ok_or("when the SYN+ACK is sent, no socket is in SYN_SENT")?;
        let syn_queue =
            browser.attr("[data-testid=syn-queue]", "data-count")?.ok_or("no listener shows a SYN queue")?;
        assert_eq!(syn_queue, "1", "the listener's SYN queue should hold the half-open connection");
        let segments = browser.run(
            "return [...document.querySelectorAll('[data-testid=segment]')].map(s => s.getAttribute('data-label'))",
            json!([]),
        )?;
        assert_eq!(
            segments,
            json!(["S seq 2433363436", "S. seq 3203108257 ack 2433363437"]),
            "the diagram's arrows so far, numbered as the tcpdump pane prints them"
        );
        browser.screenshot("three-way-handshake")?;
        step_until(
            browser,
            "the client socket ESTABLISHED",
            &format!("const s = document.querySelector('[data-testid=socket][data-socket=\"{client}\"]'); return s !== null && s.getAttribute('data-state') === 'ESTABLISHED'"),
        )?;
        let current = browser.attr("[data-testid=current-state]", "data-state")?;
        assert_eq!(current.as_deref(), Some("ESTABLISHED"), "the state diagram highlights the new state");
        let transition = browser.text("[data-testid=last-transition]")?.unwrap_or_default();
        assert!(transition.contains("SYN_SENT → ESTABLISHED"), "last transition: {transition}");
        Ok(())
    });
}

#[test]
fn four_way_close_counts_down_time_wait() {
    run("four_way_close", 1280, 1000, |browser, base| {
        browser.open(&at(base, "?s=four-way-close"))?;
        let len = browser.trace_len()?;
        // Shift+→ jumps from state change to state change until one socket is in TIME_WAIT.
        for _ in 0..len {
            if browser.run(
                "return document.querySelector('[data-testid=socket][data-state=TIME_WAIT]') !== null",
                json!([]),
            )? == json!(true)
            {
                break;
            }
            let before = browser.cursor()?;
            browser.press(RIGHT, true)?;
            browser.wait_for(
                "Shift+→ to move",
                "return document.querySelector('[data-testid=position]').getAttribute('data-cursor') != arguments[0]",
                json!(before.to_string()),
            )?;
        }
        step_until(
            browser,
            "the 2MSL timer",
            "return document.querySelector('[data-testid=timer][data-kind=time_wait]') !== null",
        )?;
        let countdown = browser.text("[data-testid=timer][data-kind=time_wait] .countdown")?.unwrap_or_default();
        let seconds: f64 = countdown
            .trim_end_matches(" s")
            .parse()
            .map_err(|_| format!("countdown `{countdown}` is not `N.NNN s`"))?;
        assert!((50.0..=60.0).contains(&seconds), "TIME_WAIT should start near 2MSL = 60 s, shows {countdown}");
        // Playing runs the countdown in simulated time through the compressed idle stretch.
        browser.press(SPACE, false)?;
        browser.wait_for(
            "the countdown to run through the compressed idle stretch",
            "const t = document.querySelector('[data-testid=timer][data-kind=time_wait]');
             return t !== null && Number(t.getAttribute('data-left-us')) < 45000000
                 && document.querySelector('[data-testid=idle-marker]') !== null",
            json!([]),
        )?;
        browser.press(SPACE, false)?;
        browser.wait_for(
            "Space to pause",
            "return document.querySelector('[data-testid=play]').getAttribute('aria-label') === 'Play'",
            json!([]),
        )?;
        let idle = browser.text("[data-testid=idle-marker]")?.unwrap_or_default();
        assert!(idle.contains("idle, shown compressed"), "idle marker: {idle}");
        browser.screenshot("four-way-close")?;
        Ok(())
    });
}

#[test]
fn bad_addresses_explain_themselves_and_fall_back_to_the_picker() {
    run("bad_addresses", 1280, 900, |browser, base| {
        let cases = [
            ("?s=nope", "no built-in scenario called “nope”"),
            ("?s=tlpi-tcpdump&t=abc", "is not an event number"),
            ("?s=tlpi-tcpdump&t=-5", "is not an event number"),
            ("#scenario=@@@@", "cannot be opened"),
            ("#scenario=AAAAAAAA", "cannot be opened"),
            ("?s=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "no built-in scenario called “<script>alert(1)</script>”"),
        ];
        for (query, expected) in cases {
            browser.open(&at(base, query))?;
            let message = browser.text("[data-testid=message]")?.ok_or_else(|| format!("{query}: no message shown"))?;
            assert!(message.contains(expected), "{query}: message is `{message}`");
            assert!(browser.text("[data-testid=picker]")?.is_some(), "{query}: the picker must be there");
            assert!(browser.trace_len()? > 0, "{query}: a scenario must still be shown");
            assert_eq!(
                browser.run("return document.querySelector('[data-testid=message] script') === null", json!([]))?,
                json!(true)
            );
        }
        // From the picker a reader opens another scenario: its file is fetched, it runs, and
        // the address names it.
        choose(browser, "picker", &["four-way-close"])?;
        browser.wait_for(
            "the picked scenario to open",
            "return document.querySelector('h1[data-testid=title]').textContent.includes('Closing a connection: FIN, ACK, FIN, ACK') \
             && location.search.includes('s=four-way-close')",
            json!([]),
        )?;
        assert_eq!(browser.cursor()?, 0, "a picked scenario opens at its start");
        // Two picks in a row: the second is what opens, whichever file arrives first.
        choose(browser, "picker", &["nagle", "half-close"])?;
        browser.wait_for(
            "the second pick to open",
            "return location.search.includes('s=half-close') && !document.querySelector('[role=status].status')",
            json!([]),
        )?;
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(browser.run("return location.search", json!([]))?.as_str().unwrap_or("").contains("s=half-close"));
        Ok(())
    });
}

#[test]
fn a_link_with_t_opens_that_moment_and_the_address_follows() {
    run("t_links", 1280, 900, |browser, base| {
        browser.open(&at(base, "?s=tlpi-tcpdump&t=40"))?;
        // The page rests where the step holding the 40th event ends.
        let rested = browser.cursor()?;
        assert!(rested >= 40, "t=40 opened at {rested}");
        let narration = browser.text("[data-testid=narration]")?.unwrap_or_default();
        assert!(!narration.is_empty());
        browser.press(RIGHT, false)?;
        let next = browser.wait_for(
            "→ to move",
            "const c = document.querySelector('[data-testid=position]').getAttribute('data-cursor');
             return Number(c) > arguments[0] && c",
            json!(rested),
        )?;
        browser.wait_for(
            "the address to follow",
            "return new URLSearchParams(location.search).get('t') === arguments[0]",
            json!([next]),
        )?;
        assert!(browser.run("return location.search", json!([]))?.as_str().unwrap_or("").contains("s=tlpi-tcpdump"));
        browser.open(&at(base, "?s=tlpi-tcpdump&t=999999999"))?;
        let len = browser.trace_len()?;
        assert_eq!(browser.cursor()?, len, "a t past the end lands on the last event");
        assert!(browser.text("[data-testid=message]")?.is_none(), "a t past the end is not an error");
        Ok(())
    });
}

#[test]
fn keyboard_steps_plays_and_shows_focus() {
    run("keyboard", 1280, 900, |browser, base| {
        browser.open(&at(base, "?s=tlpi-tcpdump"))?;
        let len = browser.trace_len()?;
        browser.press(RIGHT, false)?;
        expect_cursor(browser, "→", 1)?;
        browser.press(RIGHT, false)?;
        expect_cursor(browser, "→ again", 2)?;
        browser.press(LEFT, false)?;
        expect_cursor(browser, "←", 1)?;
        browser.press(END, false)?;
        expect_cursor(browser, "End", len)?;
        browser.press(HOME, false)?;
        expect_cursor(browser, "Home", 0)?;
        browser.press(RIGHT, true)?;
        browser.wait_for(
            "Shift+→ to land on a state change",
            "return document.querySelector('[data-testid=narration]').textContent.includes(' goes from ')",
            json!([]),
        )?;
        browser.press(SPACE, false)?;
        browser.wait_for(
            "Space to play",
            "return document.querySelector('[data-testid=play]').getAttribute('aria-label') === 'Pause'",
            json!([]),
        )?;
        browser.press(SPACE, false)?;
        browser.wait_for(
            "Space to pause",
            "return document.querySelector('[data-testid=play]').getAttribute('aria-label') === 'Play'",
            json!([]),
        )?;
        // The speed control and the +/− keys set the same speed.
        choose(browser, "speed", &["0.25"])?;
        browser.press("+", false)?;
        browser.wait_for(
            "the picked speed, then + to double it",
            "return document.querySelector('[data-testid=speed]').value === '0.5'",
            json!([]),
        )?;
        // Tab reaches a control, which shows a focus ring.
        let mut ring = json!(null);
        for _ in 0..12 {
            browser.press(TAB, false)?;
            ring = browser.run(
                "const e = document.activeElement; if (!e || e === document.body) return null;
                 const s = getComputedStyle(e); return [e.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]",
                json!([]),
            )?;
            if ring[0] == "BUTTON" || ring[0] == "SELECT" {
                break;
            }
        }
        assert!(
            ring[1] != "none" && ring[2].as_f64().unwrap_or(0.0) >= 2.0,
            "focused control without a visible ring: {ring}"
        );
        Ok(())
    });
}

#[test]
fn embed_code_gives_a_compact_view_that_fits_800_by_500() {
    run("embed", 800, 500, |browser, base| {
        browser.set_window(1280, 900)?;
        browser.open(&at(base, "?s=tlpi-tcpdump&t=60"))?;
        let moment = browser.cursor()?;
        browser.click("[data-testid=copy-embed]")?;
        let snippet = browser.wait_for(
            "the embed snippet",
            "const t = document.querySelector('[data-testid=embed-snippet]'); return t && t.value",
            json!([]),
        )?;
        let snippet = snippet.as_str().unwrap_or_default().to_string();
        assert!(
            snippet.starts_with("<iframe src=\"")
                && snippet.contains("embed=1")
                && snippet.contains(&format!("t={moment}")),
            "{snippet}"
        );
        let src = snippet["<iframe src=\"".len()..].split('"').next().unwrap_or_default().replace("&amp;", "&");
        // Open the embedded view as an iframe of 800x500 would show it.
        browser.set_window(800, 500)?;
        let inner = browser.run("return [innerWidth, innerHeight]", json!([]))?;
        let chrome_height = 500 - inner[1].as_u64().unwrap_or(500);
        browser.set_window(800, 500 + chrome_height as u32)?;
        browser.open(&src)?;
        assert_eq!(browser.cursor()?, moment);
        assert_eq!(browser.run("return document.querySelectorAll('[data-testid=host]').length", json!([]))?, json!(0));
        for part in ["diagram", "narration", "play", "scrubber"] {
            assert!(browser.text(&format!("[data-testid={part}]"))?.is_some(), "the embedded view lacks {part}");
        }
        let overflow = browser.run("return document.documentElement.scrollHeight - innerHeight", json!([]))?;
        assert!(overflow.as_i64().unwrap_or(999) <= 0, "the embedded view overflows 500 px by {overflow}");
        browser.screenshot("embed-tlpi-tcpdump")?;
        Ok(())
    });
}

#[test]
fn scenario_text_is_text_and_nothing_is_fetched_from_elsewhere() {
    run("safety", 1280, 900, |browser, base| {
        let source = sockscope_engine::builtin::source("tlpi-tcpdump").expect("tlpi-tcpdump is built in");
        let mut scenario: serde_json::Value = serde_json::from_str(source).map_err(|e| e.to_string())?;
        scenario["title"] = json!("<script>window.pwned = 1</script><b>bold</b> & co");
        let packed = pack_scenario(&scenario.to_string());
        browser.open(&at(base, &format!("?t=5#scenario={packed}")))?;
        let title = browser.text("h1[data-testid=title]")?.unwrap_or_default();
        assert_eq!(title, "<script>window.pwned = 1</script><b>bold</b> & co");
        assert_eq!(
            browser.run("return window.pwned === undefined && document.querySelector('h1 b') === null", json!([]))?,
            json!(true)
        );
        // It rests where the step holding the fifth event ends, as the page's model says.
        let loaded = sockscope_frontend::model::load_text(&scenario.to_string()).map_err(|err| err.to_string())?;
        let rest = loaded.timing.steps.at_or_after(5);
        assert_eq!(browser.cursor()?, rest, "a custom scenario opens at its t as well");
        let csp = browser.attr("meta[http-equiv=Content-Security-Policy]", "content")?.unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "CSP: {csp}");
        let foreign = browser.run(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))",
            json!([]),
        )?;
        assert_eq!(foreign, json!([]), "the page fetched something from another origin");

        // The editor runs an edited scenario and puts it in the address (compressed by the
        // browser); that address opens the same scenario in a fresh page.
        scenario["title"] = json!("Edited in the page");
        browser.run(
            "document.querySelector('[data-testid=editor]').value = arguments[0]",
            json!([serde_json::to_string_pretty(&scenario).map_err(|e| e.to_string())?]),
        )?;
        browser.click("[data-testid=run-custom]")?;
        let address = browser.wait_for(
            "the edited scenario to run and its link to be written",
            "return document.querySelector('h1[data-testid=title]').textContent === 'Edited in the page' \
             && location.hash.startsWith('#scenario=') && location.hash !== '#scenario=' + arguments[0] \
             && location.href",
            json!([packed]),
        )?;
        let address = address.as_str().unwrap_or_default().to_string();
        browser.open(&at(base, "?s=four-way-close"))?;
        browser.open(&address)?;
        assert_eq!(browser.text("h1[data-testid=title]")?.unwrap_or_default(), "Edited in the page");
        Ok(())
    });
}

#[test]
fn screenshots_of_tlpi_at_full_and_phone_width() {
    run("tlpi_screens", 1280, 1100, |browser, base| {
        browser.open(&at(base, "?s=tlpi-tcpdump&t=999999"))?;
        let moment = browser.trace_len()? * 55 / 100;
        browser.open(&at(base, &format!("?s=tlpi-tcpdump&t={moment}")))?;
        let labels = browser.run("return document.querySelectorAll('[data-testid=segment]').length", json!([]))?;
        assert!(labels.as_u64().unwrap_or(0) >= 5, "half-way through, several segments were drawn: {labels}");
        browser.screenshot("tlpi-tcpdump")?;
        browser.run("document.querySelector('[data-testid=state-diagram]').scrollIntoView()", json!([]))?;
        let highlighted = browser.attr("[data-testid=current-state]", "data-state")?;
        assert!(highlighted.is_some(), "the state diagram highlights the followed socket's state");
        // The label of the transition taken, drawn in bold, lies inside the figure.
        let label = browser.run(
            "const t = document.querySelector('[data-testid=taken-edge] text');
             if (!t) return null;
             const b = t.getBBox(), v = t.ownerSVGElement.viewBox.baseVal;
             return [b.x, b.x + b.width, v.x, v.x + v.width, t.textContent]",
            json!([]),
        )?;
        let edge = |i: usize| label[i].as_f64().unwrap_or(f64::NAN);
        assert!(
            edge(0) >= edge(2) && edge(1) <= edge(3),
            "the transition label is cut off by the figure's edge: {label}"
        );
        browser.screenshot("tlpi-tcpdump-state-diagram")?;
        browser.set_window(375, 800)?;
        browser.open(&at(base, &format!("?s=tlpi-tcpdump&t={moment}")))?;
        let overflow = browser.run("return document.documentElement.scrollWidth - innerWidth", json!([]))?;
        assert!(overflow.as_i64().unwrap_or(999) <= 0, "the page scrolls sideways at 375 px by {overflow}");
        browser.screenshot("tlpi-tcpdump-375px")?;
        Ok(())
    });
}

/// Waits until the page shows `expected` events applied.
fn expect_cursor(browser: &Browser, what: &str, expected: usize) -> Result<()> {
    browser.wait_for(
        what,
        "return document.querySelector('[data-testid=position]').getAttribute('data-cursor') == arguments[0]",
        json!(expected.to_string()),
    )?;
    Ok(())
}

/// Chooses `value` in the list with this `data-testid` as a reader does: the list has the
/// focus, then its value changes (`choose` alone leaves the focus where it was).
fn choose_in_focused(browser: &Browser, testid: &str, value: &str) -> Result<()> {
    browser.run("document.querySelector(`[data-testid=${arguments[0]}]`).focus()", json!([testid]))?;
    choose(browser, testid, &[value])
}

#[test]
fn a_choice_in_a_list_hands_the_keys_to_the_player() {
    run("list_keys", 1280, 900, |browser, base| {
        browser.open(&at(base, "?s=tlpi-tcpdump"))?;
        choose_in_focused(browser, "picker", "three-way-handshake")?;
        browser.wait_for(
            "the picked scenario to open",
            "return location.search.includes('s=three-way-handshake') && !document.querySelector('[role=status].status')",
            json!([]),
        )?;
        // → steps (the page's hints say so) instead of opening the next scenario, and Space
        // plays instead of opening the list.
        browser.press(RIGHT, false)?;
        let picked = browser.run("return document.querySelector('[data-testid=picker]').value", json!([]))?;
        assert_eq!(picked, json!("three-way-handshake"), "→ after a choice picked another scenario");
        expect_cursor(browser, "→ after a choice in the picker", 1)?;
        let focused = browser.run("return document.activeElement.getAttribute('data-testid')", json!([]))?;
        assert_eq!(focused, json!("play"), "after a choice the Play button has the keyboard");
        browser.press(SPACE, false)?;
        browser.wait_for(
            "Space after a choice to play",
            "return document.querySelector('[data-testid=play]').getAttribute('aria-label') === 'Pause'",
            json!([]),
        )?;
        browser.press(SPACE, false)?;
        browser.wait_for(
            "Space to pause again",
            "return document.querySelector('[data-testid=play]').getAttribute('aria-label') === 'Play'",
            json!([]),
        )?;
        // The speed list is a list too.
        browser.press(HOME, false)?;
        expect_cursor(browser, "Home", 0)?;
        choose_in_focused(browser, "speed", "2")?;
        let focused = browser.run("return document.activeElement.getAttribute('data-testid')", json!([]))?;
        assert_eq!(focused, json!("play"), "after choosing a speed the Play button has the keyboard");
        browser.press(RIGHT, false)?;
        expect_cursor(browser, "→ after a choice of speed", 1)?;
        assert_eq!(browser.run("return document.querySelector('[data-testid=speed]').value", json!([]))?, json!("2"));
        assert!(browser
            .run("return location.search", json!([]))?
            .as_str()
            .unwrap_or("")
            .contains("three-way-handshake"));
        Ok(())
    });
}

#[test]
fn the_editor_answers_beside_its_button_and_a_broken_link_stays_in_the_address() {
    run("messages", 1366, 768, |browser, base| {
        browser.open(&at(base, "?s=three-way-handshake"))?;
        browser.run("document.querySelector('details.editor').open = true", json!([]))?;
        let source = sockscope_engine::builtin::source("three-way-handshake").expect("built in");
        let run_text = |text: &str| -> Result<()> {
            browser.run("document.querySelector('[data-testid=editor]').value = arguments[0]", json!([text]))?;
            browser.run(
                "document.querySelector('[data-testid=run-custom]').scrollIntoView({block: 'center'})",
                json!([]),
            )?;
            browser.click("[data-testid=run-custom]")
        };
        // The note is beside the button, in view, where the reader pressed it.
        let beside_the_button = |testid: &str| -> Result<String> {
            let text = browser.wait_for(
                testid,
                "const e = document.querySelector(`[data-testid=${arguments[0]}]`); return e && e.textContent",
                json!([testid]),
            )?;
            let button = browser.rect("[data-testid=run-custom]")?.ok_or("no Run button")?;
            let note = browser.rect(&format!("[data-testid={testid}]"))?.ok_or("the note is not shown")?;
            let height = browser.run("return innerHeight", json!([]))?.as_f64().unwrap_or(0.0);
            assert!(
                note[0] >= button[0] - 60.0 && note[0] <= button[1] + 60.0 && note[1] <= height,
                "{testid} is not beside the button: note {note:?}, button {button:?}"
            );
            Ok(text.as_str().unwrap_or_default().to_string())
        };
        // A run whose expectation fails: the editor says so, naming the step as a parse error
        // would, counted from 0.
        run_text(&source.replacen("\"expect\": 0", "\"expect\": 7", 1))?;
        let warning = beside_the_button("editor-warning")?;
        assert!(
            warning.starts_with("Ran “")
                && warning.contains(
                    "Expectation failed: server's bind() at processes[0].steps[1] was expected to give 7, it gave 0."
                ),
            "{warning}"
        );
        // A run that works says so.
        run_text(&source.replacen("The three-way handshake", "Edited handshake", 1))?;
        let ran = beside_the_button("editor-ran")?;
        assert!(ran.starts_with("Ran “Edited handshake”: ") && ran.contains("The address now carries it"), "{ran}");
        // Text that is not a scenario: the reason names no `?`.
        run_text("{")?;
        let error = beside_the_button("editor-error")?;
        assert_eq!(error, "This scenario does not parse: EOF while parsing an object at line 1 column 1.");
        let live = browser.attr("[data-testid=editor-note]", "aria-live")?;
        assert_eq!(live.as_deref(), Some("polite"), "the editor's note is announced");

        // A damaged link: its notice is made of sentences, points up to the picker, and the
        // link stays in the address while the notice is shown, stepping or not.
        browser.open(&at(base, "?t=3#scenario=AAAAAAAA"))?;
        let notice = browser.text("[data-testid=message] p")?.unwrap_or_default();
        assert_eq!(
            notice,
            "The scenario in this link cannot be opened: it is damaged (its compressed data does not inflate). \
             Showing “three-way-handshake” instead; pick another from the Scenario list above."
        );
        let picker = browser.rect("[data-testid=picker]")?.ok_or("no picker")?;
        let message = browser.rect("[data-testid=message]")?.ok_or("no message")?;
        assert!(picker[1] <= message[0], "the picker is above the notice: {picker:?} {message:?}");
        browser.press(RIGHT, false)?;
        expect_cursor(browser, "→", 1)?;
        // The page writes its address 200 ms after the cursor rests; give it three times that.
        std::thread::sleep(std::time::Duration::from_millis(600));
        let address = browser.run("return location.search + location.hash", json!([]))?;
        assert_eq!(address, json!("?t=3#scenario=AAAAAAAA"), "the damaged link is kept in the address");
        browser.click("[data-testid=message] button")?;
        browser.wait_for(
            "the address to follow the page once the notice is dismissed",
            "return location.search === '?s=three-way-handshake&t=1' && location.hash === ''",
            json!([]),
        )?;
        Ok(())
    });
}

/// Sizes the window so that the page's viewport is `width` x `height`, whatever the
/// browser's own frame takes.
fn set_viewport(browser: &Browser, width: u32, height: u32) -> Result<()> {
    browser.set_window(width, height)?;
    let inner = browser.run("return [innerWidth, innerHeight]", json!([]))?;
    let frame = |i: usize, want: u32| want.saturating_sub(inner[i].as_u64().unwrap_or(u64::from(want)) as u32);
    browser.set_window(width + frame(0, width), height + frame(1, height))?;
    let inner = browser.run("return [innerWidth, innerHeight]", json!([]))?;
    if inner != json!([width, height]) {
        return Err(format!("the viewport is {inner}, not [{width}, {height}]"));
    }
    Ok(())
}

/// The four scenarios whose first screen the screenshots show: two hosts, five hosts, a
/// listener with its queues, and a window that closes.
const FIRST_SCREEN_SHOTS: [&str; 4] = ["three-way-handshake", "backlog-overflow", "listen-queues", "flow-control"];

/// The rectangles of the sequence diagram, the playback controls and the sticky bar.
fn stage_rects(browser: &Browser) -> Result<([f64; 4], [f64; 4], [f64; 4])> {
    let diagram = browser.rect("[data-testid=diagram]")?.ok_or("no diagram")?;
    let controls = browser.rect("[role=group][aria-label=Playback]")?.ok_or("no controls")?;
    let sticky = browser.rect(".sticky")?.ok_or("no sticky bar")?;
    Ok((diagram, controls, sticky))
}

/// Scrolls until the diagram's bottom edge is at the viewport's, as a reader who wants to see
/// the whole diagram does, and checks that the sticky bar then leaves its lanes' names (the
/// band at its top) uncovered.
fn whole_diagram_clears_the_sticky_bar(browser: &Browser, name: &str) -> Result<()> {
    let (diagram, _, _) = stage_rects(browser)?;
    browser.run("window.scrollBy(0, arguments[0] - innerHeight)", json!([diagram[1]]))?;
    let (diagram, _, sticky) = stage_rects(browser)?;
    assert!(
        diagram[0] >= sticky[1] - 1.0,
        "{name}: scrolled to the diagram's end, the sticky bar (bottom {}) covers its top ({})",
        sticky[1],
        diagram[0]
    );
    browser.run("window.scrollTo(0, 0)", json!([]))?;
    Ok(())
}

#[test]
fn every_builtin_opens_with_its_diagram_and_controls_on_the_first_screen() {
    run("first_screen", 1366, 768, |browser, base| {
        set_viewport(browser, 1366, 768)?;
        let mut wrong = Vec::new();
        for name in sockscope_engine::builtin::names() {
            browser.open(&at(base, &format!("?s={name}")))?;
            let (diagram, controls, _) = stage_rects(browser)?;
            // The lanes' names and the first segments (the first 120 px of the diagram) and
            // the whole row of controls are on the first screen.
            if diagram[0] + 120.0 > 768.0 || controls[1] > 768.0 {
                wrong.push(format!("{name}: diagram from {} px, controls to {} px", diagram[0], controls[1]));
            }
            whole_diagram_clears_the_sticky_bar(browser, name)?;
            if FIRST_SCREEN_SHOTS.contains(&name) {
                let moment = browser.trace_len()? * 2 / 5;
                browser.open(&at(base, &format!("?s={name}&t={moment}")))?;
                let (diagram, controls, _) = stage_rects(browser)?;
                assert!(diagram[0] + 120.0 <= 768.0 && controls[1] <= 768.0, "{name} at t={moment}");
                browser.screenshot(&format!("first-screen-{name}-1366x768"))?;
            }
        }
        assert!(wrong.is_empty(), "at 1366x768 these open below the first screen:\n{}", wrong.join("\n"));

        // The rest of the description is a key press away, and the button says which way.
        browser.open(&at(base, "?s=three-way-handshake"))?;
        let toggle = "[data-testid=description-toggle]";
        let folded = browser.rect("[data-testid=description]")?.ok_or("no description")?;
        assert_eq!(browser.attr(toggle, "aria-expanded")?.as_deref(), Some("false"));
        browser.run("document.querySelector(arguments[0]).focus()", json!([toggle]))?;
        browser.press(SPACE, false)?;
        browser.wait_for(
            "Space on the button to show the whole description",
            "return document.querySelector(arguments[0]).getAttribute('aria-expanded') === 'true'",
            json!([toggle]),
        )?;
        let whole = browser.rect("[data-testid=description]")?.ok_or("no description")?;
        assert!(
            whole[1] - whole[0] > folded[1] - folded[0] + 20.0,
            "the description did not grow: {folded:?} {whole:?}"
        );
        assert_eq!(browser.text(toggle)?.as_deref(), Some("Less"));
        assert_eq!(browser.cursor()?, 0, "Space on the button did not also play");
        Ok(())
    });
}

#[test]
fn at_phone_width_the_sticky_controls_stay_small() {
    run("phone_screen", 375, 812, |browser, base| {
        set_viewport(browser, 375, 812)?;
        for name in FIRST_SCREEN_SHOTS {
            let end = {
                browser.open(&at(base, &format!("?s={name}&t=999999")))?;
                browser.trace_len()?
            };
            // At its start and at every tenth of the way through: narration sentences differ
            // in length, and the bar must stay small with the longest.
            let mut tallest = 0.0f64;
            for tenth in 0..=10 {
                let moment = end * tenth / 10;
                browser.open(&at(base, &format!("?s={name}&t={moment}")))?;
                let (_, _, sticky) = stage_rects(browser)?;
                let height = sticky[1] - sticky[0];
                assert!(height <= 200.0, "{name} at t={moment}: the sticky bar takes {height} of 812 px");
                tallest = tallest.max(height);
                let hints = browser.rect(".controls .keys")?;
                assert!(hints.is_none(), "{name}: the keyboard hints are shown on a phone");
                let overflow = browser.run("return document.documentElement.scrollWidth - innerWidth", json!([]))?;
                assert!(overflow.as_i64().unwrap_or(999) <= 0, "{name}: the page scrolls sideways by {overflow}");
                if tenth == 4 {
                    whole_diagram_clears_the_sticky_bar(browser, name)?;
                    browser.screenshot(&format!("first-screen-{name}-375px"))?;
                }
            }
            println!("{name}: the sticky bar takes at most {tallest} of 812 px");
        }
        Ok(())
    });
}

/// The pictures at the top of README.md, made from the page as a reader first sees it: the
/// handshake just done at 1366x768, and the same moment on a phone. They are optimised before
/// they are committed (DEVELOPERS.md says how).
#[test]
fn readme_screenshots() {
    run("readme_shots", 1366, 768, |browser, base| {
        set_viewport(browser, 1366, 768)?;
        // The moment the handshake's last ACK has arrived: three arrows, both sockets
        // ESTABLISHED, the new connection waiting in the accept queue.
        browser.open(&at(base, "?s=three-way-handshake&t=999999"))?;
        let moment = browser.trace_len()? * 52 / 100;
        browser.open(&at(base, &format!("?s=three-way-handshake&t={moment}")))?;
        browser.screenshot("readme-page")?;
        set_viewport(browser, 375, 812)?;
        browser.open(&at(base, &format!("?s=three-way-handshake&t={moment}")))?;
        browser.screenshot("readme-phone")?;
        Ok(())
    });
}

/// The comparison with the kernel is fetched when the reader opens it, not with the page, and
/// shows sockscope's and the kernel's sides row by row.
#[test]
fn the_comparison_with_the_kernel_loads_when_opened() {
    run("validation_rows", 1366, 768, |browser, base| {
        browser.open(&at(base, "?s=four-way-close"))?;
        let fetched = "return performance.getEntriesByType('resource').some(e => e.name.includes('validation-report'))";
        if browser.run(fetched, json!([]))? != json!(false) {
            return Err("the page fetched the validation report before anyone opened it".into());
        }
        if browser
            .text("[data-testid=validation] summary")?
            .is_none_or(|summary| !summary.starts_with("✓ matches Linux"))
        {
            return Err("no verdict on the first screen".into());
        }
        browser.click("[data-testid=validation] summary")?;
        let rows = browser.wait_for(
            "the comparison's rows",
            "const rows = document.querySelectorAll('[data-testid=validation] table.diff tbody tr'); return rows.length > 3 && rows.length",
            json!([]),
        )?;
        let state_row = browser.run(
            "return [...document.querySelectorAll('[data-testid=validation] tbody tr')].some(r => r.textContent.includes('TIME_WAIT'))",
            json!([]),
        )?;
        if state_row != json!(true) {
            return Err(format!("{rows} rows, none about TIME_WAIT"));
        }
        Ok(())
    });
}
