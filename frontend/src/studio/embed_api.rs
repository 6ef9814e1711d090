//! The embedding API's language: what a course page may ask an embedded sockscope to do
//! ([`Command`]), what the embed tells it back ([`Report`]), and who may talk to it
//! ([`Origins`]). Pure, so that every message shape is tested natively; `embed_port.rs` is the
//! browser's side. docs/embed.md is the course author's description of the same.
//!
//! A message is ours when it is an object with `"sockscope": 1`; anything else on the window
//! (another library's messages, a browser extension's) is not answered at all. A message of
//! ours that cannot be read is answered with a [`Report::Rejected`] saying why, so that the
//! course author sees the mistake; it changes nothing.

use serde::{Deserialize, Serialize};

/// The version of the language, carried by every message in both directions.
pub const VERSION: u64 = 1;

/// The longest message read, in bytes of JSON: a packed scenario is at most a few hundred
/// kilobytes, and a page should not be made to parse more.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// What a course page asks for.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Open a built-in scenario by name, or a custom one as a link's packed `#scenario=`
    /// fragment: exactly one of the two.
    Open {
        #[serde(default)]
        scenario: Option<String>,
        #[serde(default)]
        packed: Option<String>,
    },
    /// Go to the end of step `step` (0 is the start), or to the moment `time_ms` of simulated
    /// time: exactly one of the two.
    Seek {
        #[serde(default)]
        step: Option<usize>,
        #[serde(default)]
        time_ms: Option<f64>,
    },
    // Empty braces rather than unit variants: serde lets a unit variant of an internally
    // tagged enum carry any other field, and a message with a misspelt field should be told.
    Play {},
    Pause {},
    /// One of the speeds the player offers (0.25 to 16 times real time).
    Speed {
        speed: f64,
    },
    /// Turn predict mode on or off.
    Predict {
        on: bool,
    },
    /// Say where the player is now (answered with a [`Report::Moment`]).
    Status {},
}

/// What the embed tells the course page.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Report {
    /// The embed listens: the page may send commands from now on.
    Ready,
    /// A scenario is on screen: the first, or one opened since.
    Opened {
        /// The built-in scenario's name; none for a custom one.
        #[serde(skip_serializing_if = "Option::is_none")]
        scenario: Option<String>,
        title: String,
        steps: usize,
        duration_ms: f64,
    },
    /// The moment shown changed, or playback started or stopped.
    Moment { step: usize, steps: usize, time_ms: f64, playing: bool, speed: f64 },
    /// A question of predict mode was answered.
    Answer { question: String, chosen: String, answer: String, correct: bool, why: String, right: usize, asked: usize },
    /// The run's last step is on screen.
    End { reason: String },
    /// A message of ours could not be followed, for this reason; nothing changed.
    Rejected { reason: String },
}

/// A report as it goes out: the version beside the report's own fields.
#[derive(Serialize)]
struct Envelope<'a> {
    sockscope: u64,
    #[serde(flatten)]
    report: &'a Report,
}

impl Report {
    /// The report as JSON text.
    pub fn to_json(&self) -> String {
        // A plain tree of strings and numbers always serializes.
        serde_json::to_string(&Envelope { sockscope: VERSION, report: self }).unwrap_or_default()
    }
}

/// Reads a message's JSON text: `Ok(None)` when it is not a message of ours, `Err` with the
/// reason when it is ours and cannot be followed.
pub fn read(text: &str) -> Result<Option<Command>, String> {
    if text.len() > MAX_MESSAGE_BYTES {
        // Too long to parse; it can only be ours if it says so early on.
        return if text.contains("\"sockscope\"") {
            Err(format!("the message is {} bytes long; at most {MAX_MESSAGE_BYTES} are read", text.len()))
        } else {
            Ok(None)
        };
    }
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(None);
    };
    let Some(version) = fields.remove("sockscope") else { return Ok(None) };
    if version.as_u64() != Some(VERSION) {
        return Err(format!(
            "this sockscope speaks version {VERSION} of the embedding API, and the message says {version}"
        ));
    }
    let command: Command = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|err| format!("the message cannot be read: {err}"))?;
    check(&command)?;
    Ok(Some(command))
}

/// The rules serde cannot say: one of two fields, and speeds the player has.
fn check(command: &Command) -> Result<(), String> {
    match command {
        Command::Open { scenario: Some(_), packed: Some(_) } | Command::Open { scenario: None, packed: None } => {
            Err("an open message names either a built-in `scenario` or a `packed` one, not both or neither".into())
        }
        Command::Seek { step: Some(_), time_ms: Some(_) } | Command::Seek { step: None, time_ms: None } => {
            Err("a seek message gives either a `step` or a `time_ms`, not both or neither".into())
        }
        Command::Seek { time_ms: Some(time), .. } if !time.is_finite() || *time < 0.0 => {
            Err(format!("`time_ms` is a moment of the run, at 0 or after, not {time}"))
        }
        Command::Speed { speed } if !crate::playback::SPEEDS.contains(speed) => {
            Err(format!("the player's speeds are {}, not {speed}", crate::playback::SPEED_TEXT.join(", ")))
        }
        _ => Ok(()),
    }
}

/// The origins an embed takes commands from and sends its reports to, as the embedding page
/// wrote them in the iframe's address (`api=https://course.example,https://other.example`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins(Vec<String>);

