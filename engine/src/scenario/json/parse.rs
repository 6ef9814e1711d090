//! Reading a document: the first value of the text, as a tree, and serde_json's message for
//! the first syntax error. Words (`null`, `true`, `false`), arrays and objects are read here,
//! with serde_json's recursion limit and its checks between members.

use super::parser::Parser;
use super::syntax::{line_column, Syntax};
use super::tree::{Kind, Member, Node, Tail};

/// serde_json's recursion limit: its 128th nested array or object is an error.
const MAX_DEPTH: usize = 128;

/// The text read as a tree, and serde_json's message for its first syntax error (with " at
/// line L column C"), if it has one.
pub(crate) struct Document {
    pub root: Node,
    pub syntax_error: Option<String>,
}

/// Reads the first JSON value of `text`; whatever follows it is ignored, as the streaming parse
/// that this replaces ignored it.
pub(crate) fn parse(text: &str) -> Document {
    let mut parser = Parser { text, pos: 0, depth: 0, error: None };
    let root = parser.value();
    let syntax_error = parser.error.map(|(code, at)| {
        let (line, column) = line_column(text, at);
        format!("{} at line {line} column {column}", code.message())
    });
    Document { root, syntax_error }
}

impl Parser<'_> {
    fn value(&mut self) -> Node {
        self.skip_ws();
        let start = self.pos;
        let kind = match self.peek() {
            None => self.fail_here(Syntax::EofWhileParsingValue),
            Some(b'n') => self.word(b"null", Kind::Null),
            Some(b't') => self.word(b"true", Kind::Bool(true)),
            Some(b'f') => self.word(b"false", Kind::Bool(false)),
            Some(b'"') => self.string().map(Kind::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(Kind::Number),
            Some(b'[') => return self.container(start, true),
            Some(b'{') => return self.container(start, false),
            Some(_) => self.fail_ahead(Syntax::ExpectedSomeValue),
        };
        Node { start, end: self.pos, kind: kind.unwrap_or(Kind::Broken) }
    }

    /// `null`, `true` or `false`, whose first byte has been seen.
    fn word(&mut self, word: &[u8], kind: Kind) -> Option<Kind> {
        self.pos += 1;
        for &expected in &word[1..] {
            match self.next() {
                None => return self.fail_here(Syntax::EofWhileParsingValue),
                Some(byte) if byte != expected => return self.fail_here(Syntax::ExpectedSomeIdent),
                Some(_) => {}
            }
        }
        Some(kind)
    }

    /// An array or object, at its opening bracket; the checks between members are serde_json's
    /// `has_next_element`, `has_next_key` and `parse_object_colon`.
    fn container(&mut self, start: usize, array: bool) -> Node {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            self.fail_ahead::<()>(Syntax::RecursionLimitExceeded);
            return Node { start, end: self.pos, kind: Kind::Broken };
        }
        self.pos += 1;
        let mut elements = Vec::new();
        let mut members = Vec::new();
        let close = if array { b']' } else { b'}' };
        let end_of_text = if array { Syntax::EofWhileParsingList } else { Syntax::EofWhileParsingObject };
        // Where a syntax error between members leaves the path (see `Tail`).
        let between = if array { Tail::Here } else { Tail::Key };
        let mut first = true;
        let tail = loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    self.fail_here::<()>(end_of_text);
                    break between;
                }
                Some(byte) if byte == close => {
                    self.pos += 1;
                    break Tail::Complete;
                }
                Some(b',') if !first => {
                    self.pos += 1;
                    self.skip_ws();
                    match self.peek() {
                        None => {
                            self.fail_here::<()>(Syntax::EofWhileParsingValue);
                            break between;
                        }
                        Some(byte) if byte == close => {
                            self.fail_ahead::<()>(Syntax::TrailingComma);
                            break between;
                        }
                        Some(_) => {}
                    }
                }
                Some(_) if !first => {
                    let code = if array { Syntax::ExpectedListCommaOrEnd } else { Syntax::ExpectedObjectCommaOrEnd };
                    self.fail_ahead::<()>(code);
                    break between;
                }
                Some(_) => {}
            }
            first = false;
            if array {
                let element = self.value();
                elements.push(element);
            } else {
                if self.peek() != Some(b'"') {
                    self.fail_ahead::<()>(Syntax::KeyMustBeAString);
                    break Tail::Key;
                }
                let Some(key) = self.string() else { break Tail::Key };
                let key_end = self.pos;
                self.skip_ws();
                match self.peek() {
                    Some(b':') => self.pos += 1,
                    Some(_) => {
                        self.fail_ahead::<()>(Syntax::ExpectedColon);
                        break Tail::Colon { key, key_end };
                    }
                    None => {
                        self.fail_here::<()>(Syntax::EofWhileParsingObject);
                        break Tail::Colon { key, key_end };
                    }
                }
                let value = self.value();
                members.push(Member { key, key_end, value });
            }
            if self.error.is_some() {
                break Tail::Complete;
            }
        };
        self.depth -= 1;
        let kind = if array { Kind::Array(elements, tail) } else { Kind::Object(members, tail) };
        Node { start, end: self.pos, kind }
    }
}
