//! Tests of ARN parsing and AWS's name rules.

use super::{MachineRef, check_activity, check_execution, check_name, execution, parse_machine};

const SM: &str = "arn:aws:states:us-east-1:000000000000:stateMachine:flow";

#[test]
fn machine_references() {
    let cases = [
        (
            SM.to_owned(),
            Some(MachineRef::Unqualified { arn: SM.to_owned() }),
        ),
        (
            format!("{SM}:12"),
            Some(MachineRef::Version {
                machine_arn: SM.to_owned(),
                version: 12,
            }),
        ),
        (
            format!("{SM}:prod"),
            Some(MachineRef::Alias {
                machine_arn: SM.to_owned(),
                name: "prod".to_owned(),
            }),
        ),
        (format!("{SM}:a:b"), None),
        (format!("{SM}:"), None),
        (
            "arn:aws:states:us-east-1:000000000000:activity:flow".to_owned(),
            None,
        ),
        (
            "arn:aws:lambda:us-east-1:000000000000:function:f".to_owned(),
            None,
        ),
        ("stateMachine:flow".to_owned(), None),
        (String::new(), None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_machine(&text).ok(), expected, "{text}");
    }
}

#[test]
fn execution_and_activity_arns() {
    let built = execution(SM, "run-1").unwrap();
    assert_eq!(
        built,
        "arn:aws:states:us-east-1:000000000000:execution:flow:run-1"
    );
    assert!(check_execution(&built).is_ok());
    assert!(check_execution(SM).is_err());
    assert!(check_execution("arn:aws:states:us-east-1:000000000000:execution:flow").is_err());
    let express = super::express_execution(SM, "run-1", "abc").unwrap();
    assert_eq!(
        express,
        "arn:aws:states:us-east-1:000000000000:express:flow:run-1:abc"
    );
    assert!(check_execution(&express).is_ok());
    assert!(check_execution("arn:aws:states:us-east-1:000000000000:express:flow:run-1").is_err());
    assert!(check_activity("arn:aws:states:us-east-1:000000000000:activity:a").is_ok());
    assert!(check_activity(&built).is_err());
}

#[test]
fn names() {
    let good = ["a", "run-1", "Run_2.x", "ünïcode", &"n".repeat(80)];
    for name in good {
        assert!(check_name(name).is_ok(), "{name}");
    }
    let long = "n".repeat(81);
    let bad = [
        "", "a b", "a\tb", "a<b", "a{b", "a[b", "a?b", "a*b", "a\"b", "a#b", "a%b", "a\\b", "a^b",
        "a|b", "a~b", "a`b", "a$b", "a&b", "a,b", "a;b", "a:b", "a/b", "a\u{1}b", "a\u{7f}b",
        "a\u{85}b", &long,
    ];
    for name in bad {
        assert!(check_name(name).is_err(), "{name:?}");
    }
}
