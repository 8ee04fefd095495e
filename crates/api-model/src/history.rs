//! Rendering interpreter history events as `GetExecutionHistory` returns them.
//!
//! Each event is `{"timestamp", "type", "id", "previousEventId", "<detailsKey>": {...}}`; the
//! details object is [`baton_interp::Details::to_json`], the one mapping of the interpreter's
//! events to AWS's field names. With `includeExecutionData: false` the inputs and outputs and
//! their details are left out, as AWS does.

use baton_interp::HistoryEvent;
use serde_json::{Map, Value};

use crate::time::Timestamp;

/// Renders one event.
pub fn render(event: &HistoryEvent, include_data: bool) -> Value {
    let mut object = Map::new();
    object.insert(
        "timestamp".into(),
        Value::Number(Timestamp(event.timestamp).to_number()),
    );
    object.insert("type".into(), Value::String(event.ty.as_str().into()));
    object.insert("id".into(), Value::from(event.id));
    object.insert(
        "previousEventId".into(),
        Value::from(event.previous_event_id),
    );
    if let Some(key) = event.ty.details_key() {
        let mut map = event.details.to_json();
        if !include_data {
            strip_data(&mut map);
        }
        object.insert(key.into(), Value::Object(map));
    }
    Value::Object(object)
}

/// Renders an event stored as AWS's type name plus its details object as JSON text (empty for
/// events without details), which is how the runtime keeps history. Details that are not a JSON
/// object are rendered as `{}` rather than failing the whole page.
pub fn render_stored(
    id: u64,
    previous_event_id: u64,
    timestamp_ms: i64,
    event_type: &str,
    details: &str,
    include_data: bool,
) -> Value {
    let mut object = Map::new();
    object.insert(
        "timestamp".into(),
        Value::Number(Timestamp(timestamp_ms).to_number()),
    );
    object.insert("type".into(), Value::String(event_type.into()));
    object.insert("id".into(), Value::from(id));
    object.insert("previousEventId".into(), Value::from(previous_event_id));
    let key = baton_interp::EventType::parse(event_type).and_then(|ty| ty.details_key());
    if let Some(key) = key {
        let mut map = match serde_json::from_str::<Value>(details) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        if !include_data {
            strip_data(&mut map);
        }
        object.insert(key.into(), Value::Object(map));
    }
    Value::Object(object)
}

/// Leaves out the execution data (inputs and outputs and their details), as AWS does for
/// `includeExecutionData: false`.
fn strip_data(map: &mut Map<String, Value>) {
    for member in ["input", "inputDetails", "output", "outputDetails"] {
        map.remove(member);
    }
}

#[cfg(test)]
mod tests;
