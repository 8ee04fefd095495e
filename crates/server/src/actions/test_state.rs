//! TestState: runs one state through the interpreter and reports its output, error, next
//! state and status, without creating a state machine or an execution.
//!
//! The state is placed in a small machine of its own: an optional `Pass` state first assigns
//! the request's `variables`, then the tested state runs, and every state it can transition to
//! (`Next`, `Default`, each choice's and catcher's `Next`) is a `Succeed` placeholder, so the
//! first placeholder entered names `nextState`. Tasks are never invoked: they take the
//! request's `mock` (a result or an error), and a Task without a mock is refused. A `Wait`
//! state does not wait. A failure that a retrier would retry stops the run with `RETRIABLE`,
//! as AWS does.
//!
//! `inspectionData` (DEBUG and TRACE levels) holds what the history shows exactly: the state's
//! `input`, a Task's `result`, and the `variables` after the state. The intermediate values
//! (`afterInputPath`, `afterParameters`, ...) are not reported yet. The `context` option is the
//! context object the state reads (`$$`, `$states.context`), used as given.

use std::collections::VecDeque;
use std::sync::Arc;

use baton_api_model::ApiError;
use baton_api_model::enums::InspectionLevel;
use baton_api_model::error::ErrorCode;
use baton_api_model::shapes::{TestStateInput, TestStateOutput};
use baton_api_model::validate::parse_input;
use baton_interp::{Command, Details, Event, Execution, ExecutionInfo, HistoryEvent, Status};
use serde_json::{Map, Value, json};

use super::{Ctx, now_ms};

/// The name of the state that assigns the request's variables.
const INIT_STATE: &str = "BatonTestStateVariables";

/// The most events fed to one test, against definitions that loop forever.
const MAX_STEPS: usize = 10_000;

/// What the task of the tested state returns.
#[derive(Debug, Clone, PartialEq)]
enum Mock {
    Result(Value),
    Error {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// The outcome of one test.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    status: &'static str,
    output: Option<Value>,
    error: Option<String>,
    cause: Option<String>,
    next_state: Option<String>,
    input: Option<Value>,
    result: Option<Value>,
    variables: Map<String, Value>,
}

pub(crate) async fn run(ctx: &Ctx<'_>, input: TestStateInput) -> Result<TestStateOutput, ApiError> {
    let level = InspectionLevel::parse_opt(input.inspection_level.as_deref())?
        .unwrap_or(InspectionLevel::Info);
    // `context`: a context object the tested state reads as `$$` / `$states.context`.
    let context = match input.context.as_deref() {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => Some(value),
            _ => {
                return Err(ApiError::new(
                    ErrorCode::ValidationException,
                    "context must be a JSON object",
                ));
            }
        },
    };
    let state_input = parse_input(input.input.as_deref())?;
    let variables = match input.variables.as_deref() {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(ApiError::new(
                    ErrorCode::ValidationException,
                    "variables must be a JSON object",
                ));
            }
        },
    };
    let mock = input.mock.as_ref().map(parse_mock).transpose()?;
    let definition = parse_definition(&input.definition)?;
    let (name, state, query_language) = pick_state(&definition, input.state_name.as_deref())?;
    let machine = test_machine(&name, &state, query_language, &variables);
    let machine = baton_asl::StateMachine::from_json(&machine).map_err(|diagnostics| {
        ApiError::new(
            ErrorCode::InvalidDefinition,
            baton_asl::validate::invalid_definition_message(&diagnostics),
        )
    })?;
    let info = ExecutionInfo {
        execution_arn: format!(
            "arn:aws:states:{}:{}:execution:TestState:{}",
            ctx.region,
            ctx.account,
            uuid()
        ),
        name: "TestState".into(),
        state_machine_arn: format!(
            "arn:aws:states:{}:{}:stateMachine:TestState",
            ctx.region, ctx.account
        ),
        state_machine_name: "TestState".into(),
        role_arn: input.role_arn.unwrap_or_default(),
        region: ctx.region.clone(),
        account: ctx.account.clone(),
        redrive_count: 0,
    };
    let outcome = execute(
        Arc::new(machine),
        info,
        state_input,
        &name,
        mock.as_ref(),
        variables,
        context,
    )?;
    let text = |value: &Value| value.to_string();
    let inspection = (level != InspectionLevel::Info).then(|| {
        let mut data = Map::new();
        if let Some(input) = &outcome.input {
            data.insert("input".into(), Value::String(text(input)));
        }
        if let Some(result) = &outcome.result {
            data.insert("result".into(), Value::String(text(result)));
        }
        data.insert(
            "variables".into(),
            Value::String(Value::Object(outcome.variables.clone()).to_string()),
        );
        Value::Object(data)
    });
    Ok(TestStateOutput {
        output: outcome.output.as_ref().map(text),
        error: outcome.error,
        cause: outcome.cause,
        inspection_data: inspection,
        next_state: outcome.next_state,
        status: outcome.status.into(),
    })
}

