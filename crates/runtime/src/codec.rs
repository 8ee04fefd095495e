//! Conversions between the interpreter's types and the store's records: inbox events as
//! versioned JSON, history events as AWS-shaped details JSON ([`Details::to_json`]).
//!
//! The inbox format is durable (replay reads it after upgrades): add fields, never rename.
//! Version 1 is an object with `type` plus the event's fields; the first entry of every inbox
//! is `{"type":"Start"}` (the input and facts come from the execution record).

use baton_interp::{Details, Event, HistoryEvent};
use baton_store::HistoryRecord;
use serde_json::{Value, json};

/// The inbox entry of the start step.
pub(crate) const START: &str = r#"{"type":"Start"}"#;

/// Encodes an event for the inbox.
pub(crate) fn encode_event(event: &Event) -> String {
    let value = match event {
        Event::TaskStarted { task, worker_name } => {
            json!({"type": "TaskStarted", "task": task, "workerName": worker_name})
        }
        Event::TaskSubmitted { task, output } => {
            json!({"type": "TaskSubmitted", "task": task, "output": output})
        }
        Event::TaskSucceeded { task, output } => {
            json!({"type": "TaskSucceeded", "task": task, "output": output})
        }
        Event::TaskFailed { task, error, cause } => {
            json!({"type": "TaskFailed", "task": task, "error": error, "cause": cause})
        }
        Event::TaskHeartbeat { task } => json!({"type": "TaskHeartbeat", "task": task}),
        Event::TimerFired { timer } => json!({"type": "TimerFired", "timer": timer}),
        Event::Stop { error, cause } => json!({"type": "Stop", "error": error, "cause": cause}),
        Event::Redrive => json!({"type": "Redrive"}),
    };
    value.to_string()
}

/// What an inbox entry holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    /// The start step.
    Start,
    /// An event.
    Event(Event),
}

/// Decodes an inbox entry.
pub(crate) fn decode_entry(text: &str) -> Result<Entry, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("inbox entry is not JSON: {e}"))?;
    let field = |name: &str| value.get(name);
    let task = || {
        field("task")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("inbox entry without task id: {text}"))
    };
    let string = |name: &str| field(name).and_then(Value::as_str).map(str::to_owned);
    let payload = |name: &str| field(name).cloned().unwrap_or(Value::Null);
    let ty = field("type").and_then(Value::as_str).unwrap_or_default();
    Ok(Entry::Event(match ty {
        "Start" => return Ok(Entry::Start),
        "TaskStarted" => Event::TaskStarted {
            task: task()?,
            worker_name: string("workerName"),
        },
        "TaskSubmitted" => Event::TaskSubmitted {
            task: task()?,
            output: payload("output"),
        },
        "TaskSucceeded" => Event::TaskSucceeded {
            task: task()?,
            output: payload("output"),
        },
        "TaskFailed" => Event::TaskFailed {
            task: task()?,
            error: string("error"),
            cause: string("cause"),
        },
        "TaskHeartbeat" => Event::TaskHeartbeat { task: task()? },
        "TimerFired" => Event::TimerFired {
            timer: field("timer")
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("inbox entry without timer id: {text}"))?,
        },
        "Stop" => Event::Stop {
            error: string("error"),
            cause: string("cause"),
        },
        "Redrive" => Event::Redrive,
        other => return Err(format!("unknown inbox entry type {other:?}")),
    }))
}

/// Converts a history event to its record: AWS's type name and the details object that
/// `GetExecutionHistory` shows under [`details_key`], with payloads as JSON text.
pub(crate) fn history_record(event: &HistoryEvent) -> HistoryRecord {
    HistoryRecord {
        id: event.id,
        previous_event_id: event.previous_event_id,
        timestamp_ms: event.timestamp,
        event_type: event.ty.as_str().to_owned(),
        details: render_details(&event.details),
    }
}

/// The key AWS puts an event type's details under, e.g. `taskScheduledEventDetails`
/// (`None` for types without details or unknown types).
pub fn details_key(event_type: &str) -> Option<&'static str> {
    baton_interp::EventType::parse(event_type).and_then(|ty| ty.details_key())
}

/// The stored details: [`Details::to_json`] as text, empty for events without details.
fn render_details(details: &Details) -> String {
    match details {
        Details::None => String::new(),
        details => Value::Object(details.to_json()).to_string(),
    }
}

#[cfg(test)]
mod tests;
