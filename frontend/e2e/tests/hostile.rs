//! The page under hostile input: mutated scenarios and packetdrill scripts pasted into the
//! editor, mutated addresses and fragments, and dropped files that are not what they claim.
//! Whatever comes, the page never shows the panic banner, never runs the text as markup or
//! script (titles, narration and script lines with `<script>`, `<img onerror>` and
//! `javascript:` stay text), and never freezes: each input is answered within the harness's
//! deadline. The inputs are drawn from a fixed seed, so a failure names an input that can be
//! replayed. `SOCKSCOPE_HOSTILE=N` multiplies the number of inputs (CI runs the default).

use serde_json::{json, Value};
use sockscope_frontend_e2e::{at, pack_scenario, run, Browser, FileRoute, Result};

/// Markup and script a reader might paste or a link might carry.
const PAYLOADS: &[&str] = &[
    "<script>window.pwned = 1</script>",
    "<img src=x onerror=\"window.pwned = 1\">",
    "javascript:window.pwned=1",
    "\"><svg onload=\"window.pwned=1\">",
    "</textarea><b id=\"injected\">bold</b>",
    "&lt;&#x3C;\u{202e}\u{0}\u{ffff}",
];

const SCRIPT: &str = include_str!("../../../engine/tests/packetdrill/server-handshake-write-close.pkt");

