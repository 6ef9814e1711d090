//! The reader against serde_json itself, which it replaces: on every text, the same value (a
//! float bit for bit) or the same syntax error message with the same position.

use super::*;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value;

/// A finished node as the `serde_json::Value` it stands for (keys repeated in an object keep
/// the last value, as `Value` does).
fn to_value(node: &Node) -> Value {
    match &node.kind {
        Kind::Null => Value::Null,
        Kind::Bool(flag) => Value::Bool(*flag),
        Kind::Number(Number::U64(value)) => Value::from(*value),
        Kind::Number(Number::I64(value)) => Value::from(*value),
        Kind::Number(Number::F64(value, _)) => Value::from(*value),
        Kind::Str(text) => Value::String(text.clone()),
        Kind::Array(elements, _) => Value::Array(elements.iter().map(to_value).collect()),
        Kind::Object(members, _) => {
            Value::Object(members.iter().map(|member| (member.key.clone(), to_value(&member.value))).collect())
        }
        Kind::Broken => unreachable!("a text without a syntax error has no broken node"),
    }
}

/// Every float in `value`, as bits, in order (so that `-0.0` and `0.0` differ).
fn float_bits(value: &Value, out: &mut Vec<u64>) {
    match value {
        Value::Number(number) if number.is_f64() => out.push(number.as_f64().unwrap_or(0.0).to_bits()),
        Value::Array(values) => values.iter().for_each(|value| float_bits(value, out)),
        Value::Object(map) => map.values().for_each(|value| float_bits(value, out)),
        _ => {}
    }
}

/// The disagreement between the reader and serde_json on `text`, if any. serde_json reads
/// the first value and ignores what follows, as a streaming parse does.
fn disagreement(text: &str) -> Option<String> {
    let expected = Value::deserialize(&mut serde_json::Deserializer::from_str(text));
    let document = parse(text);
    let got = match &document.syntax_error {
        Some(message) => Err(message.clone()),
        None => Ok(to_value(&document.root)),
    };
    let same = match (&expected, &got) {
        (Ok(expected), Ok(got)) => {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            float_bits(expected, &mut a);
            float_bits(got, &mut b);
            expected == got && a == b
        }
        (Err(expected), Err(got)) => expected.to_string() == *got,
        _ => false,
    };
    (!same).then(|| format!("{text:?}\n  serde_json {expected:?}\n  reader     {got:?}"))
}

fn assert_agree(texts: impl IntoIterator<Item = String>) {
    let mut count = 0;
    let wrong: Vec<String> =
        texts.into_iter().inspect(|_| count += 1).filter_map(|text| disagreement(&text)).take(20).collect();
    assert!(wrong.is_empty(), "{} disagreements (of {count}):\n{}", wrong.len(), wrong.join("\n"));
}

/// Every text of up to `length` symbols from `alphabet`.
fn all_texts(alphabet: &[&str], length: usize) -> Vec<String> {
    let mut texts = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..length {
        last = last.iter().flat_map(|text| alphabet.iter().map(move |symbol| format!("{text}{symbol}"))).collect();
        texts.extend(last.iter().cloned());
    }
    texts
}

#[test]
fn numbers_are_read_as_serde_json_reads_them() {
    let cases = [
        "0", "-0", "-0.0", "1", "-1", "18446744073709551615", "18446744073709551616", "18446744073709551610.0",
        "18446744073709551616.0", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "-18446744073709551616", "1.5", "2.0", "0.1", "0.30000000000000004", "123456789012345678901234567890",
        "1234567890123456789012345678901234567890.123", "0.000000000000000000000000000000000000001234567890123",
        "1e308", "1.7976931348623157e308", "1.7976931348623158e308", "1e309", "-1e309", "1e-308", "1e-320",
        "4.9e-324", "2e-324", "1e-400", "0e999999999999", "1e2147483647", "1e2147483648", "1e-2147483648",
        "0.0e2147483648", "-0e-99999999999", "1E5", "1e+5", "1e-5", "1.", "1.e5", ".5", "01", "-", "-a", "1e",
        "1e+", "1ea", "-01", "00", "1.0.0", "2.50", "1e3", "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000.0",
    ];
    assert_agree(cases.iter().map(|case| case.to_string()));
    assert_agree(all_texts(&["0", "1", "9", "-", ".", "e", "E", "+", " ", ","], 5));
}

#[test]
fn strings_are_read_as_serde_json_reads_them() {
    let cases = [
        r#""""#,
        r#""a""#,
        r#""\"\\\/\b\f\n\r\t""#,
        r#""\u0041\u00e9\u20ac""#,
        r#""\uD83D\uDE00""#,
        r#""\uDE00""#,
        r#""\uD83D""#,
        r#""\uD83Dx""#,
        r#""\uD83D\x""#,
        r#""\uD83D\u0041""#,
        r#""\uD83D\uD83D""#,
        r#""\u12""#,
        r#""\u12G4""#,
        r#""\q""#,
        r#""\"#,
        "\"\\",
        "\"a",
        "\"\u{1}\"",
        "\"\n\"",
        "\"é\\u00e9\"",
        "\"\\uéé\"",
        "\"\\u\u{1F600}\"",
        "\"\\\u{e9}\"",
        "\"\\uD83D\\u\u{e9}\"",
    ];
    assert_agree(cases.iter().map(|case| case.to_string()));
    assert_agree(all_texts(&["\"", "\\", "u", "D", "8", "0", "n", "é", "\u{1}"], 5));
}

#[test]
fn structure_and_words_are_read_as_serde_json_reads_them() {
    assert_agree(all_texts(&["[", "]", "{", "}", ",", ":", "\"k\"", "1", "n", "ul", "true", "\n", " "], 5));
    let deep = |depth: usize, open: &str, close: &str| format!("{}{}", open.repeat(depth), close.repeat(depth));
    assert_agree([126, 127, 128, 200].into_iter().flat_map(|depth| {
        [
            deep(depth, "[", "]"),
            deep(depth, "{\"a\":", "}"),
            deep(depth, "[", ""),
            format!("[{}", deep(depth, "{\"k\":[", "]}")),
        ]
    }));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_numbers_agree(text in "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{0,30})?([eE][+-]?[0-9]{0,4})?") {
        prop_assert!(disagreement(&text).is_none(), "{}", disagreement(&text).unwrap_or_default());
    }

    #[test]
    fn random_texts_agree(text in "[\\[\\]{}\",:0-9a-z\\\\ \n\u{1}é\u{1F600}.+-]{0,40}") {
        prop_assert!(disagreement(&text).is_none(), "{}", disagreement(&text).unwrap_or_default());
    }
}
