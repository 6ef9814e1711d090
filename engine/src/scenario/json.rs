//! A small JSON reader for scenario text that keeps what serde's derive used to give for free:
//! keys in the order they were written, and the byte offsets of every value, so that an error
//! names the same JSON path and the same "line L column C" as a streaming serde_json parse.
//!
//! It reads the text as serde_json 1.x does (module `de` and `read` of that crate, without its
//! `float_roundtrip` and `arbitrary_precision` features, which this workspace does not enable):
//! numbers become the same `u64`, `i64` or `f64` bit for bit, strings are decoded with the same
//! escapes, and the first syntax error stops the reading with serde_json's own message at the
//! place serde_json reports it. The web page links neither serde_json nor a float parser or
//! formatter for this (see `tests/scenario_errors.rs` for each message).

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

/// A JSON number as serde_json holds it: an integer without fraction or exponent is a `u64`
/// if it fits, a negative one an `i64` if it fits; anything else is a float.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Number {
    U64(u64),
    I64(i64),
    /// The value and the number as written, which is how an error message shows it (serde
    /// printed the shortest text that reads back as the value; the two agree for numbers
    /// written plainly, such as `1.5` or `2.0`, see `read.rs`).
    F64(f64, Box<str>),
}

impl Number {
    /// A float whose text `Parser::number` fills in once the whole number has been read.
    fn float(value: f64) -> Number {
        Number::F64(value, Box::default())
    }

    /// serde_json's `Number::as_u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Number::U64(value) => Some(value),
            _ => None,
        }
    }

    /// serde_json's `Number::as_i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Number::U64(value) => i64::try_from(value).ok(),
            Number::I64(value) => Some(value),
            Number::F64(..) => None,
        }
    }

    /// serde_json's `Number::as_f64` (always a value for a number read from JSON text).
    pub fn as_f64(&self) -> f64 {
        match *self {
            Number::U64(value) => value as f64,
            Number::I64(value) => value as f64,
            Number::F64(value, _) => value,
        }
    }
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

/// The syntax errors serde_json reports while reading a value, worded as its `ErrorCode`
/// displays them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
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
    fn message(self) -> &'static str {
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

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    depth: usize,
    /// The first syntax error and the offset serde_json reports it at; reading stops there.
    error: Option<(Syntax, usize)>,
}

