//! A small JSON reader for scenario text, so that the page needs no serde_json: it keeps the
//! keys in the order they were written, and the byte offsets of every value, so that an error
//! names the same JSON path and the same "line L column C" as a streaming serde_json parse.
//!
//! It reads the text as serde_json 1.x does (module `de` and `read` of that crate, without its
//! `float_roundtrip` and `arbitrary_precision` features, which this workspace does not enable):
//! numbers become the same `u64`, `i64` or `f64` bit for bit, strings are decoded with the same
//! escapes, and the first syntax error stops the reading with serde_json's own message at the
//! place serde_json reports it. The web page links neither serde_json nor a float parser or
//! formatter for this (see `tests/scenario_errors.rs` for each message).
//!
//! The tree and its paths are in `tree.rs`; `parse.rs` reads values, arrays and objects over
//! the cursor of `parser.rs`, with numbers in `number.rs` and strings in `string.rs`; the syntax
//! errors and their positions are in `syntax.rs`.

mod number;
mod parse;
mod parser;
mod string;
mod syntax;
mod tree;

#[cfg(test)]
mod tests;

pub(crate) use number::Number;
pub(crate) use parse::{parse, Document};
pub(crate) use parser::skip_ws;
pub(crate) use syntax::line_column;
pub(crate) use tree::{broken_path, from_value, join, Kind, Member, Node, Tail};
