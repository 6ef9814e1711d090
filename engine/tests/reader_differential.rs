//! The hand-written scenario reader against serde's derive, which it replaced in the web page
//! (the derive stays: the CLI's validator reads scenarios and faults with serde_json). Both
//! read the same texts: every built-in scenario, each with every member removed, an unknown
//! member added, every value replaced by values of other types, and a sample of single-byte
//! edits and truncations; the result and the error (path, reason, line and column) must match.
//! Two known differences: serde also reads a struct from an array of its fields, which the
//! format never documented; the reader rejects an array there. And a float in "invalid type:
//! floating point `X`" is shown as written, where serde printed the shortest text that reads
//! back as the same f64 (`1e3` against `1000.0`); such a pair must name the same f64. (Steps are
//! read by the same hand-written code on both sides, since the derive delegates a step to it.)
use serde_json::Value;
use sockscope_engine::scenario::{validate, Scenario};
use sockscope_engine::{builtin, parse_scenario, ScenarioError};

/// A scenario with one host and one process running `steps` (JSON text of its step list).
fn steps(steps: &str) -> String {
    format!(
        r#"{{"hosts":[{{"name":"a","addr":"10.0.0.1"}}],"processes":[{{"name":"p","host":"a","steps":[{steps}]}}]}}"#
    )
}

fn old(text: &str) -> Result<Scenario, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        ScenarioError { path, reason: err.into_inner().to_string() }
    })?;
    validate(&scenario)?;
    Ok(scenario)
}

/// The probes read so far: how many, how many serde rejected, how many differed only in how a
/// float was written, and the first 40 disagreements.
#[derive(Default)]
struct Probes {
    count: usize,
    rejected: usize,
    float_text: usize,
    bad: Vec<String>,
}

/// Whether two reasons differ only in the text of the float in "floating point `X`", and the
/// two texts name the same f64 (sign included).
fn same_but_float_text(old: &str, new: &str) -> bool {
    const MARK: &str = "floating point `";
    let split = |reason: &'_ str| -> Option<(String, String, String)> {
        let (before, rest) = reason.split_once(MARK)?;
        let (number, after) = rest.split_once('`')?;
        Some((before.to_string(), number.to_string(), after.to_string()))
    };
    let (Some((old_before, old_number, old_after)), Some((new_before, new_number, new_after))) =
        (split(old), split(new))
    else {
        return false;
    };
    let value = |text: &str| text.parse::<f64>().ok().map(f64::to_bits);
    old_before == new_before
        && old_after == new_after
        && old_number != new_number
        && value(&old_number).is_some()
        && value(&old_number) == value(&new_number)
}

impl Probes {
    fn compare(&mut self, text: &str) {
        self.count += 1;
        let a = old(text);
        let b = parse_scenario(text);
        if let Err(e) = &b {
            if a != b
                && (e.reason.contains("invalid type: sequence, expected struct")
                    || e.reason.contains("invalid type: sequence, expected internally"))
            {
                return;
            }
        }
        if a.is_err() {
            self.rejected += 1;
        }
        if let (Err(old), Err(new)) = (&a, &b) {
            if old.path == new.path && same_but_float_text(&old.reason, &new.reason) {
                self.float_text += 1;
                return;
            }
        }
        if a != b && self.bad.len() < 40 {
            let short: String = text.chars().take(300).collect();
            self.bad.push(format!(
                "TEXT {short}\n  old {a:?}\n  new {b:?}",
                a = a.as_ref().err(),
                b = b.as_ref().err()
            ));
        }
    }
}

