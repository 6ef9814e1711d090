//! How a malformed scenario is reported: one row per kind of mistake, with the JSON path and
//! the exact reason (serde's wording and serde_json's "line L column C"), so the hand-written
//! reader in `engine/src/scenario/read/` keeps the messages people see in the page and CLI.

use sockscope_engine::parse_scenario;

const HOSTS: &str = r#""hosts":[{"name":"a","addr":"10.0.0.1"},{"name":"b","addr":"10.0.0.2"}]"#;
const PROCESSES: &str = r#""processes":[{"name":"p","host":"a","steps":[{"call":"socket","as":"s"}]}]"#;

fn top(extra: &str) -> String {
    format!("{{{HOSTS},{PROCESSES},{extra}}}")
}

fn steps(steps: &str) -> String {
    format!(r#"{{{HOSTS},"processes":[{{"name":"p","host":"a","steps":[{steps}]}}]}}"#)
}

fn faults(faults: &str) -> String {
    top(&format!(r#""faults":[{faults}]"#))
}

#[test]
fn each_mistake_names_its_path_and_reason() {
    let deep_path = format!("processes[0].steps[0].ms{}", "[0]".repeat(122));
    let cases: Vec<(String, &str, &str)> = vec![
        // Syntax: serde_json's own message, at the path where reading stopped.
        (String::new(), ".", "EOF while parsing a value at line 1 column 0"),
        ("{".into(), "?", "EOF while parsing an object at line 1 column 1"),
        (r#"{"hosts":[{"name":"a","#.into(), "hosts[0].?", "EOF while parsing a value at line 1 column 22"),
        (r#"{"hosts":[{"name""#.into(), "hosts[0]", "EOF while parsing an object at line 1 column 17"),
        (r#"{"hosts":[{"name":"a\q"}]}"#.into(), "hosts[0].name", "invalid escape at line 1 column 22"),
        (r#"{"hosts":[{"name":"a","addr":"10.0.0.1"},]}"#.into(), "hosts", "trailing comma at line 1 column 42"),
        (r#"{"seed":01}"#.into(), "seed", "invalid number at line 1 column 10"),
        (r#"{"seed":1e400}"#.into(), "seed", "number out of range at line 1 column 13"),
        (r#"{"seed":1e99999999999}"#.into(), "seed", "number out of range at line 1 column 20"),
        (r#"{"hosts":[{"name":"a","addr":"10.0.0.1"}"#.into(), "hosts", "EOF while parsing a list at line 1 column 40"),
        (r#"{"hosts":[{"name":"a"#.into(), "hosts[0].name", "EOF while parsing a string at line 1 column 20"),
        (r#"{"hosts":[{"name":"\u12"#.into(), "hosts[0].name", "EOF while parsing a string at line 1 column 23"),
        (r#"{"hosts" []}"#.into(), ".", "expected `:` at line 1 column 10"),
        (
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1"} {"name":"b"}]}"#.into(),
            "hosts",
            "expected `,` or `]` at line 1 column 42",
        ),
        (r#"{"seed":1 "hosts":[]}"#.into(), "?", "expected `,` or `}` at line 1 column 11"),
        (r#"{"seed":nul}"#.into(), "seed", "expected ident at line 1 column 12"),
        (r#"{"seed":x}"#.into(), "seed", "expected value at line 1 column 9"),
        (
            "{\"name\":\"a\u{1}\"}".into(),
            "name",
            "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 11",
        ),
        (r#"{"hosts":[{"name":"a", 5}]}"#.into(), "hosts[0].?", "key must be a string at line 1 column 24"),
        (r#"{"name":"\uDE00"}"#.into(), "name", "lone leading surrogate in hex escape at line 1 column 15"),
        (r#"{"name":"\uD83D\u0041"}"#.into(), "name", "lone leading surrogate in hex escape at line 1 column 21"),
        (r#"{"name":"\uD83Dx"}"#.into(), "name", "unexpected end of hex escape at line 1 column 16"),
        (r#"{"hosts":[],}"#.into(), "?", "trailing comma at line 1 column 13"),
        ("{\n  \"seed\": 01\n}".into(), "seed", "invalid number at line 2 column 12"),
        // The 128th nested array or object: the scenario, its processes, a process, its steps
        // and a step are five.
        (
            steps(&format!(r#"{{"call":"sleep","ms":{}"#, "[".repeat(123))),
            &deep_path,
            "recursion limit exceeded at line 1 column 262",
        ),
        // Types and values.
        ("[]".into(), ".", "invalid type: sequence, expected struct Scenario at line 1 column 0"),
        (r#"{"hosts":5}"#.into(), "hosts", "invalid type: integer `5`, expected a sequence at line 1 column 10"),
        (r#"{"seed":-1}"#.into(), "seed", "invalid value: integer `-1`, expected u64 at line 1 column 10"),
        (r#"{"seed":2.0}"#.into(), "seed", "invalid type: floating point `2.0`, expected u64 at line 1 column 11"),
        // A float is shown as written (serde printed `1000.0` and `-0.0` here; see scenario/read/mod.rs).
        (r#"{"seed":1e3}"#.into(), "seed", "invalid type: floating point `1e3`, expected u64 at line 1 column 11"),
        (r#"{"seed":-0}"#.into(), "seed", "invalid type: floating point `-0`, expected u64 at line 1 column 10"),
        (
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1","tcp":{"wscale":256}}],"processes":[]}"#.into(),
            "hosts[0].tcp.wscale",
            "invalid value: integer `256`, expected u8 at line 1 column 59",
        ),
        (
            r#"{"hosts":[{"name":"a","addr":"10.0.0.1","tcp":{"mss":"x"}}],"processes":[]}"#.into(),
            "hosts[0].tcp.mss",
            "invalid type: string \"x\", expected u16 at line 1 column 56",
        ),
        (
            r#"{"hosts":[{"name":null,"addr":"10.0.0.1"}],"processes":[]}"#.into(),
            "hosts[0].name",
            "invalid type: null, expected a string at line 1 column 22",
        ),
        (
            r#"{"hosts":[{"name":"a","addr":"10.0.0.300"} ],"processes":[]}"#.into(),
            "hosts[0].addr",
            "`300` in `10.0.0.300` is not an octet 0-255 at line 1 column 42",
        ),
        // Fields: unknown, repeated, missing.
        (
            r#"{"hosts":[{"name":"a","colour":1}]}"#.into(),
            "hosts[0].colour",
            "unknown field `colour`, expected one of `name`, `addr`, `tcp` at line 1 column 30",
        ),
        (r#"{"hosts":[],"hosts":[]}"#.into(), ".", "duplicate field `hosts` at line 1 column 19"),
        (r#"{"hosts":[{"name":"a"}]}"#.into(), "hosts[0]", "missing field `addr` at line 1 column 22"),
        (format!("{{{HOSTS}}}"), ".", "missing field `processes` at line 1 column 73"),
        (top(r#""links":[{"a":"a"}]"#), "links[0]", "missing field `b` at line 1 column 166"),
        (top(r#""limits":{"max_events":"x"}"#), "limits.max_events", "invalid type: string \"x\", expected usize at line 1 column 174"),
        // Steps: read from a map, reported at the step, where the array of steps was left.
        (steps(r#"{"call":"teleport"}"#), "processes[0].steps[0]", "unknown variant `teleport`"),
        (steps("5"), "processes[0].steps[0]", "invalid type: integer `5`, expected a map at line 1 column 119"),
        (
            steps(r#"{"call":"sleep","ms":1,"at_ms":"x"} ,{"call":"sleep","ms":1}"#),
            "processes[0].steps[0]",
            "at_ms: invalid type: string \"x\", expected f64 at line 1 column 155",
        ),
        // Faults: the tag is read first, the fields after; field errors are at the fault.
        (faults(r#"{"host":"b","at_ms":1}"#), "faults[0]", "missing field `fault` at line 1 column 180"),
        (
            faults(r#"{"fault":"quake"}"#),
            "faults[0].fault",
            "unknown variant `quake`, expected one of `drop`, `loss`, `duplicate`, `reorder`, `delay`, `link_down`, `crash`, `reboot` at line 1 column 174",
        ),
        (faults(r#"{"fault":"crash","fault":"crash"}"#), "faults[0]", "duplicate field `fault` at line 1 column 182"),
        (faults(r#"{"fault":"crash","host":"b"}"#), "faults[0]", "missing field `at_ms` at line 1 column 187"),
        (faults(r#"{"fault":"loss","rate":"x"}"#), "faults[0]", "invalid type: string \"x\", expected f64 at line 1 column 186"),
        (
            faults(r#"{"fault":"drop","match":{"colour":"red"}}"#),
            "faults[0]",
            "unknown field `colour`, expected one of `from`, `to`, `flags`, `data`, `seq`, `from_ms`, `until_ms` at line 1 column 200",
        ),
        (
            faults(r#"{"fault":"drop","match":{"seq":[1]}}, 5"#),
            "faults[0]",
            "invalid length 1, expected an array of length 2 at line 1 column 196",
        ),
        (
            faults(r#"{"fault":"drop","match":{"seq":[1,2,3]}}"#),
            "faults[0]",
            "invalid length 3, expected 2 elements in sequence at line 1 column 199",
        ),
        (faults(r#"{"fault":"crash","host":"b","at_ms":1,"nth":1}"#), "faults[0]", "unknown field `nth`, expected `host` or `at_ms` at line 1 column 205"),
    ];
    let mut wrong = Vec::new();
    for (text, path, reason) in &cases {
        match parse_scenario(text) {
            Ok(_) => wrong.push(format!("{text}\n  accepted; expected {path}: {reason}")),
            Err(err) if err.path != *path || !err.reason.starts_with(reason) => {
                wrong.push(format!("{text}\n  got      {}: {}\n  expected {path}: {reason}", err.path, err.reason))
            }
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{} of {} rows differ:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}
