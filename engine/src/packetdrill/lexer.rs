//! The script's words: packetdrill's tokens, each with the line and column it starts at.
//!
//! The rules follow packetdrill's lexer (`lexer.l`): `//` and `/* */` comments, `--name`
//! options, integers (a leading `-` belongs to the number), hexadecimal `0x…`, decimals that
//! may start with the point (`.1`), dotted IPv4 addresses, `...`, quoted strings, back-quoted
//! shell commands and `%{ … }%` Python blocks (both may span lines), words, and punctuation.

use super::error::ScriptError;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// `--name`, without the dashes.
    Option(String),
    Integer(i64),
    Hex(u64),
    /// A decimal with a point, kept as written (times are read from it exactly).
    Decimal(String),
    Ipv4(String),
    Word(String),
    Str(String),
    /// A back-quoted shell command, without its quotes.
    Shell(String),
    /// A `%{ … }%` Python block, without its marks.
    Python(String),
    Ellipsis,
    Punct(char),
}

impl Token {
    /// The token as an error message names it.
    pub fn describe(&self) -> String {
        match self {
            Token::Option(name) => format!("option `--{name}`"),
            Token::Integer(value) => format!("`{value}`"),
            Token::Hex(value) => format!("`{value:#x}`"),
            Token::Decimal(text) | Token::Ipv4(text) => format!("`{text}`"),
            Token::Word(word) => format!("`{word}`"),
            Token::Str(_) => "a string".to_string(),
            Token::Shell(_) => "a shell command".to_string(),
            Token::Python(_) => "a Python block".to_string(),
            Token::Ellipsis => "`...`".to_string(),
            Token::Punct(c) => format!("`{c}`"),
        }
    }
}

/// A token and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    pub token: Token,
    pub line: u32,
    pub column: u32,
    /// Whether whitespace (or a comment) came before it on its line or an earlier one: `S.`
    /// and `S .` read alike, but an event starts a new line.
    pub first_on_line: bool,
}

/// The longest integer text read: more digits than an i64 holds is an error, not a wrap.
const MAX_DIGITS: usize = 20;

