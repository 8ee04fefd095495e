//! What each state type does once entered.

use std::sync::Arc;

use baton_asl::{Fail, Kind, QueryLanguage, Resource, State, StringField, Task, Wait};
use serde_json::Value;

use super::{Engine, Frame, Outcome, RunId, TimerPurpose, Waiting, choice, map};
use crate::event::{Details, EventType};
use crate::io::{Failure, Scope, display_raw, integer_value};
use crate::{Command, TaskRequest};

/// Executes `state` (already entered) in run `id`.
pub(super) fn execute(engine: &mut Engine, id: RunId, state: &State, frame: &mut Frame) -> Outcome {
    let effective = match effective_input(engine, id, state, frame) {
        Ok(v) => v,
        Err(f) => return Outcome::Failed(f),
    };
    frame.effective = effective.clone();
    match &state.kind {
        Kind::Pass(pass) => match (&pass.result, state.query_language) {
            (Some(result), QueryLanguage::JsonPath) => Outcome::Result(Arc::new(result.clone())),
            _ => Outcome::Result(effective),
        },
        Kind::Succeed => {
            match engine.process_result(id, state, frame, effective) {
                Ok((output, assigned)) => engine.exit(id, state, output, assigned, None),
                Err(f) => return Outcome::Failed(f),
            }
            Outcome::Done
        }
        Kind::Fail(fail) => {
            let failure = fail_error(engine, id, state, frame, fail);
            engine.note_redrive_point(id, frame);
            engine.finish_run(id, Err(engine.prefix(state, frame, failure)));
            Outcome::Done
        }
        Kind::Choice(c) => choice::execute(engine, id, state, frame, c),
        Kind::Wait(wait) => execute_wait(engine, id, state, frame, wait),
        Kind::Task(task) => execute_task(engine, id, state, frame, task),
        Kind::Parallel(_) | Kind::Map(_) => map::execute(engine, id, state, frame),
    }
}

/// InputPath then Parameters (JSONPath) or Arguments (JSONata): what the state works on.
fn effective_input(
    engine: &mut Engine,
    id: RunId,
    state: &State,
    frame: &Frame,
) -> Result<Arc<Value>, Failure> {
    let run = engine.run(id).clone_light();
    let token = match &frame.wait {
        Waiting::Task { token, .. } => Some(token.as_str()),
        _ => None,
    };
    let _ = token;
    let ctx = engine.state_context(
        &run,
        state,
        frame.entered_time,
        retry_count(state, frame),
        None,
    );
    let mut rng = engine.rng.clone();
    let result = (|| {
        let mut scope = Scope::new(&frame.input, &ctx, &run.vars, &mut rng);
        match state.query_language {
            QueryLanguage::JsonPath => {
                let filtered = scope.filter(&state.input_path, &frame.input)?;
                match &state.parameters {
                    Some(t) if !matches!(state.kind, Kind::Task(_)) => {
                        let mut scope = Scope::new(&filtered, &ctx, &run.vars, scope.rng);
                        Ok(Arc::new(scope.template(t, "Parameters")?))
                    }
                    _ => Ok(filtered),
                }
            }
            QueryLanguage::Jsonata => match &state.parameters {
                Some(t) if !matches!(state.kind, Kind::Task(_)) => {
                    Ok(Arc::new(scope.template(t, "Arguments")?))
                }
                _ => Ok(frame.input.clone()),
            },
        }
    })();
    engine.rng = rng;
    result
}

fn retry_count(state: &State, frame: &Frame) -> Option<u64> {
    matches!(state.kind, Kind::Task(_)).then(|| frame.retries.iter().sum())
}

