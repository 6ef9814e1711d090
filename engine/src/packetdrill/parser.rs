//! From tokens to a [`Script`], by packetdrill's grammar (`parser.y`) for TCP over IPv4:
//! options, then events, each a time and an action. Constructs of the grammar that sockscope
//! does not read (UDP and ICMP packets, encapsulations, IP-level marks) are read past and
//! kept as [`Action::Unsupported`] with their name, so that a run can say so at that line.

use super::error::ScriptError;
use super::lexer::{Located, Token};
use super::script::{
    Action, Direction, Event, EventTime, Expr, Packet, PacketOptions, Script, ScriptOption, Syscall, TcpOption,
};

/// Deepest nesting of brackets and braces in an argument: enough for `msghdr`, bounded so
/// that no input can exhaust the stack.
const MAX_DEPTH: usize = 16;

pub fn script(tokens: &[Located]) -> Result<Script, ScriptError> {
    let mut parser = Parser { tokens, at: 0 };
    let mut options = Vec::new();
    while let Some(Token::Option(name)) = parser.peek() {
        let line = parser.here().0;
        let name = name.clone();
        parser.at += 1;
        let value = if parser.eat_punct('=') { parser.option_value()? } else { String::new() };
        options.push(ScriptOption { line, name, value });
    }
    let mut events = Vec::new();
    while parser.peek().is_some() {
        events.push(parser.event()?);
    }
    Ok(Script { options, events, source: Vec::new() })
}

