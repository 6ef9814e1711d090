//! Browser tests of the numbers the page shows: one numbering for a segment in
//! every pane, `ss -tan`'s queue columns, the SendQ card beside a blocked send(), and a
//! sequence diagram that keeps its time and its labels in view.
//!
//! Each test opens the served page at a moment (`?s=NAME&t=EVENTS`) and reads what is on
//! screen through `data-testid` attributes, as browser.rs does.

use serde_json::{json, Value};
use sockscope_frontend_e2e::keys::RIGHT;
use sockscope_frontend_e2e::{at, run, step_until, Browser, Result};

/// The page opened at the moment after `events` events of a built-in scenario.
/// Opens the built-in `name` after `events` events: at the end of the step that holds the
/// last of them, where the page rests.
fn open_at(browser: &Browser, base: &str, name: &str, events: usize) -> Result<()> {
    browser.open(&at(base, &format!("?s={name}&t={events}")))?;
    let text = sockscope_engine::builtin::source(name).ok_or("no such built-in")?.to_string();
    let rest = sockscope_frontend::model::load_builtin(name, text)?.timing.steps.at_or_after(events);
    let cursor = browser.cursor()?;
    if cursor != rest {
        return Err(format!("{name} opened at event {cursor}, not at {rest}, the end of the step of event {events}"));
    }
    Ok(())
}

/// The number of events up to and including the first in which `host`'s socket enters
/// `state`, in the built-in `name`.
fn entering(name: &str, host: &str, state: sockscope_engine::state::State) -> Result<usize> {
    let trace = sockscope_engine::run(&sockscope_engine::builtin::get(name).ok_or("no such built-in")?)
        .map_err(|err| err.to_string())?
        .trace;
    trace
        .events
        .iter()
        .position(|event| {
            matches!(&event.kind, sockscope_engine::EventKind::State { host: h, to, .. } if h == host && *to == state)
        })
        .map(|index| index + 1)
        .ok_or_else(|| format!("{host} never enters {state} in {name}"))
}

fn text_of(browser: &Browser, selector: &str) -> Result<String> {
    browser.text(selector)?.ok_or_else(|| format!("nothing matches {selector}"))
}

/// A segment's sequence and acknowledgement numbers as a view prints them.
type Numbers = (Option<String>, Option<String>);

/// The numbers after `seq ` / `ack ` in a text, and the books' `N:M(len)` of a label.
fn numbers(text: &str) -> Numbers {
    let after = |key: &str| {
        text.match_indices(key).last().map(|(at, _)| {
            text[at + key.len()..].chars().take_while(|c| c.is_ascii_digit() || *c == ':').collect::<String>()
        })
    };
    let seq = after("seq ").or_else(|| {
        text.split_whitespace()
            .find(|word| word.contains(':') && word.contains('('))
            .map(|word| word.trim_start_matches(':').split('(').next().unwrap_or_default().to_string())
    });
    (seq.filter(|seq| !seq.is_empty()), after("ack ").filter(|ack| !ack.is_empty()))
}