fn parse_definition(text: &str) -> Result<Value, ApiError> {
    baton_asl::validate::parse_text(text).map_err(|diagnostics| {
        ApiError::new(
            ErrorCode::InvalidDefinition,
            baton_asl::validate::invalid_definition_message(&diagnostics),
        )
    })
}

fn parse_mock(mock: &Value) -> Result<Mock, ApiError> {
    let invalid =
        |message: &str| ApiError::new(ErrorCode::ValidationException, message.to_string());
    if let Some(result) = mock.get("result") {
        let text = result
            .as_str()
            .ok_or_else(|| invalid("mock.result must be JSON text"))?;
        let value =
            serde_json::from_str(text).map_err(|_| invalid("mock.result is not valid JSON"))?;
        return Ok(Mock::Result(value));
    }
    if let Some(error) = mock.get("errorOutput") {
        let field = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_string);
        return Ok(Mock::Error {
            error: field("error"),
            cause: field("cause"),
        });
    }
    Err(invalid("mock must have either result or errorOutput"))
}

/// The state to test, its name and the machine's query language: `definition` is one state,
/// or a whole machine with `stateName` naming the state.
fn pick_state(
    definition: &Value,
    state_name: Option<&str>,
) -> Result<(String, Value, Option<Value>), ApiError> {
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidDefinition, message);
    let Some(object) = definition.as_object() else {
        return Err(invalid(
            "Invalid State Machine Definition: 'the definition must be a JSON object'".into(),
        ));
    };
    match object.get("States") {
        Some(Value::Object(states)) => {
            let name = state_name.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ValidationException,
                    "stateName is required when the definition is a state machine",
                )
            })?;
            let state = states.get(name).cloned().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::ValidationException,
                    format!("State '{name}' is not in the definition"),
                )
            })?;
            Ok((
                name.to_string(),
                state,
                object.get("QueryLanguage").cloned(),
            ))
        }
        _ => Ok((
            state_name.unwrap_or("TestState").to_string(),
            definition.clone(),
            None,
        )),
    }
}

/// The names a state transitions to.
fn targets(state: &Value) -> Vec<String> {
    let mut names = Vec::new();
    let mut push = |value: Option<&Value>| {
        if let Some(Value::String(name)) = value
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    };
    push(state.get("Next"));
    push(state.get("Default"));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(items)) = state.get(list) {
            for item in items {
                push(item.get("Next"));
            }
        }
    }
    names
}

/// The machine that runs the test.
fn test_machine(
    name: &str,
    state: &Value,
    query_language: Option<Value>,
    variables: &Map<String, Value>,
) -> Value {
    let mut states = Map::new();
    let start = if variables.is_empty() {
        name.to_string()
    } else {
        // Variables are assigned by a Pass state first; its Assign values are taken literally
        // (JSONPath Assign evaluates only keys ending in `.$`, which variable names cannot).
        let jsonata = query_language.as_ref().and_then(Value::as_str) == Some("JSONata");
        let mut init =
            json!({"Type": "Pass", "Assign": Value::Object(variables.clone()), "Next": name});
        if !jsonata {
            init["QueryLanguage"] = json!("JSONPath");
        }
        states.insert(INIT_STATE.into(), init);
        INIT_STATE.to_string()
    };
    states.insert(name.into(), state.clone());
    for target in targets(state) {
        if target != name {
            states.insert(target, json!({"Type": "Succeed"}));
        }
    }
    let mut machine = Map::new();
    if let Some(query_language) = query_language {
        machine.insert("QueryLanguage".into(), query_language);
    }
    machine.insert("StartAt".into(), Value::String(start));
    machine.insert("States".into(), Value::Object(states));
    Value::Object(machine)
}

