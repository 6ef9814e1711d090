//! `docs/scenario.schema.json` describes what `engine/src/scenario/` accepts.
//!
//! The schema is checked by a small JSON Schema validator written below. It knows only the
//! keywords the schema uses and refuses any other, so the schema cannot quietly rely on a
//! keyword that nothing here enforces. Four kinds of check keep the schema honest:
//! every built-in scenario conforms to it; a table of small scenarios gets the same verdict
//! from the schema and from `parse_scenario`; the field and variant lists that serde reports
//! in its "unknown field" and "unknown variant" errors match the schema's, so a field or
//! call added to `engine/src/scenario/` fails this test until the schema has it; and every
//! property of a closed object carries a description.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde_json::{Number, Value};
use sockscope_engine::{builtin, parse_scenario, Errno};

const SCHEMA_TEXT: &str = include_str!("../../docs/scenario.schema.json");

fn schema() -> Value {
    serde_json::from_str(SCHEMA_TEXT).expect("docs/scenario.schema.json is valid JSON")
}

/// A regular-expression matcher for the subset of ECMA-262 syntax the schema's `pattern`s
/// use: literals, escapes of punctuation and `\d`, classes with ranges, groups, alternation,
/// the anchors `^` and `$`, and the greedy quantifiers `?`, `*`, `+` and `{m,n}`. Like
/// ECMA-262's `test()`, a pattern matches if it matches anywhere in the text.
mod regex {
    #[derive(Debug)]
    enum Node {
        Char(char),
        Class(Vec<(char, char)>, bool),
        Any,
        Start,
        End,
        Alt(Vec<Node>),
        Concat(Vec<Node>),
        Repeat(Box<Node>, usize, Option<usize>),
    }

    pub struct Regex(Node);

    impl Regex {
        pub fn new(pattern: &str) -> Result<Regex, String> {
            let mut parser = Parser { chars: pattern.chars().collect(), pos: 0 };
            let node = parser.alternation()?;
            match parser.peek() {
                None => Ok(Regex(node)),
                Some(c) => Err(format!("unexpected `{c}` at {} in {pattern}", parser.pos)),
            }
        }

        pub fn is_match(&self, text: &str) -> bool {
            let chars: Vec<char> = text.chars().collect();
            (0..=chars.len()).any(|start| matches(&self.0, &chars, start, &mut |_| true))
        }
    }

    struct Parser {
        chars: Vec<char>,
        pos: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<char> {
            self.chars.get(self.pos).copied()
        }

        fn next(&mut self) -> Result<char, String> {
            let c = self.peek().ok_or("the pattern ends too early")?;
            self.pos += 1;
            Ok(c)
        }

        fn alternation(&mut self) -> Result<Node, String> {
            let mut alternatives = vec![self.concatenation()?];
            while self.peek() == Some('|') {
                self.pos += 1;
                alternatives.push(self.concatenation()?);
            }
            Ok(if alternatives.len() == 1 { alternatives.remove(0) } else { Node::Alt(alternatives) })
        }

        fn concatenation(&mut self) -> Result<Node, String> {
            let mut items = Vec::new();
            while let Some(c) = self.peek() {
                if c == '|' || c == ')' {
                    break;
                }
                let atom = self.atom()?;
                items.push(self.quantifier(atom)?);
            }
            Ok(Node::Concat(items))
        }

        fn atom(&mut self) -> Result<Node, String> {
            Ok(match self.next()? {
                '(' => {
                    if self.chars[self.pos..].starts_with(&['?', ':']) {
                        self.pos += 2;
                    }
                    let inner = self.alternation()?;
                    if self.next()? != ')' {
                        return Err("a group is not closed".into());
                    }
                    inner
                }
                '[' => self.class()?,
                '\\' => match self.next()? {
                    'd' => Node::Class(vec![('0', '9')], false),
                    c if c.is_ascii_punctuation() => Node::Char(c),
                    c => return Err(format!("the escape \\{c} is not supported")),
                },
                '.' => Node::Any,
                '^' => Node::Start,
                '$' => Node::End,
                c @ ('*' | '+' | '?' | '{') => return Err(format!("`{c}` has nothing to repeat")),
                c => Node::Char(c),
            })
        }

        fn class(&mut self) -> Result<Node, String> {
            let negated = self.peek() == Some('^');
            if negated {
                self.pos += 1;
            }
            let mut ranges = Vec::new();
            loop {
                let low = match self.next()? {
                    ']' => break,
                    '\\' => match self.next()? {
                        'd' => {
                            ranges.push(('0', '9'));
                            continue;
                        }
                        c if c.is_ascii_punctuation() => c,
                        c => return Err(format!("the escape \\{c} is not supported in a class")),
                    },
                    c => c,
                };
                if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|c| *c != ']') {
                    self.pos += 1;
                    let high = self.next()?;
                    ranges.push((low, high));
                } else {
                    ranges.push((low, low));
                }
            }
            Ok(Node::Class(ranges, negated))
        }

