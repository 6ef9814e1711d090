//! The reader's cursor over the text: the next byte, whitespace, and the first syntax error
//! with the offset serde_json reports it at (after which reading stops).

use super::syntax::Syntax;

/// Where the reading stands in the text, how deeply arrays and objects nest there, and the
/// first syntax error.
pub(super) struct Parser<'t> {
    pub(super) text: &'t str,
    pub(super) pos: usize,
    pub(super) depth: usize,
    /// The first syntax error and the offset serde_json reports it at; reading stops there.
    pub(super) error: Option<(Syntax, usize)>,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The next byte, consumed.
    pub(super) fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    pub(super) fn peek_digit(&self) -> Option<u8> {
        self.peek().filter(u8::is_ascii_digit).map(|digit| digit - b'0')
    }

    pub(super) fn skip_ws(&mut self) {
        self.pos = skip_ws(self.text, self.pos);
    }

    /// Records the syntax error `code`, reported at offset `at`.
    pub(super) fn fail<T>(&mut self, code: Syntax, at: usize) -> Option<T> {
        self.error = Some((code, at));
        None
    }

    /// Records an error on the byte just consumed (serde_json's `error`).
    pub(super) fn fail_here<T>(&mut self, code: Syntax) -> Option<T> {
        self.fail(code, self.pos)
    }

    /// Records an error on the byte about to be read (serde_json's `peek_error`).
    pub(super) fn fail_ahead<T>(&mut self, code: Syntax) -> Option<T> {
        self.fail(code, self.pos + 1)
    }
}

/// The offset of the first byte at or after `pos` that is not JSON whitespace.
pub(crate) fn skip_ws(text: &str, mut pos: usize) -> usize {
    while matches!(text.as_bytes().get(pos), Some(b' ' | b'\n' | b'\t' | b'\r')) {
        pos += 1;
    }
    pos
}