/// Whether `value * 10 + digit` overflows `max` (serde_json's `overflow!`).
fn overflows<T>(value: T, digit: T, max: T) -> bool
where
    T: Copy + PartialOrd + std::ops::Div<Output = T> + std::ops::Rem<Output = T> + From<u8>,
{
    let ten = T::from(10);
    value >= max / ten && (value > max / ten || digit > max % ten)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The next byte, consumed.
    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    fn peek_digit(&self) -> Option<u8> {
        self.peek().filter(u8::is_ascii_digit).map(|digit| digit - b'0')
    }

    fn skip_ws(&mut self) {
        self.pos = skip_ws(self.text, self.pos);
    }

    /// Records the syntax error `code`, reported at offset `at`.
    fn fail<T>(&mut self, code: Syntax, at: usize) -> Option<T> {
        self.error = Some((code, at));
        None
    }

    /// Records an error on the byte just consumed (serde_json's `error`).
    fn fail_here<T>(&mut self, code: Syntax) -> Option<T> {
        self.fail(code, self.pos)
    }

    /// Records an error on the byte about to be read (serde_json's `peek_error`).
    fn fail_ahead<T>(&mut self, code: Syntax) -> Option<T> {
        self.fail(code, self.pos + 1)
    }

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

    /// A number, read as serde_json's `parse_integer` and the functions it calls read one.
    fn number(&mut self) -> Option<Number> {
        let from = self.pos;
        let positive = self.peek() != Some(b'-');
        if !positive {
            self.pos += 1;
        }
        let mut number = self.integer(positive)?;
        if let Number::F64(_, text) = &mut number {
            *text = self.text[from..self.pos].into();
        }
        Some(number)
    }

    fn integer(&mut self, positive: bool) -> Option<Number> {
        let float = Number::float;
        match self.next() {
            None => self.fail_here(Syntax::EofWhileParsingValue),
            Some(b'0') => {
                // Only one leading zero.
                if self.peek_digit().is_some() {
                    return self.fail_ahead(Syntax::InvalidNumber);
                }
                self.after_integer(positive, 0)
            }
            Some(first @ b'1'..=b'9') => {
                let mut significand = u64::from(first - b'0');
                while let Some(digit) = self.peek_digit() {
                    let digit = u64::from(digit);
                    // Past u64, the digits only count towards the float's exponent.
                    if overflows(significand, digit, u64::MAX) {
                        return self.long_integer(positive, significand).map(float);
                    }
                    self.pos += 1;
                    significand = significand * 10 + digit;
                }
                self.after_integer(positive, significand)
            }
            Some(_) => self.fail_here(Syntax::InvalidNumber),
        }
    }

    /// serde_json's `parse_number`: a fraction or exponent makes a float; otherwise a positive
    /// integer is a `u64`, and a negative one an `i64` unless it is `-0` or below `i64::MIN`.
    fn after_integer(&mut self, positive: bool, significand: u64) -> Option<Number> {
        let float = Number::float;
        match self.peek() {
            Some(b'.') => self.decimal(positive, significand, 0).map(float),
            Some(b'e' | b'E') => self.exponent(positive, significand, 0).map(float),
            _ if positive => Some(Number::U64(significand)),
            _ => {
                let negative = (significand as i64).wrapping_neg();
                if negative >= 0 {
                    Some(float(-(significand as f64)))
                } else {
                    Some(Number::I64(negative))
                }
            }
        }
    }

    /// serde_json's `parse_decimal`, at the decimal point.
    fn decimal(&mut self, positive: bool, mut significand: u64, exponent_before_point: i32) -> Option<f64> {
        self.pos += 1;
        let mut exponent_after_point = 0;
        while let Some(digit) = self.peek_digit() {
            let digit = u64::from(digit);
            if overflows(significand, digit, u64::MAX) {
                return self.decimal_overflow(positive, significand, exponent_before_point + exponent_after_point);
            }
            self.pos += 1;
            significand = significand * 10 + digit;
            exponent_after_point -= 1;
        }
        // At least one digit must follow the point.
        if exponent_after_point == 0 {
            return match self.peek() {
                Some(_) => self.fail_ahead(Syntax::InvalidNumber),
                None => self.fail_ahead(Syntax::EofWhileParsingValue),
            };
        }
        let exponent = exponent_before_point + exponent_after_point;
        match self.peek() {
            Some(b'e' | b'E') => self.exponent(positive, significand, exponent),
            _ => self.float_of_parts(positive, significand, exponent),
        }
    }

    /// serde_json's `parse_exponent`, at the `e`.
    fn exponent(&mut self, positive: bool, significand: u64, starting_exponent: i32) -> Option<f64> {
        self.pos += 1;
        let positive_exponent = match self.peek() {
            Some(b'+') => {
                self.pos += 1;
                true
            }
            Some(b'-') => {
                self.pos += 1;
                false
            }
            _ => true,
        };
        let mut exponent = match self.next() {
            None => return self.fail_here(Syntax::EofWhileParsingValue),
            Some(digit @ b'0'..=b'9') => i32::from(digit - b'0'),
            Some(_) => return self.fail_here(Syntax::InvalidNumber),
        };
        while let Some(digit) = self.peek_digit() {
            self.pos += 1;
            let digit = i32::from(digit);
            if overflows(exponent, digit, i32::MAX) {
                return self.exponent_overflow(positive, significand == 0, positive_exponent);
            }
            exponent = exponent * 10 + digit;
        }
        let exponent = if positive_exponent {
            starting_exponent.saturating_add(exponent)
        } else {
            starting_exponent.saturating_sub(exponent)
        };
        self.float_of_parts(positive, significand, exponent)
    }

    /// serde_json's `parse_exponent_overflow`: an exponent past `i32::MAX` is out of range,
    /// unless the number is zero or the exponent negative, which make zero.
    fn exponent_overflow(&mut self, positive: bool, zero_significand: bool, positive_exponent: bool) -> Option<f64> {
        if !zero_significand && positive_exponent {
            return self.fail_here(Syntax::NumberOutOfRange);
        }
        while self.peek_digit().is_some() {
            self.pos += 1;
        }
        Some(if positive { 0.0 } else { -0.0 })
    }

    /// serde_json's `parse_long_integer` (without `float_roundtrip`): digits past what a u64
    /// holds are dropped and counted in the exponent.
    fn long_integer(&mut self, positive: bool, significand: u64) -> Option<f64> {
        let mut exponent: i32 = 0;
        loop {
            match self.peek() {
                Some(b'0'..=b'9') => {
                    self.pos += 1;
                    exponent = exponent.saturating_add(1);
                }
                Some(b'.') => return self.decimal(positive, significand, exponent),
                Some(b'e' | b'E') => return self.exponent(positive, significand, exponent),
                _ => return self.float_of_parts(positive, significand, exponent),
            }
        }
    }

    /// serde_json's `parse_decimal_overflow` (without `float_roundtrip`): fraction digits past
    /// what a u64 holds are dropped.
    fn decimal_overflow(&mut self, positive: bool, significand: u64, exponent: i32) -> Option<f64> {
        while self.peek_digit().is_some() {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'e' | b'E') => self.exponent(positive, significand, exponent),
            _ => self.float_of_parts(positive, significand, exponent),
        }
    }

    /// serde_json's `f64_from_parts` (without `float_roundtrip`): the significand as a float,
    /// multiplied or divided by a power of ten from [`POW10`]; a result too large for an f64 is
    /// an error rather than infinity.
    fn float_of_parts(&mut self, positive: bool, significand: u64, mut exponent: i32) -> Option<f64> {
        let mut value = significand as f64;
        loop {
            match POW10.get(exponent.unsigned_abs() as usize) {
                Some(&power) => {
                    if exponent >= 0 {
                        value *= power;
                        if value.is_infinite() {
                            return self.fail_here(Syntax::NumberOutOfRange);
                        }
                    } else {
                        value /= power;
                    }
                    break;
                }
                None => {
                    if value == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return self.fail_here(Syntax::NumberOutOfRange);
                    }
                    value /= 1e308;
                    exponent += 308;
                }
            }
        }
        Some(if positive { value } else { -value })
    }

    /// A string starting at the opening quote, decoded as serde_json's `parse_str` decodes it
    /// (with control characters forbidden and escapes checked).
    fn string(&mut self) -> Option<String> {
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

/// Powers of ten exactly as serde_json's table writes them (each the f64 nearest 10^n).
static POW10: [f64; 309] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39,
    1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48, 1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58,
    1e59, 1e60, 1e61, 1e62, 1e63, 1e64, 1e65, 1e66, 1e67, 1e68, 1e69, 1e70, 1e71, 1e72, 1e73, 1e74, 1e75, 1e76, 1e77,
    1e78, 1e79, 1e80, 1e81, 1e82, 1e83, 1e84, 1e85, 1e86, 1e87, 1e88, 1e89, 1e90, 1e91, 1e92, 1e93, 1e94, 1e95, 1e96,
    1e97, 1e98, 1e99, 1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109, 1e110, 1e111, 1e112, 1e113,
    1e114, 1e115, 1e116, 1e117, 1e118, 1e119, 1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139, 1e140, 1e141, 1e142, 1e143, 1e144, 1e145,
    1e146, 1e147, 1e148, 1e149, 1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159, 1e160, 1e161,
    1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169, 1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177,
    1e178, 1e179, 1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189, 1e190, 1e191, 1e192, 1e193,
    1e194, 1e195, 1e196, 1e197, 1e198, 1e199, 1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209,
    1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219, 1e220, 1e221, 1e222, 1e223, 1e224, 1e225,
    1e226, 1e227, 1e228, 1e229, 1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239, 1e240, 1e241,
    1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249, 1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257,
    1e258, 1e259, 1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269, 1e270, 1e271, 1e272, 1e273,
    1e274, 1e275, 1e276, 1e277, 1e278, 1e279, 1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289,
    1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305,
    1e306, 1e307, 1e308,
];

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

