//! The JSON tree: each value with the offsets where it lies in the text, objects with their
//! keys in the order written, and how an unfinished array or object ends; the JSON paths that
//! errors name.

use super::number::Number;

/// One JSON value and where it lies in the text: `start` is the offset of its first byte and
/// `end` the offset just past its last one.
pub(crate) struct Node {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

pub(crate) enum Kind {
    Null,
    Bool(bool),
    Number(Number),
    Str(String),
    Array(Vec<Node>, Tail),
    Object(Vec<Member>, Tail),
    /// The text stops being JSON inside this value (or where this value should start).
    Broken,
}

/// How an array or object ends. A syntax error between elements is reported at the array's
/// own path; one where a key should be, at the object's path followed by `?` (serde_path_to_error
/// knows no key yet); a missing colon, at the object's path.
pub(crate) enum Tail {
    Complete,
    Here,
    Key,
    Colon { key: String, key_end: usize },
}

pub(crate) struct Member {
    pub key: String,
    /// The offset just past the key's closing quote.
    pub key_end: usize,
    pub value: Node,
}

/// The path of the syntax error inside `node`, if the text stops being JSON there.
pub(crate) fn broken_path(node: &Node, path: &str) -> Option<String> {
    match &node.kind {
        Kind::Broken => Some(path.to_string()),
        Kind::Array(elements, tail) => match tail {
            Tail::Complete => {
                let index = elements.len().checked_sub(1)?;
                broken_path(&elements[index], &format!("{path}[{index}]"))
            }
            _ => Some(path.to_string()),
        },
        Kind::Object(members, tail) => match tail {
            Tail::Complete => {
                let last = members.last()?;
                broken_path(&last.value, &join(path, &last.key))
            }
            Tail::Key => Some(join(path, "?")),
            Tail::Here | Tail::Colon { .. } => Some(path.to_string()),
        },
        _ => None,
    }
}

/// A JSON path as serde_path_to_error writes it: keys joined by dots, indices in brackets;
/// the whole document is `.`.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path == "." {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A serde_json value as a node (for steps that serde's derive has already read into a map).
pub(crate) fn from_value(value: serde_json::Value) -> Node {
    use serde_json::Value;
    let kind = match value {
        Value::Null => Kind::Null,
        Value::Bool(flag) => Kind::Bool(flag),
        Value::Number(number) => Kind::Number(match (number.as_u64(), number.as_i64()) {
            (Some(value), _) => Number::U64(value),
            (None, Some(value)) => Number::I64(value),
            // serde_json's text for the float is the one serde's messages show.
            (None, None) => Number::F64(number.as_f64().unwrap_or(0.0), number.to_string().into()),
        }),
        Value::String(text) => Kind::Str(text),
        Value::Array(values) => Kind::Array(values.into_iter().map(from_value).collect(), Tail::Complete),
        Value::Object(map) => Kind::Object(
            map.into_iter().map(|(key, value)| Member { key, key_end: 0, value: from_value(value) }).collect(),
            Tail::Complete,
        ),
    };
    Node { start: 0, end: 0, kind }
}
