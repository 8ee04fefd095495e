//! Checks the renderer against every history event AWS recorded in the conformance cases:
//! each recorded event is read back into an interpreter [`HistoryEvent`], rendered, and must
//! give the recorded keys and values exactly (timestamps aside; payloads compared as JSON).

use std::path::PathBuf;
use std::sync::Arc;

use baton_interp::{Details, EventType, HistoryEvent};
use serde_json::{Value, json};

use super::{render, render_stored};

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/cases")
}

/// A recorded payload as the interpreter holds it (recordings store JSON text decoded).
fn payload(value: Option<&Value>) -> Arc<Value> {
    Arc::new(value.cloned().unwrap_or(Value::Null))
}

/// A recorded string member; recordings store a cause that is JSON decoded, so re-encode it.
fn string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn req(value: Option<&Value>) -> String {
    string(value).unwrap_or_default()
}

fn u64_of(value: Option<&Value>) -> Option<u64> {
    value.and_then(Value::as_u64)
}

/// Reads a recorded details object back into [`Details`] (None when it has members the
/// interpreter does not model).
fn parse_details(ty: EventType, d: &Value) -> Option<Details> {
    use EventType::*;
    let g = |key: &str| d.get(key);
    let known = [
        "input",
        "inputDetails",
        "output",
        "outputDetails",
        "roleArn",
        "error",
        "cause",
        "name",
        "assignedVariables",
        "assignedVariablesDetails",
        "resourceType",
        "resource",
        "region",
        "parameters",
        "timeoutInSeconds",
        "heartbeatInSeconds",
        "workerName",
        "length",
        "index",
        "mapRunArn",
        "location",
        "state",
    ];
    if d.as_object()?.keys().any(|k| !known.contains(&k.as_str())) {
        return None;
    }
    let name = || Arc::<str>::from(req(g("name")));
    Some(match ty {
        ExecutionStarted => Details::ExecutionStarted {
            input: payload(g("input")),
            role_arn: req(g("roleArn")),
        },
        ExecutionSucceeded | ActivitySucceeded | LambdaFunctionSucceeded => Details::Output {
            output: payload(g("output")),
        },
        ExecutionFailed
        | ExecutionAborted
        | ExecutionTimedOut
        | ExecutionRedriven
        | ActivityFailed
        | ActivityTimedOut
        | ActivityScheduleFailed
        | LambdaFunctionFailed
        | LambdaFunctionTimedOut
        | LambdaFunctionScheduleFailed
        | LambdaFunctionStartFailed
        | MapRunFailed => Details::Failure {
            error: string(g("error")),
            cause: string(g("cause")),
        },
        ChoiceStateEntered | FailStateEntered | MapStateEntered | ParallelStateEntered
        | PassStateEntered | SucceedStateEntered | TaskStateEntered | WaitStateEntered => {
            Details::StateEntered {
                name: name(),
                input: payload(g("input")),
            }
        }
        ChoiceStateExited | MapStateExited | ParallelStateExited | PassStateExited
        | SucceedStateExited | TaskStateExited | WaitStateExited => Details::StateExited {
            name: name(),
            output: payload(g("output")),
            assigned_variables: g("assignedVariables")
                .and_then(Value::as_object)
                .map(|vars| {
                    vars.iter()
                        .map(|(k, v)| (k.clone(), req(Some(v))))
                        .collect()
                }),
        },
        TaskScheduled => Details::TaskScheduled {
            resource_type: req(g("resourceType")),
            resource: req(g("resource")),
            region: req(g("region")),
            parameters: payload(g("parameters")),
            timeout_in_seconds: u64_of(g("timeoutInSeconds")),
            heartbeat_in_seconds: u64_of(g("heartbeatInSeconds")),
        },
        TaskStarted => Details::TaskStarted {
            resource_type: req(g("resourceType")),
            resource: req(g("resource")),
        },
        TaskSucceeded | TaskSubmitted => Details::TaskOutput {
            resource_type: req(g("resourceType")),
            resource: req(g("resource")),
            output: payload(g("output")),
        },
        TaskFailed | TaskTimedOut | TaskStartFailed | TaskSubmitFailed => Details::TaskFailure {
            resource_type: req(g("resourceType")),
            resource: req(g("resource")),
            error: string(g("error")),
            cause: string(g("cause")),
        },
        ActivityScheduled => Details::ActivityScheduled {
            resource: req(g("resource")),
            input: payload(g("input")),
            timeout_in_seconds: u64_of(g("timeoutInSeconds")),
            heartbeat_in_seconds: u64_of(g("heartbeatInSeconds")),
        },
        ActivityStarted => Details::ActivityStarted {
            worker_name: string(g("workerName")),
        },
        LambdaFunctionScheduled => Details::LambdaFunctionScheduled {
            resource: req(g("resource")),
            input: payload(g("input")),
            timeout_in_seconds: u64_of(g("timeoutInSeconds")),
        },
        MapStateStarted => Details::MapStateStarted {
            length: u64_of(g("length"))?,
        },
        MapIterationStarted | MapIterationSucceeded | MapIterationFailed | MapIterationAborted => {
            Details::MapIteration {
                name: name(),
                index: u64_of(g("index"))?,
            }
        }
        MapRunStarted => Details::MapRunStarted {
            map_run_arn: req(g("mapRunArn")),
        },
        EvaluationFailed => Details::EvaluationFailed {
            error: req(g("error")),
            cause: req(g("cause")),
            location: string(g("location")),
            state: Arc::from(req(g("state"))),
        },
        _ => return None,
    })
}

