//! Readers with the rules and messages of serde reading a `serde_json::Value` (as serde reads a
//! step's arguments): no positions, maps in key order.

use super::fail::{Fail, Unexpected};
use crate::errno::Errno;
use crate::scenario::json::{Kind, Node, Number};
use crate::scenario::{Expect, Linger, OptValue};

fn number_unexpected(number: &Number) -> Unexpected<'_> {
    match number {
        Number::U64(value) => Unexpected::Unsigned(*value),
        Number::I64(value) => Unexpected::Signed(*value),
        Number::F64(_, text) => Unexpected::Float(text),
    }
}

/// The members of an object as serde_json's map holds them: sorted by key, the last of
/// repeated keys kept.
pub(super) fn as_map(node: &Node) -> Vec<(&str, &Node)> {
    let Kind::Object(members, _) = &node.kind else { return Vec::new() };
    let mut map: Vec<(&str, &Node)> = members.iter().map(|member| (member.key.as_str(), &member.value)).collect();
    // The sort is stable, so repeated keys stay in the order written; each later one hands
    // its value to the first before it is dropped (the whole thing stays O(n log n), which
    // matters for a step with many thousands of keys).
    map.sort_by(|a, b| a.0.cmp(b.0));
    map.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 = later.1;
        }
        same
    });
    map
}

pub fn unexpected(node: &Node) -> Unexpected<'_> {
    match &node.kind {
        Kind::Null => Unexpected::Null,
        Kind::Bool(flag) => Unexpected::Bool(*flag),
        Kind::Number(number) => number_unexpected(number),
        Kind::Str(text) => Unexpected::Str(text),
        Kind::Array(..) => Unexpected::Seq,
        Kind::Object(..) | Kind::Broken => Unexpected::Map,
    }
}

pub fn invalid_type(node: &Node, expected: &str) -> Fail {
    Fail::invalid_type(unexpected(node), expected)
}

pub fn string(node: &Node) -> Result<String, Fail> {
    match &node.kind {
        Kind::Str(text) => Ok(text.clone()),
        _ => Err(invalid_type(node, "a string")),
    }
}

pub fn flag(node: &Node) -> Result<bool, Fail> {
    match node.kind {
        Kind::Bool(flag) => Ok(flag),
        _ => Err(invalid_type(node, "a boolean")),
    }
}

pub fn float(node: &Node) -> Result<f64, Fail> {
    match &node.kind {
        Kind::Number(number) => Ok(number.as_f64()),
        _ => Err(invalid_type(node, "f64")),
    }
}

/// An unsigned integer of at most `max`, named `expected` (`u32`, `usize`, ...) in errors.
pub fn unsigned(node: &Node, max: u64, expected: &str) -> Result<u64, Fail> {
    if let Kind::Number(number) = &node.kind {
        let invalid = match (number.as_u64(), number.as_i64()) {
            (Some(value), _) if value <= max => return Ok(value),
            (Some(value), _) => Unexpected::Unsigned(value),
            (None, Some(value)) => Unexpected::Signed(value),
            (None, None) => return Err(invalid_type(node, expected)),
        };
        return Err(Fail::invalid_value(invalid, expected));
    }
    Err(invalid_type(node, expected))
}

pub fn u32(node: &Node) -> Result<u32, Fail> {
    Ok(unsigned(node, u32::MAX.into(), "u32")? as u32)
}

/// `null` is `None`; anything else is read by `read` (used with either error type).
pub fn option<T, E>(node: &Node, read: impl FnOnce(&Node) -> Result<T, E>) -> Result<Option<T>, E> {
    match node.kind {
        Kind::Null => Ok(None),
        _ => read(node).map(Some),
    }
}