pub fn tokens(text: &str) -> Result<Vec<Located>, ScriptError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut at, mut line, mut column) = (0usize, 1u32, 1u32);
    let mut line_started = true;
    // Moves past `count` characters, counting lines.
    let advance = |at: &mut usize, line: &mut u32, column: &mut u32, count: usize| {
        for _ in 0..count {
            if chars.get(*at) == Some(&'\n') {
                *line += 1;
                *column = 1;
            } else {
                *column += 1;
            }
            *at += 1;
        }
    };
    let error = |line: u32, column: u32, reason: String| ScriptError { line, column, reason };
    while at < chars.len() {
        let c = chars[at];
        let next = chars.get(at + 1).copied();
        if c == '\n' {
            line_started = true;
            advance(&mut at, &mut line, &mut column, 1);
            continue;
        }
        if c.is_whitespace() {
            advance(&mut at, &mut line, &mut column, 1);
            continue;
        }
        if c == '/' && next == Some('/') {
            while at < chars.len() && chars[at] != '\n' {
                advance(&mut at, &mut line, &mut column, 1);
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let (start_line, start_column) = (line, column);
            advance(&mut at, &mut line, &mut column, 2);
            loop {
                if at >= chars.len() {
                    return Err(error(start_line, start_column, "a `/*` comment is never closed".into()));
                }
                if chars[at] == '*' && chars.get(at + 1) == Some(&'/') {
                    advance(&mut at, &mut line, &mut column, 2);
                    break;
                }
                advance(&mut at, &mut line, &mut column, 1);
            }
            continue;
        }
        let (start_line, start_column, start) = (line, column, at);
        let ahead = |offset: usize| chars.get(at + offset).copied();
        let token = if c == '-' && next == Some('-') && ahead(2).is_some_and(|c| c.is_ascii_alphabetic()) {
            let mut end = at + 2;
            while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            Token::Option(chars[at + 2..end].iter().collect())
        } else if c == '.' && next == Some('.') && ahead(2) == Some('.') {
            Token::Ellipsis
        } else if c == '`' || (c == '%' && next == Some('{')) {
            let (close, skip): (&[char], usize) = if c == '`' { (&['`'], 1) } else { (&['}', '%'], 2) };
            let mut end = at + skip;
            loop {
                if end >= chars.len() {
                    let what = if c == '`' { "a back-quoted command" } else { "a `%{` block" };
                    return Err(error(start_line, start_column, format!("{what} is never closed")));
                }
                if chars[end..].starts_with(close) {
                    break;
                }
                end += 1;
            }
            let body: String = chars[at + skip..end].iter().collect();
            let consumed = end + close.len() - at;
            advance(&mut at, &mut line, &mut column, consumed);
            out.push(Located {
                token: if c == '`' { Token::Shell(body) } else { Token::Python(body) },
                line: start_line,
                column: start_column,
                first_on_line: std::mem::take(&mut line_started),
            });
            continue;
        } else if c == '"' {
            let mut end = at + 1;
            let mut value = String::new();
            loop {
                match chars.get(end) {
                    None | Some('\n') => {
                        return Err(error(start_line, start_column, "a string is never closed".into()));
                    }
                    Some('"') => break,
                    Some('\\') if end + 1 < chars.len() => {
                        value.push(chars[end + 1]);
                        end += 2;
                    }
                    Some(other) => {
                        value.push(*other);
                        end += 1;
                    }
                }
            }
            let consumed = end + 1 - at;
            advance(&mut at, &mut line, &mut column, consumed);
            out.push(Located {
                token: Token::Str(value),
                line: start_line,
                column: start_column,
                first_on_line: std::mem::take(&mut line_started),
            });
            continue;
        } else if c.is_ascii_digit()
            || (c == '.' && next.is_some_and(|n| n.is_ascii_digit()))
            || (c == '-' && next.is_some_and(|n| n.is_ascii_digit() || n == '.'))
        {
            let (token, end) = number(&chars, at).map_err(|reason| error(start_line, start_column, reason))?;
            advance(&mut at, &mut line, &mut column, end - start);
            out.push(Located {
                token,
                line: start_line,
                column: start_column,
                first_on_line: std::mem::take(&mut line_started),
            });
            continue;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut end = at;
            while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            Token::Word(chars[at..end].iter().collect())
        } else if "<>()[]{},.:=+*~|-!%/;@&".contains(c) {
            Token::Punct(c)
        } else {
            return Err(error(start_line, start_column, format!("`{c}` has no meaning in a script")));
        };
        let length = token_length(&token);
        advance(&mut at, &mut line, &mut column, length);
        out.push(Located {
            token,
            line: start_line,
            column: start_column,
            first_on_line: std::mem::take(&mut line_started),
        });
    }
    Ok(out)
}

/// How many characters `token` (not a number, a string or a block) took.
fn token_length(token: &Token) -> usize {
    match token {
        Token::Ellipsis => 3,
        Token::Option(name) => name.chars().count() + 2,
        Token::Word(word) => word.chars().count(),
        _ => 1,
    }
}

