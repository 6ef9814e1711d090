//! Reads a [`Scenario`](crate::scenario::Scenario) from the [`json`](super::json) tree by hand.
//!
//! This replaces serde's derived `Deserialize` (driven through serde_path_to_error) in the
//! web page, where the derive and its generic machinery were about a fifth of the code. The
//! reader follows what the derive did, step for step: keys in the order they are written, an
//! unknown or repeated key is an error at once, then missing fields in declaration order; the
//! messages are worded as serde's and serde_json's error constructors word them (see
//! [`Fail`](fail::Fail)), and the path and "line L column C" are the ones the streaming parse
//! reported. A fault, which serde buffered before reading, reports its field errors at the
//! fault as it did; a step, which serde read into a `serde_json::Value` map first, is read
//! with the rules and messages serde applied to that map (see [`value`]).
//!
//! One thing the derive accepted is not accepted here: an array in place of an object (serde
//! reads a struct from a sequence of its fields in order). The format, the JSON Schema and
//! the documentation only ever had objects.
//!
//! One message is worded differently on purpose: a float in "invalid type: floating point
//! `X`" is shown as written in the scenario, where serde printed the shortest text that reads
//! back as the same f64 (which needs a float formatter in the page). The two agree for a
//! number written plainly, such as `1.5` or `2.0`; they differ for text such as `1e3` (serde
//! printed `1000.0`), `2.50` (`2.5`) or `-0` (`-0.0`).
//!
//! `reader.rs` holds what every type's reader shares (where an error is placed, scalars,
//! sequences, struct objects); `document.rs` reads the scenario, its hosts, links, limits and
//! processes, `fault.rs` the faults, `predict.rs` a teacher's questions, and `program.rs` a step and its call with the rules of
//! `value.rs`; `fail.rs` words the messages.

mod document;
mod fail;
mod fault;
mod predict;
mod program;
mod reader;
mod value;

pub(super) use document::scenario;
pub(super) use predict::{LeavePredict, ReadPredict};
