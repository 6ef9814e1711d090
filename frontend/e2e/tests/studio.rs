//! Browser tests of the studio, doing what a student would: build a handshake and a close by
//! hand in the playground and reopen it from its link; drop the SYN+ACK of the handshake and
//! see the SYN sent again after its RTO in the fork, marked against the original.
//! Screenshots go to `target/screenshots/`.

use serde_json::{json, Value};
use sockscope_frontend_e2e::{at, run, step_until, Browser, Result};

/// Opens `url` and waits for the studio's panel `testid` (`playground`, `what-if`).
fn open_studio(browser: &Browser, url: &str, testid: &str) -> Result<()> {
    browser.open(url)?;
    browser
        .wait_for(testid, "return document.querySelector(`[data-testid=${arguments[0]}]`) !== null", json!([testid]))
        .map(drop)
}

/// Chooses `value` in the select `testid`, as a reader would.
fn choose(browser: &Browser, testid: &str, value: &str) -> Result<()> {
    let done = browser.run(
        "const s = document.querySelector(`[data-testid=${arguments[0]}]`); if (!s) return false;
         s.value = arguments[1]; s.dispatchEvent(new Event('change', {bubbles: true})); return s.value === arguments[1]",
        json!([testid, value]),
    )?;
    if done == Value::Bool(true) {
        Ok(())
    } else {
        Err(format!("cannot choose `{value}` in {testid}"))
    }
}

/// Types `value` into the input `testid`.
fn type_into(browser: &Browser, testid: &str, value: &str) -> Result<()> {
    browser.run(
        "const i = document.querySelector(`[data-testid=${arguments[0]}]`);
         i.value = arguments[1]; i.dispatchEvent(new InputEvent('input', {bubbles: true}));",
        json!([testid, value]),
    )?;
    Ok(())
}

/// The status line's text once it has changed from `before`.
fn said_after(browser: &Browser, before: &str) -> Result<String> {
    let said = browser.wait_for(
        "the studio to say what happened",
        "const s = document.querySelector('[data-testid=bench-status]'); return s && s.textContent !== arguments[0] && s.textContent",
        json!(before),
    )?;
    Ok(said.as_str().unwrap_or_default().to_string())
}

fn status(browser: &Browser) -> Result<String> {
    Ok(browser.text("[data-testid=bench-status]")?.unwrap_or_default())
}

/// Makes `call` on `process` with the form's other fields as they are; returns what the
/// status line then says.
fn call(browser: &Browser, process: &str, call: &str, fields: &[(&str, &str)]) -> Result<String> {
    choose(browser, "call-process", process)?;
    choose(browser, "call-name", call)?;
    for (testid, value) in fields {
        if testid.starts_with("call-host") || testid.starts_with("call-how") || testid.starts_with("call-fd") {
            choose(browser, testid, value)?;
        } else {
            type_into(browser, testid, value)?;
        }
    }
    let before = status(browser)?;
    browser.click("[data-testid=call-submit]")?;
    said_after(browser, &before)
}

fn press(browser: &Browser, testid: &str) -> Result<String> {
    let before = status(browser)?;
    browser.click(&format!("[data-testid={testid}]"))?;
    said_after(browser, &before)
}

fn expect(said: &str, wanted: &str) -> Result<()> {
    if said.contains(wanted) {
        Ok(())
    } else {
        Err(format!("expected the studio to say “{wanted}”, it said “{said}”"))
    }
}

