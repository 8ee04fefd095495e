//! Unit tests for the Java-compatibility helpers and parser details that the data-driven
//! tables in `tests/` do not reach.

use serde_json::{Value, json};

use crate::java::{self, JavaRandom};
use crate::parse::{Piece, Template};
use crate::{Call, Function};

#[test]
fn java_random_matches_known_java_outputs() {
    // `new Random(42).nextInt()` and `new Random(42).nextInt(10)` are well-known values, and
    // AWS's JSONata `$random(42)` (java.util.Random) returns 0.7275636800328681.
    assert_eq!(JavaRandom::new(42).next_int(), -1_170_105_035);
    assert_eq!(JavaRandom::new(42).next_int_bounded(10), 0);
    assert_eq!(JavaRandom::new(42).next_double(), 0.727_563_680_032_868_1);
    // A power-of-two bound takes the multiply path; it must stay in range and be stable.
    let first = JavaRandom::new(7).next_int_bounded(1024);
    assert!((0..1024).contains(&first));
    assert_eq!(first, JavaRandom::new(7).next_int_bounded(1024));
}

#[test]
fn double_to_string_follows_java() {
    let cases = [
        (1.1, "1.1"),
        (1.0, "1.0"),
        (100.0, "100.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1234567.0, "1234567.0"),
        (1e7, "1.0E7"),
        (1.5e10, "1.5E10"),
        (-2.5e-5, "-2.5E-5"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
    ];
    for (x, expected) in cases {
        assert_eq!(java::double_to_string(x), expected, "{x}");
    }
}

#[test]
fn java_printing_of_numbers_keeps_integers_and_normalises_floats() {
    let cases = [
        ("1", "1"),
        ("-0", "0"),
        ("1.0", "1.0"),
        ("1e2", "100.0"),
        ("1.10", "1.1"),
        (
            "123456789012345678901234567890",
            "123456789012345678901234567890",
        ),
    ];
    for (text, expected) in cases {
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(java::to_java_string(&value), expected, "{text}");
    }
}

#[test]
fn math_round_rounds_halves_up() {
    let cases = [
        (0.5, 1),
        (-0.5, 0),
        (1.5, 2),
        (-1.5, -1),
        (2.5, 3),
        (-2.5, -2),
        (-1.51, -2),
        (-1.49, -1),
        (0.499_999_999_999_999_94, 0),
    ];
    for (x, expected) in cases {
        assert_eq!(java::math_round(x), Some(expected), "{x}");
    }
    assert_eq!(java::math_round(f64::INFINITY), None);
}

#[test]
fn truncation_to_int_checks_the_range() {
    assert_eq!(java::truncate_to_int(&json!(2.6)), Some(2));
    assert_eq!(java::truncate_to_int(&json!(-0.6)), Some(0));
    assert_eq!(java::truncate_to_int(&json!(2147483647)), Some(i32::MAX));
    assert_eq!(java::truncate_to_int(&json!(2147483648_i64)), None);
    assert_eq!(java::truncate_to_int(&json!(1e300)), None);
    assert_eq!(java::truncate_to_int(&json!("1")), None);
}

#[test]
fn java_equality_distinguishes_integers_from_doubles() {
    assert!(java::java_equals(
        &json!({"a": 1, "b": [2]}),
        &json!({"b": [2], "a": 1})
    ));
    assert!(!java::java_equals(
        &json!(1),
        &serde_json::from_str::<Value>("1.0").unwrap()
    ));
    assert!(java::java_equals(
        &serde_json::from_str::<Value>("1.50").unwrap(),
        &serde_json::from_str::<Value>("1.5").unwrap()
    ));
    assert!(!java::java_equals(&json!("1"), &json!(1)));
}

#[test]
fn templates_separate_escaped_braces_from_placeholders() {
    assert_eq!(
        Template::from_runtime("a{}b"),
        Template::Pieces(vec![
            Piece::Text("a".into()),
            Piece::Placeholder,
            Piece::Text("b".into())
        ])
    );
    assert_eq!(Template::from_runtime("{"), Template::Malformed);
    assert_eq!(Template::from_runtime("}{}"), Template::Malformed);
    assert_eq!(Template::from_runtime("{{}}"), Template::Malformed);
    assert_eq!(Template::from_runtime("").placeholders(), Some(0));
}

#[test]
fn function_names_round_trip() {
    for function in Function::ALL {
        assert_eq!(Function::from_name(function.name()), Some(function));
    }
    assert_eq!(Function::from_name("States.format"), None);
    assert_eq!(Function::from_name("States.Uuid"), None);
}

#[test]
fn call_reports_its_function_and_text() {
    let call = Call::parse("States.Array(1, States.UUID())").unwrap();
    assert_eq!(call.function(), Function::Array);
    assert_eq!(call.text(), "States.Array(1, States.UUID())");
    assert!(call.paths().is_empty());
}

#[test]
fn nesting_is_limited_to_ten() {
    let nested = |depth: usize| format!("{}1{}", "States.Array(".repeat(depth), ")".repeat(depth));
    assert!(Call::parse(&nested(10)).is_ok());
    let error = Call::parse(&nested(11)).unwrap_err();
    assert!(error.message.contains("nested at most 10 deep"), "{error}");
    // Deep input must not overflow the stack either.
    assert!(Call::parse(&nested(100_000)).is_err());
}

#[test]
fn hash_codes_match_java() {
    // Well-known Java values: "hello".hashCode(), Boolean.TRUE.hashCode(),
    // Double.valueOf(1.0).hashCode(), List.of(1, 2).hashCode(), Long.valueOf(1L << 32)
    // .hashCode(), Map.of("a", 1).hashCode().
    assert_eq!(java::java_hash_code(&json!("hello")), 99_162_322);
    assert_eq!(java::java_hash_code(&json!(true)), 1231);
    assert_eq!(java::java_hash_code(&json!(1.0)), 1_072_693_248);
    assert_eq!(java::java_hash_code(&json!([1, 2])), 994);
    assert_eq!(java::java_hash_code(&json!(4_294_967_296_i64)), 1);
    assert_eq!(java::java_hash_code(&json!({"a": 1})), 96);
    assert_eq!(java::java_hash_code(&Value::Null), 0);
    // BigInteger.valueOf(2).pow(64).hashCode(): words [1, 0, 0] -> 31 * 31 = 961.
    let big: Value = serde_json::from_str("18446744073709551616").unwrap();
    assert_eq!(java::java_hash_code(&big), 961);
    let negative: Value = serde_json::from_str("-18446744073709551616").unwrap();
    assert_eq!(java::java_hash_code(&negative), -961);
}

#[test]
fn array_unique_stays_fast_on_large_arrays() {
    // 200,000 items (about the 256 KiB payload limit) with many duplicates.
    let items: Vec<Value> = (0..200_000).map(|i| json!(i % 5_000)).collect();
    let unique = java::hash_set_order(&items);
    assert_eq!(unique.len(), 5_000);
    // Small non-negative integers hash to themselves, so HashSet order is numeric here.
    assert_eq!(unique[0], json!(0));
    assert_eq!(unique[4_999], json!(4_999));
}
