//! Reading faults as serde read its internally tagged enum: the whole object first, then the
//! fault's fields from what it kept, with every error of that second part placed at the fault.

use super::fail::Fail;
use super::reader::{end_map_pos, end_seq_pos, Mode, Reader};
use super::value;
use crate::scenario::json::{self, Kind, Member, Node, Tail};
use crate::scenario::{Fault, ScenarioError, SegmentMatch};

impl Reader<'_> {
    /// A fault. serde reads the whole object first (its tag, and every other member kept
    /// aside in order), then reads the fault's fields from what it kept; errors in that second
    /// part are reported at the fault, where serde_json stopped reading the array of faults.
    pub(super) fn fault(&self, node: &Node, path: &str) -> Result<Fault, ScenarioError> {
        const KINDS: &[&str] = &["drop", "loss", "duplicate", "reorder", "delay", "link_down", "crash", "reboot"];
        let stream = Mode::Stream;
        let Kind::Object(members, tail) = &node.kind else {
            return Err(self.invalid_type(stream, node, path, "internally tagged enum Fault"));
        };
        let mut kind = None;
        let mut rest = Vec::new();
        let tag_key = |key: &str, key_end: usize, kind: &Option<usize>| {
            if key == "fault" && kind.is_some() {
                let pos = end_map_pos(self.text, key_end);
                return Err(self.error(stream, path, pos, Fail::duplicate_field("fault")));
            }
            Ok(key == "fault")
        };
        for member in members {
            let field_path = json::join(path, &member.key);
            if tag_key(&member.key, member.key_end, &kind)? {
                let value = &member.value;
                let index = value::variant_identifier(value, KINDS)
                    .map_err(|fail| self.place(stream, value, &field_path, fail))?;
                kind = Some(index);
            } else if json::broken_path(&member.value, &field_path).is_some() {
                return Err(self.syntax(&member.value, &field_path));
            } else {
                rest.push(member);
            }
        }
        match tail {
            Tail::Complete => {}
            Tail::Colon { key, key_end } => {
                tag_key(key, *key_end, &kind)?;
                return Err(self.syntax(node, path));
            }
            Tail::Here | Tail::Key => return Err(self.syntax(node, path)),
        }
        let Some(kind) = kind else { return Err(self.missing(stream, node, path, "fault")) };
        let pos = end_seq_pos(self.text, node.end);
        let m = Mode::Buffered { path, pos };
        let fields: &'static [&'static str] = match kind {
            0 => &["match", "nth", "count"],
            1 => &["rate", "match"],
            2 => &["rate", "match", "nth", "count"],
            3 => &["rate", "delay_us", "match"],
            4 => &["extra_us", "match", "nth", "count"],
            5 => &["a", "b", "from_ms", "until_ms"],
            _ => &["host", "at_ms"],
        };
        let mut matching = SegmentMatch::default();
        let mut counts = [1u32, 1];
        let mut nth_given = false;
        let mut rate = 0.0;
        let mut micros = 0;
        let mut texts = [None, None];
        let mut times = [None, None];
        let mut seen = 0u64;
        for Member { key, value: v, .. } in rest {
            // In the buffered mode every error is placed at the fault, so no position is needed.
            match fields[self.field_index(m, path, 0, fields, &mut seen, key)?] {
                "match" => matching = self.segment_match(m, v, path)?,
                "nth" => {
                    counts[0] = self.u32(m, v, path)?;
                    nth_given = true;
                }
                "count" => counts[1] = self.u32(m, v, path)?,
                "rate" => rate = self.float(m, v, path)?,
                "delay_us" | "extra_us" => micros = self.u64(m, v, path)?,
                "a" | "host" => texts[0] = Some(self.string(m, v, path)?),
                "b" => texts[1] = Some(self.string(m, v, path)?),
                "from_ms" | "at_ms" => times[0] = Some(self.float(m, v, path)?),
                _ => times[1] = value::option(v, |v| self.float(m, v, path))?,
            }
        }
        let missing = fields.iter().enumerate().find(|(index, name)| {
            seen & (1 << index) == 0 && !matches!(**name, "match" | "nth" | "count" | "until_ms")
        });
        if let Some((_, name)) = missing {
            return Err(self.missing(m, node, path, name));
        }
        let text = |index: usize| texts[index].clone().unwrap_or_default();
        let time = times[0].unwrap_or(0.0);
        Ok(match kind {
            0 => Fault::Drop { matching, nth: counts[0], count: counts[1] },
            1 => Fault::Loss { rate, matching },
            2 => Fault::Duplicate { rate, matching, nth: nth_given.then_some(counts[0]), count: counts[1] },
            3 => Fault::Reorder { rate, delay_us: micros, matching },
            4 => Fault::Delay { extra_us: micros, matching, nth: nth_given.then_some(counts[0]), count: counts[1] },
            5 => Fault::LinkDown { a: text(0), b: text(1), from_ms: time, until_ms: times[1] },
            6 => Fault::Crash { host: text(0), at_ms: time },
            _ => Fault::Reboot { host: text(0), at_ms: time },
        })
    }

    fn segment_match(&self, m: Mode, node: &Node, path: &str) -> Result<SegmentMatch, ScenarioError> {
        const FIELDS: &[&str] = &["from", "to", "flags", "data", "seq", "from_ms", "until_ms"];
        let mut matching = SegmentMatch::default();
        self.fields(m, node, path, "struct SegmentMatch", FIELDS, |index, v, p| {
            let text = |v: &Node| value::option(v, |v| self.string(m, v, p));
            let time = |v: &Node| value::option(v, |v| self.float(m, v, p));
            match index {
                0 => matching.from = text(v)?,
                1 => matching.to = text(v)?,
                2 => matching.flags = text(v)?,
                3 => matching.data = value::option(v, |v| self.flag(m, v, p))?,
                4 => matching.seq = value::option(v, |v| self.pair(m, v, p))?,
                5 => matching.from_ms = time(v)?,
                _ => matching.until_ms = time(v)?,
            }
            Ok(())
        })?;
        Ok(matching)
    }

    /// `[first, last]`, read as serde reads a `[u32; 2]` it had buffered.
    fn pair(&self, m: Mode, node: &Node, path: &str) -> Result<[u32; 2], ScenarioError> {
        let Kind::Array(elements, _) = &node.kind else {
            return Err(self.invalid_type(m, node, path, "an array of length 2"));
        };
        let mut pair = [0; 2];
        for (index, slot) in pair.iter_mut().enumerate() {
            let Some(element) = elements.get(index) else {
                return Err(self.error(m, path, 0, Fail::invalid_length(index, "an array of length 2")));
            };
            *slot = self.u32(m, element, path)?;
        }
        if elements.len() > 2 {
            return Err(self.error(m, path, 0, Fail::invalid_length(elements.len(), "2 elements in sequence")));
        }
        Ok(pair)
    }
}
