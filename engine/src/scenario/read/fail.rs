//! The messages of a rejected value, worded as serde's `de::Error` constructors and
//! serde_json's display of the unexpected value word them.

use std::fmt::{self, Display};

/// What a value was found to be, in an "invalid type" or "invalid value" message (serde's
/// `Unexpected`, as serde_json displays it).
#[derive(Clone, Copy)]
pub(super) enum Unexpected<'a> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    /// A float, as written in the scenario.
    Float(&'a str),
    Str(&'a str),
    Seq,
    Map,
}

impl Display for Unexpected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Unexpected::Null => f.write_str("null"),
            Unexpected::Bool(flag) => write!(f, "boolean `{flag}`"),
            Unexpected::Unsigned(value) => write!(f, "integer `{value}`"),
            Unexpected::Signed(value) => write!(f, "integer `{value}`"),
            Unexpected::Float(text) => write!(f, "floating point `{text}`"),
            Unexpected::Str(text) => write!(f, "string {text:?}"),
            Unexpected::Seq => f.write_str("sequence"),
            Unexpected::Map => f.write_str("map"),
        }
    }
}

/// serde's list of the names it expected: `` `a` ``, `` `a` or `b` ``, or
/// `` one of `a`, `b`, `c` ``.
struct OneOf<'a>(&'a [&'a str]);

impl Display for OneOf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "`{one}`"),
            [first, second] => write!(f, "`{first}` or `{second}`"),
            names => {
                f.write_str("one of ")?;
                for (index, name) in names.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{name}`")?;
                }
                Ok(())
            }
        }
    }
}

/// Why a value was rejected, without a position: the message serde's `de::Error` constructors
/// (with serde_json's display of the unexpected value) give, built here so that the page links
/// neither serde_json's error type nor serde's float display.
#[derive(Debug)]
pub(super) struct Fail(String);

impl Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Fail {
    pub fn custom(message: impl Display) -> Fail {
        Fail(message.to_string())
    }

    pub fn invalid_type(unexpected: Unexpected, expected: &str) -> Fail {
        Fail(format!("invalid type: {unexpected}, expected {expected}"))
    }

    pub fn invalid_value(unexpected: Unexpected, expected: &str) -> Fail {
        Fail(format!("invalid value: {unexpected}, expected {expected}"))
    }

    pub fn invalid_length(length: usize, expected: &str) -> Fail {
        Fail(format!("invalid length {length}, expected {expected}"))
    }

    /// Every list of names here has at least one (serde words an empty one differently).
    pub fn unknown_field(key: &str, fields: &[&str]) -> Fail {
        Fail(format!("unknown field `{key}`, expected {}", OneOf(fields)))
    }

    pub fn unknown_variant(name: &str, names: &[&str]) -> Fail {
        Fail(format!("unknown variant `{name}`, expected {}", OneOf(names)))
    }

    pub fn missing_field(name: &str) -> Fail {
        Fail(format!("missing field `{name}`"))
    }

    pub fn duplicate_field(name: &str) -> Fail {
        Fail(format!("duplicate field `{name}`"))
    }
}