/// Compares a rendered value with the recorded one: where the recording holds decoded JSON and
/// we hold JSON text, the text is decoded first.
fn same(recorded: &Value, rendered: &Value, path: &str, diffs: &mut Vec<String>) {
    match (recorded, rendered) {
        (Value::Object(r), Value::Object(o)) => {
            for key in r.keys().chain(o.keys()) {
                match (r.get(key), o.get(key)) {
                    (Some(a), Some(b)) => same(a, b, &format!("{path}.{key}"), diffs),
                    (a, _) => diffs.push(format!(
                        "{path}.{key}: {}",
                        if a.is_some() { "missing" } else { "unexpected" }
                    )),
                }
            }
        }
        (recorded, Value::String(text)) if !recorded.is_string() => {
            match serde_json::from_str::<Value>(text) {
                Ok(decoded) if &decoded == recorded => {}
                _ => diffs.push(format!("{path}: {recorded} vs {text}")),
            }
        }
        (a, b) if a == b => {}
        // A recorded string payload is ambiguous (decoded text, or text kept as is): accept our
        // JSON text of that string too.
        (Value::String(a), Value::String(b))
            if serde_json::from_str::<Value>(b).ok().as_ref() == Some(recorded)
                || serde_json::from_str::<Value>(a).ok()
                    == serde_json::from_str::<Value>(b).ok()
                    && serde_json::from_str::<Value>(b).is_ok() => {}
        (a, b) => diffs.push(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn renders_every_recorded_event_shape() {
    let dir = cases_dir();
    let Ok(categories) = std::fs::read_dir(&dir) else {
        eprintln!("skipping: no conformance cases at {}", dir.display());
        return;
    };
    let (mut checked, mut unmodelled) = (0, 0);
    let mut failures = Vec::new();
    let mut files: Vec<PathBuf> = categories
        .flatten()
        .flat_map(|c| std::fs::read_dir(c.path()).into_iter().flatten().flatten())
        .map(|f| f.path())
        .collect();
    files.sort();
    for file in files {
        let case: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let Some(events) = case.pointer("/expected/events").and_then(Value::as_array) else {
            continue;
        };
        for recorded in events {
            let ty = EventType::parse(recorded["type"].as_str().unwrap()).unwrap();
            let details = match ty.details_key() {
                Some(key) => match parse_details(ty, &recorded[key]) {
                    Some(details) => details,
                    None => {
                        unmodelled += 1;
                        continue;
                    }
                },
                None => Details::None,
            };
            let event = HistoryEvent {
                id: recorded["id"].as_u64().unwrap(),
                previous_event_id: recorded["previousEventId"].as_u64().unwrap(),
                timestamp: 1_700_000_000_123,
                ty,
                details,
            };
            let mut rendered = render(&event, true);
            assert_eq!(rendered["timestamp"], json!(1700000000.123));
            rendered["timestamp"] = recorded["timestamp"].clone();
            let mut diffs = Vec::new();
            same(recorded, &rendered, "", &mut diffs);
            if !diffs.is_empty() {
                failures.push(format!("{} {}: {diffs:?}", file.display(), ty.as_str()));
            }
            checked += 1;
        }
    }
    eprintln!("{checked} recorded events rendered, {unmodelled} with unmodelled members");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 1000, "only {checked} events checked");
}

#[test]
fn execution_data_can_be_left_out() {
    let event = HistoryEvent {
        id: 2,
        previous_event_id: 0,
        timestamp: 1_000,
        ty: EventType::PassStateEntered,
        details: Details::StateEntered {
            name: Arc::from("A"),
            input: Arc::new(json!({"a": 1})),
        },
    };
    assert_eq!(
        render(&event, true),
        json!({"timestamp": 1, "type": "PassStateEntered", "id": 2, "previousEventId": 0,
               "stateEnteredEventDetails": {"name": "A", "input": "{\"a\":1}",
                                            "inputDetails": {"truncated": false}}})
    );
    assert_eq!(
        render(&event, false)["stateEnteredEventDetails"],
        json!({"name": "A"})
    );
    let aborted = HistoryEvent {
        id: 3,
        previous_event_id: 2,
        timestamp: 1_000,
        ty: EventType::ExecutionAborted,
        details: Details::Failure {
            error: None,
            cause: None,
        },
    };
    assert_eq!(
        render(&aborted, true)["executionAbortedEventDetails"],
        json!({})
    );
    let no_key = HistoryEvent {
        ty: EventType::MapStateSucceeded,
        details: Details::None,
        ..aborted
    };
    assert!(
        render(&no_key, true)
            .get("mapStateSucceededEventDetails")
            .is_none()
    );
}

#[test]
fn stored_events_render_like_live_ones() {
    let event = HistoryEvent {
        id: 4,
        previous_event_id: 3,
        timestamp: 1_700_000_000_500,
        ty: EventType::TaskSucceeded,
        details: Details::TaskOutput {
            resource_type: "lambda".into(),
            resource: "invoke".into(),
            output: Arc::new(json!({"ok": [1, 2.50]})),
        },
    };
    for include in [true, false] {
        let live = render(&event, include);
        let key = "taskSucceededEventDetails";
        let details = render(&event, true)[key].to_string();
        let stored = render_stored(4, 3, 1_700_000_000_500, "TaskSucceeded", &details, include);
        assert_eq!(stored, live);
    }
    let none = render_stored(9, 8, 0, "MapStateSucceeded", "", true);
    assert_eq!(
        none,
        json!({"timestamp": 0, "type": "MapStateSucceeded", "id": 9, "previousEventId": 8})
    );
    let aborted = render_stored(9, 8, 0, "ExecutionAborted", "", true);
    assert_eq!(aborted["executionAbortedEventDetails"], json!({}));
}