#[test]
fn studio_a_handshake_and_a_close_built_by_hand_reopen_from_their_link() {
    run("studio_playground", 1366, 900, |browser, base| {
        open_studio(browser, &at(base, "?studio=1&play=1"), "playground")?;
        expect(&call(browser, "server", "socket", &[])?, "server: socket(AF_INET, SOCK_STREAM, 0) returned 3")?;
        // A call that makes no sense returns Linux's errno.
        expect(&call(browser, "server", "accept", &[])?, "server: accept(3) returned -1 EINVAL")?;
        expect(&call(browser, "server", "bind", &[("call-port", "5000")])?, "returned 0")?;
        expect(&call(browser, "server", "listen", &[("call-backlog", "5")])?, "server: listen(3, 5) returned 0")?;
        expect(&call(browser, "server", "accept", &[])?, "server: accept(3) blocks")?;
        let blocked = browser.text("[data-testid=call-blocked]")?.unwrap_or_default();
        expect(&blocked, "server is blocked")?;
        expect(&call(browser, "client", "socket", &[])?, "returned 3")?;
        expect(
            &call(browser, "client", "connect", &[("call-host", "server"), ("call-port", "5000")])?,
            "connect(3, 10.0.0.2:5000) blocks",
        )?;
        expect(&press(browser, "play-quiet")?, "events happened")?;
        expect(&call(browser, "client", "close", &[])?, "client: close(3) returned 0")?;
        expect(&press(browser, "play-quiet")?, "events happened")?;
        // The accept() that failed named no descriptor; the one that worked is c2.
        expect(&call(browser, "server", "close", &[("call-fd", "c2")])?, "server: close(4) returned 0")?;
        expect(&press(browser, "play-quiet")?, "events happened")?;
        // The tcpdump pane lists every segment so far: a handshake and a close.
        let tcpdump = browser.text("[data-testid=tcpdump]")?.unwrap_or_default();
        let has = |flags: &str| tcpdump.matches(&format!("Flags [{flags}]")).count();
        if has("S") != 1 || has("S.") != 1 || has("F.") != 2 {
            return Err(format!("tcpdump should show a handshake and a close:\n{tcpdump}"));
        }
        browser.screenshot("studio-playground")?;
        // The address carries the world: open it afresh and find the same diagram and clock.
        let link = browser
            .wait_for(
                "the link to carry the world",
                "return location.hash.startsWith('#scenario=') && location.href",
                json!([]),
            )?
            .as_str()
            .unwrap_or_default()
            .to_string();
        let clock = browser.text("[data-testid=play-clock]")?;
        open_studio(browser, &link, "playground")?;
        browser.wait_for(
            "the world to be shown again",
            "return document.querySelector('[data-testid=tcpdump]').textContent === arguments[0]",
            json!(tcpdump),
        )?;
        if browser.text("[data-testid=play-clock]")? != clock {
            return Err(format!(
                "the link reopened the world at another time: {:?}",
                browser.text("[data-testid=play-clock]")?
            ));
        }
        // And the world goes on from there.
        expect(&call(browser, "server", "socket", &[])?, "server: socket(AF_INET, SOCK_STREAM, 0) returned 4")?;
        expect(&press(browser, "play-undo")?, "Undone")?;
        Ok(())
    });
}

