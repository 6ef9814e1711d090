//! A teacher's questions for predict mode: the moment each is asked before, its choices, the
//! right one and why. The engine does not run them; the page asks them (docs/studio.md).

use serde::{Deserialize, Serialize};

/// What predict mode asks in this scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predict {
    /// The teacher's own questions, each asked before the step that holds its moment.
    #[serde(default)]
    pub questions: Vec<Question>,
    /// Whether the page also asks the questions it writes itself from the run.
    #[serde(default)]
    pub generated: Generated,
}

impl Predict {
    pub fn is_default(&self) -> bool {
        *self == Predict::default()
    }
}

/// Whether predict mode asks its own questions besides the teacher's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Generated {
    /// At every step that matters and has no question of the teacher's.
    #[default]
    Ask,
    /// Only the teacher's questions are asked.
    Skip,
}

/// One question of the teacher's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The event the question is about: it is asked with the page on the step before.
    pub before: Moment,
    pub prompt: String,
    /// Two to six choices.
    pub choices: Vec<String>,
    /// The right choice, counted from 0.
    pub answer: u32,
    /// Shown once the question is answered; the step's narration when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

/// Which event a question is about: exactly one of `segment`, `state`, `call` and `time_ms`,
/// with `host`, `process` and `nth` narrowing `state` and `call`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moment {
    /// The nth segment sent in the run, counted from 1 (the diagram's arrows, in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<u32>,
    /// A TCP state (`TIME_WAIT`): the nth time a socket (on `host`, if given) enters it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// A system call's name (`accept`): the nth time it returns (in `process`, if given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    /// Which occurrence of `state` or `call`, counted from 1 (the first when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u32>,
    /// The first event after this moment of simulated time, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<f64>,
}
