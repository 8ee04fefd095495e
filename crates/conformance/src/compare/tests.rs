//! Tests of the comparison rules against what `run.py` does.

use serde_json::json;

use super::*;

fn diffs(exp: Value, act: Value, ph: &Placeholders) -> Vec<String> {
    let mut out = Vec::new();
    compare(&exp, &act, &[Key::Name("output".into())], ph, &mut out);
    out
}

#[test]
fn values_compare_like_python() {
    let none = Placeholders::new();
    let table = [
        (json!(1), json!(1.0), true),
        (json!(1), json!(1e0), true),
        (json!(true), json!(1), false),
        (
            json!(12345678901234567890u64),
            json!(12345678901234567890u64),
            true,
        ),
        (
            json!({"a": 1, "b": [1, 2]}),
            json!({"b": [1, 2.0], "a": 1}),
            true,
        ),
        (json!({"a": 1}), json!({"a": 1, "b": 2}), false),
        (json!([1, 2]), json!([2, 1]), false),
        (json!(null), json!({}), false),
        (json!("x"), json!("x"), true),
    ];
    for (exp, act, same) in table {
        let d = diffs(exp.clone(), act.clone(), &none);
        assert_eq!(d.is_empty(), same, "{exp} vs {act}: {d:?}");
    }
}

#[test]
fn first_difference_names_the_path() {
    let d = diffs(
        json!({"a": [1, {"b": 2}]}),
        json!({"a": [1, {"b": 3}]}),
        &Placeholders::new(),
    );
    assert_eq!(d, ["output $.a[1].b: expected 2, got 3"]);
}

#[test]
fn case_placeholders_match_by_pattern_or_anything() {
    let entries = [
        json!({"keys": ["output", "Id"], "recorded": "arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>",
               "pattern": "arn:aws[a-z-]*:states:[a-z]{2}(?:-[a-z]+)+-\\d:\\d{12}:execution:.+?"}),
        json!({"keys": ["output", "Start"], "recorded": "start-time", "any": true}),
    ];
    let ph = case_placeholders(&entries).unwrap();
    let exp = json!({"Id": "x", "Start": "start-time"});
    let good = json!({"Id": "arn:aws:states:us-east-1:000000000000:execution:m", "Start": 17});
    assert!(diffs(exp.clone(), good, &ph).is_empty());
    let bad = json!({"Id": "arn:aws:states:us-east-1:0000:execution:m", "Start": 17});
    assert_eq!(diffs(exp, bad, &ph).len(), 1);
}

#[test]
fn event_tokens_respect_word_boundaries() {
    let listed = HashMap::new();
    let table = [
        ("date", Some("any")),
        ("update", None),
        ("date_x", None),
        ("<ArnPart_0idx>", Some("any")),
        ("x-111111111111-y", Some("pattern")),
        ("plain text", None),
        (
            "arn:<partition>:lambda:<region>:111111111111:function:f",
            Some("pattern"),
        ),
    ];
    for (text, want) in table {
        let got = placeholder_for(text, &listed).map(|p| match p.pattern {
            None => "any",
            Some(_) => "pattern",
        });
        assert_eq!(got, want, "{text}");
    }
    let p = placeholder_for(
        "arn:<partition>:lambda:<region>:111111111111:function:f",
        &listed,
    )
    .unwrap();
    let re = p.pattern.unwrap();
    assert!(re.is_match("arn:aws:lambda:us-east-1:000000000000:function:f"));
    assert!(!re.is_match("arn:aws:lambda:us-east-1:000000000000:function:g"));
}

#[test]
fn events_compare_decoded_and_without_timestamps() {
    let case = crate::case::Case::from_json(
        json!({
            "id": "t", "category": "c", "kind": "execution", "event_order": "strict",
            "expected": {"status": "SUCCEEDED", "event_types": ["ExecutionStarted"],
                "events": [{"id": 1, "previousEventId": 0, "timestamp": "timestamp", "type": "ExecutionStarted",
                    "executionStartedEventDetails": {"input": {"a": 1}, "inputDetails": {"truncated": false},
                    "roleArn": "snf_role_arn"}}]}
        }),
        std::path::Path::new("t.json"),
    )
    .unwrap();
    let actual = json!([{"id": 1, "previousEventId": 0, "timestamp": 1767225600.0, "type": "ExecutionStarted",
        "executionStartedEventDetails": {"input": "{\"a\":1.0}", "inputDetails": {"truncated": false},
        "roleArn": "arn:aws:iam::000000000000:role/x"}}]);
    assert_eq!(
        compare_events(&case, actual.as_array().unwrap()),
        Vec::<String>::new()
    );
    let wrong = json!([{"id": 1, "previousEventId": 0, "timestamp": 0, "type": "ExecutionStarted",
        "executionStartedEventDetails": {"input": "{\"a\":2}", "roleArn": "r"}}]);
    let d = compare_events(&case, wrong.as_array().unwrap());
    assert_eq!(
        d,
        [
            "event #1 ExecutionStarted $.executionStartedEventDetails.input.a: expected 1, got 2",
            "event #1 ExecutionStarted $.executionStartedEventDetails: missing key \"inputDetails\""
        ]
    );
}