/// The reader against serde_json itself, which it replaces: on every text, the same value (a
/// float bit for bit) or the same syntax error message with the same position.
#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::Value;

    /// A finished node as the `serde_json::Value` it stands for (keys repeated in an object keep
    /// the last value, as `Value` does).
    fn to_value(node: &Node) -> Value {
        match &node.kind {
            Kind::Null => Value::Null,
            Kind::Bool(flag) => Value::Bool(*flag),
            Kind::Number(Number::U64(value)) => Value::from(*value),
            Kind::Number(Number::I64(value)) => Value::from(*value),
            Kind::Number(Number::F64(value, _)) => Value::from(*value),
            Kind::Str(text) => Value::String(text.clone()),
            Kind::Array(elements, _) => Value::Array(elements.iter().map(to_value).collect()),
            Kind::Object(members, _) => {
                Value::Object(members.iter().map(|member| (member.key.clone(), to_value(&member.value))).collect())
            }
            Kind::Broken => unreachable!("a text without a syntax error has no broken node"),
        }
    }

    /// Every float in `value`, as bits, in order (so that `-0.0` and `0.0` differ).
    fn float_bits(value: &Value, out: &mut Vec<u64>) {
        match value {
            Value::Number(number) if number.is_f64() => out.push(number.as_f64().unwrap_or(0.0).to_bits()),
            Value::Array(values) => values.iter().for_each(|value| float_bits(value, out)),
            Value::Object(map) => map.values().for_each(|value| float_bits(value, out)),
            _ => {}
        }
    }

    /// The disagreement between the reader and serde_json on `text`, if any. serde_json reads
    /// the first value and ignores what follows, as a streaming parse does.
    fn disagreement(text: &str) -> Option<String> {
        let expected = Value::deserialize(&mut serde_json::Deserializer::from_str(text));
        let document = parse(text);
        let got = match &document.syntax_error {
            Some(message) => Err(message.clone()),
            None => Ok(to_value(&document.root)),
        };
        let same = match (&expected, &got) {
            (Ok(expected), Ok(got)) => {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                float_bits(expected, &mut a);
                float_bits(got, &mut b);
                expected == got && a == b
            }
            (Err(expected), Err(got)) => expected.to_string() == *got,
            _ => false,
        };
        (!same).then(|| format!("{text:?}\n  serde_json {expected:?}\n  reader     {got:?}"))
    }

    fn assert_agree(texts: impl IntoIterator<Item = String>) {
        let mut count = 0;
        let wrong: Vec<String> =
            texts.into_iter().inspect(|_| count += 1).filter_map(|text| disagreement(&text)).take(20).collect();
        assert!(wrong.is_empty(), "{} disagreements (of {count}):\n{}", wrong.len(), wrong.join("\n"));
    }

    /// Every text of up to `length` symbols from `alphabet`.
    fn all_texts(alphabet: &[&str], length: usize) -> Vec<String> {
        let mut texts = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..length {
            last = last.iter().flat_map(|text| alphabet.iter().map(move |symbol| format!("{text}{symbol}"))).collect();
            texts.extend(last.iter().cloned());
        }
        texts
    }

    #[test]
    fn numbers_are_read_as_serde_json_reads_them() {
        let cases = [
            "0", "-0", "-0.0", "1", "-1", "18446744073709551615", "18446744073709551616", "18446744073709551610.0",
            "18446744073709551616.0", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
            "-18446744073709551616", "1.5", "2.0", "0.1", "0.30000000000000004", "123456789012345678901234567890",
            "1234567890123456789012345678901234567890.123", "0.000000000000000000000000000000000000001234567890123",
            "1e308", "1.7976931348623157e308", "1.7976931348623158e308", "1e309", "-1e309", "1e-308", "1e-320",
            "4.9e-324", "2e-324", "1e-400", "0e999999999999", "1e2147483647", "1e2147483648", "1e-2147483648",
            "0.0e2147483648", "-0e-99999999999", "1E5", "1e+5", "1e-5", "1.", "1.e5", ".5", "01", "-", "-a", "1e",
            "1e+", "1ea", "-01", "00", "1.0.0", "2.50", "1e3", "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.0",
        ];
        assert_agree(cases.iter().map(|case| case.to_string()));
        assert_agree(all_texts(&["0", "1", "9", "-", ".", "e", "E", "+", " ", ","], 5));
    }

    #[test]
    fn strings_are_read_as_serde_json_reads_them() {
        let cases = [
            r#""""#,
            r#""a""#,
            r#""\"\\\/\b\f\n\r\t""#,
            r#""\u0041\u00e9\u20ac""#,
            r#""\uD83D\uDE00""#,
            r#""\uDE00""#,
            r#""\uD83D""#,
            r#""\uD83Dx""#,
            r#""\uD83D\x""#,
            r#""\uD83D\u0041""#,
            r#""\uD83D\uD83D""#,
            r#""\u12""#,
            r#""\u12G4""#,
            r#""\q""#,
            r#""\"#,
            "\"\\",
            "\"a",
            "\"\u{1}\"",
            "\"\n\"",
            "\"é\\u00e9\"",
            "\"\\uéé\"",
            "\"\\u\u{1F600}\"",
            "\"\\\u{e9}\"",
            "\"\\uD83D\\u\u{e9}\"",
        ];
        assert_agree(cases.iter().map(|case| case.to_string()));
        assert_agree(all_texts(&["\"", "\\", "u", "D", "8", "0", "n", "é", "\u{1}"], 5));
    }

    #[test]
    fn structure_and_words_are_read_as_serde_json_reads_them() {
        assert_agree(all_texts(&["[", "]", "{", "}", ",", ":", "\"k\"", "1", "n", "ul", "true", "\n", " "], 5));
        let deep = |depth: usize, open: &str, close: &str| format!("{}{}", open.repeat(depth), close.repeat(depth));
        assert_agree([126, 127, 128, 200].into_iter().flat_map(|depth| {
            [
                deep(depth, "[", "]"),
                deep(depth, "{\"a\":", "}"),
                deep(depth, "[", ""),
                format!("[{}", deep(depth, "{\"k\":[", "]}")),
            ]
        }));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn random_numbers_agree(text in "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{0,30})?([eE][+-]?[0-9]{0,4})?") {
            prop_assert!(disagreement(&text).is_none(), "{}", disagreement(&text).unwrap_or_default());
        }

        #[test]
        fn random_texts_agree(text in "[\\[\\]{}\",:0-9a-z\\\\ \n\u{1}é\u{1F600}.+-]{0,40}") {
            prop_assert!(disagreement(&text).is_none(), "{}", disagreement(&text).unwrap_or_default());
        }
    }
}