fn variants(value: &Value, out: &mut Vec<Value>, root: &Value, pointer: String) {
    let replacements = [
        Value::Null,
        Value::Bool(true),
        serde_json::json!(5),
        serde_json::json!(-1),
        serde_json::json!(1.5),
        serde_json::json!("x"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(4294967296u64),
        serde_json::json!(70000),
        serde_json::json!(300),
        serde_json::json!("10.0.0.300"),
        serde_json::json!([1]),
        serde_json::json!([1, 2, 3]),
        serde_json::json!({"zz": 1}),
    ];
    if !pointer.is_empty() {
        for r in &replacements {
            let mut copy = root.clone();
            *copy.pointer_mut(&pointer).unwrap() = r.clone();
            out.push(copy);
        }
    }
    match value {
        Value::Object(map) => {
            for key in map.keys() {
                let mut copy = root.clone();
                copy.pointer_mut(&pointer).unwrap().as_object_mut().unwrap().remove(key);
                out.push(copy);
            }
            let mut copy = root.clone();
            copy.pointer_mut(&pointer).unwrap().as_object_mut().unwrap().insert("zz".into(), Value::Null);
            out.push(copy);
            for (key, child) in map {
                variants(child, out, root, format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1")));
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                variants(child, out, root, format!("{pointer}/{i}"));
            }
        }
        _ => {}
    }
}

#[test]
fn derive_and_reader_agree() {
    let mut probes = Probes::default();
    let names: Vec<&str> = builtin::names().collect();
    for (n, name) in names.iter().enumerate() {
        let text = builtin::source(name).unwrap();
        probes.compare(text);
        // truncations of some
        if n == 0 {
            for end in (0..text.len()).filter(|e| text.is_char_boundary(*e)) {
                probes.compare(&text[..end]);
            }
        }
        // byte-level edits
        let bytes: Vec<usize> = (0..text.len()).filter(|e| text.is_char_boundary(*e)).step_by(89).collect();
        for &at in &bytes {
            for ins in [",", "}", "]", "\"", ":", "\n ", "{", "[", "x", "\\", "0", "-"] {
                let mut t = text.to_string();
                t.insert_str(at, ins);
                probes.compare(&t);
            }
            let mut t = text.to_string();
            let end = (at + 1..=text.len()).find(|e| text.is_char_boundary(*e)).unwrap_or(text.len());
            t.replace_range(at..end, "");
            probes.compare(&t);
        }
        // Structural variants: a third of the scenarios, and every one with faults.
        if n % 3 != 0 && !text.contains("\"faults\"") {
            continue;
        }
        let root: Value = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        variants(&root, &mut out, &root, String::new());
        for (i, v) in out.iter().enumerate() {
            let t =
                if i % 2 == 0 { serde_json::to_string(v).unwrap() } else { serde_json::to_string_pretty(v).unwrap() };
            probes.compare(&t);
        }
    }
    let float_texts = probes.float_text;
    for text in syntax_probes().iter().chain(&float_probes()) {
        probes.compare(text);
    }
    assert!(
        probes.float_text > float_texts,
        "no float probe was written differently from serde's text, so the float-text rule is not exercised"
    );
    let Probes { count, rejected: errors, bad, .. } = probes;
    assert!(errors > count / 2, "only {errors} of {count} probes were rejected; the probes are too gentle");
    assert!(bad.is_empty(), "{} disagreements:\n{}", bad.len(), bad.join("\n"));
}

/// A text for each syntax error the reader words itself, as in `scenario_errors.rs`, so that
/// their wording, position and path are checked against serde_json too.
fn syntax_probes() -> Vec<String> {
    let mut texts: Vec<String> = [
        "",
        "{",
        r#"{"seed":01}"#,
        r#"{"seed":1e400}"#,
        r#"{"seed":1e99999999999}"#,
        r#"{"seed":1.}"#,
        r#"{"seed":1.e5}"#,
        r#"{"seed":-}"#,
        r#"{"seed":1e+}"#,
        r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}"#,
        r#"{"hosts":[{"name":"a"#,
        r#"{"hosts":[{"name":"\u12"#,
        r#"{"hosts":[{"name":"a\q"}]}"#,
        r#"{"hosts" []}"#,
        r#"{"hosts":[{"name":"a","addr":"10.0.0.1"} {"name":"b"}]}"#,
        r#"{"seed":1 "hosts":[]}"#,
        r#"{"seed":nul}"#,
        r#"{"seed":tru"#,
        r#"{"seed":x}"#,
        "{\"name\":\"a\u{1}\"}",
        r#"{"hosts":[{"name":"a", 5}]}"#,
        r#"{"name":"\uDE00"}"#,
        r#"{"name":"\uD83D\u0041"}"#,
        r#"{"name":"\uD83Dx"}"#,
        r#"{"name":"\uD83D"#,
        r#"{"name":"\uD83D\u00"#,
        r#"{"name":"\uD83D\uDE00\u00e9\/\b\f\n\r\t"}"#,
        r#"{"hosts":[],}"#,
        r#"{"hosts":[{"name":"a","addr":"10.0.0.1"},]}"#,
        "{\n  \"seed\": 01\n}",
    ]
    .iter()
    .map(|text| text.to_string())
    .collect();
    texts.push(steps(&format!(r#"{{"call":"sleep","ms":{}"#, "[".repeat(123))));
    texts.push(steps(&format!(r#"{{"call":"sleep","ms":{}"#, "[".repeat(122))));
    texts.push(steps(r#"{"call":"sleep","ms":1,"note":"\uD83D\uDE00"}"#));
    texts
}

/// Floats where an error shows the number: the plain ones read the same on both sides, the
/// others only differ in how the float is written.
fn float_probes() -> Vec<String> {
    let mut texts = Vec::new();
    for number in ["1.5", "2.0", "-2.25", "1e3", "-0", "2.50", "1E-7", "18446744073709551616", "0.1", "1e300"] {
        texts.push(format!(r#"{{"seed":{number}}}"#));
        texts.push(steps(&format!(r#"{{"call":"listen","fd":"s","backlog":{number}}}"#)));
        texts.push(steps(&format!(r#"{{"call":"sleep","ms":1,"expect":{number}}}"#)));
    }
    texts
}
