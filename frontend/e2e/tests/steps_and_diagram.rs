//! Browser tests of stepping and the state diagram: every press of → says what it changed and no two
//! panes contradict each other; the state diagram follows the socket the step is about and
//! can be pinned by keyboard; the diagram reads on a projector (1366x768): no label covers
//! another, lines and labels have WCAG AA contrast in both themes. Screenshots go to
//! `target/screenshots/`.

use serde_json::{json, Value};
use sockscope_frontend::view::machine::contrast;
use sockscope_frontend_e2e::keys::{ENTER, RIGHT};
use sockscope_frontend_e2e::{at, run, Browser, Result};

/// Sizes the window so that the page itself gets `width` x `height` pixels, as on a projector
/// showing the browser full screen.
fn viewport(browser: &Browser, width: u32, height: u32) -> Result<()> {
    browser.set_window(width, height)?;
    let inner = browser.run("return [innerWidth, innerHeight]", json!([]))?;
    let chrome =
        |index: usize, asked: u32| asked.saturating_sub(inner[index].as_u64().unwrap_or(u64::from(asked)) as u32);
    browser.set_window(width + chrome(0, width), height + chrome(1, height))
}

/// Presses → and waits until the cursor has moved; returns the new cursor.
fn step(browser: &Browser) -> Result<usize> {
    let before = browser.cursor()?;
    browser.press(RIGHT, false)?;
    let moved = browser.wait_for(
        "→ to move",
        "const c = Number(document.querySelector('[data-testid=position]').getAttribute('data-cursor'));
         return c > arguments[0] && c",
        json!(before),
    )?;
    Ok(moved.as_u64().unwrap_or(0) as usize)
}

/// The position where the page rests at `seconds` of simulated time in a built-in scenario:
/// the step that holds the first event from then on.
fn moment(name: &str, seconds: f64) -> usize {
    let scenario = sockscope_engine::builtin::get(name).expect("a built-in scenario");
    let trace = sockscope_engine::run(&scenario).expect("it runs").trace;
    let t_us = (seconds * 1e6) as u64;
    trace.events.iter().position(|event| event.t_us >= t_us).expect("the run lasts that long") + 1
}

/// What the panes say, read from the page: the narration, each process's line, and each
/// listener's accept-queue count.
const PANES: &str = "
    const text = s => { const e = document.querySelector(s); return e ? e.textContent : null; };
    return {
        narration: text('[data-testid=narration]'),
        calls: [...document.querySelectorAll('[data-testid=process]')].map(p =>
            p.getAttribute('data-process') + ': ' + (p.querySelector('.call') ? p.querySelector('.call').textContent : '')),
        accept: [...document.querySelectorAll('[data-testid=accept-queue]')].map(q => Number(q.getAttribute('data-count'))),
    };";

#[test]
fn three_way_handshake_every_step_says_what_it_changed() {
    run("steps_three_way_handshake", 1366, 768, |browser, base| {
        viewport(browser, 1366, 768)?;
        browser.open(&at(base, "?s=three-way-handshake"))?;
        let len = browser.trace_len()?;
        let mut previous = browser.run(PANES, json!([]))?;
        let mut presses = 0;
        let mut shot = false;
        let mut unnumbered = Vec::new();
        while browser.cursor()? < len {
            let cursor = step(browser)?;
            presses += 1;
            let panes = browser.run(PANES, json!([]))?;
            let narration = panes["narration"].as_str().unwrap_or_default().to_string();
            if narration == previous["narration"].as_str().unwrap_or_default() {
                return Err(format!("→ to {cursor} left the narration as it was: “{narration}”"));
            }
            let accepted = panes["accept"].as_array().into_iter().flatten().filter_map(Value::as_u64).sum::<u64>();
            for call in panes["calls"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if call.contains("accept queue is empty") && accepted > 0 {
                    return Err(format!("at {cursor} “{call}” beside a listener holding {accepted}: {panes}"));
                }
            }
            if !narration.starts_with(&format!("Step {presses} of ")) {
                unnumbered.push(format!("press {presses} shows “{narration}”"));
            }
            if accepted > 0 && !shot {
                browser.screenshot("steps-three-way-handshake-accept-queue")?;
                shot = true;
            }
            previous = panes;
        }
        assert!(unnumbered.is_empty(), "each step is numbered: {unnumbered:#?}");
        let last = previous["narration"].as_str().unwrap_or_default();
        assert!(last.starts_with(&format!("Step {presses} of {presses}: ")), "the last step: “{last}”");
        assert!(shot, "some step shows the connection in the accept queue");
        Ok(())
    });
}

/// The diagram's socket, whether its card is on the page, and the states both show.
const DIAGRAM: &str = "
    const figure = document.querySelector('[data-testid=state-diagram]');
    const id = figure.getAttribute('data-socket');
    const card = id === null ? null : document.querySelector(`[data-testid=socket][data-socket=\"${id}\"]`);
    const current = figure.querySelector('[data-testid=current-state]');
    const text = e => e ? e.textContent : null;
    return {
        socket: id,
        pinned: figure.getAttribute('data-pinned'),
        card: card ? card.getAttribute('data-state') : null,
        shown: current ? current.getAttribute('data-state') : null,
        caption: text(figure.querySelector('figcaption')),
        status: text(document.querySelector('[data-testid=pin-status]')),
    };";