/// The labels of the arrows drawn so far, in order.
fn labels(browser: &Browser) -> Result<Vec<String>> {
    let value = browser.run(
        "return [...document.querySelectorAll('[data-testid=segment]')].map(s => s.getAttribute('data-label'))",
        json!([]),
    )?;
    Ok(value
        .as_array()
        .map(|all| all.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default())
}

/// The handshake's final ACK reads `ack 1` in the tcpdump pane, on its arrow and in the
/// narration, under a pane titled `tcpdump -n`; with the -S toggle all three read the
/// absolute number and the title says `tcpdump -n -S`.
#[test]
fn numbers_one_segment_alike_in_every_pane_and_toggle_to_absolute() {
    run("numbers_one_segment_alike", 1280, 1000, |browser, base| {
        browser.open(&at(base, "?s=lost-final-ack"))?;
        step_until(
            browser,
            "the handshake's final ACK on the wire",
            "const line = document.querySelector('[data-testid=tcpdump] .line.current');
             return line !== null && line.textContent.includes('Flags [.]')",
        )?;
        let check = |command: &str, ack: &str| -> Result<()> {
            let title = text_of(browser, "[data-testid=tcpdump-command]")?;
            assert_eq!(title, command, "the pane's title is the command that prints its lines");
            let line = text_of(browser, "[data-testid=tcpdump] .line.current")?;
            let narration = text_of(browser, "[data-testid=narration]")?;
            let label = labels(browser)?.last().cloned().unwrap_or_default();
            assert!(line.contains(&format!(", ack {ack},")), "tcpdump: {line}");
            assert_eq!(label, format!(". ack {ack}"), "the arrow's label");
            assert!(
                narration.contains(&format!("(ack {ack}, window 502 × 128 = 64256 bytes)")),
                "narration: {narration}"
            );
            // The handshake's SYNs read the same in both numberings, as tcpdump prints them.
            let all = labels(browser)?;
            assert_eq!(all[..2], ["S seq 2433363436", "S. seq 3203108257 ack 2433363437"], "{all:?}");
            Ok(())
        };
        check("tcpdump -n", "1")?;
        browser.screenshot("numbers-relative")?;
        browser.click("[data-testid=numbering]")?;
        browser.wait_for(
            "the -S toggle to take effect",
            "return document.querySelector('[data-testid=tcpdump-command]').textContent === 'tcpdump -n -S'",
            json!([]),
        )?;
        assert_eq!(browser.attr("[data-testid=numbering]", "aria-pressed")?.as_deref(), Some("true"));
        check("tcpdump -n -S", "3203108258")?;
        browser.screenshot("numbers-absolute")?;
        browser.run("document.querySelector('[data-testid=tcpdump]').scrollIntoView()", json!([]))?;
        browser.screenshot("numbers-absolute-tcpdump")?;
        // Further on, every arrow drawn still reads as its tcpdump line does.
        step_until(
            browser,
            "the resent FIN",
            "const line = document.querySelector('[data-testid=tcpdump] .line.current');
             return line !== null && line.textContent.includes('00:00:01.230000')",
        )?;
        let lines = text_of(browser, "[data-testid=tcpdump]")?;
        let printed: Vec<(String, Numbers)> = lines
            .lines()
            .filter(|line| line.contains(" IP "))
            .map(|line| {
                let flags = line.split("Flags [").nth(1).and_then(|rest| rest.split(']').next()).unwrap_or("");
                (flags.to_string(), numbers(line))
            })
            .collect();
        let all = labels(browser)?;
        assert!(all.len() >= 3, "{all:?}");
        for label in &all {
            let flags = label.split_whitespace().next().unwrap_or("").to_string();
            assert!(printed.contains(&(flags, numbers(label))), "no tcpdump line reads as `{label}`: {printed:?}");
        }
        Ok(())
    });
}

/// lost-final-ack after the server resends its FIN (event 126): the server has read end of
/// file and waits for the ACK of its FIN, `LAST-ACK 0 1`; the client is in TIME_WAIT, `0 0`.
#[test]
fn numbers_ss_shows_closing_sockets_as_linux_does() {
    run("numbers_ss_closing", 1280, 1000, |browser, base| {
        // Once the client has acknowledged the server's FIN, whose ACK is then lost.
        let time_wait = entering("lost-final-ack", "client", sockscope_engine::state::State::TimeWait)?;
        open_at(browser, base, "lost-final-ack", time_wait)?;
        let columns = |host: &str| -> Result<Vec<String>> {
            let text = text_of(browser, &format!("[data-testid=ss-{host}]"))?;
            Ok(text.lines().skip(1).map(|line| line.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).collect())
        };
        assert_eq!(columns("server")?, ["LAST-ACK 0 1"]);
        assert_eq!(columns("client")?, ["TIME-WAIT 0 0"]);
        // The server's card counts the same: no unread FIN, one unacknowledged.
        let card = "[data-testid=socket][data-host=server]";
        assert_eq!(text_of(browser, &format!("{card} [data-testid=recvq-text]"))?, "0 / 131072 B");
        assert!(text_of(browser, &format!("{card} [data-testid=sendq-text]"))?.ends_with(" + FIN"));
        browser.screenshot("numbers-ss-lost-final-ack")?;
        Ok(())
    });
}

/// flow-control's client: while send() waits, the card's SendQ, the bar and the blocked
/// reason tell one story. SendQ may stand above SO_SNDBUF, and the card says by how much; the
/// level send() waits for is one SendQ stays above while it waits, and the call's line reads
/// the same SendQ as the bar.
#[test]
fn numbers_flow_control_sendq_agrees_with_the_blocked_send() {
    run("numbers_flow_control", 1280, 1000, |browser, base| {
        browser.open(&at(base, "?s=flow-control"))?;
        let client_sendq = "[data-testid=socket][data-host=client] [data-testid=sendq]";
        // The reason the client's send() gives while it waits, or null.
        let send_reason = "const call = document.querySelector(
               '[data-testid=process][data-process=client] [data-testid=call][data-blocked=true]');
             return call && call.querySelector('code').textContent.startsWith('send(') ? call.textContent : null";
        step_until(browser, "the client's send() blocked", &format!("return (() => {{ {send_reason} }})() !== null"))?;
        assert_eq!(text_of(browser, &format!("{client_sendq} [data-testid=sendq-text]"))?, "9490 / 9216 B, 274 over");
        let fill_fits = browser.run(
            &format!(
                "const bar = document.querySelector('{client_sendq} .bar-fill');
                 return Number(bar.getAttribute('width')) <= 100 && document.querySelector('{client_sendq} .bar-limit') !== null"
            ),
            json!([]),
        )?;
        assert_eq!(fill_fits, json!(true), "the bar fills its track and marks the limit");
        browser.screenshot("numbers-flow-control-blocked")?;
        // A moment is settled when the next event happens later: within one instant an ACK
        // lowers SendQ one event before the writer it wakes copies more.
        let scenario = sockscope_engine::builtin::get("flow-control").ok_or("flow-control is built in")?;
        let trace = sockscope_engine::run(&scenario).map_err(|err| err.to_string())?.trace;
        let settled =
            |cursor: usize| trace.events.get(cursor).is_none_or(|next| next.t_us > trace.events[cursor - 1].t_us);
        let mut moments = 0;
        let mut counts = Vec::new();
        while let Some(reason) = browser.run(send_reason, json!([]))?.as_str().map(str::to_string) {
            let value: u64 = browser.attr(client_sendq, "data-value")?.unwrap_or_default().parse().unwrap_or(0);
            let level: u64 = reason
                .split("down to ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|level| level.parse().ok())
                .ok_or_else(|| format!("no level in `{reason}`"))?;
            let cursor = browser.cursor()?;
            if settled(cursor) {
                assert!(value > level, "event {cursor}: send() waits with SendQ at {value}, not above `{reason}`");
            }
            // The card's line reads the snapshot the bar reads: "SendQ holds N of C B".
            let holds: u64 = reason
                .split("SendQ holds ")
                .nth(1)
                .and_then(|rest| rest.split(' ').next())
                .and_then(|held| held.parse().ok())
                .ok_or_else(|| format!("no SendQ level in `{reason}`"))?;
            assert_eq!(holds, value, "event {cursor}: the call's line and the bar disagree: `{reason}`");
            if counts.last() != Some(&holds) {
                counts.push(holds);
            }
            moments += 1;
            let before = cursor;
            browser.press(RIGHT, false)?;
            browser.wait_for(
                "→ to step forward",
                "return Number(document.querySelector('[data-testid=position]').getAttribute('data-cursor')) > arguments[0]",
                json!(before),
            )?;
        }
        assert!(moments > 20, "send() was blocked for only {moments} steps");
        assert!(
            counts.len() > 1 && counts[0] == 9490,
            "the call's line follows SendQ as it drains and refills: {counts:?}"
        );
        Ok(())
    });
}

/// The bounding box of the first element matching `selector`, relative to the viewport.
fn rect(browser: &Browser, selector: &str) -> Result<Value> {
    browser.run(
        "const e = document.querySelector(arguments[0]); if (!e) return null;
         const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}",
        json!([selector]),
    )
}

