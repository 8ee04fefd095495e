//! Tests of the codecs: every inbox event round-trips, unknown entries are refused, and
//! history details render with AWS's field names.

use std::sync::Arc;

use baton_interp::{Details, Event, EventType, HistoryEvent};
use serde_json::{Value, json};

use super::{Entry, decode_entry, encode_event, history_record};

#[test]
fn every_event_round_trips() {
    let events = [
        Event::TaskStarted {
            task: 1,
            worker_name: Some("w".into()),
        },
        Event::TaskStarted {
            task: 2,
            worker_name: None,
        },
        Event::TaskSubmitted {
            task: 3,
            output: json!({"MessageId": "m"}),
        },
        Event::TaskSucceeded {
            task: 4,
            output: serde_json::from_str(r#"{"n":12345678901234567890,"f":1.50}"#).unwrap(),
        },
        Event::TaskFailed {
            task: 5,
            error: Some("E".into()),
            cause: None,
        },
        Event::TaskFailed {
            task: 6,
            error: None,
            cause: Some("c".into()),
        },
        Event::TaskHeartbeat { task: 7 },
        Event::TimerFired { timer: 8 },
        Event::Stop {
            error: Some("Halt".into()),
            cause: Some("why".into()),
        },
        Event::Stop {
            error: None,
            cause: None,
        },
        Event::Redrive,
    ];
    for event in events {
        let text = encode_event(&event);
        assert_eq!(
            decode_entry(&text),
            Ok(Entry::Event(event.clone())),
            "{text}"
        );
    }
    assert_eq!(decode_entry(super::START), Ok(Entry::Start));
}

#[test]
fn malformed_entries_are_refused() {
    for text in [
        "",
        "[]",
        r#"{"type":"Nope"}"#,
        r#"{"type":"TimerFired"}"#,
        r#"{"type":"TaskSucceeded","task":"x"}"#,
    ] {
        assert!(decode_entry(text).is_err(), "{text}");
    }
}

#[test]
fn details_render_as_aws_shapes() {
    let payload = |v: Value| Arc::new(v);
    let cases: Vec<(EventType, Details, Value)> = vec![
        (EventType::WaitStateAborted, Details::None, Value::Null),
        (
            EventType::ExecutionStarted,
            Details::ExecutionStarted {
                input: payload(json!({"a": 1})),
                role_arn: "r".into(),
            },
            json!({"input": "{\"a\":1}", "inputDetails": {"truncated": false}, "roleArn": "r"}),
        ),
        (
            EventType::TaskStateExited,
            Details::StateExited {
                name: Arc::from("S"),
                output: payload(json!([1])),
                assigned_variables: Some(vec![("x".into(), "1".into())]),
            },
            json!({"name": "S", "output": "[1]", "outputDetails": {"truncated": false},
                   "assignedVariables": {"x": "1"}, "assignedVariablesDetails": {"truncated": false}}),
        ),
        (
            EventType::TaskScheduled,
            Details::TaskScheduled {
                resource_type: "sqs".into(),
                resource: "sendMessage.waitForTaskToken".into(),
                region: "us-east-1".into(),
                parameters: payload(json!({"QueueUrl": "q"})),
                timeout_in_seconds: Some(30),
                heartbeat_in_seconds: None,
            },
            json!({"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken", "region": "us-east-1",
                   "parameters": "{\"QueueUrl\":\"q\"}", "timeoutInSeconds": 30}),
        ),
        (
            EventType::ExecutionFailed,
            Details::Failure {
                error: Some("E".into()),
                cause: None,
            },
            json!({"error": "E"}),
        ),
        (
            EventType::ActivityStarted,
            Details::ActivityStarted { worker_name: None },
            json!({}),
        ),
        (
            EventType::EvaluationFailed,
            Details::EvaluationFailed {
                error: "States.Runtime".into(),
                cause: "c".into(),
                location: None,
                state: Arc::from("S"),
            },
            json!({"error": "States.Runtime", "cause": "c", "state": "S"}),
        ),
    ];
    for (ty, details, expected) in cases {
        let event = HistoryEvent {
            id: 3,
            previous_event_id: 2,
            timestamp: 99,
            ty,
            details,
        };
        let record = history_record(&event);
        assert_eq!(
            (record.id, record.previous_event_id, record.timestamp_ms),
            (3, 2, 99)
        );
        assert_eq!(record.event_type, ty.as_str());
        let rendered = if record.details.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&record.details).unwrap()
        };
        assert_eq!(rendered, expected, "{ty:?}");
    }
}
