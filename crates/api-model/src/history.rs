//! Rendering interpreter history events as `GetExecutionHistory` returns them.
//!
//! Each event is `{"timestamp", "type", "id", "previousEventId", "<detailsKey>": {...}}`.
//! Payloads (`input`, `output`, `parameters`, assigned variables) are JSON *text*, each with a
//! `...Details: {"truncated": false}` sibling (payloads are capped at 256 KiB, so nothing is ever
//! truncated). With `includeExecutionData: false` the inputs and outputs and their details are
//! left out, as AWS does.

use baton_interp::{Details, HistoryEvent};
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
        object.insert(
            key.into(),
            Value::Object(details(&event.details, include_data)),
        );
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
            for member in ["input", "inputDetails", "output", "outputDetails"] {
                map.remove(member);
            }
        }
        object.insert(key.into(), Value::Object(map));
    }
    Value::Object(object)
}

/// JSON text of a payload.
fn text(value: &Value) -> Value {
    Value::String(value.to_string())
}

fn not_truncated() -> Value {
    let mut map = Map::new();
    map.insert("truncated".into(), Value::Bool(false));
    Value::Object(map)
}

struct Builder {
    map: Map<String, Value>,
    include_data: bool,
}

impl Builder {
    fn string(&mut self, key: &str, value: &str) -> &mut Self {
        self.map.insert(key.into(), Value::String(value.into()));
        self
    }

    fn opt_string(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.string(key, value);
        }
        self
    }

    fn opt_u64(&mut self, key: &str, value: Option<u64>) -> &mut Self {
        if let Some(value) = value {
            self.map.insert(key.into(), Value::from(value));
        }
        self
    }

    /// `input`/`output` as text plus `inputDetails`/`outputDetails`.
    fn payload(&mut self, key: &str, value: &Value) -> &mut Self {
        if self.include_data {
            self.map.insert(key.into(), text(value));
            self.map.insert(format!("{key}Details"), not_truncated());
        }
        self
    }
}

fn details(details: &Details, include_data: bool) -> Map<String, Value> {
    let mut b = Builder {
        map: Map::new(),
        include_data,
    };
    match details {
        Details::None => {}
        Details::ExecutionStarted { input, role_arn } => {
            b.payload("input", input).string("roleArn", role_arn);
        }
        Details::Output { output } => {
            b.payload("output", output);
        }
        Details::Failure { error, cause } => {
            b.opt_string("error", error.as_deref())
                .opt_string("cause", cause.as_deref());
        }
        Details::StateEntered { name, input } => {
            b.string("name", name).payload("input", input);
        }
        Details::StateExited {
            name,
            output,
            assigned_variables,
        } => {
            b.string("name", name).payload("output", output);
            if let Some(variables) = assigned_variables {
                let object: Map<String, Value> = variables
                    .iter()
                    .map(|(name, json)| (name.clone(), Value::String(json.clone())))
                    .collect();
                b.map
                    .insert("assignedVariables".into(), Value::Object(object));
                b.map
                    .insert("assignedVariablesDetails".into(), not_truncated());
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
            b.string("resourceType", resource_type)
                .string("resource", resource)
                .string("region", region);
            b.map.insert("parameters".into(), text(parameters));
            b.opt_u64("timeoutInSeconds", *timeout_in_seconds)
                .opt_u64("heartbeatInSeconds", *heartbeat_in_seconds);
        }
        Details::TaskStarted {
            resource_type,
            resource,
        } => {
            b.string("resourceType", resource_type)
                .string("resource", resource);
        }
        Details::TaskOutput {
            resource_type,
            resource,
            output,
        } => {
            b.string("resourceType", resource_type)
                .string("resource", resource)
                .payload("output", output);
        }
        Details::TaskFailure {
            resource_type,
            resource,
            error,
            cause,
        } => {
            b.string("resourceType", resource_type)
                .string("resource", resource)
                .opt_string("error", error.as_deref())
                .opt_string("cause", cause.as_deref());
        }
        Details::ActivityScheduled {
            resource,
            input,
            timeout_in_seconds,
            heartbeat_in_seconds,
        } => {
            b.string("resource", resource)
                .payload("input", input)
                .opt_u64("timeoutInSeconds", *timeout_in_seconds)
                .opt_u64("heartbeatInSeconds", *heartbeat_in_seconds);
        }
        Details::ActivityStarted { worker_name } => {
            b.opt_string("workerName", worker_name.as_deref());
        }
        Details::LambdaFunctionScheduled {
            resource,
            input,
            timeout_in_seconds,
        } => {
            b.string("resource", resource)
                .payload("input", input)
                .opt_u64("timeoutInSeconds", *timeout_in_seconds);
        }
        Details::MapStateStarted { length } => {
            b.map.insert("length".into(), Value::from(*length));
        }
        Details::MapIteration { name, index } => {
            b.string("name", name);
            b.map.insert("index".into(), Value::from(*index));
        }
        Details::MapRunStarted { map_run_arn } => {
            b.string("mapRunArn", map_run_arn);
        }
        Details::EvaluationFailed {
            error,
            cause,
            location,
            state,
        } => {
            b.string("error", error)
                .string("cause", cause)
                .opt_string("location", location.as_deref())
                .string("state", state);
        }
    }
    b.map
}

#[cfg(test)]
mod tests;