/// A field-less enum variant: its name as a string, or a map of its name to null.
/// Returns the index of the name in `names`.
pub fn variant(node: &Node, names: &'static [&'static str]) -> Result<usize, Fail> {
    let (name, value) = variant_name(node)?;
    let Some(index) = names.iter().position(|known| *known == name) else {
        return Err(Fail::unknown_variant(name, names));
    };
    unit(value)?;
    Ok(index)
}

/// The name of an enum variant given as a string or as a map with a single key, and the
/// value given with it.
fn variant_name(node: &Node) -> Result<(&str, Option<&Node>), Fail> {
    match &node.kind {
        Kind::Str(name) => Ok((name.as_str(), None)),
        Kind::Object(..) => match as_map(node)[..] {
            [(name, value)] => Ok((name, Some(value))),
            _ => Err(Fail::invalid_value(Unexpected::Map, "map with a single key")),
        },
        _ => Err(invalid_type(node, "string or map")),
    }
}

/// A field-less variant may come with null and nothing else.
fn unit(value: Option<&Node>) -> Result<(), Fail> {
    match value {
        Some(value) if !matches!(value.kind, Kind::Null) => Err(invalid_type(value, "unit")),
        _ => Ok(()),
    }
}

/// An enum variant's name given as a string (the value of `"call"`).
/// The value a table of spellings gives a variant identifier, with serde's error listing
/// every spelling when it names none of them.
pub fn variant_in<T: Copy>(node: &Node, table: &[(&str, T)]) -> Result<T, Fail> {
    let Kind::Str(name) = &node.kind else { return Err(invalid_type(node, "variant identifier")) };
    match table.iter().find(|(spelling, _)| spelling == name) {
        Some(&(_, value)) => Ok(value),
        None => {
            let names: Vec<&str> = table.iter().map(|&(spelling, _)| spelling).collect();
            Err(Fail::unknown_variant(name, &names))
        }
    }
}

pub fn variant_identifier(node: &Node, names: &'static [&'static str]) -> Result<usize, Fail> {
    let Kind::Str(name) = &node.kind else { return Err(invalid_type(node, "variant identifier")) };
    names.iter().position(|known| known == name).ok_or_else(|| Fail::unknown_variant(name, names))
}

/// What a step must return: a number that fits an i64, an errno name, or a map of an errno
/// name to null (serde's untagged enum tries each in turn).
pub fn expect(node: &Node) -> Result<Expect, Fail> {
    if let Kind::Number(number) = &node.kind {
        if let Some(value) = number.as_i64() {
            return Ok(Expect::Value(value));
        }
    }
    let errno = || {
        let (name, value) = variant_name(node).ok()?;
        let errno = Errno::ALL.into_iter().find(|errno| errno.to_string() == name)?;
        unit(value).ok()?;
        Some(errno)
    };
    errno().map(Expect::Errno).ok_or_else(|| Fail::custom("data did not match any variant of untagged enum Expect"))
}

/// A socket option's value: a flag, a number, or `{"onoff": .., "linger": ..}` (also as
/// the pair `[onoff, linger]`), tried in that order as serde's untagged enum does.
pub fn opt_value(node: &Node) -> Result<OptValue, Fail> {
    let linger = || -> Option<Linger> {
        match &node.kind {
            Kind::Array(elements, _) => match &elements[..] {
                [onoff, linger] => Some(Linger { onoff: flag(onoff).ok()?, linger: u32(linger).ok()? }),
                _ => None,
            },
            Kind::Object(..) => match as_map(node)[..] {
                [("linger", linger), ("onoff", onoff)] => {
                    Some(Linger { onoff: flag(onoff).ok()?, linger: u32(linger).ok()? })
                }
                _ => None,
            },
            _ => None,
        }
    };
    if let Kind::Bool(flag) = node.kind {
        return Ok(OptValue::Flag(flag));
    }
    if let Ok(number) = u32(node) {
        return Ok(OptValue::Number(number));
    }
    linger()
        .map(OptValue::Linger)
        .ok_or_else(|| Fail::custom("data did not match any variant of untagged enum OptValue"))
}