impl Origins {
    /// The origins `text` lists, and a sentence for each entry that is not one. `*` and
    /// `null` are refused: either would let any page (a sandboxed frame's origin is `null`)
    /// drive the embed and read what its reader answers.
    pub fn parse(text: &str) -> (Origins, Vec<String>) {
        let mut origins = Vec::new();
        let mut refused = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            match origin(entry) {
                Some(origin) if !origins.contains(&origin) => origins.push(origin),
                Some(_) => {}
                None => refused.push(format!(
                    "The address's api= lists “{}”, which is not an origin such as https://course.example; the embedding API ignores it.",
                    crate::url::shorten(entry)
                )),
            }
        }
        (Origins(origins), refused)
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `entry` as the browser writes an origin (`scheme://host[:port]`, lower case, no path), or
/// none when it is not one.
fn origin(entry: &str) -> Option<String> {
    let entry = entry.trim_end_matches('/');
    let (scheme, rest) = entry.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") || rest.is_empty() {
        return None;
    }
    let host_ok = rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    host_ok.then(|| format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_ours_are_read() {
        let cases = [
            (r#"{"sockscope":1,"type":"play"}"#, Command::Play {}),
            (r#"{"sockscope":1,"type":"pause"}"#, Command::Pause {}),
            (r#"{"sockscope":1,"type":"status"}"#, Command::Status {}),
            (r#"{"sockscope":1,"type":"speed","speed":0.25}"#, Command::Speed { speed: 0.25 }),
            (r#"{"sockscope":1,"type":"predict","on":true}"#, Command::Predict { on: true }),
            (r#"{"sockscope":1,"type":"seek","step":3}"#, Command::Seek { step: Some(3), time_ms: None }),
            (r#"{"sockscope":1,"type":"seek","time_ms":40.5}"#, Command::Seek { step: None, time_ms: Some(40.5) }),
            (
                r#"{"sockscope":1,"type":"open","scenario":"four-way-close"}"#,
                Command::Open { scenario: Some("four-way-close".into()), packed: None },
            ),
            (
                r#"{"sockscope":1,"type":"open","packed":"eJx"}"#,
                Command::Open { scenario: None, packed: Some("eJx".into()) },
            ),
        ];
        for (text, command) in cases {
            assert_eq!(read(text), Ok(Some(command)), "{text}");
        }
    }

    #[test]
    fn messages_of_others_are_not_answered() {
        for text in ["", "null", "42", r#""play""#, "[1,2]", r#"{"type":"play"}"#, "{not json", r#"{"webpack":1}"#] {
            assert_eq!(read(text), Ok(None), "{text}");
        }
        assert_eq!(read(&format!("\"{}\"", "x".repeat(MAX_MESSAGE_BYTES + 1))), Ok(None));
    }

    #[test]
    fn messages_of_the_wrong_shape_are_rejected_with_a_reason() {
        let cases = [
            (r#"{"sockscope":2,"type":"play"}"#, "version 1"),
            (r#"{"sockscope":1}"#, "type"),
            (r#"{"sockscope":1,"type":"dance"}"#, "dance"),
            (r#"{"sockscope":1,"type":"play","now":true}"#, "now"),
            (r#"{"sockscope":1,"type":"speed","speed":3}"#, "0.25, 0.5, 1, 2, 4, 8, 16"),
            (r#"{"sockscope":1,"type":"speed","speed":"fast"}"#, "\"fast\""),
            (r#"{"sockscope":1,"type":"seek"}"#, "either"),
            (r#"{"sockscope":1,"type":"seek","step":1,"time_ms":3}"#, "either"),
            (r#"{"sockscope":1,"type":"seek","time_ms":-1}"#, "at 0 or after"),
            (r#"{"sockscope":1,"type":"seek","step":-1}"#, "-1"),
            (r#"{"sockscope":1,"type":"open"}"#, "either"),
            (r#"{"sockscope":1,"type":"open","scenario":"a","packed":"b"}"#, "either"),
            (r#"{"sockscope":1,"type":"predict","on":"yes"}"#, "\"yes\""),
        ];
        for (text, wanted) in cases {
            let reason = read(text).expect_err(text);
            assert!(reason.contains(wanted), "{text}: {reason}");
        }
        let long = format!(r#"{{"sockscope":1,"type":"open","packed":"{}"}}"#, "A".repeat(MAX_MESSAGE_BYTES));
        assert!(read(&long).expect_err("too long").contains("bytes long"));
    }

    #[test]
    fn reports_carry_the_version_and_their_fields() {
        let text = Report::Moment { step: 2, steps: 9, time_ms: 20.0, playing: false, speed: 1.0 }.to_json();
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["sockscope"], 1);
        assert_eq!(value["type"], "moment");
        assert_eq!(value["step"], 2);
        let opened = Report::Opened { scenario: None, title: "t".into(), steps: 1, duration_ms: 0.0 }.to_json();
        assert!(!opened.contains("scenario\""), "{opened}");
    }

    #[test]
    fn only_listed_origins_are_allowed() {
        let (origins, refused) =
            Origins::parse("https://Course.example, http://localhost:8080/,*,null,ftp://x,https://a/b");
        assert_eq!(origins.iter().collect::<Vec<_>>(), ["https://course.example", "http://localhost:8080"]);
        assert_eq!(refused.len(), 4, "{refused:?}");
        assert!(origins.allows("https://course.example"));
        assert!(!origins.allows("https://course.example.evil"));
        assert!(!origins.allows("null"));
        assert!(!origins.allows("http://course.example"));
        assert!(Origins::parse("").0.is_empty());
    }
}
