//! The part of packetdrill's `%{ … }%` Python blocks that sockscope runs: assertions on
//! `tcp_info` fields, which is what most blocks in packetdrill's suite are, such as
//! `assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd` or `assert 990 <= tcpi_last_data_recv <= 1010`.
//! packetdrill takes a `tcp_info` snapshot of the socket under test when the block's time
//! comes and runs the Python at the end; checking the snapshot at once gives the same verdict.
//! A block with anything else (a variable, a call, an `if`) is not Python this reads, and the
//! run reports the script as unsupported there.

use crate::format::clipped;

/// One comparison chain: `a <= b <= c` holds when each neighbouring pair does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    pub operands: Vec<Operand>,
    pub operators: Vec<Comparison>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    Number(i64),
    /// A `tcpi_*` field, without the prefix.
    Field(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Comparison::Equal => left == right,
            Comparison::NotEqual => left != right,
            Comparison::Less => left < right,
            Comparison::LessOrEqual => left <= right,
            Comparison::Greater => left > right,
            Comparison::GreaterOrEqual => left >= right,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
        }
    }
}

/// Reads a block as assertions, or says why it is not one sockscope runs.
pub fn assertions(block: &str) -> Result<Vec<Assertion>, String> {
    let joined = block.replace("\\\n", " ");
    let mut out = Vec::new();
    for statement in joined.split([';', '\n']).map(str::trim).filter(|statement| !statement.is_empty()) {
        let Some(rest) = statement.strip_prefix("assert ") else {
            return Err(format!("a Python statement other than an assertion (`{}`)", clipped(statement, 60)));
        };
        // What follows the comma is the message Python prints when the assertion fails.
        let condition = rest.split(',').next().unwrap_or_default();
        out.push(
            chain(condition)
                .ok_or_else(|| format!("a Python assertion sockscope cannot read (`{}`)", clipped(statement, 60)))?,
        );
    }
    Ok(out)
}

fn chain(condition: &str) -> Option<Assertion> {
    let words: Vec<&str> = condition.split_whitespace().collect();
    if words.len() < 3 || words.len().is_multiple_of(2) {
        return None;
    }
    let mut assertion = Assertion { operands: Vec::new(), operators: Vec::new() };
    for (index, word) in words.iter().enumerate() {
        if index % 2 == 0 {
            assertion.operands.push(operand(word)?);
        } else {
            assertion.operators.push(match *word {
                "==" => Comparison::Equal,
                "!=" => Comparison::NotEqual,
                "<" => Comparison::Less,
                "<=" => Comparison::LessOrEqual,
                ">" => Comparison::Greater,
                ">=" => Comparison::GreaterOrEqual,
                _ => return None,
            });
        }
    }
    Some(assertion)
}

fn operand(word: &str) -> Option<Operand> {
    if let Some(field) = word.strip_prefix("tcpi_") {
        return (!field.is_empty() && field.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .then(|| Operand::Field(field.to_string()));
    }
    word.parse().ok().map(Operand::Number)
}

/// The outcome of one assertion given the fields' values.
pub enum Checked {
    Holds,
    /// It does not hold: the assertion as written, with the values it saw.
    Fails(String),
    /// It names a field sockscope does not model.
    Unknown(String),
}

impl Assertion {
    pub fn check(&self, field: impl Fn(&str) -> Option<i64>) -> Checked {
        let mut values = Vec::new();
        for operand in &self.operands {
            values.push(match operand {
                Operand::Number(number) => *number,
                Operand::Field(name) => match field(name) {
                    Some(value) => value,
                    None => return Checked::Unknown(format!("tcpi_{name}")),
                },
            });
        }
        let holds = self.operators.iter().enumerate().all(|(index, op)| op.holds(values[index], values[index + 1]));
        if holds {
            return Checked::Holds;
        }
        let mut text = String::new();
        for (index, operand) in self.operands.iter().enumerate() {
            if index > 0 {
                text.push_str(&format!(" {} ", self.operators[index - 1].text()));
            }
            match operand {
                Operand::Number(number) => text.push_str(&number.to_string()),
                Operand::Field(name) => text.push_str(&format!("tcpi_{name} ({})", values[index])),
            }
        }
        Checked::Fails(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str) -> Option<i64> {
        match name {
            "snd_cwnd" => Some(10),
            "last_data_recv" => Some(1000),
            _ => None,
        }
    }

    #[test]
    fn assertions_on_tcp_info_are_read_and_checked() {
        let cases = [
            ("assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd", "holds"),
            ("assert tcpi_snd_cwnd == 12, tcpi_snd_cwnd", "tcpi_snd_cwnd (10) == 12"),
            ("assert 990 <= tcpi_last_data_recv <= 1010, tcpi_last_data_recv", "holds"),
            ("assert 0 == tcpi_snd_cwnd;\\\n assert tcpi_snd_cwnd > 2", "0 == tcpi_snd_cwnd (10)"),
            ("assert tcpi_busy_time >= 0", "unknown tcpi_busy_time"),
        ];
        for (block, wanted) in cases {
            let read = assertions(block).unwrap_or_else(|err| panic!("{block}: {err}"));
            let got = read
                .iter()
                .map(|assertion| match assertion.check(field) {
                    Checked::Holds => None,
                    Checked::Fails(text) => Some(text),
                    Checked::Unknown(name) => Some(format!("unknown {name}")),
                })
                .find_map(|outcome| outcome)
                .unwrap_or_else(|| "holds".to_string());
            assert_eq!(got, wanted, "{block}");
        }
    }

    #[test]
    fn other_python_is_named_not_run() {
        for block in ["x = 1", "assert len(tcpi_snd_cwnd) == 1", "print(tcpi_snd_cwnd)", "assert tcpi_snd_cwnd"] {
            assert!(assertions(block).is_err(), "{block}");
        }
    }
}