fn fail_error(
    engine: &mut Engine,
    id: RunId,
    state: &State,
    frame: &Frame,
    fail: &Fail,
) -> Failure {
    let run = engine.run(id).clone_light();
    let ctx = engine.state_context(&run, state, frame.entered_time, None, None);
    let mut rng = engine.rng.clone();
    let mut scope = Scope::new(&frame.input, &ctx, &run.vars, &mut rng);
    let mut field = |f: &Option<StringField>, name: &str| -> Result<Option<String>, Failure> {
        match f {
            None => Ok(None),
            Some(f) => match scope.string(f, name)? {
                Value::String(s) => Ok(Some(s)),
                other => Ok(Some(display_raw(&other))),
            },
        }
    };
    let error = match field(&fail.error, "Error") {
        Ok(e) => e,
        Err(f) => return f,
    };
    let cause = match field(&fail.cause, "Cause") {
        Ok(c) => c,
        Err(f) => return f,
    };
    Failure::plain(error.unwrap_or_default(), cause)
}

fn execute_wait(
    engine: &mut Engine,
    id: RunId,
    state: &State,
    frame: &mut Frame,
    wait: &Wait,
) -> Outcome {
    let run = engine.run(id).clone_light();
    let ctx = engine.state_context(&run, state, frame.entered_time, None, None);
    let mut rng = engine.rng.clone();
    let mut scope = Scope::new(&frame.effective, &ctx, &run.vars, &mut rng);
    let due = match wait {
        Wait::Seconds(baton_asl::NumberField::Path(p)) => {
            let value = match scope.resolve_invalid_path(p) {
                Ok(v) => v,
                Err(f) => return Outcome::Failed(f),
            };
            match value.as_i64().filter(|s| *s >= 0) {
                Some(s) => engine.now + s * 1000,
                None => {
                    return Outcome::Failed(Failure::runtime(format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                        p.text(),
                        display_raw(&value)
                    )));
                }
            }
        }
        Wait::Seconds(n) => match scope.integer(n, "Seconds") {
            Ok(s) if s >= 0 => engine.now + s * 1000,
            Ok(s) => {
                return Outcome::Failed(Failure::runtime(format!(
                    "The Seconds field must be non-negative: {s}"
                )));
            }
            Err(f) => return Outcome::Failed(f),
        },
        Wait::Timestamp(field) => {
            let (value, via_path) = match field {
                StringField::Path(p) => match scope.resolve_invalid_path(p) {
                    Ok(v) => (v, Some(p.text().to_owned())),
                    Err(f) => return Outcome::Failed(f),
                },
                other => match scope.string(other, "Timestamp") {
                    Ok(v) => (v, None),
                    Err(f) => return Outcome::Failed(f),
                },
            };
            match value.as_str().and_then(crate::context::parse_timestamp) {
                Some(t) => t,
                None => {
                    let shown = display_raw(&value);
                    return Outcome::Failed(match (via_path, state.query_language) {
                        (Some(path), _) => Failure::runtime(format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {path} == {shown}"
                        )),
                        (None, QueryLanguage::Jsonata) => Failure::query(
                            "Timestamp",
                            format!(
                                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {shown}"
                            ),
                        ),
                        (None, QueryLanguage::JsonPath) => Failure::runtime(format!(
                            "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {shown}"
                        )),
                    });
                }
            }
        }
    };
    drop(scope);
    engine.rng = rng;
    if due <= engine.now {
        return Outcome::Result(frame.effective.clone());
    }
    let timer = engine.new_timer(id, TimerPurpose::Wait, due - engine.now);
    frame.wait = Waiting::Timer(timer);
    Outcome::Blocked
}

/// The Wait state's timer fired.
pub(super) fn finish_wait(engine: &mut Engine, id: RunId, state: &State, frame: Frame) {
    let result = frame.effective.clone();
    engine.complete(id, state, frame, result);
}

