//! History events, named and shaped as AWS's `GetExecutionHistory` returns them.
//!
//! The server renders a [`HistoryEvent`] by writing `type`, `id`, `previousEventId`,
//! `timestamp` and, under [`EventType::details_key`], the fields of [`Details`] with AWS's
//! names (`input`/`output` as JSON text plus `inputDetails`/`outputDetails`).

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::Millis;

/// A payload shared between the execution state and its history without copying.
pub type Payload = Arc<Value>;

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based id.
    pub id: u64,
    /// The id of the event this one follows from (0 for none).
    pub previous_event_id: u64,
    /// When it happened.
    pub timestamp: Millis,
    /// AWS's event type.
    pub ty: EventType,
    /// The event's details.
    pub details: Details,
}

macro_rules! event_types {
    ($($name:ident => $key:expr,)*) => {
        /// AWS's history event types.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)] // AWS's names.
        pub enum EventType { $($name,)* }

        impl EventType {
            /// The type as AWS spells it.
            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$name => stringify!($name),)* }
            }
            /// The key AWS puts the details under (`None` for events without details).
            pub fn details_key(self) -> Option<&'static str> {
                match self { $(EventType::$name => $key,)* }
            }
            /// Parses AWS's spelling.
            pub fn parse(name: &str) -> Option<EventType> {
                match name { $(stringify!($name) => Some(EventType::$name),)* _ => None }
            }
        }
    };
}

event_types! {
    ActivityFailed => Some("activityFailedEventDetails"),
    ActivityScheduleFailed => Some("activityScheduleFailedEventDetails"),
    ActivityScheduled => Some("activityScheduledEventDetails"),
    ActivityStarted => Some("activityStartedEventDetails"),
    ActivitySucceeded => Some("activitySucceededEventDetails"),
    ActivityTimedOut => Some("activityTimedOutEventDetails"),
    ChoiceStateEntered => Some("stateEnteredEventDetails"),
    ChoiceStateExited => Some("stateExitedEventDetails"),
    EvaluationFailed => Some("evaluationFailedEventDetails"),
    ExecutionAborted => Some("executionAbortedEventDetails"),
    ExecutionFailed => Some("executionFailedEventDetails"),
    ExecutionRedriven => Some("executionRedrivenEventDetails"),
    ExecutionStarted => Some("executionStartedEventDetails"),
    ExecutionSucceeded => Some("executionSucceededEventDetails"),
    ExecutionTimedOut => Some("executionTimedOutEventDetails"),
    FailStateEntered => Some("stateEnteredEventDetails"),
    LambdaFunctionFailed => Some("lambdaFunctionFailedEventDetails"),
    LambdaFunctionScheduleFailed => Some("lambdaFunctionScheduleFailedEventDetails"),
    LambdaFunctionScheduled => Some("lambdaFunctionScheduledEventDetails"),
    LambdaFunctionStartFailed => Some("lambdaFunctionStartFailedEventDetails"),
    LambdaFunctionStarted => None,
    LambdaFunctionSucceeded => Some("lambdaFunctionSucceededEventDetails"),
    LambdaFunctionTimedOut => Some("lambdaFunctionTimedOutEventDetails"),
    MapIterationAborted => Some("mapIterationAbortedEventDetails"),
    MapIterationFailed => Some("mapIterationFailedEventDetails"),
    MapIterationStarted => Some("mapIterationStartedEventDetails"),
    MapIterationSucceeded => Some("mapIterationSucceededEventDetails"),
    MapRunAborted => None,
    MapRunFailed => Some("mapRunFailedEventDetails"),
    MapRunStarted => Some("mapRunStartedEventDetails"),
    MapRunSucceeded => None,
    MapStateAborted => None,
    MapStateEntered => Some("stateEnteredEventDetails"),
    MapStateExited => Some("stateExitedEventDetails"),
    MapStateFailed => None,
    MapStateStarted => Some("mapStateStartedEventDetails"),
    MapStateSucceeded => None,
    ParallelStateAborted => None,
    ParallelStateEntered => Some("stateEnteredEventDetails"),
    ParallelStateExited => Some("stateExitedEventDetails"),
    ParallelStateFailed => None,
    ParallelStateStarted => None,
    ParallelStateSucceeded => None,
    PassStateEntered => Some("stateEnteredEventDetails"),
    PassStateExited => Some("stateExitedEventDetails"),
    SucceedStateEntered => Some("stateEnteredEventDetails"),
    SucceedStateExited => Some("stateExitedEventDetails"),
    TaskFailed => Some("taskFailedEventDetails"),
    TaskScheduled => Some("taskScheduledEventDetails"),
    TaskStartFailed => Some("taskStartFailedEventDetails"),
    TaskStarted => Some("taskStartedEventDetails"),
    TaskStateAborted => None,
    TaskStateEntered => Some("stateEnteredEventDetails"),
    TaskStateExited => Some("stateExitedEventDetails"),
    TaskSubmitFailed => Some("taskSubmitFailedEventDetails"),
    TaskSubmitted => Some("taskSubmittedEventDetails"),
    TaskSucceeded => Some("taskSucceededEventDetails"),
    TaskTimedOut => Some("taskTimedOutEventDetails"),
    WaitStateAborted => None,
    WaitStateEntered => Some("stateEnteredEventDetails"),
    WaitStateExited => Some("stateExitedEventDetails"),
}

