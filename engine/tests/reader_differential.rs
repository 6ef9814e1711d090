//! The hand-written scenario reader against serde's derive, which it replaced in the web page
//! (the derive stays: the CLI's validator reads scenarios and faults with serde_json). Both
//! read the same texts: every built-in scenario, each with every member removed, an unknown
//! member added, every value replaced by values of other types, and a sample of single-byte
//! edits and truncations; the result and the error (path, reason, line and column) must match.
//! The one known difference: serde also reads a struct from an array of its fields, which the
//! format never documented; the reader rejects an array there. (Steps are read by the same
//! hand-written code on both sides, since the derive delegates a step to it.)
use serde_json::Value;
use sockscope_engine::scenario::{validate, Scenario};
use sockscope_engine::{builtin, parse_scenario, ScenarioError};

fn old(text: &str) -> Result<Scenario, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        ScenarioError { path, reason: err.into_inner().to_string() }
    })?;
    validate(&scenario)?;
    Ok(scenario)
}

/// The probes read so far: how many, how many serde rejected, and the first 40 disagreements.
#[derive(Default)]
struct Probes {
    count: usize,
    rejected: usize,
    bad: Vec<String>,
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
    let Probes { count, rejected: errors, bad } = probes;
    assert!(errors > count / 2, "only {errors} of {count} probes were rejected; the probes are too gentle");
    assert!(bad.is_empty(), "{} disagreements:\n{}", bad.len(), bad.join("\n"));
}
