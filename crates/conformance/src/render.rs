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

/// The details in AWS's form ([`Details::to_json`]); for snapshots, payloads are shown as
/// values (as text when they don't parse) and the truncation flags are left out.
fn details_json(details: &Details, encoding: Encoding) -> Map<String, Value> {
    let aws = details.to_json();
    if encoding == Encoding::Text {
        return aws;
    }
    let as_value = |value: Value| match value {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    };
    aws.into_iter()
        .filter(|(key, _)| {
            !matches!(
                key.as_str(),
                "inputDetails" | "outputDetails" | "assignedVariablesDetails"
            )
        })
        .map(|(key, value)| {
            let value = match key.as_str() {
                "input" | "output" | "parameters" => as_value(value),
                "assignedVariables" => match value {
                    Value::Object(vars) => {
                        Value::Object(vars.into_iter().map(|(k, v)| (k, as_value(v))).collect())
                    }
                    other => other,
                },
                _ => value,
            };
            (key, value)
        })
        .collect()
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