#[test]
fn studio_dropping_the_syn_ack_forks_a_run_where_the_syn_goes_again() {
    run("studio_what_if", 1366, 900, |browser, base| {
        open_studio(browser, &at(base, "?s=three-way-handshake&studio=1"), "what-if")?;
        let original_len = browser.trace_len()?;
        // Step to the SYN+ACK and pick it by clicking its arrow, as a reader would.
        step_until(
            browser,
            "the SYN+ACK",
            "return [...document.querySelectorAll('[data-testid=segment]')].some(g => g.getAttribute('data-label').startsWith('S. '))",
        )?;
        // Pick the SYN+ACK by clicking its arrow, as a reader would.
        let picked = browser.run(
            "const g = [...document.querySelectorAll('[data-testid=segment]')].find(g => g.getAttribute('data-label').startsWith('S. '));
             if (!g) return null; g.dispatchEvent(new MouseEvent('click', {bubbles: true})); return g.getAttribute('data-sent')",
            json!([]),
        )?;
        let sent = picked.as_str().ok_or("no SYN+ACK arrow on the diagram")?.to_string();
        browser.wait_for(
            "the segment to be picked",
            "return document.querySelector('[data-testid=what-if-segment]').value === arguments[0]",
            json!(sent),
        )?;
        expect(&press(browser, "what-if-drop")?, "Forked: drop S. server→client")?;
        browser.wait_for(
            "the comparison",
            "return document.querySelector('[data-testid=comparison]') !== null",
            json!([]),
        )?;
        let rows = browser.run(
            "return [...document.querySelectorAll('[data-testid=difference]')].map(r => r.textContent)",
            json!([]),
        )?;
        let rows: Vec<String> =
            rows.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
        if !rows
            .iter()
            .any(|row| row.contains("S. server→client") && row.contains("is lost") && row.contains("only in this fork"))
        {
            return Err(format!("the comparison does not show the lost SYN+ACK: {rows:#?}"));
        }
        // The client's SYN goes again once its RTO (1 s) runs out: 1.1 s in this run.
        if !rows
            .iter()
            .any(|row| row.contains("1.100") && row.contains("S client→server") && row.contains("only in this fork"))
        {
            return Err(format!("the comparison does not show the SYN sent again after the RTO: {rows:#?}"));
        }
        // Stepping on, the SYN sent again appears, marked as what the original does not have.
        step_until(
            browser,
            "the SYN sent again, marked",
            "return [...document.querySelectorAll('[data-testid=segment].differs')].some(g => g.getAttribute('data-label').startsWith('S seq'))",
        )?;
        browser.screenshot("studio-what-if")?;
        // Both runs are kept: back to the original, then the fork again.
        browser.click("[data-testid=run-tab]")?;
        browser.wait_for(
            "the original",
            "return document.querySelectorAll('[data-testid=segment].differs').length === 0 && document.querySelector('[data-testid=comparison]') === null",
            json!([]),
        )?;
        if browser.trace_len()? != original_len {
            return Err("the original run changed".to_string());
        }
        browser.run("document.querySelectorAll('[data-testid=run-tab]')[1].click()", json!([]))?;
        browser.wait_for(
            "the fork",
            "return document.querySelector('[data-testid=comparison]') !== null",
            json!([]),
        )?;
        // A fork is shared by link.
        // The address follows the cursor once it rests: wait for the link of this moment.
        let cursor = browser.cursor()?;
        let link = browser
            .wait_for(
                "the fork's link",
                "const q = new URLSearchParams(location.search);
                 return q.has('fork') && q.get('t') === String(arguments[0]) && location.href",
                json!([cursor]),
            )?
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !link.contains("s=three-way-handshake") {
            return Err(format!("the fork's link does not name its original: {link}"));
        }
        browser.open(&link)?;
        let said = browser.wait_for(
            "the fork to reopen",
            "const s = document.querySelector('[data-testid=bench-status]'); return s && s.textContent.includes('fork') && s.textContent",
            json!([]),
        )?;
        expect(said.as_str().unwrap_or_default(), "drop S. server→client")?;
        browser
            .wait_for(
                "the fork at the same moment",
                "return Number(document.querySelector('[data-testid=position]').getAttribute('data-cursor')) === arguments[0]",
                json!(cursor),
            )
            .map_err(|err| format!("{err}: {link} was at {cursor}, reopens at {:?}", browser.cursor()))?;
        browser.wait_for(
            "the comparison",
            "return document.querySelector('[data-testid=comparison]') !== null",
            json!([]),
        )?;
        Ok(())
    });
}

#[test]
fn the_player_links_to_the_studio_and_leaves_it_out() {
    run("studio_links", 1366, 768, |browser, base| {
        browser.open(&at(base, "?s=four-way-close&t=5"))?;
        let what_if = browser.attr("[data-testid=open-what-if]", "href")?.ok_or("no link to the what-if studio")?;
        if !what_if.contains("s=four-way-close") || !what_if.contains("studio=1") {
            return Err(format!("the what-if link loses the scenario: {what_if}"));
        }
        if browser.run("return document.querySelector('[data-testid=bench]') !== null", json!([]))? != json!(false) {
            return Err("the player shows the studio's workbench".to_string());
        }
        let loaded = browser.run(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('studio'))",
            json!([]),
        )?;
        if loaded.as_array().is_some_and(|names| !names.is_empty()) {
            return Err(format!("the player downloaded the studio: {loaded}"));
        }
        Ok(())
    });
}

