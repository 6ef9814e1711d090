//! Reading a teacher's questions for predict mode, as the derive in `scenario/predict.rs`
//! reads them, or leaving them unread.

use super::reader::{Mode, Reader};
use super::value;
use crate::scenario::json::Node;
use crate::scenario::{Generated, Moment, Predict, Question, ScenarioError};

/// What the reader does with the `predict` field. A type rather than a value, so that a build
/// that only ever leaves the field unread (the player's) has no code to read it.
pub(in crate::scenario) trait PredictField {
    fn read(reader: &Reader<'_>, node: &Node, path: &str) -> Result<Predict, ScenarioError>;
}

/// Reads the questions, with serde's messages.
pub(in crate::scenario) struct ReadPredict;

/// Leaves the field unread: any JSON value there is taken, and the scenario has no questions.
pub(in crate::scenario) struct LeavePredict;

impl PredictField for ReadPredict {
    fn read(reader: &Reader<'_>, node: &Node, path: &str) -> Result<Predict, ScenarioError> {
        reader.predict(node, path)
    }
}

impl PredictField for LeavePredict {
    fn read(_: &Reader<'_>, _: &Node, _: &str) -> Result<Predict, ScenarioError> {
        Ok(Predict::default())
    }
}

impl Reader<'_> {
    fn predict(&self, node: &Node, path: &str) -> Result<Predict, ScenarioError> {
        let m = Mode::Stream;
        let mut predict = Predict::default();
        self.fields(m, node, path, "struct Predict", &["questions", "generated"], |index, v, p| {
            match index {
                0 => predict.questions = self.seq(m, v, p, |v, p| self.question(v, p))?,
                _ => {
                    let variant = value::variant(v, &["ask", "skip"]).map_err(|fail| self.place(m, v, p, fail))?;
                    predict.generated = if variant == 0 { Generated::Ask } else { Generated::Skip };
                }
            }
            Ok(())
        })?;
        Ok(predict)
    }

    fn question(&self, node: &Node, path: &str) -> Result<Question, ScenarioError> {
        let m = Mode::Stream;
        let mut before = None;
        let mut prompt = None;
        let mut choices = None;
        let mut answer = None;
        let mut why = String::new();
        let fields = &["before", "prompt", "choices", "answer", "why"];
        self.fields(m, node, path, "struct Question", fields, |index, v, p| {
            match index {
                0 => before = Some(self.moment(v, p)?),
                1 => prompt = Some(self.string(m, v, p)?),
                2 => choices = Some(self.seq(m, v, p, |v, p| self.string(m, v, p))?),
                3 => answer = Some(self.u32(m, v, p)?),
                _ => why = self.string(m, v, p)?,
            }
            Ok(())
        })?;
        let Some(before) = before else { return Err(self.missing(m, node, path, "before")) };
        let Some(prompt) = prompt else { return Err(self.missing(m, node, path, "prompt")) };
        let Some(choices) = choices else { return Err(self.missing(m, node, path, "choices")) };
        let Some(answer) = answer else { return Err(self.missing(m, node, path, "answer")) };
        Ok(Question { before, prompt, choices, answer, why })
    }

    fn moment(&self, node: &Node, path: &str) -> Result<Moment, ScenarioError> {
        let m = Mode::Stream;
        let mut moment = Moment::default();
        let fields = &["segment", "state", "call", "host", "process", "nth", "time_ms"];
        self.fields(m, node, path, "struct Moment", fields, |index, v, p| {
            let text = |v: &Node| value::option(v, |v| self.string(m, v, p));
            let count = |v: &Node| value::option(v, |v| self.u32(m, v, p));
            match index {
                0 => moment.segment = count(v)?,
                1 => moment.state = text(v)?,
                2 => moment.call = text(v)?,
                3 => moment.host = text(v)?,
                4 => moment.process = text(v)?,
                5 => moment.nth = count(v)?,
                _ => moment.time_ms = value::option(v, |v| self.float(m, v, p))?,
            }
            Ok(())
        })?;
        Ok(moment)
    }
}