        fn quantifier(&mut self, atom: Node) -> Result<Node, String> {
            let (min, max) = match self.peek() {
                Some('?') => (0, Some(1)),
                Some('*') => (0, None),
                Some('+') => (1, None),
                Some('{') => {
                    let close = self.chars[self.pos..].iter().position(|c| *c == '}').ok_or("`{` is not closed")?;
                    let body: String = self.chars[self.pos + 1..self.pos + close].iter().collect();
                    self.pos += close;
                    let number = |text: &str| text.parse::<usize>().map_err(|_| format!("`{{{body}}}` is not a count"));
                    match body.split_once(',') {
                        None => (number(&body)?, Some(number(&body)?)),
                        Some((low, "")) => (number(low)?, None),
                        Some((low, high)) => (number(low)?, Some(number(high)?)),
                    }
                }
                _ => return Ok(atom),
            };
            self.pos += 1;
            if self.peek() == Some('?') {
                return Err("lazy quantifiers are not supported".into());
            }
            Ok(Node::Repeat(Box::new(atom), min, max))
        }
    }

    /// Backtracking match of `node` at `at`; `rest` is called with every end position the
    /// node can reach and decides whether the whole match succeeds from there.
    fn matches(node: &Node, text: &[char], at: usize, rest: &mut dyn FnMut(usize) -> bool) -> bool {
        match node {
            Node::Char(c) => text.get(at) == Some(c) && rest(at + 1),
            Node::Class(ranges, negated) => {
                text.get(at).is_some_and(|c| ranges.iter().any(|(low, high)| (*low..=*high).contains(c)) != *negated)
                    && rest(at + 1)
            }
            Node::Any => text.get(at).is_some_and(|c| !matches!(c, '\n' | '\r')) && rest(at + 1),
            Node::Start => at == 0 && rest(at),
            Node::End => at == text.len() && rest(at),
            Node::Alt(alternatives) => alternatives.iter().any(|alternative| matches(alternative, text, at, rest)),
            Node::Concat(items) => sequence(items, text, at, rest),
            Node::Repeat(inner, min, max) => repeat(inner, *min, *max, 0, text, at, rest),
        }
    }

    fn sequence(items: &[Node], text: &[char], at: usize, rest: &mut dyn FnMut(usize) -> bool) -> bool {
        match items.split_first() {
            None => rest(at),
            Some((first, others)) => matches(first, text, at, &mut |next| sequence(others, text, next, rest)),
        }
    }

    fn repeat(
        inner: &Node,
        min: usize,
        max: Option<usize>,
        count: usize,
        text: &[char],
        at: usize,
        rest: &mut dyn FnMut(usize) -> bool,
    ) -> bool {
        // Greedy: try one more repetition first. A repetition that consumed nothing after the
        // minimum is reached cannot lead anywhere new, so it is not pursued (no endless loop).
        if max.is_none_or(|max| count < max)
            && matches(inner, text, at, &mut |next| {
                !(next == at && count >= min) && repeat(inner, min, max, count + 1, text, next, rest)
            })
        {
            return true;
        }
        count >= min && rest(at)
    }
}

/// The keywords the validator understands. Annotations are accepted and ignored.
const KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "$ref",
    "title",
    "description",
    "default",
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "pattern",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "additionalProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
];

/// A JSON Schema validator for the keywords in [`KEYWORDS`], following draft 2020-12.
struct Validator<'a> {
    root: &'a Value,
}

impl<'a> Validator<'a> {
    fn errors(&self, instance: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(self.root, instance, "", &mut errors);
        errors
    }

    fn passes(&self, schema: &'a Value, instance: &Value) -> bool {
        let mut errors = Vec::new();
        self.check(schema, instance, "", &mut errors);
        errors.is_empty()
    }