#[test]
fn studio_controls_are_labelled_and_work_by_keyboard() {
    run("studio_keyboard", 1366, 900, |browser, base| {
        open_studio(browser, &at(base, "?studio=1&play=1"), "call-form")?;
        // Every control of both modes has a name a screen reader reads out.
        for mode in ["mode-playground", "mode-what-if"] {
            browser.click(&format!("[data-testid={mode}]"))?;
            let unnamed = browser.run(
                "return [...document.querySelectorAll('[data-testid=bench] :is(button, select, input)')]
                    .filter(e => !((e.labels && e.labels.length && e.labels[0].textContent.trim()) || e.textContent.trim() || e.getAttribute('aria-label')))
                    .map(e => e.outerHTML.slice(0, 80))",
                json!([]),
            )?;
            if unnamed.as_array().is_none_or(|list| !list.is_empty()) {
                return Err(format!("controls without a name in {mode}: {unnamed}"));
            }
        }
        if browser.attr("[data-testid=bench-status]", "aria-live")?.as_deref() != Some("polite") {
            return Err("the studio's status line is not announced".to_string());
        }
        // By keyboard: from the call menu, Tab reaches the Call button, and Enter makes the call.
        browser.click("[data-testid=mode-playground]")?;
        browser.run("document.querySelector('[data-testid=call-name]').focus()", json!([]))?;
        let mut presses = 0;
        while browser.run("return document.activeElement.getAttribute('data-testid')", json!([]))?
            != json!("call-submit")
        {
            browser.press(sockscope_frontend_e2e::keys::TAB, false)?;
            presses += 1;
            if presses > 10 {
                return Err("Tab does not reach the Call button".to_string());
            }
        }
        let before = status(browser)?;
        browser.press(sockscope_frontend_e2e::keys::ENTER, false)?;
        expect(&said_after(browser, &before)?, "client: socket(AF_INET, SOCK_STREAM, 0) returned 3")?;
        Ok(())
    });
}

#[test]
fn studio_predict_three_steps_of_the_handshake_one_wrongly() {
    run("studio_predict", 1366, 900, |browser, base| {
        // The questions the page will ask, read from the same code natively.
        let text = sockscope_engine::builtin::source("three-way-handshake").ok_or("no handshake")?.to_string();
        let loaded = sockscope_frontend::model::load_builtin("three-way-handshake", text)?;
        let questions = sockscope_frontend::studio::predict::questions(&loaded, &Default::default()).asked;
        open_studio(browser, &at(base, "?s=three-way-handshake&predict=1"), "predict")?;
        for (number, question) in questions.iter().take(3).enumerate() {
            let prompt = browser.wait_for(
                "a question",
                "const p = document.querySelector('[data-testid=predict-prompt]'); return p && p.textContent",
                json!([]),
            )?;
            if prompt.as_str() != Some(question.prompt.as_str()) {
                return Err(format!("question {number}: asked “{prompt}”, expected “{}”", question.prompt));
            }
            if browser.cursor()? != question.ask_at {
                return Err(format!("question {number} is asked at event {}, not before its step", browser.cursor()?));
            }
            // The second answer is wrong on purpose.
            let choice = if number == 1 { (question.answer + 1) % question.choices.len() } else { question.answer };
            browser.run(
                "document.querySelectorAll('[data-testid=predict-choice]')[arguments[0]].click()",
                json!([choice]),
            )?;
            let verdict = browser.wait_for(
                "the verdict",
                "const v = document.querySelector('[data-testid=predict-verdict]'); return v && v.textContent",
                json!([]),
            )?;
            let verdict = verdict.as_str().unwrap_or_default();
            let expected = if number == 1 { "Not this time." } else { "Right." };
            if !verdict.starts_with(expected) || !verdict.contains(&question.choices[question.answer]) {
                return Err(format!("question {number}: the verdict says “{verdict}”"));
            }
            let why = browser.text("[data-testid=predict-why]")?.unwrap_or_default();
            if why.is_empty() || why != question.why {
                return Err(format!("question {number}: the reason given is “{why}”"));
            }
            browser.wait_for("the step to show", "return Number(document.querySelector('[data-testid=position]').getAttribute('data-cursor')) === arguments[0]", json!(question.reveal_at))?;
            if number == 1 {
                browser.screenshot("studio-predict")?;
            }
            if number < 2 {
                browser.click("[data-testid=predict-next]")?;
            }
        }
        let score = browser.text("[data-testid=predict-score]")?.unwrap_or_default();
        if score != "Score: 2 of 3 right" {
            return Err(format!("the score reads “{score}”"));
        }
        expect(&status(browser)?, "Score: 2 of 3 right")?;
        if !browser.run("return location.search.includes('predict=1')", json!([]))?.as_bool().unwrap_or(false) {
            return Err("the address does not keep predict mode".to_string());
        }
        Ok(())
    });
}