/// A script that returns what [`DIAGRAM`] reads once `condition` (about `d`) holds, else false.
fn diagram_when(condition: &str) -> String {
    format!("{} return ({condition}) && d;", DIAGRAM.replace("return {", "const d = {"))
}

#[test]
fn the_state_diagram_follows_the_step_s_socket_and_pins_by_keyboard() {
    run("diagram_follows", 1366, 768, |browser, base| {
        viewport(browser, 1366, 768)?;
        // The last moment has two sockets, for the pin below.
        for (name, seconds) in [("peer-crash", 228.0), ("flow-control", 0.78)] {
            browser.open(&at(base, &format!("?s={name}&t={}", moment(name, seconds))))?;
            browser.run("document.querySelector('[data-testid=state-diagram]').scrollIntoView()", json!([]))?;
            let diagram = browser.run(DIAGRAM, json!([]))?;
            if diagram["card"].is_null() || diagram["card"] != diagram["shown"] {
                return Err(format!("{name} at {seconds} s: the diagram shows a socket without a card: {diagram}"));
            }
            assert!(diagram["caption"].as_str().unwrap_or_default().contains("pin it here"), "{diagram}");
            browser.screenshot(&format!("state-diagram-{name}-{seconds}s"))?;
        }
        // Pin another socket by keyboard: focus its card's number and press Enter.
        let followed = browser.run(DIAGRAM, json!([]))?["socket"].as_str().unwrap_or_default().to_string();
        let other = browser.run(
            "const b = [...document.querySelectorAll('[data-testid=pin-socket]')]
                 .find(b => b.closest('[data-testid=socket]').getAttribute('data-socket') !== arguments[0]);
             if (!b) return null; b.focus(); return b.closest('[data-testid=socket]').getAttribute('data-socket')",
            json!([followed]),
        )?;
        let other = other.as_str().ok_or("the page shows only one socket")?.to_string();
        let label = browser.run("return document.activeElement.getAttribute('aria-label')", json!([]))?;
        assert!(label.as_str().unwrap_or_default().contains("press to pin"), "the pin button's label: {label}");
        browser.press(ENTER, false)?;
        let pinned = browser.wait_for("Enter to pin the socket", &diagram_when("d.pinned === 'true'"), json!([]))?;
        assert_eq!(pinned["socket"], json!(other), "{pinned}");
        assert!(
            pinned["status"].as_str().unwrap_or_default().contains(&format!("pinned to socket #{other}")),
            "{pinned}"
        );
        assert_eq!(
            browser.run("return document.activeElement.getAttribute('aria-pressed')", json!([]))?,
            json!("true")
        );
        // Steps keep the pin.
        step(browser)?;
        assert_eq!(browser.run(DIAGRAM, json!([]))?["socket"], json!(other));
        browser.screenshot("state-diagram-pinned")?;
        // The unpin button is reached by keyboard and says what it does.
        let unpin = browser.run(
            "const b = document.querySelector('[data-testid=unpin]'); if (!b) return null; b.focus(); return b.textContent",
            json!([]),
        )?;
        assert!(unpin.as_str().unwrap_or_default().contains("Unpin"), "{unpin}");
        browser.press(ENTER, false)?;
        let unpinned = browser.wait_for("Enter to unpin", &diagram_when("d.pinned === 'false'"), json!([]))?;
        assert!(unpinned["status"].as_str().unwrap_or_default().contains("follows the socket each step is about"));
        Ok(())
    });
}

/// Scrolls the state diagram's figure to just under the sticky narration and controls. The
/// panes below the fold are laid out only once near the screen (`content-visibility`), so
/// the scroll is repeated until the figure stays where it was put.
fn scroll_under_sticky(browser: &Browser) -> Result<()> {
    browser.wait_for(
        "the state diagram to sit under the sticky bar",
        "const svg = document.querySelector('[data-testid=state-diagram] svg');
         const sticky = document.querySelector('.sticky').getBoundingClientRect().bottom;
         const off = svg.getBoundingClientRect().top - sticky - 4;
         if (Math.abs(off) < 1) return true;
         window.scrollBy(0, off);
         return false;",
        json!([]),
    )?;
    Ok(())
}

