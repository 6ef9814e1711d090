//! The page's address: `?s=<scenario>&t=<events>&embed=1#scenario=<packed JSON>`, and for
//! the studio's build `studio=1` with `play=1&now=<µs>` (the playground) or `fork=<faults>`
//! (a what-if fork, as a JSON array of the faults it adds); `predict=1` loads the studio's build
//! too, in predict mode, and so does `api=<origins>` (an embed that a course page drives).
//!
//! Everything here is untrusted text typed or pasted by anyone, so parsing never fails: an
//! unknown scenario, a malformed `t` or a broken fragment becomes a [`Notice`] shown in the
//! page, and the page falls back to the default scenario with the picker open.

/// Parameters of the page's address, percent-decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageQuery {
    pub scenario: Option<String>,
    pub t: Option<String>,
    pub layout: Layout,
    /// The packed custom scenario from `#scenario=...`, if any.
    pub packed: Option<String>,
    /// `studio=1`: the address asks for the studio's build (see static/boot.js).
    pub studio: bool,
    /// `play=1`: open the playground, with its clock at `now` (µs).
    pub play: bool,
    pub now: Option<String>,
    /// `fork=`: the faults a what-if fork adds, as JSON.
    pub fork: Option<String>,
    /// `predict=1`: predict mode (the studio's build asks before each step that matters).
    pub predict: bool,
    /// `api=`: the origins of the pages that may drive this one, an embed, with messages
    /// (see docs/embed.md); the studio's build answers them.
    pub api: Option<String>,
}

/// How the page is laid out: the whole page, or the compact view made for an iframe
/// (`embed=1`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    #[default]
    Full,
    Embedded,
}

/// A message for the reader about their address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice(pub String);

/// What to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    Builtin(String),
    /// A custom scenario packed in the fragment.
    Packed(String),
}

/// Splits `?a=b&c=d` (with or without the `?`) and `#scenario=...`.
pub fn parse_query(search: &str, hash: &str) -> PageQuery {
    let mut query = PageQuery::default();
    for pair in search.trim_start_matches('?').split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match percent_decode(key).as_str() {
            "s" => query.scenario = Some(value),
            "t" => query.t = Some(value),
            "embed" if matches!(value.as_str(), "0" | "false" | "no") => query.layout = Layout::Full,
            "embed" => query.layout = Layout::Embedded,
            "studio" => query.studio = value == "1",
            "play" => query.play = value == "1",
            "now" => query.now = Some(value),
            "fork" => query.fork = Some(value),
            "predict" => query.predict = value == "1",
            "api" => query.api = Some(value),
            _ => {}
        }
    }
    let hash = hash.trim_start_matches('#');
    if let Some(packed) = hash.strip_prefix("scenario=").or_else(|| hash.strip_prefix("pkt=")) {
        query.packed = Some(packed.to_string());
    } else if !hash.is_empty() {
        query.packed = Some(hash.to_string());
    }
    query
}

/// Decides which scenario to open. A packed scenario wins over `s`; an unknown `s` falls
/// back to `default` with a notice.
pub fn choose(query: &PageQuery, exists: impl Fn(&str) -> bool, default: &str) -> (Choice, Option<Notice>) {
    if let Some(packed) = &query.packed {
        return (Choice::Packed(packed.clone()), None);
    }
    match &query.scenario {
        None => (Choice::Builtin(default.to_string()), None),
        Some(name) if exists(name) => (Choice::Builtin(name.clone()), None),
        Some(name) => (
            Choice::Builtin(default.to_string()),
            Some(Notice(format!(
                "There is no built-in scenario called “{}”. {}",
                shorten(name),
                showing_instead(default, query.layout)
            ))),
        ),
    }
}

/// The notice for a link whose packed scenario cannot be opened, for `reason` (a phrase such
/// as "it is damaged (…)", with or without its full stop).
pub fn broken_link_notice(reason: &str, default: &str, layout: Layout) -> Notice {
    let reason = reason.trim_end().trim_end_matches('.');
    Notice(format!("The scenario in this link cannot be opened: {reason}. {}", showing_instead(default, layout)))
}