/// An integer, a hexadecimal, a decimal or an IPv4 address starting at `at`, and where it ends.
fn number(chars: &[char], at: usize) -> Result<(Token, usize), String> {
    let negative = chars[at] == '-';
    let start = if negative { at + 1 } else { at };
    if chars.get(start) == Some(&'0') && matches!(chars.get(start + 1), Some('x' | 'X')) {
        let mut end = start + 2;
        while end < chars.len() && chars[end].is_ascii_hexdigit() {
            end += 1;
        }
        let digits: String = chars[start + 2..end].iter().collect();
        if negative || digits.is_empty() || digits.len() > 16 {
            return Err(format!(
                "`{}` is not a hexadecimal number of at most 64 bits",
                chars[at..end].iter().collect::<String>()
            ));
        }
        return u64::from_str_radix(&digits, 16).map(|value| (Token::Hex(value), end)).map_err(|err| err.to_string());
    }
    let mut end = start;
    let mut points = 0;
    while end < chars.len() && (chars[end].is_ascii_digit() || chars[end] == '.') {
        if chars[end] == '.' {
            if chars.get(end + 1) == Some(&'.') {
                break;
            }
            points += 1;
        }
        end += 1;
    }
    let text: String = chars[at..end].iter().collect();
    let token = match points {
        0 if text.len() <= MAX_DIGITS => {
            text.parse().map(Token::Integer).map_err(|_| format!("`{text}` is too large"))?
        }
        0 => return Err(format!("`{text}` is too large")),
        1 if !text.ends_with('.') && text != "-." => Token::Decimal(text),
        3 if !negative && text.split('.').all(|part| part.parse::<u8>().is_ok()) => Token::Ipv4(text),
        _ => return Err(format!("`{text}` is not a number or an IPv4 address")),
    };
    Ok((token, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Token> {
        tokens(text).expect("lexes").into_iter().map(|located| located.token).collect()
    }

    #[test]
    fn a_scripts_words_are_read_as_packetdrill_reads_them() {
        use Token::*;
        let word = |w: &str| Word(w.into());
        assert_eq!(
            kinds("+.1 < S. 0:0(0) ack 1"),
            vec![
                Punct('+'),
                Decimal(".1".into()),
                Punct('<'),
                word("S"),
                Punct('.'),
                Integer(0),
                Punct(':'),
                Integer(0),
                Punct('('),
                Integer(0),
                Punct(')'),
                word("ack"),
                Integer(1)
            ]
        );
        assert_eq!(
            kinds("+0...0.200 accept(3, ..., ...) = -1 EAGAIN"),
            vec![
                Punct('+'),
                Integer(0),
                Ellipsis,
                Decimal("0.200".into()),
                word("accept"),
                Punct('('),
                Integer(3),
                Punct(','),
                Ellipsis,
                Punct(','),
                Ellipsis,
                Punct(')'),
                Punct('='),
                Integer(-1),
                word("EAGAIN")
            ]
        );
        assert_eq!(
            kinds("--tolerance_usecs=10000 // a comment\n/* more\n */ 0x2 \"a\\\"b\" 192.0.2.1"),
            vec![
                Option("tolerance_usecs".into()),
                Punct('='),
                Integer(10000),
                Hex(2),
                Str("a\"b".into()),
                Ipv4("192.0.2.1".into())
            ]
        );
        assert_eq!(
            kinds("`../common/defaults.sh\n` +0 %{ assert x == 1 }%"),
            vec![Shell("../common/defaults.sh\n".into()), Punct('+'), Integer(0), Python(" assert x == 1 ".into())]
        );
        assert_eq!(
            kinds(". 1:1(0)"),
            vec![Punct('.'), Integer(1), Punct(':'), Integer(1), Punct('('), Integer(0), Punct(')')]
        );
    }

    #[test]
    fn where_each_word_starts_is_known() {
        let located = tokens("0 socket()\n\t+0 > S 0:0(0)").expect("lexes");
        let gt = located.iter().find(|l| l.token == Token::Punct('>')).expect("a >");
        assert_eq!((gt.line, gt.column), (2, 5));
        assert!(located[0].first_on_line && !located[1].first_on_line && located[4].first_on_line);
    }

    #[test]
    fn bad_words_are_located() {
        for (text, line, column, reason) in [
            ("0 socket()\n  /* open", 2, 3, "never closed"),
            ("0 `sysctl", 1, 3, "never closed"),
            ("0 write(3, \"abc", 1, 12, "never closed"),
            ("0 write(3, 99999999999999999999999)", 1, 12, "too large"),
            ("1.2.3 x", 1, 1, "not a number"),
            ("0 close(3) = 0 $", 1, 16, "no meaning"),
        ] {
            let err = tokens(text).expect_err(text);
            assert_eq!((err.line, err.column), (line, column), "{text}: {err}");
            assert!(err.reason.contains(reason), "{text}: {err}");
        }
    }
}