/// Every label of the diagram on screen (CSS pixels), the figure's box, the label font size
/// as drawn, and the colours of an edge, a label and the panel.
const LAYOUT: &str = "
    const figure = document.querySelector('[data-testid=state-diagram]');
    const svg = figure.querySelector('svg');
    const labels = [...svg.querySelectorAll('.edge text')].map(t => {
        const r = t.getBoundingClientRect();
        return { text: t.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    });
    const boxes = [...svg.querySelectorAll('.box rect')].map(b => {
        const r = b.getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    });
    const s = svg.getBoundingClientRect();
    const scale = s.width / svg.viewBox.baseVal.width;
    const style = e => getComputedStyle(e);
    const edge = svg.querySelector('.edge:not(.taken) polyline, .edge:not(.taken) line');
    const label = svg.querySelector('.edge:not(.taken) text');
    const taken = svg.querySelector('.edge.taken polyline, .edge.taken line');
    const sticky = document.querySelector('.sticky').getBoundingClientRect().bottom;
    return {
        labels, boxes,
        svg: { left: s.left, top: s.top, right: s.right, bottom: s.bottom, height: s.height },
        font: parseFloat(style(label).fontSize) * scale,
        edge: style(edge).stroke, label: style(label).fill, taken: taken ? style(taken).stroke : null,
        panel: style(figure).backgroundColor, sticky, viewport: innerHeight,
    };";

fn rgb(css: &str) -> Option<(u8, u8, u8)> {
    let inner = css.trim().strip_prefix("rgb(")?.strip_suffix(')')?;
    let parts: Vec<u8> = inner.split(',').filter_map(|part| part.trim().parse().ok()).collect();
    (parts.len() == 3).then(|| (parts[0], parts[1], parts[2]))
}

fn check_layout(layout: &Value, theme: &str) -> Result<()> {
    let rect = |value: &Value| {
        let n = |key: &str| value[key].as_f64().unwrap_or(f64::NAN);
        (n("left"), n("top"), n("right"), n("bottom"))
    };
    let overlap = |a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)| a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
    let labels: Vec<&Value> = layout["labels"].as_array().into_iter().flatten().collect();
    let svg = rect(&layout["svg"]);
    let mut problems = Vec::new();
    for (index, label) in labels.iter().enumerate() {
        let a = rect(label);
        if a.0 < svg.0 || a.2 > svg.2 || a.1 < svg.1 || a.3 > svg.3 {
            problems.push(format!("“{}” is cut off by the figure's edge", label["text"]));
        }
        for other in &labels[index + 1..] {
            if overlap(a, rect(other)) {
                problems.push(format!("“{}” overlaps “{}”", label["text"], other["text"]));
            }
        }
        for rectangle in layout["boxes"].as_array().into_iter().flatten() {
            if overlap(a, rect(rectangle)) {
                problems.push(format!("“{}” overlaps a state's box", label["text"]));
            }
        }
    }
    let font = layout["font"].as_f64().unwrap_or(0.0);
    if font < 12.0 {
        problems.push(format!("labels are drawn at {font:.1} px"));
    }
    let panel = rgb(layout["panel"].as_str().unwrap_or_default()).ok_or("the panel's colour")?;
    for (what, least) in [("edge", 3.0), ("label", 4.5), ("taken", 4.5)] {
        let Some(colour) = rgb(layout[what].as_str().unwrap_or_default()) else { continue };
        let ratio = contrast(colour, panel);
        if ratio < least {
            problems.push(format!("the {what} colour has {ratio:.2}:1 against the panel"));
        }
    }
    // The figure fits on a 768-pixel screen under the sticky narration and controls, and is
    // seen whole once scrolled there.
    let height = layout["svg"]["height"].as_f64().unwrap_or(f64::MAX);
    let (sticky, viewport) = (layout["sticky"].as_f64().unwrap_or(0.0), layout["viewport"].as_f64().unwrap_or(0.0));
    if height > viewport - sticky {
        problems.push(format!(
            "the figure is {height:.0} px tall, more than the {:.0} px under the sticky bar",
            viewport - sticky
        ));
    }
    if svg.1 < sticky || svg.3 > viewport {
        problems.push(format!("the figure is not all on screen: {:.0} to {:.0} px", svg.1, svg.3));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{theme}: {problems:#?}"))
    }
}

#[test]
fn the_state_diagram_reads_on_a_projector_at_1366_by_768() {
    run("diagram_projector", 1366, 768, |browser, base| {
        viewport(browser, 1366, 768)?;
        // Each moment highlights a different edge, and with it a bold label.
        for (name, seconds) in [("three-way-handshake", 0.16), ("simultaneous-close", 0.0), ("tlpi-tcpdump", 0.0)] {
            let t = if seconds > 0.0 { moment(name, seconds) } else { 999_999_999 };
            browser.open(&at(base, &format!("?s={name}&t={t}")))?;
            scroll_under_sticky(browser)?;
            let layout = browser.run(LAYOUT, json!([]))?;
            check_layout(&layout, &format!("{name}, light"))?;
            browser.screenshot(&format!("state-diagram-1366x768-{name}"))?;
        }
        browser.cdp(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
        )?;
        browser.open(&at(base, &format!("?s=three-way-handshake&t={}", moment("three-way-handshake", 0.16))))?;
        scroll_under_sticky(browser)?;
        let dark = browser.run("return matchMedia('(prefers-color-scheme: dark)').matches", json!([]))?;
        assert_eq!(dark, json!(true), "the dark theme is on");
        let layout = browser.run(LAYOUT, json!([]))?;
        check_layout(&layout, "three-way-handshake, dark")?;
        browser.screenshot("state-diagram-1366x768-dark")?;
        Ok(())
    });
}