/// What the page shows instead of what the address asked for, and where to pick another: the
/// notices sit below the page's header, which holds the picker; the embedded view has none.
fn showing_instead(default: &str, layout: Layout) -> String {
    match layout {
        Layout::Full => format!("Showing “{default}” instead; pick another from the Scenario list above."),
        Layout::Embedded => format!("Showing “{default}” instead."),
    }
}

/// Where to start: `t` is the number of events applied, clamped to the trace's `len`.
pub fn start_cursor(t: Option<&str>, len: usize) -> (usize, Option<Notice>) {
    let Some(text) = t else { return (0, None) };
    let text = text.trim();
    if text.is_empty() {
        return (0, None);
    }
    if !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return (
            0,
            Some(Notice(format!(
                "“t={}” is not an event number (it counts events from 0). Starting at the beginning.",
                shorten(text)
            ))),
        );
    }
    // All digits: anything that does not fit a usize is past the end anyway.
    let wanted = text.parse::<usize>().unwrap_or(usize::MAX);
    (wanted.min(len), None)
}

/// The query string for a moment: `?s=name&t=42` (plus `&embed=1` for the compact view).
pub fn query_for(scenario: Option<&str>, cursor: usize, layout: Layout) -> String {
    let mut query = String::from("?");
    if let Some(name) = scenario {
        query.push_str("s=");
        query.push_str(&percent_encode(name));
        query.push('&');
    }
    query.push_str(&format!("t={cursor}"));
    if layout == Layout::Embedded {
        query.push_str("&embed=1");
    }
    query
}

/// The iframe snippet for embedding a moment of a scenario.
pub fn embed_snippet(page: &str, scenario: Option<&str>, cursor: usize, fragment: &str, title: &str) -> String {
    let title = title.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<iframe src=\"{page}{}{fragment}\" width=\"800\" height=\"500\" style=\"border:1px solid #8888;border-radius:6px\" \
         title=\"sockscope: {title}\" loading=\"lazy\"></iframe>",
        query_for(scenario, cursor, Layout::Embedded).replace('&', "&amp;")
    )
}

pub(crate) fn shorten(text: &str) -> String {
    sockscope_engine::format::clipped(text, 60)
}

pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => match (hex(bytes[index + 1]), hex(bytes[index + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    index += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|digit| digit as u8)
}

pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_address() {
        let cases = [
            ("", "", PageQuery::default()),
            (
                "?s=four-way-close&t=12",
                "",
                PageQuery { scenario: Some("four-way-close".into()), t: Some("12".into()), ..PageQuery::default() },
            ),
            (
                "?embed=1&s=a%20b",
                "",
                PageQuery { scenario: Some("a b".into()), layout: Layout::Embedded, ..PageQuery::default() },
            ),
            ("?embed=0", "#scenario=abc", PageQuery { packed: Some("abc".into()), ..PageQuery::default() }),
            ("s=x&&junk&t=", "#", PageQuery { scenario: Some("x".into()), t: Some("".into()), ..PageQuery::default() }),
            ("?s=%", "", PageQuery { scenario: Some("%".into()), ..PageQuery::default() }),
            ("?s=%4", "", PageQuery { scenario: Some("%4".into()), ..PageQuery::default() }),
            ("?s=%41%zz", "", PageQuery { scenario: Some("A%zz".into()), ..PageQuery::default() }),
            (
                "?studio=1&play=1&now=120000&t=9",
                "#scenario=abc",
                PageQuery {
                    t: Some("9".into()),
                    packed: Some("abc".into()),
                    studio: true,
                    play: true,
                    now: Some("120000".into()),
                    ..PageQuery::default()
                },
            ),
            (
                "?s=x&studio=yes&fork=%5B%7B%7D%5D",
                "",
                PageQuery { scenario: Some("x".into()), fork: Some("[{}]".into()), ..PageQuery::default() },
            ),
        ];
        for (search, hash, expected) in cases {
            assert_eq!(parse_query(search, hash), expected, "{search} {hash}");
        }
    }

    #[test]
    fn unknown_scenarios_fall_back_with_a_notice() {
        let exists = |name: &str| name == "three-way-handshake" || name == "tlpi-tcpdump";
        let default = "three-way-handshake";
        let (choice, notice) = choose(&parse_query("?s=tlpi-tcpdump", ""), exists, default);
        assert_eq!((choice, notice), (Choice::Builtin("tlpi-tcpdump".into()), None));
        let (choice, notice) = choose(&parse_query("?s=nope", ""), exists, default);
        assert_eq!(choice, Choice::Builtin(default.into()));
        assert_eq!(
            notice.unwrap().0,
            "There is no built-in scenario called “nope”. Showing “three-way-handshake” instead; pick another from \
             the Scenario list above."
        );
        let (_, notice) = choose(&parse_query("?s=nope&embed=1", ""), exists, default);
        assert_eq!(
            notice.unwrap().0,
            "There is no built-in scenario called “nope”. Showing “three-way-handshake” instead."
        );
        let (choice, _) = choose(&parse_query("?s=nope", "#scenario=xyz"), exists, default);
        assert_eq!(choice, Choice::Packed("xyz".into()));
        let (choice, notice) = choose(&parse_query("", ""), exists, default);
        assert_eq!((choice, notice), (Choice::Builtin(default.into()), None));
    }

    #[test]
    fn a_broken_link_says_why_in_sentences_and_where_the_picker_is() {
        // Whatever the reason's own punctuation, the notice reads as sentences, each with
        // its full stop, and points up to the picker in the header above it.
        for reason in ["it is damaged (its compressed data does not inflate)", "it does not parse: at hosts: bad."] {
            let Notice(text) = broken_link_notice(reason, "three-way-handshake", Layout::Full);
            let reason = reason.trim_end_matches('.');
            assert_eq!(
                text,
                format!(
                    "The scenario in this link cannot be opened: {reason}. Showing “three-way-handshake” \
                     instead; pick another from the Scenario list above."
                )
            );
        }
        let Notice(text) = broken_link_notice("it is cut short", "lifecycle", Layout::Embedded);
        assert_eq!(text, "The scenario in this link cannot be opened: it is cut short. Showing “lifecycle” instead.");
    }

    #[test]
    fn t_is_clamped_or_explained() {
        let cases: [(Option<&str>, usize, bool); 8] = [
            (None, 0, false),
            (Some("0"), 0, false),
            (Some("17"), 17, false),
            (Some("9999"), 100, false),
            (Some("99999999999999999999999999"), 100, false),
            (Some("-3"), 0, true),
            (Some("1e3"), 0, true),
            (Some("<b>"), 0, true),
        ];
        for (t, cursor, has_notice) in cases {
            let (got, notice) = start_cursor(t, 100);
            assert_eq!((got, notice.is_some()), (cursor, has_notice), "{t:?}");
        }
    }

    #[test]
    fn builds_links_and_embed_snippets() {
        assert_eq!(query_for(Some("four-way-close"), 7, Layout::Full), "?s=four-way-close&t=7");
        assert_eq!(query_for(None, 0, Layout::Embedded), "?t=0&embed=1");
        assert_eq!(query_for(Some("a b"), 1, Layout::Full), "?s=a%20b&t=1");
        let snippet = embed_snippet("https://x.org/", Some("lifecycle"), 3, "", "A <b> \"t\"");
        assert!(snippet.starts_with("<iframe src=\"https://x.org/?s=lifecycle&amp;t=3&amp;embed=1\""), "{snippet}");
        assert!(snippet.contains("title=\"sockscope: A &lt;b&gt; &quot;t&quot;\""), "{snippet}");
        assert!(snippet.contains("width=\"800\" height=\"500\""));
    }
}
