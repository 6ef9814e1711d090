//! A small JSON reader for scenario text that keeps what serde's derive used to give for free:
//! keys in the order they were written, and the byte offsets of every value, so that an error
//! names the same JSON path and the same "line L column C" as a streaming serde_json parse.
//!
//! The reader only decides *where* text stops being JSON. When a scenario reader reaches that
//! point, the wording and position of the syntax error come from serde_json itself (see
//! [`syntax_error`]), so both stay exactly serde_json's.

use serde::Deserialize;

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
    Number(serde_json::Number),
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

/// serde_json's recursion limit: its 128th nested array or object is an error.
const MAX_DEPTH: usize = 128;

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    depth: usize,
    broken: bool,
}

/// Reads the first JSON value of `text`; whatever follows it is ignored, as the streaming parse
/// that this replaces ignored it.
pub(crate) fn parse(text: &str) -> Node {
    let mut parser = Parser { text, pos: 0, depth: 0, broken: false };
    parser.value()
}

/// serde_json's own message for the first syntax error in `text`, with its position.
pub(crate) fn syntax_error(text: &str) -> String {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    match Any::deserialize(&mut deserializer) {
        Err(err) => err.to_string(),
        // Not reached: the reader and serde_json agree on what is JSON.
        Ok(Any) => "the scenario is not valid JSON".to_string(),
    }
}

/// Any JSON value, read and thrown away. It reads the text exactly as a `serde_json::Value`
/// would (strings are decoded and checked, numbers parsed, nesting counted), so the first
/// syntax error is the same, without building the value.
struct Any;

impl<'de> Deserialize<'de> for Any {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Any, D::Error> {
        deserializer.deserialize_any(AnyVisitor)
    }
}

struct AnyVisitor;

impl<'de> serde::de::Visitor<'de> for AnyVisitor {
    type Value = Any;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Any, E> {
        Ok(Any)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Any, E> {
        Ok(Any)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Any, E> {
        Ok(Any)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Any, E> {
        Ok(Any)
    }

    fn visit_str<E>(self, _: &str) -> Result<Any, E> {
        Ok(Any)
    }

    fn visit_unit<E>(self) -> Result<Any, E> {
        Ok(Any)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Any, A::Error> {
        while seq.next_element::<Any>()?.is_some() {}
        Ok(Any)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Any, A::Error> {
        while map.next_key::<Any>()?.is_some() {
            map.next_value::<Any>()?;
        }
        Ok(Any)
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        self.pos = skip_ws(self.text, self.pos);
    }

    fn broken(&mut self, start: usize) -> Node {
        self.broken = true;
        Node { start, end: self.pos, kind: Kind::Broken }
    }

    fn value(&mut self) -> Node {
        self.skip_ws();
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'n') => self.word("null", Kind::Null),
            Some(b't') => self.word("true", Kind::Bool(true)),
            Some(b'f') => self.word("false", Kind::Bool(false)),
            Some(b'"') => match self.string() {
                Some(text) => Kind::Str(text),
                None => Kind::Broken,
            },
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => return self.container(start, true),
            Some(b'{') => return self.container(start, false),
            _ => Kind::Broken,
        };
        if matches!(kind, Kind::Broken) {
            return self.broken(start);
        }
        Node { start, end: self.pos, kind }
    }

    fn word(&mut self, word: &str, kind: Kind) -> Kind {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            kind
        } else {
            Kind::Broken
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - from
    }

    /// A number as RFC 8259 writes it; its value is serde_json's reading of the same text, so
    /// integers, negative numbers and floats come out exactly as in a serde_json parse.
    fn number(&mut self) -> Kind {
        let from = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Kind::Broken;
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Kind::Broken,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Kind::Broken;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Kind::Broken;
            }
        }
        match self.text[from..self.pos].parse::<serde_json::Number>() {
            Ok(number) => Kind::Number(number),
            Err(_) => Kind::Broken,
        }
    }

    /// A string starting at the opening quote. Text with escapes is decoded by serde_json, so
    /// that exactly the escapes it accepts are accepted.
    fn string(&mut self) -> Option<String> {
        let from = self.pos;
        self.pos += 1;
        let mut escaped = false;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.pos += 2;
                }
                0..=0x1f => return None,
                _ => self.pos += 1,
            }
        }
        self.pos += 1;
        if self.pos > self.text.len() || !self.text.is_char_boundary(self.pos) {
            return None;
        }
        let quoted = &self.text[from..self.pos];
        if escaped {
            serde_json::from_str::<String>(quoted).ok()
        } else {
            Some(quoted[1..quoted.len() - 1].to_string())
        }
    }

    fn container(&mut self, start: usize, array: bool) -> Node {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return self.broken(start);
        }
        self.pos += 1;
        let mut elements = Vec::new();
        let mut members = Vec::new();
        let close = if array { b']' } else { b'}' };
        let mut first = true;
        let tail = loop {
            // Where the next element or key may start, as serde_json's has_next_element and
            // has_next_key see it.
            self.skip_ws();
            match self.peek() {
                None => break if array { Tail::Here } else { Tail::Key },
                Some(byte) if byte == close => {
                    self.pos += 1;
                    break Tail::Complete;
                }
                Some(b',') if !first => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek().is_none() || self.peek() == Some(close) {
                        break if array { Tail::Here } else { Tail::Key };
                    }
                }
                Some(_) if !first => break if array { Tail::Here } else { Tail::Key },
                Some(_) => {}
            }
            first = false;
            if array {
                let element = self.value();
                elements.push(element);
            } else {
                if self.peek() != Some(b'"') {
                    break Tail::Key;
                }
                let Some(key) = self.string() else { break Tail::Key };
                let key_end = self.pos;
                self.skip_ws();
                if self.peek() != Some(b':') {
                    break Tail::Colon { key, key_end };
                }
                self.pos += 1;
                let value = self.value();
                members.push(Member { key, key_end, value });
            }
            if self.broken {
                break Tail::Complete;
            }
        };
        self.depth -= 1;
        if !matches!(tail, Tail::Complete) {
            self.broken = true;
        }
        let kind = if array { Kind::Array(elements, tail) } else { Kind::Object(members, tail) };
        Node { start, end: self.pos, kind }
    }
}

pub(crate) fn skip_ws(text: &str, mut pos: usize) -> usize {
    while matches!(text.as_bytes().get(pos), Some(b' ' | b'\n' | b'\t' | b'\r')) {
        pos += 1;
    }
    pos
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
        Value::Number(number) => Kind::Number(number),
        Value::String(text) => Kind::Str(text),
        Value::Array(values) => Kind::Array(values.into_iter().map(from_value).collect(), Tail::Complete),
        Value::Object(map) => Kind::Object(
            map.into_iter().map(|(key, value)| Member { key, key_end: 0, value: from_value(value) }).collect(),
            Tail::Complete,
        ),
    };
    Node { start: 0, end: 0, kind }
}