#[test]
fn studio_clicking_the_time_sequence_graph_seeks_there() {
    run("studio_plot", 1366, 900, |browser, base| {
        open_studio(browser, &at(base, "?s=nagle&studio=1"), "what-if")?;
        browser.click("[data-testid=mode-plot]")?;
        browser.wait_for(
            "the graph",
            "return document.querySelectorAll('[data-testid=tsg-bar]').length > 3",
            json!([]),
        )?;
        // Click the middle of the fourth bar, as a reader would with the mouse.
        // Segments sent in the same instant share their x: the first of them is the one sought.
        let event = browser.run(
            "const bars = [...document.querySelectorAll('[data-testid=tsg-bar]')];
             const bar = bars[3]; const r = bar.getBoundingClientRect();
             const svg = document.querySelector('[data-testid=tsg]');
             svg.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2}));
             const first = bars.find(b => b.getAttribute('x1') === bar.getAttribute('x1'));
             return Number(first.getAttribute('data-event'))",
            json!([]),
        )?;
        let event = event.as_u64().ok_or("no bar")? as usize;
        let text = sockscope_engine::builtin::source("nagle").ok_or("no nagle")?.to_string();
        let loaded = sockscope_frontend::model::load_builtin("nagle", text)?;
        let rest = loaded.timing.steps.at_or_after(event + 1);
        browser
            .wait_for(
                "the page to show that segment's step",
                "return Number(document.querySelector('[data-testid=position]').getAttribute('data-cursor')) === arguments[0]",
                json!(rest),
            )
            .map_err(|err| format!("{err}: the bar is event {event}, the page rests at {:?}", browser.cursor()))?;
        // The graph's cursor follows the page's.
        let (now, bar) = (
            browser.attr("[data-testid=tsg-now]", "x1")?,
            browser
                .run("return document.querySelectorAll('[data-testid=tsg-bar]')[3].getAttribute('x1')", json!([]))?,
        );
        if now.as_deref() != bar.as_str() {
            return Err(format!("the graph's cursor is at {now:?}, the segment at {bar}"));
        }
        browser.screenshot("studio-time-sequence")?;
        // By keyboard: focused, → goes to the next plotted event.
        browser.run("document.querySelector('[data-testid=tsg]').focus()", json!([]))?;
        browser.press(sockscope_frontend_e2e::keys::RIGHT, false)?;
        browser.wait_for(
            "→ on the graph to move on",
            "return Number(document.querySelector('[data-testid=position]').getAttribute('data-cursor')) > arguments[0]",
            json!(rest),
        )?;
        Ok(())
    });
}