fn execute_task(
    engine: &mut Engine,
    id: RunId,
    state: &State,
    frame: &mut Frame,
    task: &Task,
) -> Outcome {
    let token = engine.rng.token();
    let run = engine.run(id).clone_light();
    let ctx = engine.state_context(
        &run,
        state,
        frame.entered_time,
        retry_count(state, frame),
        Some(&token),
    );
    let mut rng = engine.rng.clone();
    let mut scope = Scope::new(&frame.effective, &ctx, &run.vars, &mut rng);
    let evaluated = (|| {
        let parameters = match (&state.parameters, state.query_language) {
            (Some(t), QueryLanguage::JsonPath) => scope.template(t, "Parameters")?,
            (Some(t), QueryLanguage::Jsonata) => scope.template(t, "Arguments")?,
            (None, _) => Value::clone(&frame.effective),
        };
        let timeout = seconds(&mut scope, task.timeout_seconds.as_ref(), "TimeoutSeconds")?;
        let heartbeat = seconds(
            &mut scope,
            task.heartbeat_seconds.as_ref(),
            "HeartbeatSeconds",
        )?;
        Ok::<_, Failure>((parameters, timeout, heartbeat))
    })();
    drop(scope);
    engine.rng = rng;
    let (parameters, timeout, heartbeat) = match evaluated {
        Ok(v) => v,
        Err(f) => return Outcome::Failed(f),
    };
    let parameters = Arc::new(parameters);
    let task_id = engine.next_task;
    engine.next_task += 1;
    match &task.resource {
        Resource::Activity { arn } => {
            engine.push_event(
                Some(id),
                EventType::ActivityScheduled,
                Details::ActivityScheduled {
                    resource: arn.clone(),
                    input: parameters.clone(),
                    timeout_in_seconds: timeout,
                    heartbeat_in_seconds: heartbeat,
                },
            );
        }
        Resource::LambdaFunction { arn } => {
            engine.push_event(
                Some(id),
                EventType::LambdaFunctionScheduled,
                Details::LambdaFunctionScheduled {
                    resource: arn.clone(),
                    input: parameters.clone(),
                    timeout_in_seconds: timeout,
                },
            );
            engine.push_event(Some(id), EventType::LambdaFunctionStarted, Details::None);
        }
        Resource::Service { .. } => {
            let (resource_type, resource) = super::service_names(&task.resource);
            engine.push_event(
                Some(id),
                EventType::TaskScheduled,
                Details::TaskScheduled {
                    resource_type: resource_type.clone(),
                    resource: resource.clone(),
                    region: engine.info.region.clone(),
                    parameters: parameters.clone(),
                    timeout_in_seconds: timeout,
                    heartbeat_in_seconds: heartbeat,
                },
            );
            engine.push_event(
                Some(id),
                EventType::TaskStarted,
                Details::TaskStarted {
                    resource_type,
                    resource,
                },
            );
        }
    }
    engine.tasks.insert(task_id, id);
    let timeout_timer =
        timeout.map(|s| engine.new_timer(id, TimerPurpose::TaskTimeout, s as i64 * 1000));
    let heartbeat_timer = heartbeat.map(|s| {
        (
            engine.new_timer(id, TimerPurpose::Heartbeat, s as i64 * 1000),
            s,
        )
    });
    engine
        .out
        .commands
        .push(Command::Dispatch(Box::new(TaskRequest {
            task: task_id,
            state_name: state.name.clone(),
            resource: task.resource.clone(),
            input: Value::clone(&parameters),
            token: token.clone(),
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
        })));
    frame.wait = Waiting::Task {
        task: task_id,
        token,
        timeout: timeout_timer,
        heartbeat: heartbeat_timer,
    };
    Outcome::Blocked
}

/// TimeoutSeconds / HeartbeatSeconds (or their Path variants): positive integers.
fn seconds(
    scope: &mut Scope<'_>,
    field: Option<&baton_asl::NumberField>,
    name: &str,
) -> Result<Option<u64>, Failure> {
    let Some(field) = field else { return Ok(None) };
    let value = match field {
        baton_asl::NumberField::Path(p) => {
            let v = scope.resolve_invalid_path(p)?;
            match integer_value(&v) {
                Some(n) => n,
                None => {
                    return Err(Failure::runtime(format!(
                        "The {name}Path field refers to value \"{}\" which is not a valid integer: {}",
                        display_raw(&v),
                        p.text()
                    )));
                }
            }
        }
        other => scope.integer(other, name)?,
    };
    if value <= 0 {
        return Err(Failure::runtime(format!(
            "The {name} value must be a positive integer: {value}"
        )));
    }
    Ok(Some(value as u64))
}