struct Parser<'t> {
    tokens: &'t [Located],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|located| &located.token)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.at + offset).map(|located| &located.token)
    }

    /// Where the next token starts, or where the last one did at the end of the text.
    fn here(&self) -> (u32, u32) {
        self.tokens.get(self.at).or(self.tokens.last()).map_or((1, 1), |located| (located.line, located.column))
    }

    fn fail<T>(&self, reason: impl Into<String>) -> Result<T, ScriptError> {
        let (line, column) = self.here();
        Err(ScriptError { line, column, reason: reason.into() })
    }

    /// "expected X, found Y".
    fn expected<T>(&self, what: &str) -> Result<T, ScriptError> {
        let found = self.peek().map_or_else(|| "the end of the script".to_string(), Token::describe);
        self.fail(format!("expected {what}, found {found}"))
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn punct(&mut self, c: char) -> Result<(), ScriptError> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            self.expected(&format!("`{c}`"))
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Whether the next token starts a new line of the script.
    fn at_line_start(&self) -> bool {
        self.tokens.get(self.at).is_none_or(|located| located.first_on_line)
    }

    /// An option's value; `--define=NAME=value` keeps its inner `=`.
    fn option_value(&mut self) -> Result<String, ScriptError> {
        let mut parts = Vec::new();
        loop {
            let part = match self.peek() {
                Some(Token::Integer(value)) => value.to_string(),
                Some(Token::Hex(value)) => format!("{value:#x}"),
                Some(Token::Decimal(text) | Token::Ipv4(text) | Token::Word(text) | Token::Str(text)) => text.clone(),
                _ => return self.expected("an option's value"),
            };
            self.at += 1;
            parts.push(part);
            if !self.eat_punct('=') {
                return Ok(parts.join("="));
            }
        }
    }

    fn event(&mut self) -> Result<Event, ScriptError> {
        let line = self.here().0;
        // A shell command with no time: before the first event or after the last.
        if let Some(Token::Shell(command)) = self.peek() {
            let action = Action::Shell(command.clone());
            self.at += 1;
            return Ok(Event { line, time: None, action });
        }
        let time_at = self.here();
        let time = self.event_time()?;
        let action = self.action()?;
        // packetdrill's own rules (parser.y): only a segment the socket must send may come at
        // any time or within a range, and a range runs forwards.
        let outbound = matches!(&action, Action::Packet(packet) if packet.direction == Direction::Outbound);
        let fail = |reason: &str| Err(ScriptError { line: time_at.0, column: time_at.1, reason: reason.to_string() });
        match time {
            EventTime::Any if !outbound => {
                return fail("`*` (any time) is only for a segment the socket must send (`>`)")
            }
            EventTime::AbsoluteRange(..) | EventTime::RelativeRange(..) if !outbound => {
                return fail("a time range is only for a segment the socket must send (`>`)")
            }
            EventTime::AbsoluteRange(first, last) | EventTime::RelativeRange(first, last) if last < first => {
                return fail("the time range runs backwards")
            }
            _ => {}
        }
        Ok(Event { line, time: Some(time), action })
    }

    fn event_time(&mut self) -> Result<EventTime, ScriptError> {
        if self.eat_punct('*') {
            return Ok(EventTime::Any);
        }
        let relative = self.eat_punct('+');
        let first = self.time()?;
        if !self.eat_punct('~') {
            return Ok(if relative { EventTime::Relative(first) } else { EventTime::Absolute(first) });
        }
        if relative {
            self.punct('+')?;
            Ok(EventTime::RelativeRange(first, self.time()?))
        } else {
            Ok(EventTime::AbsoluteRange(first, self.time()?))
        }
    }

    /// A time in seconds, as microseconds.
    fn time(&mut self) -> Result<u64, ScriptError> {
        let micros = match self.peek() {
            Some(Token::Integer(seconds)) if *seconds >= 0 => u64::try_from(*seconds)
                .ok()
                .and_then(|seconds| seconds.checked_mul(1_000_000))
                .ok_or_else(|| "too far in time".to_string()),
            Some(Token::Decimal(text)) if !text.starts_with('-') => decimal_micros(text),
            _ => return self.expected("a time in seconds"),
        };
        match micros {
            Ok(micros) => {
                self.at += 1;
                Ok(micros)
            }
            Err(reason) => self.fail(reason),
        }
    }

    fn action(&mut self) -> Result<Action, ScriptError> {
        match self.peek() {
            Some(Token::Punct('<')) => self.packet(Direction::Inbound),
            Some(Token::Punct('>')) => self.packet(Direction::Outbound),
            Some(Token::Shell(command)) => {
                let action = Action::Shell(command.clone());
                self.at += 1;
                Ok(action)
            }
            Some(Token::Python(code)) => {
                let action = Action::Python(code.clone());
                self.at += 1;
                Ok(action)
            }
            Some(Token::Ellipsis) => self.syscall(),
            Some(Token::Word(_)) if self.peek_at(1) == Some(&Token::Punct('(')) => self.syscall(),
            _ => self.expected("a packet (`<` or `>`), a system call, a shell command or a Python block"),
        }
    }

    /// Reads past the rest of a line whose construct is not read, keeping its name.
    fn unsupported(&mut self, construct: &str) -> Action {
        self.at += 1;
        while !self.at_line_start() {
            self.at += 1;
        }
        Action::Unsupported(construct.to_string())
    }

    fn packet(&mut self, direction: Direction) -> Result<Action, ScriptError> {
        self.at += 1;
        // What sockscope does not model: IP-level marks, encapsulations, other protocols.
        match self.peek() {
            Some(Token::Punct('[' | '(')) => {
                return Ok(self.unsupported("an IP header field (ECN, TOS, TTL, flow label)"))
            }
            Some(Token::Word(word)) if matches!(word.as_str(), "udp" | "icmp") => {
                let construct = format!("a {} packet (only TCP is read)", word.to_uppercase());
                return Ok(self.unsupported(&construct));
            }
            Some(Token::Word(word)) if matches!(word.as_str(), "ipv4" | "ipv6" | "gre" | "mpls") => {
                let construct = format!("an encapsulation ({word})");
                return Ok(self.unsupported(&construct));
            }
            Some(Token::Integer(_)) if self.peek_at(1) == Some(&Token::Punct('>')) => {
                return Ok(self.unsupported("port numbers on a packet line"));
            }
            _ => {}
        }
        let (flags, ack_flag) = self.flags()?;
        let numbers_at = self.at;
        let start = self.u32_value("the first sequence number")?;
        self.punct(':')?;
        let end = self.u32_value("the sequence number past the segment")?;
        self.punct('(')?;
        let len = self.u32_value("the payload's length")?;
        self.punct(')')?;
        if end.wrapping_sub(start) != len {
            self.at = numbers_at;
            return self
                .fail(format!("{start}:{end} spans {} bytes, but the length says {len}", end.wrapping_sub(start)));
        }
        let ack = if self.eat_word("ack") { Some(self.u32_value("an acknowledgement number")?) } else { None };
        let win = if self.eat_word("win") { Some(self.u32_value("a window")?) } else { None };
        let urg = if self.eat_word("urg") { Some(self.u32_value("an urgent pointer")?) } else { None };
        let options = if !self.at_line_start() && self.eat_punct('<') {
            if self.peek() == Some(&Token::Ellipsis) {
                self.at += 1;
                self.punct('>')?;
                PacketOptions::Any
            } else {
                let mut list = vec![self.tcp_option()?];
                while self.eat_punct(',') {
                    list.push(self.tcp_option()?);
                }
                self.punct('>')?;
                PacketOptions::List(list)
            }
        } else {
            PacketOptions::Unwritten
        };
        Ok(Action::Packet(Packet { direction, flags, ack_flag, start, end, len, ack, win, urg, options }))
    }

    /// `S`, `S.`, `.`, `P.`, `FP.`, `-` (no flag).
    fn flags(&mut self) -> Result<(String, bool), ScriptError> {
        if self.eat_punct('-') {
            return Ok((String::new(), false));
        }
        let letters = match self.peek() {
            Some(Token::Word(word)) if word.chars().all(|c| "SFRPUEWC".contains(c)) => {
                let word = word.clone();
                self.at += 1;
                word
            }
            Some(Token::Punct('.')) => String::new(),
            _ => return self.expected("TCP flags such as `S`, `S.`, `.` or `P.`"),
        };
        let ack = self.eat_punct('.');
        Ok((letters, ack))
    }

    fn u32_value(&mut self, what: &str) -> Result<u32, ScriptError> {
        let value = match self.peek() {
            Some(Token::Integer(value)) => u32::try_from(*value).ok(),
            Some(Token::Hex(value)) => u32::try_from(*value).ok(),
            _ => return self.expected(what),
        };
        match value {
            Some(value) => {
                self.at += 1;
                Ok(value)
            }
            None => self.fail(format!("{what} must be between 0 and 4294967295")),
        }
    }

    fn tcp_option(&mut self) -> Result<TcpOption, ScriptError> {
        let Some(Token::Word(name)) = self.peek() else { return self.expected("a TCP option such as `mss 1460`") };
        let name = name.clone();
        self.at += 1;
        let small = |parser: &mut Self, what: &str, most: u32| -> Result<u32, ScriptError> {
            let value = parser.u32_value(what)?;
            if value > most {
                parser.at -= 1;
                return parser.fail(format!("{what} must be at most {most}"));
            }
            Ok(value)
        };
        Ok(match name.as_str() {
            "nop" => TcpOption::Nop,
            "eol" => TcpOption::Eol,
            "mss" => TcpOption::Mss(small(self, "an MSS", u32::from(u16::MAX))? as u16),
            "wscale" => TcpOption::WindowScale(small(self, "a window scale", 255)? as u8),
            "sackOK" => TcpOption::SackPermitted,
            "sack" => {
                let mut blocks = Vec::new();
                while matches!(self.peek(), Some(Token::Integer(_))) {
                    let first = self.u32_value("a SACK block's start")?;
                    self.punct(':')?;
                    blocks.push((first, self.u32_value("a SACK block's end")?));
                }
                if blocks.is_empty() {
                    return self.expected("a SACK block such as `1:1001`");
                }
                TcpOption::Sack(blocks)
            }
            "TS" => {
                if !self.eat_word("val") {
                    return self.expected("`val`");
                }
                let value = self.u32_value("a timestamp")?;
                if !self.eat_word("ecr") {
                    return self.expected("`ecr`");
                }
                TcpOption::Timestamp { value, echo: self.u32_value("an echoed timestamp")? }
            }
            "md5" | "FO" | "FOEXP" => {
                // An optional blob follows (a key or a cookie).
                if matches!(self.peek(), Some(Token::Word(_) | Token::Integer(_) | Token::Hex(_))) {
                    self.at += 1;
                }
                TcpOption::Other(name)
            }
            _ => {
                self.at -= 1;
                return self.expected("a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP)");
            }
        })
    }

    fn syscall(&mut self) -> Result<Action, ScriptError> {
        let end = if self.eat_ellipsis() { Some(self.time()?) } else { None };
        let Some(Token::Word(name)) = self.peek() else { return self.expected("a system call's name") };
        let name = name.clone();
        self.at += 1;
        self.punct('(')?;
        let args = if self.eat_punct(')') {
            Vec::new()
        } else {
            let args = self.list(0)?;
            self.punct(')')?;
            args
        };
        self.punct('=')?;
        let result = self.expression(0)?;
        let errno = match self.peek() {
            Some(Token::Word(word)) if !self.at_line_start() => {
                let word = word.clone();
                self.at += 1;
                Some(word)
            }
            _ => None,
        };
        let note =
            if !self.at_line_start() && self.peek() == Some(&Token::Punct('(')) { Some(self.note()?) } else { None };
        Ok(Action::Syscall(Syscall { end, name, args, result, errno, note }))
    }

    fn eat_ellipsis(&mut self) -> bool {
        if self.peek() == Some(&Token::Ellipsis) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// `(Operation now in progress)`: the words up to the closing parenthesis.
    fn note(&mut self) -> Result<String, ScriptError> {
        self.punct('(')?;
        let mut words = Vec::new();
        loop {
            match self.peek() {
                Some(Token::Punct(')')) => {
                    self.at += 1;
                    return Ok(words.join(" "));
                }
                Some(Token::Word(word) | Token::Decimal(word) | Token::Str(word)) => words.push(word.clone()),
                Some(Token::Integer(value)) => words.push(value.to_string()),
                Some(Token::Punct(c)) if *c != '(' => words.push(c.to_string()),
                _ => return self.expected("the note's words and `)`"),
            }
            self.at += 1;
        }
    }

    /// Expressions separated by commas, up to (not past) a closing bracket.
    fn list(&mut self, depth: usize) -> Result<Vec<Expr>, ScriptError> {
        let mut items = vec![self.expression(depth)?];
        while self.eat_punct(',') {
            items.push(self.expression(depth)?);
        }
        Ok(items)
    }

    fn expression(&mut self, depth: usize) -> Result<Expr, ScriptError> {
        if depth > MAX_DEPTH {
            return self.fail(format!("arguments nest deeper than {MAX_DEPTH} brackets"));
        }
        let first = self.primary(depth)?;
        if self.peek() == Some(&Token::Punct('|')) {
            let mut alternatives = vec![first];
            while self.eat_punct('|') {
                alternatives.push(self.primary(depth)?);
            }
            return Ok(Expr::Or(alternatives));
        }
        if self.eat_punct('=') {
            let value = self.expression(depth + 1)?;
            return Ok(Expr::Assign(Box::new(first), Box::new(value)));
        }
        Ok(first)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, ScriptError> {
        let token = self.peek().cloned();
        let expr = match token {
            Some(Token::Ellipsis) => Expr::Ellipsis,
            Some(Token::Integer(value)) => Expr::Integer(value),
            Some(Token::Hex(value)) => match i64::try_from(value) {
                Ok(value) => Expr::Integer(value),
                Err(_) => return self.fail("a hexadecimal argument must fit in 63 bits"),
            },
            Some(Token::Str(text)) => {
                self.at += 1;
                return Ok(if self.eat_ellipsis() { Expr::StrThenAny(text) } else { Expr::Str(text) });
            }
            Some(Token::Word(word)) => {
                self.at += 1;
                if self.eat_punct('(') {
                    let args = if self.eat_punct(')') {
                        Vec::new()
                    } else {
                        let args = self.list(depth + 1)?;
                        self.punct(')')?;
                        args
                    };
                    return Ok(Expr::Call(word, args));
                }
                return Ok(Expr::Word(word));
            }
            Some(Token::Punct(open @ ('[' | '{'))) => {
                self.at += 1;
                let close = if open == '[' { ']' } else { '}' };
                let items = if self.eat_punct(close) {
                    Vec::new()
                } else {
                    let items = self.list(depth + 1)?;
                    self.punct(close)?;
                    items
                };
                return Ok(if open == '[' { Expr::Array(items) } else { Expr::Struct(items) });
            }
            _ => return self.expected("an argument"),
        };
        self.at += 1;
        Ok(expr)
    }
}

/// `0.200` seconds as 200000 µs, exactly; finer than a microsecond is rounded to the nearest.
fn decimal_micros(text: &str) -> Result<u64, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| format!("`{text}` is not a time"))? };
    let mut digits: String = fraction.chars().take(7).collect();
    while digits.len() < 7 {
        digits.push('0');
    }
    let tenths_of_micros: u64 = digits.parse().map_err(|_| format!("`{text}` is not a time"))?;
    whole
        .checked_mul(1_000_000)
        .and_then(|micros| micros.checked_add((tenths_of_micros + 5) / 10))
        .ok_or_else(|| format!("`{text}` is too far in time"))
}