/// The details of an event, by shape. Field names follow AWS (rendered in camelCase).
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    /// No details object.
    None,
    /// `executionStartedEventDetails`.
    ExecutionStarted {
        /// `input`.
        input: Payload,
        /// `roleArn`.
        role_arn: String,
    },
    /// `executionSucceededEventDetails`, `activitySucceededEventDetails`,
    /// `lambdaFunctionSucceededEventDetails`: `{output, outputDetails}`.
    Output {
        /// `output`.
        output: Payload,
    },
    /// `{error?, cause?}`: execution/activity/lambda failures and timeouts, map runs.
    Failure {
        /// `error`.
        error: Option<String>,
        /// `cause`.
        cause: Option<String>,
    },
    /// `stateEnteredEventDetails`.
    StateEntered {
        /// `name`.
        name: Arc<str>,
        /// `input`.
        input: Payload,
    },
    /// `stateExitedEventDetails`.
    StateExited {
        /// `name`.
        name: Arc<str>,
        /// `output`.
        output: Payload,
        /// `assignedVariables`: variable name → value as JSON text (when `Assign` ran).
        assigned_variables: Option<Vec<(String, String)>>,
    },
    /// `taskScheduledEventDetails`.
    TaskScheduled {
        /// `resourceType`, e.g. `lambda`.
        resource_type: String,
        /// `resource`, e.g. `invoke.waitForTaskToken`.
        resource: String,
        /// `region`.
        region: String,
        /// `parameters` (rendered as JSON text).
        parameters: Payload,
        /// `timeoutInSeconds`.
        timeout_in_seconds: Option<u64>,
        /// `heartbeatInSeconds`.
        heartbeat_in_seconds: Option<u64>,
    },
    /// `taskStartedEventDetails`.
    TaskStarted {
        /// `resourceType`.
        resource_type: String,
        /// `resource`.
        resource: String,
    },
    /// `taskSucceededEventDetails`, `taskSubmittedEventDetails`.
    TaskOutput {
        /// `resourceType`.
        resource_type: String,
        /// `resource`.
        resource: String,
        /// `output`.
        output: Payload,
    },
    /// `taskFailedEventDetails`, `taskTimedOutEventDetails`, `taskStartFailedEventDetails`,
    /// `taskSubmitFailedEventDetails`.
    TaskFailure {
        /// `resourceType`.
        resource_type: String,
        /// `resource`.
        resource: String,
        /// `error`.
        error: Option<String>,
        /// `cause`.
        cause: Option<String>,
    },
    /// `activityScheduledEventDetails`.
    ActivityScheduled {
        /// `resource` (the activity ARN).
        resource: String,
        /// `input`.
        input: Payload,
        /// `timeoutInSeconds`.
        timeout_in_seconds: Option<u64>,
        /// `heartbeatInSeconds`.
        heartbeat_in_seconds: Option<u64>,
    },
    /// `activityStartedEventDetails`.
    ActivityStarted {
        /// `workerName`.
        worker_name: Option<String>,
    },
    /// `lambdaFunctionScheduledEventDetails`.
    LambdaFunctionScheduled {
        /// `resource` (the function ARN).
        resource: String,
        /// `input`.
        input: Payload,
        /// `timeoutInSeconds`.
        timeout_in_seconds: Option<u64>,
    },
    /// `mapStateStartedEventDetails`.
    MapStateStarted {
        /// `length`.
        length: u64,
    },
    /// `mapIteration*EventDetails`.
    MapIteration {
        /// `name` (the Map state's name).
        name: Arc<str>,
        /// `index`.
        index: u64,
    },
    /// `mapRunStartedEventDetails`.
    MapRunStarted {
        /// `mapRunArn`.
        map_run_arn: String,
    },
    /// `executionRedrivenEventDetails`.
    ExecutionRedriven {
        /// `redriveCount`: how many times the execution has been redriven, this one included.
        redrive_count: u64,
    },
    /// `evaluationFailedEventDetails`.
    EvaluationFailed {
        /// `error`.
        error: String,
        /// `cause`.
        cause: String,
        /// `location` (the field, e.g. `Arguments`).
        location: Option<String>,
        /// `state`.
        state: Arc<str>,
    },
}