#[test]
fn studio_exports_the_diagram_as_an_svg_that_parses() {
    run("studio_export", 1366, 900, |browser, base| {
        open_studio(browser, &at(base, "?s=three-way-handshake&t=43&studio=1"), "what-if")?;
        // Keep what the page offers for download, as the browser would save it.
        browser.run(
            "window.__saved = []; const make = URL.createObjectURL;
             URL.createObjectURL = blob => { window.__saved.push(blob); return make.call(URL, blob); };",
            json!([]),
        )?;
        let before = status(browser)?;
        browser.click("[data-testid=export-diagram-svg]")?;
        expect(&said_after(browser, &before)?, "three-way-handshake-diagram.svg")?;
        let checked = browser.run_async(
            "const done = arguments[arguments.length - 1];
             const blob = window.__saved.find(b => b.type === 'image/svg+xml');
             if (!blob) { done({ error: 'no SVG was offered' }); return; }
             blob.text().then(text => {
               const styled = text.includes('stroke=');
               const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
               done({
                 error: doc.querySelector('parsererror') ? 'the SVG does not parse' : null,
                 root: doc.documentElement.nodeName,
                 width: doc.documentElement.getAttribute('width'),
                 segments: doc.querySelectorAll('[data-testid=segment]').length,
                 now: doc.querySelectorAll('[data-testid=now-line]').length,
                 caption: (doc.querySelector('[data-testid=export-caption]') || {}).textContent,
                 style: styled,
                 text,
               });
             });",
            json!([]),
        )?;
        if let Some(error) = checked["error"].as_str() {
            return Err(error.to_string());
        }
        if checked["root"] != json!("svg") || checked["width"] != json!("170mm") || checked["style"] != json!(true) {
            return Err(format!("the SVG is not a standalone, printable figure: {checked}"));
        }
        if checked["segments"].as_u64().unwrap_or(0) < 2 || checked["now"] != json!(1) {
            return Err(format!("the SVG does not show the diagram at the moment on screen: {checked}"));
        }
        // Kept beside the screenshots, to be looked at.
        let file = sockscope_frontend_e2e::screenshot_dir().join("export-diagram.svg");
        std::fs::write(&file, checked["text"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
        println!("exported: {}", file.display());
        let caption = checked["caption"].as_str().unwrap_or_default();
        // The moment of `t=43`, as the page's clock writes it.
        let text = sockscope_engine::builtin::source("three-way-handshake").ok_or("no handshake")?.to_string();
        let loaded = sockscope_frontend::model::load_builtin("three-way-handshake", text)?;
        let rest = loaded.timing.steps.at_or_after(43);
        let shown = sockscope_frontend::view::sequence::clock(loaded.trace.events[rest - 1].t_us as f64);
        if !caption.starts_with(&format!("The three-way handshake · t = {shown} · step")) {
            return Err(format!("the caption reads “{caption}”"));
        }
        // The PNG is drawn from it.
        let before = status(browser)?;
        browser.click("[data-testid=export-diagram-png]")?;
        expect(&said_after(browser, &before)?, "three-way-handshake-diagram.png")?;
        browser.wait_for(
            "a PNG to be offered",
            "return window.__saved.some(b => b.type === 'image/png')",
            json!([]),
        )?;
        Ok(())
    });
}

/// Waits until the course page's log has a line starting with `prefix` beyond the first `seen`
/// lines, and returns that line.
fn lesson_hears(browser: &Browser, prefix: &str, seen: usize) -> Result<String> {
    let line = browser.wait_for(
        &format!("the course page to hear “{prefix}”"),
        "const items = [...document.querySelectorAll('[data-testid=lesson-log] li')].slice(arguments[1]);
         const item = items.find((li) => li.textContent.startsWith(arguments[0])); return item ? item.textContent : null",
        json!([prefix, seen]),
    )?;
    Ok(line.as_str().unwrap_or_default().to_string())
}

fn lesson_lines(browser: &Browser) -> Result<usize> {
    Ok(browser
        .run("return document.querySelectorAll('[data-testid=lesson-log] li').length", json!([]))?
        .as_u64()
        .unwrap_or(0) as usize)
}

/// The embedded player's cursor, read through the frame (the example is served beside it).
const PLAYER_CURSOR: &str = "const d = document.querySelector(arguments[0]).contentDocument;
    const p = d && d.querySelector('[data-testid=position]'); return p ? Number(p.getAttribute('data-cursor')) : null";

#[test]
fn embedding_api_drives_the_player_from_a_course_page() {
    run("embedding_api", 1366, 1000, |browser, base| {
        let text = sockscope_engine::builtin::source("three-way-handshake").ok_or("no handshake")?.to_string();
        let handshake = sockscope_frontend::model::load_builtin("three-way-handshake", text)?;
        browser.goto(&at(base, "course/"))?;
        lesson_hears(browser, "ready:", 0)?;
        let opened = lesson_hears(browser, "opened:", 0)?;
        if !opened.contains(&handshake.title) {
            return Err(format!("the course page heard “{opened}”"));
        }

        // Seek to step 3: the player shows it, and says so.
        type_into(browser, "lesson-step", "3")?;
        browser.click("[data-testid=lesson-seek]")?;
        let stop = handshake.timing.steps.stops()[3];
        browser.wait_for(
            "the player to show step 3",
            &format!("{PLAYER_CURSOR} === arguments[1]"),
            json!(["#player", stop]),
        )?;
        browser.wait_for(
            "the moment to be reported",
            "return document.querySelector('[data-testid=lesson-where]').textContent.startsWith(arguments[0])",
            json!(format!("Step 3 of {}", handshake.timing.steps.count())),
        )?;

        // Speed 4, play, and hear the moments and the end.
        choose(browser, "lesson-speed", "4")?;
        browser.click("[data-testid=lesson-play]")?;
        browser.wait_for(
            "playing at 4× to be reported",
            "return document.querySelector('[data-testid=lesson-where]').textContent.includes('playing at 4×')",
            json!([]),
        )?;
        lesson_hears(browser, "end:", 0)?;

        // Another scenario, by name.
        let seen = lesson_lines(browser)?;
        choose(browser, "lesson-scenario", "four-way-close")?;
        browser.click("[data-testid=lesson-open]")?;
        let opened = lesson_hears(browser, "opened:", seen)?;
        let close = sockscope_engine::builtin::source("four-way-close").ok_or("no close")?.to_string();
        let close = sockscope_frontend::model::load_builtin("four-way-close", close)?;
        if !opened.contains(&close.title) {
            return Err(format!("after open, the course page heard “{opened}”"));
        }

        // Predict mode: the player asks, the reader answers in it, the course page hears.
        browser.click("[data-testid=lesson-predict]")?;
        let own = sockscope_engine::parse_scenario(&close.text).map_err(|e| e.to_string())?.predict;
        let questions = sockscope_frontend::studio::predict::questions(&close, &own).asked;
        let first = questions.first().ok_or("no question about the close")?;
        browser.wait_for(
            "the player to ask",
            "const d = document.querySelector('#player').contentDocument;
             const p = d && d.querySelector('[data-testid=predict-prompt]'); return p && p.textContent === arguments[0]",
            json!([first.prompt]),
        )?;
        browser.screenshot("embed-course-page-predict")?;
        browser.run(
            "document.querySelector('#player').contentDocument.querySelectorAll('[data-testid=predict-choice]')[arguments[0]].click()",
            json!([first.answer]),
        )?;
        let answer = lesson_hears(browser, "answer:", 0)?;
        if !answer.contains(&first.prompt) || !answer.ends_with("; right.") {
            return Err(format!("the course page heard “{answer}”"));
        }
        let score = browser.text("[data-testid=lesson-score]")?.unwrap_or_default();
        if score != "Your score: 1 of 1" {
            return Err(format!("the course page's score reads “{score}”"));
        }

        // A message of the wrong shape is answered, and changes nothing.
        let cursor = browser.run(PLAYER_CURSOR, json!(["#player"]))?;
        browser.click("[data-testid=lesson-bad]")?;
        let rejected = lesson_hears(browser, "rejected:", 0)?;
        if !rejected.contains("three") {
            return Err(format!("the rejection says “{rejected}”"));
        }
        if browser.run(PLAYER_CURSOR, json!(["#player"]))? != cursor {
            return Err("a rejected message moved the player".to_string());
        }

        // An embed that allows another origin ignores this page's commands, and tells it nothing.
        browser.run(
            "window.strangerHeard = 0;
             const f = document.createElement('iframe'); f.id = 'stranger'; f.title = 'another embed';
             f.src = '../?s=three-way-handshake&embed=1&api=' + encodeURIComponent('https://course.example');
             window.addEventListener('message', (e) => { if (e.source === f.contentWindow) window.strangerHeard++; });
             document.querySelector('main').append(f);",
            json!([]),
        )?;
        browser.wait_for("the other embed to render", &format!("{PLAYER_CURSOR} === 0"), json!(["#stranger"]))?;
        browser.run(
            "const w = document.querySelector('#stranger').contentWindow;
             w.postMessage({sockscope: 1, type: 'seek', step: 3}, location.origin);
             w.postMessage({sockscope: 1, type: 'play'}, location.origin);",
            json!([]),
        )?;
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let (cursor, heard) =
            (browser.run(PLAYER_CURSOR, json!(["#stranger"]))?, browser.run("return window.strangerHeard", json!([]))?);
        if cursor != json!(0) || heard != json!(0) {
            return Err(format!("the embed that allows another origin moved to {cursor} and sent {heard} messages"));
        }
        Ok(())
    });
}

#[test]
fn studio_series_plot_windows_queues_and_timers_on_the_pages_cursor() {
    run("studio_series", 1366, 1100, |browser, base| {
        open_studio(browser, &at(base, "?s=retransmission&studio=1"), "what-if")?;
        browser.click("[data-testid=mode-plot]")?;
        browser.wait_for("the series", "return document.querySelector('[data-testid=series]') !== null", json!([]))?;
        for class in ["cwnd", "ssthresh", "advertised", "sendq", "recvq", "rto", "srtt"] {
            let points = browser.run(
                "const l = document.querySelector(`[data-testid=series] polyline[data-series=${arguments[0]}]`);
                 return l ? l.getAttribute('points').trim().split(' ').length : 0",
                json!([class]),
            )?;
            if points.as_u64().unwrap_or(0) < 2 {
                return Err(format!("the {class} line has {points} points"));
            }
        }
        // A click on the panels seeks, and both cursors stand at the same time.
        browser.run(
            "const svg = document.querySelector('[data-testid=series]'); const r = svg.getBoundingClientRect();
             svg.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + r.width * 0.6, clientY: r.top + r.height / 2}));",
            json!([]),
        )?;
        browser.wait_for(
            "the click to seek",
            "return Number(document.querySelector('[data-testid=position]').getAttribute('data-cursor')) > 0",
            json!([]),
        )?;
        let (series_now, graph_now) =
            (browser.attr("[data-testid=series-now]", "x1")?, browser.attr("[data-testid=tsg-now]", "x1")?);
        if series_now.is_none() || series_now != graph_now {
            return Err(format!("the series' cursor is at {series_now:?}, the graph's at {graph_now:?}"));
        }
        let label = browser.attr("[data-testid=series]", "aria-label")?.unwrap_or_default();
        if !label.contains("RTO (sender) from") {
            return Err(format!("the series are described as “{label}”"));
        }
        browser.run("document.querySelector('[data-testid=series]').scrollIntoView({block: 'end'})", json!([]))?;
        browser.screenshot("studio-series")?;
        Ok(())
    });
}
