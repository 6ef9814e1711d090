//! A small WebDriver client for the page's end-to-end tests and benchmarks.
//!
//! It starts Debian's chromedriver on a free port, opens one headless Chromium session with a
//! fresh profile, and speaks the W3C WebDriver protocol as JSON over plain HTTP/1.1 with
//! `std::net`, so the tests need no async runtime. Waiting is always polling a condition
//! against a deadline, never sleeping for a fixed time.
//!
//! The tests read the served page's address from `SOCKSCOPE_URL` (set by `cargo xtask test`);
//! without it they print why they skip and pass, so that a plain `cargo test --workspace`
//! works on a machine without a browser.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

pub type Result<T> = std::result::Result<T, String>;

/// How long any single condition may take to become true.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The page under test, or `None` (after printing why) when `SOCKSCOPE_URL` is unset.
pub fn page_url(test: &str) -> Option<String> {
    match std::env::var("SOCKSCOPE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            println!(
                "skipping {test}: SOCKSCOPE_URL is not set. Run `cargo xtask test` (or serve frontend/dist and set \
                 SOCKSCOPE_URL) to run the browser tests."
            );
            None
        }
    }
}

/// Joins the page's address and a query such as `?s=four-way-close`.
pub fn at(base: &str, query: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), if query.is_empty() { "/".to_string() } else { format!("/{query}") })
}

/// How a file reaches the page in [`Browser::give_file`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileRoute {
    Dropped,
    Picked,
}

/// A running chromedriver with one browser session; both end when it is dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    profile: PathBuf,
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|addr| addr.port()).map_err(|e| e.to_string())
}

