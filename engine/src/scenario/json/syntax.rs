//! The syntax errors serde_json reports, worded as it words them, and its "line L column C"
//! for an offset in the text.

/// The syntax errors serde_json reports while reading a value, worded as its `ErrorCode`
/// displays them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Syntax {
    EofWhileParsingList,
    EofWhileParsingObject,
    EofWhileParsingString,
    EofWhileParsingValue,
    ExpectedColon,
    ExpectedListCommaOrEnd,
    ExpectedObjectCommaOrEnd,
    ExpectedSomeIdent,
    ExpectedSomeValue,
    InvalidEscape,
    InvalidNumber,
    NumberOutOfRange,
    ControlCharacterWhileParsingString,
    KeyMustBeAString,
    LoneLeadingSurrogateInHexEscape,
    TrailingComma,
    UnexpectedEndOfHexEscape,
    RecursionLimitExceeded,
}

impl Syntax {
    pub(super) fn message(self) -> &'static str {
        match self {
            Syntax::EofWhileParsingList => "EOF while parsing a list",
            Syntax::EofWhileParsingObject => "EOF while parsing an object",
            Syntax::EofWhileParsingString => "EOF while parsing a string",
            Syntax::EofWhileParsingValue => "EOF while parsing a value",
            Syntax::ExpectedColon => "expected `:`",
            Syntax::ExpectedListCommaOrEnd => "expected `,` or `]`",
            Syntax::ExpectedObjectCommaOrEnd => "expected `,` or `}`",
            Syntax::ExpectedSomeIdent => "expected ident",
            Syntax::ExpectedSomeValue => "expected value",
            Syntax::InvalidEscape => "invalid escape",
            Syntax::InvalidNumber => "invalid number",
            Syntax::NumberOutOfRange => "number out of range",
            Syntax::ControlCharacterWhileParsingString => {
                "control character (\\u0000-\\u001F) found while parsing a string"
            }
            Syntax::KeyMustBeAString => "key must be a string",
            Syntax::LoneLeadingSurrogateInHexEscape => "lone leading surrogate in hex escape",
            Syntax::TrailingComma => "trailing comma",
            Syntax::UnexpectedEndOfHexEscape => "unexpected end of hex escape",
            Syntax::RecursionLimitExceeded => "recursion limit exceeded",
        }
    }
}

/// serde_json's position of byte offset `at` (capped at the end of the text): lines count from
/// 1, and the column is the number of bytes between the start of the line and `at`. serde_json
/// reports an error on a byte it has consumed at the offset just past that byte, and one on a
/// byte it has only looked at (a "peek") at that byte's offset plus one, so both name the
/// byte's 1-based column; an error at the end of the text names the column past its last byte.
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..at.min(text.len())];
    let line_start = before.iter().rposition(|&byte| byte == b'\n').map_or(0, |newline| newline + 1);
    let line = 1 + before[..line_start].iter().filter(|&&byte| byte == b'\n').count();
    (line, before.len() - line_start)
}
