//! Renders history events: as AWS's `GetExecutionHistory` JSON, and as one compact text line
//! per event for snapshot tests.
//!
//! The JSON shape is the wire shape: `{"timestamp", "type", "id", "previousEventId",
//! "<detailsKey>": {...}}`, with inputs, outputs, task parameters and assigned variables as
//! JSON *text* and `inputDetails`/`outputDetails`/`assignedVariablesDetails` set to
//! `{"truncated": false}`. The timestamp is epoch seconds with up to three decimals, as the AWS
//! JSON protocol sends it.
//!
//! `baton_api_model::history` is the server's renderer; a test in `tests/it` checks that the
//! two agree on every history the conformance cases produce.

use baton_interp::{Details, HistoryEvent, Millis, Status};
use serde_json::{Map, Value, json};

/// One event as `GetExecutionHistory` returns it.
pub fn event_json(event: &HistoryEvent) -> Value {
    let mut object = Map::new();
    object.insert("timestamp".into(), timestamp_json(event.timestamp));
    object.insert("type".into(), Value::String(event.ty.as_str().into()));
    object.insert("id".into(), Value::from(event.id));
    object.insert(
        "previousEventId".into(),
        Value::from(event.previous_event_id),
    );
    if let Some(key) = event.ty.details_key() {
        let details = details_json(&event.details, Encoding::Text);
        object.insert(key.into(), Value::Object(details));
    }
    Value::Object(object)
}

/// A whole history as `GetExecutionHistory`'s `{"events": [...]}`.
pub fn history_json(events: &[HistoryEvent]) -> Value {
    json!({ "events": events.iter().map(event_json).collect::<Vec<_>>() })
}

/// `DescribeExecution`'s spelling of a status.
pub fn status_str(status: &Status) -> &'static str {
    match status {
        Status::Running => "RUNNING",
        Status::Succeeded => "SUCCEEDED",
        Status::Failed => "FAILED",
        Status::TimedOut => "TIMED_OUT",
        Status::Aborted => "ABORTED",
    }
}

/// One event as a line: id, previous id, time since `start`, type and the details as compact
/// JSON with payloads shown as values (not text) and the `...Details` truncation flags left out:
///
/// `3 <- 2 +1.000s PassStateExited {"name":"A","output":{"x":1}}`
pub fn event_line(event: &HistoryEvent, start: Millis) -> String {
    let mut line = format!(
        "{} <- {} {} {}",
        event.id,
        event.previous_event_id,
        elapsed(event.timestamp - start),
        event.ty.as_str()
    );
    if event.ty.details_key().is_some() {
        let details = details_json(&event.details, Encoding::Value);
        line.push(' ');
        line.push_str(&Value::Object(details).to_string());
    }
    line
}

/// How payloads are written.
#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    /// As JSON text with a `...Details` truncation flag, as AWS sends them.
    Text,
    /// As JSON values, without truncation flags.
    Value,
}