/// SplitMix64: the inputs are the same on every run.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn payload(&mut self) -> &'static str {
        PAYLOADS[self.below(PAYLOADS.len())]
    }

    /// `text` with a few bytes changed, cut, doubled or spliced with a payload.
    fn mutate(&mut self, text: &str) -> String {
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..=self.below(4) {
            let at = self.below(bytes.len() + 1);
            match self.below(5) {
                0 if !bytes.is_empty() => {
                    let (index, byte) = (at.min(bytes.len() - 1), self.next() as u8);
                    bytes[index] = byte;
                }
                1 => bytes.truncate(at),
                2 => bytes.splice(at..at, self.payload().bytes()).for_each(drop),
                3 => {
                    let copy = bytes[at..].to_vec();
                    bytes.extend(copy);
                }
                _ => bytes
                    .splice(at..at, [b'{', b'[', b'"', b'\\', b'0'][self.below(5)..].iter().copied())
                    .for_each(drop),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn scale() -> usize {
    std::env::var("SOCKSCOPE_HOSTILE").ok().and_then(|n| n.parse().ok()).filter(|&n: &usize| n > 0).unwrap_or(1)
}

/// Scenario texts with payloads in every string a reader sees: title, description, notes.
fn scenario_with_payloads(draw: &mut Draw) -> String {
    let source = sockscope_engine::builtin::source("four-way-close").expect("built in");
    let mut scenario: Value = serde_json::from_str(source).expect("parses");
    scenario["title"] = json!(draw.payload());
    scenario["description"] = json!(draw.payload());
    if let Some(steps) = scenario["processes"][0]["steps"].as_array_mut() {
        for step in steps {
            step["note"] = json!(draw.payload());
        }
    }
    scenario.to_string()
}

/// The page is alive, shows no panic banner, and nothing it read ran as markup or script.
fn still_safe(browser: &Browser, input: &str) -> Result<()> {
    let state = browser.run(
        "return {
            panic: document.getElementById('panic') !== null,
            pwned: window.pwned !== undefined,
            markup: document.querySelector('#app script, #app img[src=x], #app svg[onload], #injected') !== null,
            app: document.querySelector('[data-testid=app]') !== null,
        }",
        json!([]),
    )?;
    if state["panic"] == json!(true) || state["pwned"] == json!(true) || state["markup"] == json!(true) {
        return Err(format!("after the input {input:?} the page says {state}"));
    }
    if state["app"] != json!(true) {
        return Err(format!("after the input {input:?} the page has no app: {state}"));
    }
    Ok(())
}

#[test]
fn hostile_text_in_the_editor_never_panics_or_runs() {
    run("hostile_editor", 1280, 900, |browser, base| {
        browser.open(&at(base, "?studio=1&s=three-way-handshake"))?;
        let mut draw = Draw(0x5eed_0001);
        let count = 120 * scale();
        for index in 0..count {
            let text = match index % 4 {
                0 => scenario_with_payloads(&mut draw),
                1 => {
                    let scenario = scenario_with_payloads(&mut draw);
                    draw.mutate(&scenario)
                }
                2 => draw.mutate(SCRIPT),
                _ => format!("// {}\n{}", draw.payload(), draw.mutate(SCRIPT)),
            };
            let before = browser.text("[data-testid=editor-note]")?.unwrap_or_default();
            browser.run(
                "document.querySelector('[data-testid=editor]').value = arguments[0];
                 document.querySelector('[data-testid=run-custom]').click();",
                json!([text]),
            )?;
            // The editor answers in its note; two inputs in a row may get the same answer, so
            // an unchanged note is accepted after a moment.
            let started = std::time::Instant::now();
            let mut note = before.clone();
            while note == before && started.elapsed() < std::time::Duration::from_millis(1500) {
                note = browser.text("[data-testid=editor-note]")?.unwrap_or_default();
            }
            still_safe(browser, &text)?;
            if index % 4 == 0 && note.starts_with("Ran") {
                // The scenario's title is a payload: it must show as text, angle brackets and all.
                let title = browser.text("h1[data-testid=title]")?.unwrap_or_default();
                let payload: Value =
                    serde_json::from_str::<Value>(&text).map_err(|err| err.to_string())?["title"].clone();
                let payload = payload.as_str().unwrap_or_default();
                if payload.starts_with('<') && !title.starts_with('<') {
                    return Err(format!("the title {payload:?} shows as {title:?}"));
                }
            }
        }
        println!("hostile editor: {count} inputs, no panic, nothing run as markup");
        Ok(())
    });
}

#[test]
fn hostile_addresses_and_files_never_panic_or_run() {
    run("hostile_addresses", 1280, 900, |browser, base| {
        let mut draw = Draw(0x5eed_0002);
        let count = 24 * scale();
        for index in 0..count {
            let packed = pack_scenario(&scenario_with_payloads(&mut draw));
            let junk = draw.mutate(&packed);
            let address = match index % 6 {
                0 => format!("?t={}#scenario={junk}", draw.mutate("12")),
                1 => format!("?studio=1#pkt={}", draw.mutate(&pack_scenario(SCRIPT))),
                2 => format!("?s={}&t={}", urlish(draw.payload()), draw.next()),
                3 => format!(
                    "?studio=1&s=four-way-close&fork={}",
                    urlish(&draw.mutate("[{\"fault\":\"drop\",\"match\":{\"from\":\"client\"},\"nth\":1}]"))
                ),
                4 => format!("?api={}&embed=1", urlish(draw.payload())),
                _ => format!(
                    "?predict=1&s=four-way-close#scenario={}",
                    pack_scenario(&scenario_with_payloads(&mut draw))
                ),
            };
            browser.open(&at(base, &address))?;
            still_safe(browser, &address)?;
        }
        // Files dropped on the page: binary, huge, or scripts whose comments are payloads.
        for index in 0..(6 * scale()) {
            browser.open(&at(base, "?s=three-way-handshake"))?;
            let (name, body): (&str, Value) = match index % 3 {
                0 => ("capture.pcap", json!([0xd4, 0xc3, 0xb2, 0xa1, 0, 0, draw.next() as u8])),
                1 => ("big.json", json!("{".repeat(1 << 21))),
                _ => ("payload.pkt", json!(format!("// {}\n{}", draw.payload(), draw.mutate(SCRIPT)))),
            };
            browser.give_file(name, body, FileRoute::Dropped)?;
            // Refused with a note, or opened: either way the page answers and stays safe.
            browser.wait_across_navigation(
                &format!("an answer to the dropped {name}"),
                "return document.getElementById('open-file-note') !== null && !document.getElementById('open-file-note').textContent.startsWith('Opening')
                    || (location.hash.length > 1 && document.querySelector('[data-testid=app]') !== null)",
            )?;
            still_safe(browser, name)?;
        }
        println!(
            "hostile addresses: {count} addresses and {} dropped files, no panic, nothing run as markup",
            6 * scale()
        );
        Ok(())
    });
}

/// `text` percent-encoded as an address parameter carries it.
fn urlish(text: &str) -> String {
    text.bytes()
        .map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") })
        .collect()
}