impl Details {
    /// The details object as AWS's `GetExecutionHistory` writes it under
    /// [`EventType::details_key`]: payloads (`input`, `output`, `parameters`, assigned
    /// variables) as JSON text, each payload but `parameters` with a
    /// `...Details: {"truncated": false}` sibling (payloads are capped at 256 KiB, so nothing is
    /// truncated), optional members left out when absent. This is the one place that maps the
    /// interpreter's events to AWS's field names; the store keeps this form and the server
    /// sends it.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |key: &str, value: Value| {
            out.insert(key.to_owned(), value);
        };
        let text = |value: &str| Value::String(value.to_owned());
        let not_truncated = || {
            let mut flag = Map::new();
            flag.insert("truncated".into(), Value::Bool(false));
            Value::Object(flag)
        };
        let payload = |put: &mut dyn FnMut(&str, Value), key: &str, value: &Value| {
            put(key, Value::String(value.to_string()));
            put(&format!("{key}Details"), not_truncated());
        };
        let optional = |put: &mut dyn FnMut(&str, Value), key: &str, value: &Option<String>| {
            if let Some(value) = value {
                put(key, Value::String(value.clone()));
            }
        };
        let seconds = |put: &mut dyn FnMut(&str, Value), key: &str, value: &Option<u64>| {
            if let Some(value) = value {
                put(key, Value::from(*value));
            }
        };
        match self {
            Details::None => {}
            Details::ExecutionStarted { input, role_arn } => {
                payload(&mut put, "input", input);
                put("roleArn", text(role_arn));
            }
            Details::Output { output } => payload(&mut put, "output", output),
            Details::Failure { error, cause } => {
                optional(&mut put, "error", error);
                optional(&mut put, "cause", cause);
            }
            Details::StateEntered { name, input } => {
                put("name", text(name));
                payload(&mut put, "input", input);
            }
            Details::StateExited {
                name,
                output,
                assigned_variables,
            } => {
                put("name", text(name));
                payload(&mut put, "output", output);
                if let Some(variables) = assigned_variables {
                    let variables = variables
                        .iter()
                        .map(|(name, value)| (name.clone(), text(value)))
                        .collect();
                    put("assignedVariables", Value::Object(variables));
                    put("assignedVariablesDetails", not_truncated());
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
                put("resourceType", text(resource_type));
                put("resource", text(resource));
                put("region", text(region));
                // AWS sends `parameters` as text without a truncation flag.
                put("parameters", Value::String(parameters.to_string()));
                seconds(&mut put, "timeoutInSeconds", timeout_in_seconds);
                seconds(&mut put, "heartbeatInSeconds", heartbeat_in_seconds);
            }
            Details::TaskStarted {
                resource_type,
                resource,
            } => {
                put("resourceType", text(resource_type));
                put("resource", text(resource));
            }
            Details::TaskOutput {
                resource_type,
                resource,
                output,
            } => {
                put("resourceType", text(resource_type));
                put("resource", text(resource));
                payload(&mut put, "output", output);
            }
            Details::TaskFailure {
                resource_type,
                resource,
                error,
                cause,
            } => {
                put("resourceType", text(resource_type));
                put("resource", text(resource));
                optional(&mut put, "error", error);
                optional(&mut put, "cause", cause);
            }
            Details::ActivityScheduled {
                resource,
                input,
                timeout_in_seconds,
                heartbeat_in_seconds,
            } => {
                put("resource", text(resource));
                payload(&mut put, "input", input);
                seconds(&mut put, "timeoutInSeconds", timeout_in_seconds);
                seconds(&mut put, "heartbeatInSeconds", heartbeat_in_seconds);
            }
            Details::ActivityStarted { worker_name } => {
                optional(&mut put, "workerName", worker_name)
            }
            Details::LambdaFunctionScheduled {
                resource,
                input,
                timeout_in_seconds,
            } => {
                put("resource", text(resource));
                payload(&mut put, "input", input);
                seconds(&mut put, "timeoutInSeconds", timeout_in_seconds);
            }
            Details::MapStateStarted { length } => put("length", Value::from(*length)),
            Details::MapIteration { name, index } => {
                put("name", text(name));
                put("index", Value::from(*index));
            }
            Details::MapRunStarted { map_run_arn } => put("mapRunArn", text(map_run_arn)),
            Details::ExecutionRedriven { redrive_count } => {
                put("redriveCount", Value::from(*redrive_count))
            }
            Details::EvaluationFailed {
                error,
                cause,
                location,
                state,
            } => {
                put("error", text(error));
                put("cause", text(cause));
                optional(&mut put, "location", location);
                put("state", text(state));
            }
        }
        out
    }
}
