//! Unit tests of the validator's rendering: the `InvalidDefinition` message and the
//! `ValidateStateMachineDefinition` result.

use serde_json::json;

use super::*;

fn error(code: &str, message: &str, location: &str) -> Diagnostic {
    Diagnostic::error(code, message, location)
}

#[test]
fn invalid_definition_message_joins_errors() {
    let diagnostics = [
        error(
            "SCHEMA_VALIDATION_FAILED",
            "These fields are required: [States, StartAt]",
            "/",
        ),
        error(
            "SCHEMA_VALIDATION_FAILED",
            "Field 'Fn::Sub' is not supported",
            "/",
        ),
    ];
    assert_eq!(
        invalid_definition_message(&diagnostics),
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /, SCHEMA_VALIDATION_FAILED: Field 'Fn::Sub' is not supported at /'"
    );
}

#[test]
fn invalid_definition_message_without_location_says_null() {
    let diagnostics = [error(
        "MISSING_END_STATE",
        "Workflow has no terminal state",
        "",
    )];
    assert_eq!(
        invalid_definition_message(&diagnostics),
        "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'"
    );
}

#[test]
fn jsonata_errors_are_reported_alone() {
    let jsonata = error(
        "INVALID_JSONATA_EXPRESSION",
        "Unexpected end of expression",
        "/States/A/Output",
    );
    let other = error(
        "MISSING_TRANSITION_TARGET",
        "Missing 'Next' target: B",
        "/States/A/Next",
    );
    let both = [jsonata.clone(), jsonata.clone(), other];
    assert_eq!(
        invalid_definition_message(&both),
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next'"
    );
    assert_eq!(
        invalid_definition_message(&[jsonata.clone(), jsonata]),
        "Invalid State Machine Definition: 'INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/A/Output'"
    );
}

#[test]
fn validation_result_filters_and_truncates() {
    let mut warning = error("NO_DOLLAR", "w", "/States/A/Parameters/x");
    warning.severity = Severity::Warning;
    let diagnostics = [
        error("SCHEMA_VALIDATION_FAILED", "a", "/States/A"),
        warning,
        error("MISSING_END_STATE", "b", ""),
    ];
    let errors_only = validation_result(&diagnostics, &ResultOptions::default());
    assert_eq!(
        errors_only,
        json!({"result": "FAIL", "diagnostics": [
            {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": "a", "location": "/States/A"},
            {"severity": "ERROR", "code": "MISSING_END_STATE", "message": "b"}
        ], "truncated": false})
    );
    let one = validation_result(
        &diagnostics,
        &ResultOptions {
            severity: Severity::Warning,
            max_results: 1,
        },
    );
    assert_eq!(one["diagnostics"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["truncated"], json!(true));
    assert_eq!(one["result"], json!("FAIL"));
    let ok = validation_result(&[], &ResultOptions::default());
    assert_eq!(
        ok,
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
}

#[test]
fn express_machines_refuse_callbacks_and_activities() {
    let definition = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync", "End": true}}});
    assert!(validate(&definition).is_empty());
    let express = Options {
        machine_type: MachineType::Express,
    };
    let diagnostics = validate_with(&definition, &express);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].location, "/States/T/Resource");
}

mod paths {
    use super::super::paths::*;
    #[test]
    fn paths() {
        let ok = [
            "$",
            "$$",
            "$.a",
            "$.a.b",
            "$['a b']",
            "$.a[0]",
            "$.a[-1]",
            "$.a[1:2]",
            "$.a[*]",
            "$..a",
            "$.a.*",
            "$.detail-type",
            "$$.Execution.Input",
            "$$.Map.Item.Value",
            "$var",
            "$var.field[0]",
            "$.a[?(@.b == 'x')]",
            // AWS reads a function-looking name as a member name.
            "$.a.length()",
            "$.a['b','c']",
            "$.a[0,1]",
        ];
        for p in ok {
            assert!(is_path(p), "{p} should be a path");
        }
        let bad = [
            "", "a", "$.", "$.a.", "$[", "$.a]", "$['a]", "$[]", "$.a[x]", ".a", "$.a..", "$ a",
        ];
        for p in bad {
            assert!(!is_path(p), "{p} should not be a path");
        }
    }

    #[test]
    fn reference_paths() {
        for p in ["$", "$.a", "$.a.b[0]", "$['a']", "$.a-b"] {
            assert!(is_reference_path(p, false), "{p}");
        }
        for p in [
            "$.a[*]",
            "$..a",
            "$.a[0,1]",
            "$.a[1:2]",
            "$$.a",
            "$.a[?(@.x)]",
            "$.*",
        ] {
            assert!(!is_reference_path(p, false), "{p}");
        }
        assert!(is_reference_path("$$.Execution.Input", true));
    }

    #[test]
    fn intrinsics() {
        let ok = [
            "States.Format('Hello {}', $.name)",
            "States.Array()",
            "States.Array(1, -2.5, true, null, 'x')",
            "States.JsonToString(States.StringToJson($.a))",
            "States.Format('it\\'s {}', $$.Execution.Id)",
            "States.ArrayGetItem($.a[0], 1)",
            "States.UUID()",
            "States.MathAdd($var, 1)",
        ];
        for c in ok {
            assert!(is_intrinsic(c), "{c}");
        }
        let bad = [
            "States.Nope(1)",
            "States.Format('x'",
            "States.Format('x',)",
            "States.Format('unterminated)",
            "States.Array(1 2)",
            "States.Array(1) extra",
            "States.Array(foo)",
        ];
        for c in bad {
            assert!(!is_intrinsic(c), "{c}");
        }
    }
}

mod jsonata {
    use super::super::jsonata::*;
    #[test]
    fn strings_and_comments_are_not_code() {
        let code = outside_strings("$a & '$$' & \"x\\\"$$\" /* $$ */ & $b");
        assert!(!code.contains("$$"), "{code}");
        assert!(code.starts_with("$a &") && code.ends_with("& $b"), "{code}");
        assert!(mentions_error_output("$states.errorOutput.Error"));
        assert!(!mentions_error_output("$states.errorOutputs"));
    }

    #[test]
    fn token_names_become_symbols() {
        assert_eq!(
            symbols("Expected RightBracket, got Comma"),
            "Expected \"]\", got \",\""
        );
        assert_eq!(
            symbols("The symbol Dot cannot be used as a unary operator"),
            "The symbol \".\" cannot be used as a unary operator"
        );
        assert_eq!(
            symbols("Unexpected end of expression"),
            "Unexpected end of expression"
        );
    }
}
