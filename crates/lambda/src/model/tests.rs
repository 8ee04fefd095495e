//! Unit tests for function name parsing.

use super::*;

#[test]
fn function_names_from_every_form() {
    // (given, name or None for invalid, qualifier)
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("my-function", Some("my-function"), None),
        ("my_function:$LATEST", Some("my_function"), Some("$LATEST")),
        (
            "arn:aws:lambda:us-east-1:000000000000:function:f1",
            Some("f1"),
            None,
        ),
        (
            "arn:aws:lambda:us-east-1:000000000000:function:f1:prod",
            Some("f1"),
            Some("prod"),
        ),
        ("000000000000:function:f2", Some("f2"), None),
        ("000000000000:function:f2:7", Some("f2"), Some("7")),
        ("", None, None),
        ("bad name", None, None),
        ("arn:aws:states:::lambda:invoke", None, None),
    ];
    for (given, name, qual) in cases {
        match (function_name(given), name) {
            (Ok(got), Some(want)) => assert_eq!(&got, want, "{given}"),
            (Err(_), None) => {}
            (got, want) => panic!("{given}: got {got:?}, want {want:?}"),
        }
        if name.is_some() {
            assert_eq!(qualifier(given), *qual, "{given}");
        }
    }
}

#[test]
fn runtimes_map_to_worker_kinds() {
    for (runtime, kind) in [
        ("python3.9", Some(RuntimeKind::Python)),
        ("python3.13", Some(RuntimeKind::Python)),
        ("nodejs18.x", Some(RuntimeKind::Node)),
        ("provided.al2023", Some(RuntimeKind::Provided)),
        ("java21", None),
    ] {
        assert_eq!(RuntimeKind::parse(runtime).ok(), kind, "{runtime}");
    }
}