/// Runs the machine, answering tasks with the mock and firing Wait timers at once.
fn execute(
    machine: Arc<baton_asl::StateMachine>,
    info: ExecutionInfo,
    input: Value,
    name: &str,
    mock: Option<&Mock>,
    mut variables: Map<String, Value>,
    context: Option<Value>,
) -> Result<Outcome, ApiError> {
    let now = now_ms();
    let options = baton_interp::StartOptions { context };
    let (mut execution, first) =
        Execution::start_with(machine, info, input, now, entropy(), options);
    let mut history: Vec<HistoryEvent> = first.events.clone();
    let mut queue = VecDeque::new();
    let mut retriable = false;
    let mut after_failure = false;
    let mut transition = first;
    let mut steps = 0;
    loop {
        let dispatched = transition
            .commands
            .iter()
            .any(|c| matches!(c, Command::Dispatch(_)));
        for command in &transition.commands {
            match command {
                Command::Dispatch(task) => {
                    let event = match mock {
                        Some(Mock::Result(result)) => Event::TaskSucceeded {
                            task: task.task,
                            output: result.clone(),
                        },
                        Some(Mock::Error { error, cause }) => Event::TaskFailed {
                            task: task.task,
                            error: error.clone(),
                            cause: cause.clone(),
                        },
                        None => {
                            return Err(ApiError::new(
                                ErrorCode::ValidationException,
                                "TestState of a Task state needs a mock in this version of Baton: \
                                 integrations are not called",
                            ));
                        }
                    };
                    queue.push_back(event);
                }
                // A timer that comes with a dispatch is the task's timeout or heartbeat.
                Command::StartTimer { .. } if dispatched => {}
                // A timer after a task failure is a retrier's back-off: AWS reports RETRIABLE.
                Command::StartTimer { .. } if after_failure => retriable = true,
                Command::StartTimer { timer, .. } => {
                    queue.push_back(Event::TimerFired { timer: *timer })
                }
                Command::CancelTask { .. } | Command::CancelTimer { .. } => {}
            }
        }
        if retriable || *execution.status() != Status::Running {
            break;
        }
        let Some(event) = queue.pop_front() else {
            break;
        };
        after_failure = matches!(event, Event::TaskFailed { .. });
        steps += 1;
        if steps > MAX_STEPS {
            return Err(ApiError::new(
                ErrorCode::ValidationException,
                "The state did not finish within the test's step limit",
            ));
        }
        transition = execution.handle(event, now_ms(), entropy());
        history.extend(transition.events.iter().cloned());
    }
    Ok(outcome(
        &history,
        &execution,
        name,
        mock,
        retriable,
        &mut variables,
    ))
}

fn outcome(
    history: &[HistoryEvent],
    execution: &Execution,
    name: &str,
    mock: Option<&Mock>,
    retriable: bool,
    variables: &mut Map<String, Value>,
) -> Outcome {
    let mut result = Outcome::default();
    let entered = history.iter().position(
        |e| matches!(&e.details, Details::StateEntered { name: n, .. } if n.as_ref() == name),
    );
    let mut failure: Option<(Option<String>, Option<String>)> = None;
    if let Some(start) = entered {
        if let Details::StateEntered { input, .. } = &history[start].details {
            result.input = Some((**input).clone());
        }
        for event in &history[start + 1..] {
            match &event.details {
                Details::TaskOutput { output, .. }
                    if event.ty == baton_interp::EventType::TaskSucceeded =>
                {
                    result.result = Some((**output).clone());
                }
                Details::Output { output }
                    if event.ty != baton_interp::EventType::ExecutionSucceeded =>
                {
                    result.result = Some((**output).clone());
                }
                Details::TaskFailure { error, cause, .. } => {
                    failure = Some((error.clone(), cause.clone()))
                }
                Details::Failure { error, cause }
                    if event.ty != baton_interp::EventType::ExecutionFailed =>
                {
                    failure = Some((error.clone(), cause.clone()));
                }
                Details::StateExited {
                    name: n,
                    output,
                    assigned_variables,
                } if n.as_ref() == name => {
                    result.output = Some((**output).clone());
                    for (key, text) in assigned_variables.iter().flatten() {
                        let value =
                            serde_json::from_str(text).unwrap_or(Value::String(text.clone()));
                        variables.insert(key.clone(), value);
                    }
                }
                Details::StateEntered { name: next, input } => {
                    result.next_state = Some(next.to_string());
                    result.output = Some((**input).clone());
                    break;
                }
                _ => {}
            }
        }
    }
    if mock.is_none() {
        result.result = None;
    }
    result.variables = std::mem::take(variables);
    let (error, cause) = match (&failure, execution.error()) {
        (Some((error, cause)), _) => (error.clone(), cause.clone()),
        (None, Some((error, cause))) => (error.map(str::to_string), cause.map(str::to_string)),
        (None, None) => (None, None),
    };
    if retriable {
        result.status = "RETRIABLE";
        result.output = None;
        result.next_state = None;
        (result.error, result.cause) = (error, cause);
    } else if result.next_state.is_some() {
        if failure.is_some() {
            result.status = "CAUGHT_ERROR";
            (result.error, result.cause) = (error, cause);
        } else {
            result.status = "SUCCEEDED";
        }
    } else if *execution.status() == Status::Succeeded {
        result.status = "SUCCEEDED";
        if result.output.is_none() {
            result.output = execution.output().cloned();
        }
    } else {
        result.status = "FAILED";
        result.output = None;
        (result.error, result.cause) = (error, cause);
    }
    result
}

fn entropy() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    // Without OS randomness the test still runs; only task tokens would repeat.
    let _ = getrandom::fill(&mut bytes);
    bytes
}

fn uuid() -> String {
    let bytes = entropy();
    bytes[..16].iter().map(|b| format!("{b:02x}")).collect()
}
