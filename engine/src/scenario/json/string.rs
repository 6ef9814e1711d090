//! JSON strings, decoded as serde_json decodes them: control characters are errors, escapes
//! are checked, and a `\u` surrogate must be a leading one followed by its trailing one.

use super::parser::Parser;
use super::syntax::Syntax;

impl Parser<'_> {
    /// A string starting at the opening quote, decoded as serde_json's `parse_str` decodes it
    /// (with control characters forbidden and escapes checked).
    pub(super) fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut decoded = String::new();
        let mut start = self.pos;
        loop {
            match self.peek() {
                None => return self.fail_here(Syntax::EofWhileParsingString),
                Some(b'"') => {
                    decoded.push_str(&self.text[start..self.pos]);
                    self.pos += 1;
                    return Some(decoded);
                }
                Some(b'\\') => {
                    decoded.push_str(&self.text[start..self.pos]);
                    self.pos += 1;
                    self.escape(&mut decoded)?;
                    start = self.pos;
                }
                Some(0..=0x1f) => {
                    self.pos += 1;
                    return self.fail_here(Syntax::ControlCharacterWhileParsingString);
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// serde_json's `parse_escape`, past the backslash.
    fn escape(&mut self, decoded: &mut String) -> Option<()> {
        let character = match self.next() {
            None => return self.fail_here(Syntax::EofWhileParsingString),
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(decoded),
            Some(_) => return self.fail_here(Syntax::InvalidEscape),
        };
        decoded.push(character);
        Some(())
    }

    /// serde_json's `parse_unicode_escape` for a string (not bytes), past `\u`: a surrogate
    /// must be a leading one followed at once by `\u` and a trailing one.
    fn unicode_escape(&mut self, decoded: &mut String) -> Option<()> {
        let first = self.hex_escape()?;
        let code = match first {
            0xDC00..=0xDFFF => return self.fail_here(Syntax::LoneLeadingSurrogateInHexEscape),
            0xD800..=0xDBFF => {
                for expected in [b'\\', b'u'] {
                    match self.peek() {
                        None => return self.fail_here(Syntax::EofWhileParsingString),
                        Some(byte) => {
                            self.pos += 1;
                            if byte != expected {
                                return self.fail_here(Syntax::UnexpectedEndOfHexEscape);
                            }
                        }
                    }
                }
                let second = self.hex_escape()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return self.fail_here(Syntax::LoneLeadingSurrogateInHexEscape);
                }
                (((first - 0xD800) << 10) | (second - 0xDC00)) + 0x1_0000
            }
            _ => first,
        };
        // Surrogates were handled above, so every code is a character.
        decoded.extend(char::from_u32(code));
        Some(())
    }

    /// serde_json's `decode_hex_escape`: four hex digits.
    fn hex_escape(&mut self) -> Option<u32> {
        let Some(digits) = self.text.as_bytes().get(self.pos..self.pos + 4) else {
            self.pos = self.text.len();
            return self.fail_here(Syntax::EofWhileParsingString);
        };
        self.pos += 4;
        let mut code = 0;
        for &digit in digits {
            let Some(value) = char::from(digit).to_digit(16) else {
                return self.fail_here(Syntax::InvalidEscape);
            };
            code = code * 16 + value;
        }
        Some(code)
    }
}