fn details_json(details: &Details, encoding: Encoding) -> Map<String, Value> {
    let mut out = Map::new();
    let payload = |out: &mut Map<String, Value>, key: &str, value: &Value| match encoding {
        Encoding::Text => {
            out.insert(key.into(), Value::String(value.to_string()));
            out.insert(format!("{key}Details"), json!({ "truncated": false }));
        }
        Encoding::Value => {
            out.insert(key.into(), value.clone());
        }
    };
    let text = |out: &mut Map<String, Value>, key: &str, value: &str| {
        out.insert(key.into(), Value::String(value.into()));
    };
    let optional = |out: &mut Map<String, Value>, key: &str, value: &Option<String>| {
        if let Some(value) = value {
            out.insert(key.into(), Value::String(value.clone()));
        }
    };
    let seconds = |out: &mut Map<String, Value>, key: &str, value: &Option<u64>| {
        if let Some(value) = value {
            out.insert(key.into(), Value::from(*value));
        }
    };
    match details {
        Details::None => {}
        Details::ExecutionStarted { input, role_arn } => {
            payload(&mut out, "input", input);
            text(&mut out, "roleArn", role_arn);
        }
        Details::Output { output } => payload(&mut out, "output", output),
        Details::Failure { error, cause } => {
            optional(&mut out, "error", error);
            optional(&mut out, "cause", cause);
        }
        Details::StateEntered { name, input } => {
            text(&mut out, "name", name);
            payload(&mut out, "input", input);
        }
        Details::StateExited {
            name,
            output,
            assigned_variables,
        } => {
            text(&mut out, "name", name);
            payload(&mut out, "output", output);
            if let Some(variables) = assigned_variables {
                let variables: Map<String, Value> = variables
                    .iter()
                    .map(|(name, value)| {
                        let value = match encoding {
                            Encoding::Text => Value::String(value.clone()),
                            // Shown as a value when it parses, as the text otherwise.
                            Encoding::Value => serde_json::from_str(value)
                                .unwrap_or_else(|_| Value::String(value.clone())),
                        };
                        (name.clone(), value)
                    })
                    .collect();
                out.insert("assignedVariables".into(), Value::Object(variables));
                if encoding == Encoding::Text {
                    out.insert(
                        "assignedVariablesDetails".into(),
                        json!({ "truncated": false }),
                    );
                }
            }
        }
        Details::TaskScheduled {
            resource_type,
            resource,
            region,
            parameters,
            timeout_in_seconds,
            heartbeat_in_seconds,
        } => {
            text(&mut out, "resourceType", resource_type);
            text(&mut out, "resource", resource);
            text(&mut out, "region", region);
            // AWS sends `parameters` as text without a truncation flag.
            let parameters = match encoding {
                Encoding::Text => Value::String(parameters.to_string()),
                Encoding::Value => (**parameters).clone(),
            };
            out.insert("parameters".into(), parameters);
            seconds(&mut out, "timeoutInSeconds", timeout_in_seconds);
            seconds(&mut out, "heartbeatInSeconds", heartbeat_in_seconds);
        }
        Details::TaskStarted {
            resource_type,
            resource,
        } => {
            text(&mut out, "resourceType", resource_type);
            text(&mut out, "resource", resource);
        }
        Details::TaskOutput {
            resource_type,
            resource,
            output,
        } => {
            text(&mut out, "resourceType", resource_type);
            text(&mut out, "resource", resource);
            payload(&mut out, "output", output);
        }
        Details::TaskFailure {
            resource_type,
            resource,
            error,
            cause,
        } => {
            text(&mut out, "resourceType", resource_type);
            text(&mut out, "resource", resource);
            optional(&mut out, "error", error);
            optional(&mut out, "cause", cause);
        }
        Details::ActivityScheduled {
            resource,
            input,
            timeout_in_seconds,
            heartbeat_in_seconds,
        } => {
            text(&mut out, "resource", resource);
            payload(&mut out, "input", input);
            seconds(&mut out, "timeoutInSeconds", timeout_in_seconds);
            seconds(&mut out, "heartbeatInSeconds", heartbeat_in_seconds);
        }
        Details::ActivityStarted { worker_name } => optional(&mut out, "workerName", worker_name),
        Details::LambdaFunctionScheduled {
            resource,
            input,
            timeout_in_seconds,
        } => {
            text(&mut out, "resource", resource);
            payload(&mut out, "input", input);
            seconds(&mut out, "timeoutInSeconds", timeout_in_seconds);
        }
        Details::MapStateStarted { length } => {
            out.insert("length".into(), Value::from(*length));
        }
        Details::MapIteration { name, index } => {
            text(&mut out, "name", name);
            out.insert("index".into(), Value::from(*index));
        }
        Details::MapRunStarted { map_run_arn } => text(&mut out, "mapRunArn", map_run_arn),
        Details::EvaluationFailed {
            error,
            cause,
            location,
            state,
        } => {
            text(&mut out, "error", error);
            text(&mut out, "cause", cause);
            optional(&mut out, "location", location);
            text(&mut out, "state", state);
        }
    }
    out
}

/// Epoch seconds with up to three decimals, e.g. `1767225600.12` or `1767225600`.
fn timestamp_json(millis: Millis) -> Value {
    let seconds = millis.div_euclid(1000);
    let fraction = millis.rem_euclid(1000);
    let text = if fraction == 0 {
        seconds.to_string()
    } else {
        format!(
            "{seconds}.{}",
            format!("{fraction:03}").trim_end_matches('0')
        )
    };
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn elapsed(millis: Millis) -> String {
    let sign = if millis < 0 { "-" } else { "+" };
    let millis = millis.unsigned_abs();
    format!("{sign}{}.{:03}s", millis / 1000, millis % 1000)
}

#[cfg(test)]
mod tests;