impl Browser {
    /// Starts chromedriver and a headless Chromium whose window is `width` x `height`.
    pub fn start(width: u32, height: u32) -> Result<Browser> {
        let chromedriver = std::env::var("SOCKSCOPE_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("SOCKSCOPE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port()?;
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {chromedriver}: {e}"))?;
        let profile = std::env::temp_dir().join(format!("sockscope-e2e-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).map_err(|e| format!("cannot create {}: {e}", profile.display()))?;
        let mut browser = Browser { driver, port, session: String::new(), profile };
        let started = Instant::now();
        loop {
            if let Ok(status) = browser.request("GET", "/status", None) {
                if status["value"]["ready"].as_bool() == Some(true) {
                    break;
                }
            }
            if started.elapsed() > DEADLINE {
                return Err(format!("chromedriver on port {port} did not become ready"));
            }
            std::thread::yield_now();
        }
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", browser.profile.display()),
        ];
        let capabilities = json!({
            "capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:loggingPrefs": {"browser": "ALL"},
                "goog:chromeOptions": {"binary": chromium, "args": args}
            }}
        });
        let created = browser.request("POST", "/session", Some(&capabilities))?;
        browser.session = created["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("chromedriver did not create a session: {created}"))?
            .to_string();
        Ok(browser)
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| format!("cannot reach chromedriver: {e}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(120))).map_err(|e| e.to_string())?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()))
            .map_err(|e| e.to_string())?;
        let (head, payload) =
            read_response(&mut stream).map_err(|e| format!("reading chromedriver's answer to {path}: {e}"))?;
        let value: Value = serde_json::from_slice(&payload)
            .map_err(|e| format!("chromedriver answered {path} with something that is not JSON ({e}): {head}"))?;
        if !head.starts_with("HTTP/1.1 200") {
            return Err(format!(
                "{method} {path} failed: {}",
                value["value"]["message"].as_str().unwrap_or(&value.to_string())
            ));
        }
        Ok(value)
    }

    fn session_path(&self, tail: &str) -> String {
        format!("/session/{}{tail}", self.session)
    }

    pub fn goto(&self, url: &str) -> Result<()> {
        self.request("POST", &self.session_path("/url"), Some(&json!({ "url": url }))).map(|_| ())
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn run(&self, script: &str, args: Value) -> Result<Value> {
        let args = if args.is_array() { args } else { Value::Array(vec![args]) };
        let value =
            self.request("POST", &self.session_path("/execute/sync"), Some(&json!({"script": script, "args": args})))?;
        Ok(value["value"].clone())
    }

    /// Runs an async script: it must call `arguments[arguments.length - 1](result)`.
    pub fn run_async(&self, script: &str, args: Value) -> Result<Value> {
        let args = if args.is_array() { args } else { Value::Array(vec![args]) };
        self.request("POST", &self.session_path("/timeouts"), Some(&json!({"script": 120_000})))?;
        let value =
            self.request("POST", &self.session_path("/execute/async"), Some(&json!({"script": script, "args": args})))?;
        Ok(value["value"].clone())
    }

    /// Polls `script` until it returns something other than `null`/`false`, or fails after
    /// [`DEADLINE`] with `what` and the last value seen.
    pub fn wait_for(&self, what: &str, script: &str, args: Value) -> Result<Value> {
        let started = Instant::now();
        loop {
            let value = self.run(script, args.clone())?;
            if !value.is_null() && value != Value::Bool(false) {
                return Ok(value);
            }
            if started.elapsed() > DEADLINE {
                return Err(format!("timed out after {DEADLINE:?} waiting for {what}"));
            }
        }
    }

    /// Polls `script` like [`Browser::wait_for`], across a navigation: a poll that fails
    /// because the old page is gone counts as not yet.
    pub fn wait_across_navigation(&self, what: &str, script: &str) -> Result<Value> {
        let started = Instant::now();
        loop {
            if let Ok(value) = self.run(script, json!([])) {
                if !value.is_null() && value != Value::Bool(false) {
                    return Ok(value);
                }
            }
            if started.elapsed() > DEADLINE {
                return Err(format!("timed out after {DEADLINE:?} waiting for {what}"));
            }
        }
    }

    /// Gives the page a file called `name` holding `body` (text, or an array of byte values),
    /// as a reader would: dropped on the page (on the diagram when there is one), or picked
    /// with "Open a file…".
    pub fn give_file(&self, name: &str, body: Value, route: FileRoute) -> Result<()> {
        self.run(
            "const body = Array.isArray(arguments[1]) ? new Uint8Array(arguments[1]) : arguments[1];
             const dt = new DataTransfer();
             dt.items.add(new File([body], arguments[0]));
             if (arguments[2] === 'picked') {
                 const input = document.querySelector('[data-testid=open-file]');
                 input.files = dt.files;
                 input.dispatchEvent(new Event('change', {bubbles: true}));
             } else {
                 const target = document.querySelector('[data-testid=diagram]') || document.body;
                 target.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
                 target.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
             }",
            json!([
                name,
                body,
                match route {
                    FileRoute::Dropped => "dropped",
                    FileRoute::Picked => "picked",
                }
            ]),
        )
        .map(drop)
    }

    /// Opens a page and waits until the app has rendered.
    pub fn open(&self, url: &str) -> Result<()> {
        // A blank page first, so that the page always loads afresh: an address that differs
        // from the current one only after `#` would otherwise be a same-document navigation,
        // and the wait below could see the previous page's app.
        self.goto("about:blank")?;
        self.goto(url)?;
        self.wait_for(
            "the app to render",
            "return document.querySelector('[data-testid=app]') !== null || document.getElementById('panic') !== null",
            json!([]),
        )?;
        if let Some(panic) = self.text("#panic")? {
            return Err(format!("the page panicked: {panic}"));
        }
        Ok(())
    }

    /// The text of the first element matching `selector`, or `None`.
    pub fn text(&self, selector: &str) -> Result<Option<String>> {
        let value = self.run(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null",
            json!([selector]),
        )?;
        Ok(value.as_str().map(str::to_string))
    }

    /// An attribute of the first element matching `selector`.
    pub fn attr(&self, selector: &str, name: &str) -> Result<Option<String>> {
        let value = self.run(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null",
            json!([selector, name]),
        )?;
        Ok(value.as_str().map(str::to_string))
    }

    /// The viewport rectangle of the first element matching `selector` as `[top, bottom,
    /// left, right]` in CSS pixels, or `None` when nothing matches or it is not displayed.
    pub fn rect(&self, selector: &str) -> Result<Option<[f64; 4]>> {
        let value = self.run(
            "const e = document.querySelector(arguments[0]); if (!e) return null;
             const r = e.getBoundingClientRect(); if (r.width === 0 && r.height === 0) return null;
             return [r.top, r.bottom, r.left, r.right]",
            json!([selector]),
        )?;
        let Some(edges) = value.as_array() else { return Ok(None) };
        let edge = |i: usize| edges.get(i).and_then(Value::as_f64).unwrap_or(f64::NAN);
        Ok(Some([edge(0), edge(1), edge(2), edge(3)]))
    }

    /// How many events the page shows as applied.
    pub fn cursor(&self) -> Result<usize> {
        let value = self.attr("[data-testid=position]", "data-cursor")?.ok_or("the page shows no position")?;
        value.parse().map_err(|_| format!("data-cursor is `{value}`"))
    }

    pub fn trace_len(&self) -> Result<usize> {
        let value = self.attr("[data-testid=position]", "data-len")?.ok_or("the page shows no position")?;
        value.parse().map_err(|_| format!("data-len is `{value}`"))
    }

    /// Presses a key (a WebDriver key code such as `\u{E014}` for →), optionally with Shift.
    pub fn press(&self, key: &str, shift: bool) -> Result<()> {
        let mut actions = Vec::new();
        if shift {
            actions.push(json!({"type": "keyDown", "value": "\u{E008}"}));
        }
        actions.push(json!({"type": "keyDown", "value": key}));
        actions.push(json!({"type": "keyUp", "value": key}));
        if shift {
            actions.push(json!({"type": "keyUp", "value": "\u{E008}"}));
        }
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.request("POST", &self.session_path("/actions"), Some(&body))?;
        self.request("DELETE", &self.session_path("/actions"), None).map(|_| ())
    }

    /// Clicks the element matching `selector` (through the DOM, like a user's click).
    pub fn click(&self, selector: &str) -> Result<()> {
        let found = self.run(
            "const e = document.querySelector(arguments[0]); if (!e) return false; e.click(); return true",
            json!([selector]),
        )?;
        if found == Value::Bool(true) {
            Ok(())
        } else {
            Err(format!("no element matches {selector}"))
        }
    }

    pub fn set_window(&self, width: u32, height: u32) -> Result<()> {
        self.request("POST", &self.session_path("/window/rect"), Some(&json!({"width": width, "height": height})))
            .map(|_| ())
    }

    /// Saves a PNG of the viewport to `target/screenshots/<name>.png` and returns its path.
    pub fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let value = self.request("GET", &self.session_path("/screenshot"), None)?;
        let encoded = value["value"].as_str().ok_or("the screenshot is not a string")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|err| format!("the screenshot is not base64: {err}"))?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("screenshot: {}", path.display());
        Ok(path)
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver, e.g.
    /// `Emulation.setEmulatedMedia` to show the page in the dark theme.
    pub fn cdp(&self, command: &str, params: Value) -> Result<Value> {
        let body = json!({ "cmd": command, "params": params });
        self.request("POST", &self.session_path("/goog/cdp/execute"), Some(&body)).map(|value| value["value"].clone())
    }

    /// Severe messages from the browser's console since the last call.
    pub fn console_errors(&self) -> Result<Vec<String>> {
        let value = self.request("POST", &self.session_path("/se/log"), Some(&json!({"type": "browser"})));
        let Ok(value) = value else { return Ok(Vec::new()) };
        Ok(value["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|entry| entry["level"] == "SEVERE")
                    .filter_map(|entry| entry["message"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `$CARGO_TARGET_DIR/screenshots`, or `<workspace>/target/screenshots` without it.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join("target"));
    target.join("screenshots")
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|pair| pair == b"\r\n").ok_or("bad chunked encoding")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| format!("bad chunk size `{size_text}`"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Packs scenario text for the page's `#scenario=` fragment: raw deflate, base64url.
pub fn pack_scenario(text: &str) -> String {
    let bytes = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Fetches a URL from the static server with a plain HTTP/1.1 GET and returns the body.
pub fn http_get(url: &str) -> Result<Vec<u8>> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url} is not http://"))?;
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(host, path)| (host, format!("/{path}")));
    let mut stream = TcpStream::connect(host).map_err(|e| format!("cannot reach {host}: {e}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let (head, body) = read_response(&mut stream)?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(format!("GET {url}: {}", head.lines().next().unwrap_or("")));
    }
    Ok(body)
}

/// Reads one HTTP response: the head, then a body of `Content-Length` bytes, chunks, or
/// everything until the server closes. chromedriver keeps the connection open after its
/// answer even when asked to close, so the length must be honoured.
fn read_response(stream: &mut TcpStream) -> Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let split = loop {
        if let Some(split) = data.windows(4).position(|window| window == b"\r\n\r\n") {
            break split;
        }
        let read = stream.read(&mut buffer).map_err(|e| e.to_string())?;
        if read == 0 {
            return Err("the connection closed before the answer's head ended".into());
        }
        data.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&data[..split]).to_string();
    let mut body = data[split + 4..].to_vec();
    let lower = head.to_ascii_lowercase();
    let length = lower
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse::<usize>().ok());
    match length {
        Some(length) => {
            while body.len() < length {
                let read = stream.read(&mut buffer).map_err(|e| e.to_string())?;
                if read == 0 {
                    return Err(format!("the answer ended after {} of {length} bytes", body.len()));
                }
                body.extend_from_slice(&buffer[..read]);
            }
            body.truncate(length);
        }
        None => {
            stream.read_to_end(&mut body).map_err(|e| e.to_string())?;
            if lower.contains("transfer-encoding: chunked") {
                body = dechunk(&body)?;
            }
        }
    }
    Ok((head, body))
}

/// The size of `data` as `gzip -9` would send it: a deflate stream plus gzip's 18 bytes of
/// header and trailer.
pub fn gzip_size(data: &[u8]) -> usize {
    miniz_oxide::deflate::compress_to_vec(data, 9).len() + 18
}

/// A percentile of already sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_decode_and_rank() {
        assert_eq!(dechunk(b"3\r\nfoo\r\n3\r\nbar\r\n0\r\n\r\n").unwrap(), b"foobar");
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(at("http://x:1/", "?s=a"), "http://x:1/?s=a");
    }
}

/// WebDriver's codes for the keys the tests press.
pub mod keys {
    pub const RIGHT: &str = "\u{E014}";
    pub const LEFT: &str = "\u{E012}";
    pub const HOME: &str = "\u{E011}";
    pub const END: &str = "\u{E010}";
    pub const SPACE: &str = "\u{E00D}";
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
}

/// Runs one browser test: a fresh browser of `width` x `height`, the page's address, and the
/// test's body; a failure leaves a screenshot named after the test, and any error the page
/// wrote to the console fails the test too. Skips (returns) when no page is served.
pub fn run(test: &str, width: u32, height: u32, body: impl FnOnce(&Browser, &str) -> Result<()>) {
    let Some(base) = page_url(test) else { return };
    let browser = Browser::start(width, height).unwrap_or_else(|err| panic!("{test}: cannot start the browser: {err}"));
    if let Err(err) = body(&browser, &base) {
        let _ = browser.screenshot(&format!("failed-{test}"));
        panic!("{test}: {err}");
    }
    let errors = browser.console_errors().unwrap_or_default();
    assert!(errors.is_empty(), "{test}: the browser console reported errors: {errors:#?}");
}

/// Presses → until `condition` (a script returning true) holds, checking that every press
/// moves the cursor forward (by one step: the events of one narrated change).
pub fn step_until(browser: &Browser, what: &str, condition: &str) -> Result<()> {
    let len = browser.trace_len()?;
    loop {
        if browser.run(condition, json!([]))? == json!(true) {
            return Ok(());
        }
        let before = browser.cursor()?;
        if before >= len {
            return Err(format!("reached the end of the trace without seeing {what}"));
        }
        browser.press(keys::RIGHT, false)?;
        browser.wait_for(
            "→ to step forward",
            "return Number(document.querySelector('[data-testid=position]').getAttribute('data-cursor')) > arguments[0]",
            json!(before),
        )?;
    }
}