/// The diagram's time is whole and inside its band at load and everywhere else; arrows that
/// start above the window keep their labels in view; several clients on one host have arrows
/// and sentences that say which connection they belong to.
#[test]
fn numbers_sequence_diagram_keeps_its_time_and_labels_in_view() {
    run("numbers_sequence_diagram", 1280, 1000, |browser, base| {
        browser.open(&at(base, "?s=lost-final-ack"))?;
        let within = |what: &str| -> Result<()> {
            let svg = rect(browser, "[data-testid=diagram] svg")?;
            let band = rect(browser, "[data-testid=diagram] .lane-band")?;
            let time = rect(browser, "[data-testid=now-time] text")?;
            let (svg, band, time) = (&svg, &band, &time);
            let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
            assert!(
                f(time, "top") >= f(band, "top") && f(time, "bottom") <= f(band, "bottom") + 0.5,
                "{what}: the time {time} is not inside the band {band}"
            );
            assert!(f(time, "left") >= f(svg, "left") && f(time, "right") <= f(svg, "right"), "{what}: {time} / {svg}");
            // No lane name shares its place.
            let overlaps = browser.run(
                "const t = document.querySelector('[data-testid=now-time] text').getBoundingClientRect();
                 return [...document.querySelectorAll('[data-testid=diagram] .lane-name')].some(n => {
                   const r = n.getBoundingClientRect();
                   return r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom; })",
                json!([]),
            )?;
            assert_eq!(overlaps, json!(false), "{what}: the time overlaps a lane name");
            Ok(())
        };
        within("at load")?;
        let text = text_of(browser, "[data-testid=now-time]")?;
        assert!(text.contains("t = 0.000000 s"), "{text}");
        // Far enough in that the diagram has scrolled: arrows that started above the window
        // show their labels in the visible part.
        for (name, events) in [("listen-queues", 110), ("linger-wait", 200)] {
            open_at(browser, base, name, events)?;
            within(&format!("{name} at event {events}"))?;
            let cut = browser.run(
                "const svg = document.querySelector('[data-testid=diagram] svg').getBoundingClientRect();
                 const band = document.querySelector('[data-testid=diagram] .lane-band').getBoundingClientRect();
                 let started_above = 0; const lost = [];
                 for (const seg of document.querySelectorAll('[data-testid=segment]')) {
                   const line = seg.querySelector('line').getBoundingClientRect();
                   if (line.top >= band.bottom || line.bottom <= band.bottom + 30) continue;
                   started_above += 1;
                   const label = seg.querySelector('text');
                   if (!label) { lost.push(seg.getAttribute('data-label')); continue; }
                   const r = label.getBoundingClientRect(); const middle = (r.top + r.bottom) / 2;
                   if (middle < band.bottom || middle > svg.bottom) lost.push(seg.getAttribute('data-label'));
                 }
                 return {started_above, lost}",
                json!([]),
            )?;
            assert!(cut["started_above"].as_u64().unwrap_or(0) > 0, "{name}: no arrow starts above the window: {cut}");
            assert_eq!(cut["lost"], json!([]), "{name}: arrows whose labels are out of view: {cut}");
        }
        browser.screenshot("numbers-diagram-scrolled")?;
        // listen-queues: three clients on one host.
        browser.open(&at(base, "?s=listen-queues"))?;
        step_until(
            browser,
            "client 3's SYN",
            "return [...document.querySelectorAll('[data-testid=segment]')].some(s => s.getAttribute('data-label').startsWith(':40003 S seq'))",
        )?;
        let narration = text_of(browser, "[data-testid=narration]")?;
        // The line reads "Step k of N: " and then the sentence.
        let sentence = narration.split_once(": ").map_or(narration.as_str(), |(_, sentence)| sentence);
        assert!(sentence.starts_with("clients (port 40003) sends SYN (seq "), "{narration}");
        let all = labels(browser)?;
        for port in ["40001", "40002", "40003"] {
            assert!(all.iter().any(|label| label.starts_with(&format!(":{port} S seq"))), "{all:?}");
        }
        browser.screenshot("numbers-listen-queues")?;
        Ok(())
    });
}
