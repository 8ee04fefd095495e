//! Tests of the history renderers.

use std::sync::Arc;

use baton_interp::EventType;
use serde_json::json;

use super::*;

fn event(ty: EventType, details: Details) -> HistoryEvent {
    HistoryEvent {
        id: 3,
        previous_event_id: 2,
        timestamp: 1_767_225_601_234,
        ty,
        details,
    }
}

#[test]
fn aws_shape_has_text_payloads_and_truncation_flags() {
    let exited = event(
        EventType::PassStateExited,
        Details::StateExited {
            name: Arc::from("A"),
            output: Arc::new(json!({"x": 1})),
            assigned_variables: Some(vec![("v".into(), "[1,2]".into())]),
        },
    );
    let rendered = event_json(&exited);
    assert_eq!(
        rendered,
        json!({
            "timestamp": 1767225601.234,
            "type": "PassStateExited",
            "id": 3,
            "previousEventId": 2,
            "stateExitedEventDetails": {
                "name": "A",
                "output": "{\"x\":1}",
                "outputDetails": {"truncated": false},
                "assignedVariables": {"v": "[1,2]"},
                "assignedVariablesDetails": {"truncated": false}
            }
        })
    );
    assert_eq!(
        event_line(&exited, 1_767_225_600_000),
        r#"3 <- 2 +1.234s PassStateExited {"name":"A","output":{"x":1},"assignedVariables":{"v":[1,2]}}"#
    );
}

#[test]
fn absent_fields_are_left_out_and_empty_details_kept() {
    let aborted = event(
        EventType::ExecutionAborted,
        Details::Failure {
            error: None,
            cause: None,
        },
    );
    assert_eq!(
        event_json(&aborted)["executionAbortedEventDetails"],
        json!({})
    );
    let scheduled = event(
        EventType::TaskScheduled,
        Details::TaskScheduled {
            resource_type: "lambda".into(),
            resource: "invoke".into(),
            region: "us-east-1".into(),
            parameters: Arc::new(json!({"FunctionName": "f"})),
            timeout_in_seconds: Some(5),
            heartbeat_in_seconds: None,
        },
    );
    assert_eq!(
        event_json(&scheduled)["taskScheduledEventDetails"],
        json!({"resourceType": "lambda", "resource": "invoke", "region": "us-east-1",
               "parameters": "{\"FunctionName\":\"f\"}", "timeoutInSeconds": 5})
    );
    let started = event(EventType::LambdaFunctionStarted, Details::None);
    let rendered = event_json(&started);
    assert_eq!(rendered.as_object().map(|o| o.len()), Some(4), "{rendered}");
    assert_eq!(
        event_line(&started, 1_767_225_602_000),
        "3 <- 2 -0.766s LambdaFunctionStarted"
    );
}

#[test]
fn statuses_use_aws_spelling() {
    let table = [
        (Status::Running, "RUNNING"),
        (Status::Succeeded, "SUCCEEDED"),
        (Status::Failed, "FAILED"),
        (Status::TimedOut, "TIMED_OUT"),
        (Status::Aborted, "ABORTED"),
    ];
    for (status, text) in table {
        assert_eq!(status_str(&status), text);
    }
}
