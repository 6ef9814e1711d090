//! What every type's reader shares: where an error is placed (its JSON path, and the offset
//! where serde_json would have stopped), and the readers of scalars, sequences and struct
//! objects with serde's checks for unknown, repeated and missing fields.

use std::fmt::Display;

use super::fail::Fail;
use super::value;
use crate::scenario::error::{error, ScenarioError};
use crate::scenario::json::{self, Kind, Member, Node, Tail};

/// Where an error is reported. A streamed value reports at its own path and offset; a value
/// serde buffered first (a fault's fields) reports every error at the buffered value.
#[derive(Clone, Copy)]
pub(super) enum Mode<'a> {
    Stream,
    Buffered { path: &'a str, pos: usize },
}

/// The text being read and its first syntax error, for placing every error.
pub(in crate::scenario) struct Reader<'t> {
    pub(super) text: &'t str,
    /// serde_json's message for the first syntax error in the text, if there is one.
    pub(super) syntax_error: Option<String>,
}

impl Reader<'_> {
    pub(super) fn error(&self, mode: Mode, path: &str, pos: usize, message: impl Display) -> ScenarioError {
        let (path, pos) = match mode {
            Mode::Stream => (path, pos),
            Mode::Buffered { path, pos } => (path, pos),
        };
        let (line, column) = json::line_column(self.text, pos);
        error(path, format!("{message} at line {line} column {column}"))
    }

    /// The first syntax error, reported at the path where serde_path_to_error placed it.
    pub(super) fn syntax(&self, node: &Node, path: &str) -> ScenarioError {
        let path = json::broken_path(node, path).unwrap_or_else(|| path.to_string());
        // The tree has a broken node (or an unfinished array or object) only where the reader
        // met a syntax error, so the message is always there.
        let reason = self.syntax_error.clone().unwrap_or_else(|| "the scenario is not valid JSON".to_string());
        error(path, reason)
    }

    /// `fail`, raised by one of the [`value`] readers on `node`, placed where serde_json stops
    /// reading that value: past a scalar, on the bracket of an array or object. A node where
    /// the text stops being JSON reports the syntax error instead.
    pub(super) fn place(&self, mode: Mode, node: &Node, path: &str, fail: Fail) -> ScenarioError {
        if let Kind::Broken = node.kind {
            return self.syntax(node, path);
        }
        let pos = if matches!(node.kind, Kind::Array(..) | Kind::Object(..)) { node.start } else { node.end };
        self.error(mode, path, pos, fail)
    }

    /// serde_json's "invalid type" error for `node`, placed as [`Reader::place`] does.
    pub(super) fn invalid_type(&self, mode: Mode, node: &Node, path: &str, expected: &str) -> ScenarioError {
        self.place(mode, node, path, value::invalid_type(node, expected))
    }

    pub(super) fn string(&self, mode: Mode, node: &Node, path: &str) -> Result<String, ScenarioError> {
        value::string(node).map_err(|fail| self.place(mode, node, path, fail))
    }

    pub(super) fn flag(&self, mode: Mode, node: &Node, path: &str) -> Result<bool, ScenarioError> {
        value::flag(node).map_err(|fail| self.place(mode, node, path, fail))
    }

    pub(super) fn float(&self, mode: Mode, node: &Node, path: &str) -> Result<f64, ScenarioError> {
        value::float(node).map_err(|fail| self.place(mode, node, path, fail))
    }

    /// An unsigned integer of at most `max`, named `expected` (`u32`, `usize`, ...) in errors.
    pub(super) fn unsigned(
        &self,
        mode: Mode,
        node: &Node,
        path: &str,
        max: u64,
        expected: &str,
    ) -> Result<u64, ScenarioError> {
        value::unsigned(node, max, expected).map_err(|fail| self.place(mode, node, path, fail))
    }

    pub(super) fn u64(&self, mode: Mode, node: &Node, path: &str) -> Result<u64, ScenarioError> {
        self.unsigned(mode, node, path, u64::MAX, "u64")
    }

    pub(super) fn u32(&self, mode: Mode, node: &Node, path: &str) -> Result<u32, ScenarioError> {
        Ok(self.unsigned(mode, node, path, u32::MAX.into(), "u32")? as u32)
    }

    pub(super) fn u16(&self, mode: Mode, node: &Node, path: &str) -> Result<u16, ScenarioError> {
        Ok(self.unsigned(mode, node, path, u16::MAX.into(), "u16")? as u16)
    }

    pub(super) fn seq<T>(
        &self,
        mode: Mode,
        node: &Node,
        path: &str,
        mut read: impl FnMut(&Node, &str) -> Result<T, ScenarioError>,
    ) -> Result<Vec<T>, ScenarioError> {
        let Kind::Array(elements, tail) = &node.kind else {
            return Err(self.invalid_type(mode, node, path, "a sequence"));
        };
        let mut values = Vec::with_capacity(elements.len().min(4096));
        for (index, element) in elements.iter().enumerate() {
            values.push(read(element, &format!("{path}[{index}]"))?);
        }
        if !matches!(tail, Tail::Complete) {
            return Err(self.syntax(node, path));
        }
        Ok(values)
    }

    /// The members of a struct's object, each handed to `field` with its index in `fields`.
    /// Returns which fields were given (bit `index`). `expected` is serde's description
    /// (`struct HostSpec`).
    pub(super) fn fields(
        &self,
        mode: Mode,
        node: &Node,
        path: &str,
        expected: &str,
        fields: &'static [&'static str],
        mut field: impl FnMut(usize, &Node, &str) -> Result<(), ScenarioError>,
    ) -> Result<u64, ScenarioError> {
        let Kind::Object(members, tail) = &node.kind else {
            return Err(self.invalid_type(mode, node, path, expected));
        };
        let mut seen = 0u64;
        // serde_json places an error raised between key and value after the whitespace that
        // follows the key (and after a closing brace right there).
        let mut check_key = |key: &str, key_end: usize| {
            self.field_index(mode, path, end_map_pos(self.text, key_end), fields, &mut seen, key)
        };
        for Member { key, key_end, value } in members {
            let index = check_key(key, *key_end)?;
            field(index, value, &json::join(path, key))?;
        }
        match tail {
            Tail::Complete => Ok(seen),
            Tail::Colon { key, key_end } => {
                check_key(key, *key_end)?;
                Err(self.syntax(node, path))
            }
            Tail::Here | Tail::Key => Err(self.syntax(node, path)),
        }
    }

    /// The index of `key` among a struct's `fields`, marked in `seen` (bit `index`); serde's
    /// error, placed at `pos`, for a key the struct does not have or has had already.
    pub(super) fn field_index(
        &self,
        mode: Mode,
        path: &str,
        pos: usize,
        fields: &'static [&'static str],
        seen: &mut u64,
        key: &str,
    ) -> Result<usize, ScenarioError> {
        let Some(index) = fields.iter().position(|name| *name == key) else {
            return Err(self.error(mode, &json::join(path, key), pos, Fail::unknown_field(key, fields)));
        };
        if *seen & (1 << index) != 0 {
            return Err(self.error(mode, path, pos, Fail::duplicate_field(fields[index])));
        }
        *seen |= 1 << index;
        Ok(index)
    }

    /// serde's "missing field" error for a struct's object, reported past its closing brace.
    pub(super) fn missing(&self, mode: Mode, node: &Node, path: &str, name: &'static str) -> ScenarioError {
        self.error(mode, path, node.end, Fail::missing_field(name))
    }
}

/// Where serde_json stands after trying to close an object at `pos`: past whitespace, and past
/// the closing brace if that comes next.
pub(super) fn end_map_pos(text: &str, pos: usize) -> usize {
    let pos = json::skip_ws(text, pos);
    if text.as_bytes().get(pos) == Some(&b'}') {
        pos + 1
    } else {
        pos
    }
}

/// Where serde_json stands after trying to close an array at `pos`: past whitespace, then past
/// a closing bracket, or past a comma and the whitespace after it.
pub(super) fn end_seq_pos(text: &str, pos: usize) -> usize {
    let pos = json::skip_ws(text, pos);
    match text.as_bytes().get(pos) {
        Some(b']') => pos + 1,
        Some(b',') => json::skip_ws(text, pos + 1),
        _ => pos,
    }
}