    fn resolve(&self, reference: &Value) -> &'a Value {
        let reference = reference.as_str().expect("$ref is a string");
        let name = reference.strip_prefix("#/$defs/").unwrap_or_else(|| panic!("unsupported $ref {reference}"));
        self.root["$defs"].get(name).unwrap_or_else(|| panic!("$ref {reference} names no definition"))
    }

    fn check(&self, schema: &'a Value, instance: &Value, path: &str, errors: &mut Vec<String>) {
        let here = if path.is_empty() { "the scenario" } else { path };
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return errors.push(format!("{here}: nothing is allowed here")),
            Value::Object(schema) => schema,
            other => panic!("a schema must be an object or a boolean, found {other}"),
        };
        for (keyword, argument) in schema {
            match keyword.as_str() {
                "$schema" | "$id" | "$defs" | "title" | "description" | "default" | "then" | "else" => {}
                "$ref" => self.check(self.resolve(argument), instance, path, errors),
                "type" => {
                    let types: Vec<&str> = match argument {
                        Value::String(one) => vec![one.as_str()],
                        Value::Array(many) => {
                            many.iter().map(|t| t.as_str().expect("type names are strings")).collect()
                        }
                        other => panic!("bad type {other}"),
                    };
                    if !types.iter().any(|name| has_type(instance, name)) {
                        errors.push(format!("{here}: expected {}, found {}", types.join(" or "), type_name(instance)));
                    }
                }
                "enum" => {
                    let options = argument.as_array().expect("enum is an array");
                    if !options.contains(instance) {
                        errors.push(format!("{here}: {instance} is not one of {argument}"));
                    }
                }
                "const" => {
                    if argument != instance {
                        errors.push(format!("{here}: {instance} is not {argument}"));
                    }
                }
                "minimum" | "maximum" => {
                    if let (Value::Number(value), Value::Number(limit)) = (instance, argument) {
                        let order = compare(value, limit);
                        let wrong =
                            if keyword == "minimum" { order == Ordering::Less } else { order == Ordering::Greater };
                        if wrong {
                            errors.push(format!("{here}: {value} is outside the {keyword} {limit}"));
                        }
                    }
                }
                "minLength" => {
                    if let Value::String(text) = instance {
                        let min = argument.as_u64().expect("minLength is a count") as usize;
                        if text.chars().count() < min {
                            errors.push(format!("{here}: shorter than {min} characters"));
                        }
                    }
                }
                "pattern" => {
                    if let Value::String(text) = instance {
                        let pattern = argument.as_str().expect("pattern is a string");
                        let regex = regex::Regex::new(pattern).unwrap_or_else(|err| panic!("pattern {pattern}: {err}"));
                        if !regex.is_match(text) {
                            errors.push(format!("{here}: {text:?} does not match {pattern}"));
                        }
                    }
                }
                "items" => {
                    if let Value::Array(items) = instance {
                        for (index, item) in items.iter().enumerate() {
                            self.check(argument, item, &format!("{path}[{index}]"), errors);
                        }
                    }
                }
                "minItems" | "maxItems" => {
                    if let Value::Array(items) = instance {
                        let limit = argument.as_u64().expect("item counts are numbers") as usize;
                        let wrong = if keyword == "minItems" { items.len() < limit } else { items.len() > limit };
                        if wrong {
                            errors.push(format!("{here}: {} items is outside the {keyword} {limit}", items.len()));
                        }
                    }
                }
                "properties" => {
                    if let Value::Object(object) = instance {
                        for (name, property) in argument.as_object().expect("properties is an object") {
                            if let Some(value) = object.get(name) {
                                self.check(property, value, &join(path, name), errors);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Value::Object(object) = instance {
                        let known = schema.get("properties").and_then(Value::as_object);
                        for (name, value) in object {
                            if !known.is_some_and(|known| known.contains_key(name)) {
                                let before = errors.len();
                                self.check(argument, value, &join(path, name), errors);
                                if errors.len() > before {
                                    errors.truncate(before);
                                    errors.push(format!("{}: unknown field", join(path, name)));
                                }
                            }
                        }
                    }
                }
                "required" => {
                    if let Value::Object(object) = instance {
                        for name in argument.as_array().expect("required is an array") {
                            let name = name.as_str().expect("required names are strings");
                            if !object.contains_key(name) {
                                errors.push(format!("{here}: `{name}` is missing"));
                            }
                        }
                    }
                }
                "allOf" => {
                    for part in argument.as_array().expect("allOf is an array") {
                        self.check(part, instance, path, errors);
                    }
                }
                "anyOf" | "oneOf" => {
                    let mut failures = Vec::new();
                    let mut passed = 0;
                    for part in argument.as_array().expect("anyOf/oneOf is an array") {
                        let before = failures.len();
                        self.check(part, instance, path, &mut failures);
                        if failures.len() == before {
                            passed += 1;
                        }
                    }
                    if passed == 0 {
                        errors.push(format!(
                            "{here}: matches none of the {keyword} alternatives ({})",
                            failures.join("; ")
                        ));
                    } else if keyword == "oneOf" && passed > 1 {
                        errors.push(format!("{here}: matches {passed} of the oneOf alternatives, not exactly one"));
                    }
                }
                "not" => {
                    if self.passes(argument, instance) {
                        errors.push(format!("{here}: matches a schema it must not match"));
                    }
                }
                "if" => {
                    let branch = if self.passes(argument, instance) { schema.get("then") } else { schema.get("else") };
                    if let Some(branch) = branch {
                        self.check(branch, instance, path, errors);
                    }
                }
                other => panic!("the test's validator does not implement the keyword `{other}`"),
            }
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// JSON Schema's types. An integer is any number without a fractional part, so 2.0 counts.
fn has_type(value: &Value, name: &str) -> bool {
    match (name, value) {
        ("null", Value::Null) | ("boolean", Value::Bool(_)) | ("number", Value::Number(_)) => true,
        ("string", Value::String(_)) | ("array", Value::Array(_)) | ("object", Value::Object(_)) => true,
        ("integer", Value::Number(number)) => {
            number.is_i64() || number.is_u64() || number.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        ("null" | "boolean" | "number" | "string" | "array" | "object" | "integer", _) => false,
        (other, _) => panic!("unknown type name {other}"),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares two JSON numbers exactly. Integers are compared as integers (u64 limits such as
/// 18446744073709551615 do not survive a trip through f64), and a float against an integer
/// by its integral part first, so 18446744073709551616 (parsed as a float) is above u64::MAX.
fn compare(a: &Number, b: &Number) -> Ordering {
    let exact = |n: &Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    let float = |n: &Number| n.as_f64().expect("JSON numbers are finite");
    match (exact(a), exact(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (None, Some(b)) => float_against_integer(float(a), b),
        (Some(a), None) => float_against_integer(float(b), a).reverse(),
        (None, None) => float(a).partial_cmp(&float(b)).expect("JSON numbers are never NaN"),
    }
}

fn float_against_integer(x: f64, n: i128) -> Ordering {
    let floor = x.floor();
    if floor >= 1e38 {
        return Ordering::Greater;
    }
    if floor <= -1e38 {
        return Ordering::Less;
    }
    // `floor` is integral and well inside i128, so the conversion is exact.
    match (floor as i128).cmp(&n) {
        Ordering::Equal if x > floor => Ordering::Greater,
        order => order,
    }
}

fn schema_errors(text: &str) -> Vec<String> {
    let schema = schema();
    let instance: Value =
        serde_json::from_str(text).unwrap_or_else(|err| panic!("test case is not JSON ({err}): {text}"));
    Validator { root: &schema }.errors(&instance)
}

// Scenario builders for the case tables: two hosts `a` and `b`, one process on `a`.

const HOSTS: &str = r#""hosts":[{"name":"a","addr":"10.0.0.1"},{"name":"b","addr":"10.0.0.2"}]"#;

fn with_steps(steps: &str) -> String {
    format!(r#"{{{HOSTS},"processes":[{{"name":"p","host":"a","steps":[{{"call":"socket","as":"s"}},{steps}]}}]}}"#)
}

fn with_faults(faults: &str) -> String {
    format!(r#"{{{HOSTS},"processes":[],"faults":[{faults}]}}"#)
}

fn with_tcp(tcp: &str) -> String {
    format!(r#"{{"hosts":[{{"name":"a","addr":"10.0.0.1","tcp":{{{tcp}}}}}],"processes":[]}}"#)
}

fn with_top(fields: &str) -> String {
    format!(r#"{{{HOSTS},"processes":[],{fields}}}"#)
}

#[test]
fn every_builtin_scenario_conforms_to_the_schema() {
    let mut count = 0;
    for name in builtin::names() {
        let text = builtin::source(name).expect("listed names have sources");
        let errors = schema_errors(text);
        assert!(errors.is_empty(), "built-in scenario {name} does not conform to the schema:\n{}", errors.join("\n"));
        count += 1;
    }
    assert!(count > 0, "the library lists no scenarios");
}

/// Each case gets the same verdict from the schema and from the engine.
#[test]
fn schema_and_engine_agree_on_small_scenarios() {
    let accepted = [
        ("minimal", r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}],"processes":[]}"#.to_string()),
        (
            "every top-level field",
            with_top(
                r#""name":"n","title":"t","source":"s","group":"g","description":"d","seed":18446744073709551615,
                    "links":[{"a":"a","b":"b","latency_us":10000000,"mtu":65536}],"faults":[],
                    "limits":{"max_events":1,"max_time_ms":5}"#,
            ),
        ),
        ("wildcard bind with * and leading zeros", with_steps(r#"{"call":"bind","fd":"s","addr":"*:080"}"#)),
        ("bind to 0.0.0.0", with_steps(r#"{"call":"bind","fd":"s","addr":"0.0.0.0:65535"}"#)),
        ("listen backlog 65535", with_steps(r#"{"call":"listen","fd":"s","backlog":65535}"#)),
        (
            "connect with expect errno",
            with_steps(
                r#"{"call":"connect","fd":"s","addr":"10.0.0.2:1","expect":"ECONNREFUSED","at_ms":1.5,"note":"n","note_on_return":"r"}"#,
            ),
        ),
        ("write alias with data", with_steps(r#"{"call":"write","fd":"s","data":"hi","expect":2}"#)),
        ("send with len and null data", with_steps(r#"{"call":"send","fd":"s","data":null,"len":0}"#)),
        ("send_all with len", with_steps(r#"{"call":"send_all","fd":"s","len":67108864}"#)),
        ("sendto", with_steps(r#"{"call":"sendto","fd":"s","addr":"10.0.0.2:53","data":"q"}"#)),
        ("read alias", with_steps(r#"{"call":"read","fd":"s","len":1}"#)),
        ("recvfrom", with_steps(r#"{"call":"recvfrom","fd":"s","len":100}"#)),
        ("recv_to_eof", with_steps(r#"{"call":"recv_to_eof","fd":"s","len":67108864}"#)),
        ("shutdown", with_steps(r#"{"call":"shutdown","fd":"s","how":"SHUT_WR"}"#)),
        ("setsockopt flag as number", with_steps(r#"{"call":"setsockopt","fd":"s","opt":"TCP_NODELAY","value":1}"#)),
        ("setsockopt buffer", with_steps(r#"{"call":"setsockopt","fd":"s","opt":"SO_RCVBUF","value":4096}"#)),
        (
            "setsockopt linger",
            with_steps(r#"{"call":"setsockopt","fd":"s","opt":"SO_LINGER","value":{"onoff":true,"linger":0}}"#),
        ),
        ("getsockopt SO_ERROR", with_steps(r#"{"call":"getsockopt","fd":"s","opt":"SO_ERROR"}"#)),
        (
            "fcntl, names, dup, close",
            with_steps(
                r#"{"call":"fcntl","fd":"s","nonblock":true},{"call":"getsockname","fd":"s"},
                    {"call":"getpeername","fd":"s"},{"call":"dup","fd":"s","as":"t"},{"call":"close","fd":"t"}"#,
            ),
        ),
        (
            "fork with a child",
            with_steps(
                r#"{"call":"fork","child":{"name":"c","steps":[{"call":"close","fd":"s"},{"call":"sleep","ms":0}]}}"#,
            ),
        ),
        ("dgram socket", with_steps(r#"{"call":"socket","as":"u","type":"dgram"}"#)),
        (
            "every tcp setting",
            with_tcp(
                r#""isn":[0,4294967295],"ephemeral_ports":[65535],"msl_ms":1,"sndbuf":1,"rcvbuf":1073741824,
                    "mss":88,"window_scaling":false,"wscale":14,"window_clamp":null,"timestamps":true,"sack":true,
                    "delayed_ack":false,"delack_ms":0,"max_quickacks":0,"rto_initial_ms":1,"rto_min_ms":1,
                    "rto_max_ms":1,"syn_retries":32,"syn_linear_timeouts":0,"synack_retries":0,"retries2":32,
                    "fin_timeout_ms":0,"keepalive_time_ms":0,"keepalive_intvl_ms":0,"keepalive_probes":1000,
                    "initial_cwnd":1,"somaxconn":0,"abort_on_overflow":true"#,
            ),
        ),
        ("null mss", with_tcp(r#""mss":null"#)),
        (
            "every fault",
            with_faults(
                r#"{"fault":"drop","nth":2,"count":3,
                    "match":{"from":"a","to":"b","flags":"FP.","data":true,"seq":[1,100],"from_ms":0,"until_ms":1e10}},
            {"fault":"drop"},{"fault":"loss","rate":1},{"fault":"duplicate","rate":0,"match":{"flags":"none"}},
            {"fault":"reorder","rate":0.5,"delay_us":10000000},
            {"fault":"delay","extra_us":0,"match":{"from":null,"flags":""}},
            {"fault":"link_down","a":"a","b":"b","from_ms":0,"until_ms":null},{"fault":"crash","host":"b","at_ms":1},
            {"fault":"reboot","host":"b","at_ms":2.5}"#,
            ),
        ),
    ];
    let rejected = [
        ("unknown top-level field", with_top(r#""colour":"red""#)),
        ("no hosts", r#"{"hosts":[],"processes":[]}"#.to_string()),
        ("missing processes", format!("{{{HOSTS}}}")),
        ("host without address", r#"{"hosts":[{"name":"a"}],"processes":[]}"#.to_string()),
        ("empty host name", r#"{"hosts":[{"name":"","addr":"10.0.0.1"}],"processes":[]}"#.to_string()),
        ("octet above 255", r#"{"hosts":[{"name":"a","addr":"10.0.0.256"}],"processes":[]}"#.to_string()),
        ("three octets", r#"{"hosts":[{"name":"a","addr":"10.0.1"}],"processes":[]}"#.to_string()),
        ("wildcard host address", r#"{"hosts":[{"name":"a","addr":"00.0.0.0"}],"processes":[]}"#.to_string()),
        ("address as a number", r#"{"hosts":[{"name":"a","addr":167772161}],"processes":[]}"#.to_string()),
        ("unknown host field", r#"{"hosts":[{"name":"a","addr":"10.0.0.1","colour":1}],"processes":[]}"#.to_string()),
        ("seed negative", with_top(r#""seed":-1"#)),
        ("seed above u64", with_top(r#""seed":18446744073709551616"#)),
        ("mtu too small", with_top(r#""links":[{"a":"a","b":"b","mtu":67}]"#)),
        ("latency too large", with_top(r#""links":[{"a":"a","b":"b","latency_us":10000001}]"#)),
        ("link without b", with_top(r#""links":[{"a":"a"}]"#)),
        ("max_events zero", with_top(r#""limits":{"max_events":0}"#)),
        ("unknown limit", with_top(r#""limits":{"max_steps":1}"#)),
        ("wscale 15", with_tcp(r#""wscale":15"#)),
        ("mss 87", with_tcp(r#""mss":87"#)),
        ("mss above u16", with_tcp(r#""mss":65536"#)),
        ("rcvbuf zero", with_tcp(r#""rcvbuf":0"#)),
        ("sndbuf above 1 GiB", with_tcp(r#""sndbuf":1073741825"#)),
        ("syn_retries 33", with_tcp(r#""syn_retries":33"#)),
        ("keepalive_probes 1001", with_tcp(r#""keepalive_probes":1001"#)),
        ("initial_cwnd zero", with_tcp(r#""initial_cwnd":0"#)),
        ("rto_min zero", with_tcp(r#""rto_min_ms":0"#)),
        ("ephemeral port above u16", with_tcp(r#""ephemeral_ports":[65536]"#)),
        ("timestamps as string", with_tcp(r#""timestamps":"yes""#)),
        ("unknown tcp setting", with_tcp(r#""tcp_nodelay":true"#)),
        ("unknown call", with_steps(r#"{"call":"teleport"}"#)),
        ("step without call", with_steps(r#"{"fd":"s"}"#)),
        ("call is not a string", with_steps(r#"{"call":7}"#)),
        ("unknown step field", with_steps(r#"{"call":"close","fd":"s","colour":1}"#)),
        ("field of another call", with_steps(r#"{"call":"close","fd":"s","len":1}"#)),
        ("fd as a number", with_steps(r#"{"call":"close","fd":3}"#)),
        ("empty as", with_steps(r#"{"call":"socket","as":""}"#)),
        ("unknown socket type", with_steps(r#"{"call":"socket","as":"t","type":"raw"}"#)),
        ("bind without port", with_steps(r#"{"call":"bind","fd":"s","addr":"10.0.0.1"}"#)),
        ("port above 65535", with_steps(r#"{"call":"bind","fd":"s","addr":"10.0.0.1:65536"}"#)),
        ("backlog 65536", with_steps(r#"{"call":"listen","fd":"s","backlog":65536}"#)),
        ("negative backlog", with_steps(r#"{"call":"listen","fd":"s","backlog":-1}"#)),
        ("send with data and len", with_steps(r#"{"call":"send","fd":"s","data":"x","len":1}"#)),
        ("send with neither", with_steps(r#"{"call":"send","fd":"s"}"#)),
        ("send with both null", with_steps(r#"{"call":"send","fd":"s","data":null,"len":null}"#)),
        ("send too long", with_steps(r#"{"call":"send","fd":"s","len":67108865}"#)),
        ("sendto without addr", with_steps(r#"{"call":"sendto","fd":"s","data":"x"}"#)),
        ("recv len zero", with_steps(r#"{"call":"recv","fd":"s","len":0}"#)),
        ("recvfrom too long", with_steps(r#"{"call":"recvfrom","fd":"s","len":67108865}"#)),
        ("shutdown how unknown", with_steps(r#"{"call":"shutdown","fd":"s","how":"SHUT_ALL"}"#)),
        ("setsockopt SO_ERROR", with_steps(r#"{"call":"setsockopt","fd":"s","opt":"SO_ERROR","value":1}"#)),
        ("buffer option with a flag", with_steps(r#"{"call":"setsockopt","fd":"s","opt":"SO_SNDBUF","value":true}"#)),
        (
            "flag option with linger",
            with_steps(r#"{"call":"setsockopt","fd":"s","opt":"SO_REUSEADDR","value":{"onoff":true,"linger":1}}"#),
        ),
        ("linger with a number", with_steps(r#"{"call":"setsockopt","fd":"s","opt":"SO_LINGER","value":1}"#)),
        (
            "linger with an extra field",
            with_steps(r#"{"call":"setsockopt","fd":"s","opt":"SO_LINGER","value":{"onoff":true,"linger":1,"l":2}}"#),
        ),
        ("negative option value", with_steps(r#"{"call":"setsockopt","fd":"s","opt":"SO_RCVBUF","value":-1}"#)),
        ("unknown option", with_steps(r#"{"call":"getsockopt","fd":"s","opt":"SO_BROADCAST"}"#)),
        ("nonblock as number", with_steps(r#"{"call":"fcntl","fd":"s","nonblock":1}"#)),
        ("negative sleep", with_steps(r#"{"call":"sleep","ms":-1}"#)),
        ("sleep past 1e10", with_steps(r#"{"call":"sleep","ms":1e11}"#)),
        ("at_ms as string", with_steps(r#"{"call":"close","fd":"s","at_ms":"1"}"#)),
        ("null at_ms", with_steps(r#"{"call":"close","fd":"s","at_ms":null}"#)),
        ("note as number", with_steps(r#"{"call":"close","fd":"s","note":1}"#)),
        ("note_on_return as number", with_steps(r#"{"call":"close","fd":"s","note_on_return":1}"#)),
        ("unknown errno", with_steps(r#"{"call":"close","fd":"s","expect":"EFOO"}"#)),
        ("expect true", with_steps(r#"{"call":"close","fd":"s","expect":true}"#)),
        ("child without steps", with_steps(r#"{"call":"fork","child":{"name":"c"}}"#)),
        ("bad step in child", with_steps(r#"{"call":"fork","child":{"name":"c","steps":[{"call":"close"}]}}"#)),
        ("unknown fault", with_faults(r#"{"fault":"corrupt"}"#)),
        ("fault without kind", with_faults(r#"{"rate":0.5}"#)),
        ("rate above 1", with_faults(r#"{"fault":"loss","rate":1.5}"#)),
        ("loss without rate", with_faults(r#"{"fault":"loss"}"#)),
        ("nth zero", with_faults(r#"{"fault":"drop","nth":0}"#)),
        ("count zero", with_faults(r#"{"fault":"drop","count":0}"#)),
        ("field of another fault", with_faults(r#"{"fault":"drop","rate":0.5}"#)),
        ("bad flag letters", with_faults(r#"{"fault":"drop","match":{"flags":"SA"}}"#)),
        ("unknown match field", with_faults(r#"{"fault":"drop","match":{"colour":"red"}}"#)),
        ("seq with one number", with_faults(r#"{"fault":"drop","match":{"seq":[1]}}"#)),
        ("match time negative", with_faults(r#"{"fault":"drop","match":{"from_ms":-1}}"#)),
        ("reorder delay too long", with_faults(r#"{"fault":"reorder","rate":0.1,"delay_us":10000001}"#)),
        ("delay too long", with_faults(r#"{"fault":"delay","extra_us":10000001}"#)),
        ("link_down without from_ms", with_faults(r#"{"fault":"link_down","a":"a","b":"b"}"#)),
        ("crash time too late", with_faults(r#"{"fault":"crash","host":"b","at_ms":2e10}"#)),
        ("reboot without host", with_faults(r#"{"fault":"reboot","at_ms":1}"#)),
    ];
    let mut disagreements = Vec::new();
    for (label, text) in &accepted {
        let errors = schema_errors(text);
        if !errors.is_empty() {
            disagreements.push(format!("{label}: the schema rejects it: {}", errors.join("; ")));
        }
        if let Err(err) = parse_scenario(text) {
            disagreements.push(format!("{label}: the engine rejects it: {err}"));
        }
    }
    for (label, text) in &rejected {
        if schema_errors(text).is_empty() {
            disagreements.push(format!("{label}: the schema accepts it"));
        }
        if parse_scenario(text).is_ok() {
            disagreements.push(format!("{label}: the engine accepts it (the case is wrong)"));
        }
    }
    assert!(disagreements.is_empty(), "schema and engine disagree:\n{}", disagreements.join("\n"));
}

/// What a JSON Schema cannot say: the engine rejects these, the schema accepts them. The
/// list is the schema's documented limit (see the root `description`); if the engine
/// starts accepting one, or the schema starts rejecting one, this test says so.
#[test]
fn engine_checks_what_the_schema_cannot() {
    let cases = [
        (
            "process on an undeclared host",
            format!(r#"{{{HOSTS},"processes":[{{"name":"p","host":"zz","steps":[]}}]}}"#),
        ),
        ("descriptor never created", with_steps(r#"{"call":"close","fd":"nope"}"#)),
        (
            "two hosts with one name",
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"},{"name":"a","addr":"10.0.0.2"}],"processes":[]}"#.to_string(),
        ),
        (
            "two hosts with one address",
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"},{"name":"b","addr":"10.0.0.1"}],"processes":[]}"#.to_string(),
        ),
        ("link from a host to itself", with_top(r#""links":[{"a":"a","b":"a"}]"#)),
        ("fault on an undeclared host", with_faults(r#"{"fault":"crash","host":"zz","at_ms":1}"#)),
        ("rto_max below rto_min", with_tcp(r#""rto_min_ms":300,"rto_max_ms":200"#)),
        ("integer written with a fraction", with_top(r#""seed":2.0"#)),
    ];
    for (label, text) in &cases {
        let errors = schema_errors(text);
        assert!(
            errors.is_empty(),
            "{label}: the schema now rejects it ({}); move it to the agreement table",
            errors.join("; ")
        );
        assert!(parse_scenario(text).is_err(), "{label}: the engine accepts it");
    }
}

/// The names between backticks after "expected" in a serde error: the fields of a struct
/// or the variants of an enum, as serde knows them. "there are no fields" gives none.
fn expected_names(message: &str) -> BTreeSet<String> {
    let Some((_, list)) = message.split_once(", expected") else {
        assert!(message.contains("there are no fields"), "unexpected serde message: {message}");
        return BTreeSet::new();
    };
    list.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

fn engine_error(text: &str) -> String {
    parse_scenario(text).expect_err("the probe must be rejected").reason
}

fn names_at(schema: &Value, pointer: &str) -> BTreeSet<String> {
    let node = schema.pointer(pointer).unwrap_or_else(|| panic!("the schema has nothing at {pointer}"));
    match node {
        Value::Object(properties) => properties.keys().cloned().collect(),
        Value::Array(values) => values.iter().map(|v| v.as_str().expect("string enum").to_string()).collect(),
        other => panic!("{pointer} is {other}"),
    }
}

/// Field and variant lists from the engine's own errors, against the schema's.
#[test]
fn schema_lists_every_field_and_variant_the_engine_knows() {
    let schema = schema();
    let probe = "\"zz_unknown\":1";
    let step_fields: BTreeSet<String> = ["call", "at_ms", "note", "note_on_return", "expect"].map(String::from).into();
    let mut checks: Vec<(String, String, BTreeSet<String>)> = vec![
        ("/properties".into(), format!("{{{probe}}}"), BTreeSet::new()),
        ("/$defs/host/properties".into(), format!(r#"{{"hosts":[{{{probe}}}],"processes":[]}}"#), BTreeSet::new()),
        ("/$defs/tcp_settings/properties".into(), with_tcp(probe), BTreeSet::new()),
        ("/$defs/link/properties".into(), with_top(&format!(r#""links":[{{{probe}}}]"#)), BTreeSet::new()),
        ("/$defs/limits/properties".into(), with_top(&format!(r#""limits":{{{probe}}}"#)), BTreeSet::new()),
        ("/$defs/process/properties".into(), format!(r#"{{{HOSTS},"processes":[{{{probe}}}]}}"#), BTreeSet::new()),
        (
            "/$defs/child/properties".into(),
            with_steps(&format!(r#"{{"call":"fork","child":{{{probe}}}}}"#)),
            BTreeSet::new(),
        ),
        (
            "/$defs/segment_match/properties".into(),
            with_faults(&format!(r#"{{"fault":"drop","match":{{{probe}}}}}"#)),
            BTreeSet::new(),
        ),
        // Enumerations: the engine names its variants (aliases included) when one is unknown.
        ("/$defs/step/properties/call/enum".into(), with_steps(r#"{"call":"zz_unknown"}"#), BTreeSet::new()),
        ("/$defs/fault/properties/fault/enum".into(), with_faults(r#"{"fault":"zz_unknown"}"#), BTreeSet::new()),
        (
            "/$defs/opt_name/enum".into(),
            with_steps(r#"{"call":"getsockopt","fd":"s","opt":"zz_unknown"}"#),
            BTreeSet::new(),
        ),
        (
            "/$defs/call_shutdown/properties/how/enum".into(),
            with_steps(r#"{"call":"shutdown","fd":"s","how":"zz_unknown"}"#),
            BTreeSet::new(),
        ),
        (
            "/$defs/call_socket/properties/type/enum".into(),
            with_steps(r#"{"call":"socket","as":"t","type":"zz_unknown"}"#),
            BTreeSet::new(),
        ),
    ];
    // One probe per call and per fault kind, found from the schema's own definitions.
    for (name, definition) in schema["$defs"].as_object().expect("$defs") {
        if let Some(call) = name.strip_prefix("call_") {
            let tag = &definition["properties"]["call"];
            let tag = tag.get("const").or_else(|| tag["enum"].get(0)).and_then(Value::as_str).expect("call tag");
            assert_eq!(tag, call, "$defs/{name} is named after its call");
            let pointer = format!("/$defs/{name}/properties");
            checks.push((pointer, with_steps(&format!(r#"{{"call":"{call}",{probe}}}"#)), step_fields.clone()));
        }
        if let Some(fault) = name.strip_prefix("fault_") {
            let pointer = format!("/$defs/{name}/properties");
            let ignore: BTreeSet<String> = ["fault".to_string()].into();
            checks.push((pointer, with_faults(&format!(r#"{{"fault":"{fault}",{probe}}}"#)), ignore));
        }
    }
    let mut mismatches = Vec::new();
    for (pointer, text, ignore) in &checks {
        let engine = expected_names(&engine_error(text));
        let documented: BTreeSet<String> = names_at(&schema, pointer).difference(ignore).cloned().collect();
        if engine != documented {
            mismatches.push(format!("{pointer}: the engine knows {engine:?}, the schema lists {documented:?}"));
        }
    }
    let errnos: BTreeSet<String> = Errno::ALL.iter().map(|errno| errno.to_string()).collect();
    if names_at(&schema, "/$defs/errno/enum") != errnos {
        mismatches.push(format!("/$defs/errno/enum differs from Errno::ALL {errnos:?}"));
    }
    // Every call name leads to exactly one variant definition.
    let branches = schema["$defs"]["step"]["allOf"].as_array().expect("step alternatives");
    for call in names_at(&schema, "/$defs/step/properties/call/enum") {
        let instance = serde_json::json!({ "call": call });
        let validator = Validator { root: &schema };
        let hits = branches.iter().filter(|branch| validator.passes(&branch["if"], &instance)).count();
        if hits != 1 {
            mismatches.push(format!("call `{call}` selects {hits} step alternatives"));
        }
    }
    assert!(mismatches.is_empty(), "the schema is out of date with engine/src/scenario/:\n{}", mismatches.join("\n"));
}

/// Which value each socket option takes is decided by `SockOpt::new`, not by serde, so it is
/// probed: every option the schema names, with every form of value, gets the same verdict
/// from the schema and from the engine.
#[test]
fn setsockopt_values_get_the_same_verdict_from_schema_and_engine() {
    let schema = schema();
    let values = ["true", "false", "0", "5", "-1", "4294967296", r#"{"onoff":true,"linger":3}"#, r#""on""#];
    let mut disagreements = Vec::new();
    for opt in names_at(&schema, "/$defs/opt_name/enum") {
        for value in values {
            let text = with_steps(&format!(r#"{{"call":"setsockopt","fd":"s","opt":"{opt}","value":{value}}}"#));
            let by_schema = schema_errors(&text).is_empty();
            let by_engine = parse_scenario(&text).is_ok();
            if by_schema != by_engine {
                disagreements
                    .push(format!("{opt} = {value}: schema accepts: {by_schema}, engine accepts: {by_engine}"));
            }
        }
    }
    assert!(disagreements.is_empty(), "setsockopt verdicts differ:\n{}", disagreements.join("\n"));
}

#[test]
fn every_property_of_a_closed_object_has_a_description() {
    fn walk(node: &Value, path: &str, missing: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if map.get("additionalProperties") == Some(&Value::Bool(false)) {
                    for (name, property) in map["properties"].as_object().expect("closed objects list properties") {
                        if property.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
                            missing.push(format!("{path}/properties/{name}"));
                        }
                    }
                }
                for (key, child) in map {
                    walk(child, &format!("{path}/{key}"), missing);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    walk(child, &format!("{path}/{index}"), missing);
                }
            }
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&schema(), "", &mut missing);
    assert!(missing.is_empty(), "properties without a description:\n{}", missing.join("\n"));
}

#[test]
fn schema_uses_only_keywords_the_validator_implements() {
    // Walk every subschema (skipping the names inside `properties` and `$defs`, which are
    // not keywords) and make sure each keyword is one the validator enforces.
    fn walk(schema: &Value, path: &str, unknown: &mut Vec<String>) {
        let Value::Object(map) = schema else { return };
        for (keyword, argument) in map {
            let here = format!("{path}/{keyword}");
            if !KEYWORDS.contains(&keyword.as_str()) {
                unknown.push(here.clone());
            }
            match keyword.as_str() {
                "properties" | "$defs" => {
                    for (name, child) in argument.as_object().expect("a map of schemas") {
                        walk(child, &format!("{here}/{name}"), unknown);
                    }
                }
                "allOf" | "anyOf" | "oneOf" => {
                    for (index, child) in argument.as_array().expect("a list of schemas").iter().enumerate() {
                        walk(child, &format!("{here}/{index}"), unknown);
                    }
                }
                "items" | "not" | "if" | "then" | "else" | "additionalProperties" => walk(argument, &here, unknown),
                _ => {}
            }
        }
    }
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let mut unknown = Vec::new();
    walk(&schema, "", &mut unknown);
    assert!(unknown.is_empty(), "keywords the validator does not implement: {unknown:?}");
}

#[test]
fn the_pattern_matcher_follows_ecma_262_on_the_forms_the_schema_uses() {
    let cases = [
        ("^a(b|c)?$", "a", true),
        ("^a(b|c)?$", "ac", true),
        ("^a(b|c)?$", "abc", false),
        ("^[SFPR.]*$", "", true),
        ("^[SFPR.]*$", "FP.", true),
        ("^[SFPR.]*$", "SA", false),
        ("^[1-9][0-9]{0,3}$", "9999", true),
        ("^[1-9][0-9]{0,3}$", "10000", false),
        ("^\\+?0+$", "+000", true),
        ("^\\+?0+$", "+", false),
        ("b+", "abbc", true),
        ("^(\\*|x):1$", "*:1", true),
        ("^(\\*|x):1$", "y:1", false),
        ("(a*)*$", "aab", true),
    ];
    for (pattern, text, expected) in cases {
        let regex = regex::Regex::new(pattern).expect("the pattern compiles");
        assert_eq!(regex.is_match(text), expected, "{pattern} on {text:?}");
    }
    for unsupported in ["a{2", "(a", "\\w", "a*?", "*"] {
        assert!(regex::Regex::new(unsupported).is_err(), "{unsupported} should be refused");
    }
}
