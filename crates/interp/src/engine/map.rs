//! Parallel and Map: spawning child runs, collecting their results, failure tolerance.

use std::collections::VecDeque;
use std::sync::Arc;

use baton_asl::{Kind, Map as MapState, NumberField, QueryLanguage, State, Template};
use serde_json::{Map, Value};

use super::{Cursor, Engine, Frame, Outcome, RunId, Waiting};
use crate::event::{Details, EventType, Payload};
use crate::io::{Failure, Scope, compact, display_raw, type_name};

/// The children of a Parallel or Map state in progress.
#[derive(Debug, Clone)]
pub(super) struct Children {
    results: Vec<Option<Value>>,
    /// Each child's input.
    inputs: Vec<Payload>,
    /// Children not started yet, in order (Map with MaxConcurrency).
    pending: VecDeque<usize>,
    running: Vec<(usize, RunId)>,
    max_concurrency: usize,
    failures: usize,
    tolerated_count: Option<u64>,
    tolerated_percentage: Option<f64>,
    distributed: bool,
}

impl Children {
    /// Forgets the running children (their runs were stopped), so a redrive starts them again.
    pub(super) fn forget_running(&mut self) {
        self.running.clear();
    }
}

pub(super) fn execute(engine: &mut Engine, id: RunId, state: &State, frame: &mut Frame) -> Outcome {
    match &state.kind {
        Kind::Parallel(parallel) => {
            // Each branch receives the effective input (InputPath, Parameters).
            let input = frame.effective.clone();
            engine.push_event(Some(id), EventType::ParallelStateStarted, Details::None);
            if parallel.branches.is_empty() {
                engine.push_event(Some(id), EventType::ParallelStateSucceeded, Details::None);
                return Outcome::Result(Arc::new(Value::Array(Vec::new())));
            }
            let count = parallel.branches.len();
            let mut children = Children {
                results: vec![None; count],
                inputs: vec![input; count],
                pending: (0..count).collect(),
                running: Vec::new(),
                max_concurrency: 0,
                failures: 0,
                tolerated_count: None,
                tolerated_percentage: None,
                distributed: false,
            };
            start_children(engine, id, state, &mut children);
            frame.wait = Waiting::Parallel(children);
            Outcome::Blocked
        }
        Kind::Map(map) => match start_map(engine, id, state, frame, map) {
            Ok(Some(children)) => {
                frame.wait = Waiting::Map(children);
                Outcome::Blocked
            }
            Ok(None) => {
                if map.distributed {
                    engine.push_event(Some(id), EventType::MapRunSucceeded, Details::None);
                }
                engine.push_event(Some(id), EventType::MapStateSucceeded, Details::None);
                Outcome::Result(Arc::new(Value::Array(Vec::new())))
            }
            Err(f) => Outcome::Failed(f),
        },
        _ => Outcome::Failed(Failure::runtime("not a Parallel or Map state")),
    }
}

fn start_map(
    engine: &mut Engine,
    id: RunId,
    state: &State,
    frame: &Frame,
    map: &MapState,
) -> Result<Option<Children>, Failure> {
    let run = engine.run(id).clone_light();
    let ctx = engine.state_context(&run, state, frame.entered_time, None, None);
    let mut rng = engine.rng.clone();
    let prepared = (|| {
        let mut scope = Scope::new(&frame.effective, &ctx, &run.vars, &mut rng);
        let items = match state.query_language {
            QueryLanguage::JsonPath => {
                let items = scope.filter(&map.items_path, &frame.effective)?;
                match items.as_ref() {
                    Value::Array(a) => a.clone(),
                    other => {
                        return Err(Failure::runtime(format!(
                            "Map state input must be an array but was: {}",
                            compact(other)
                        )));
                    }
                }
            }
            QueryLanguage::Jsonata => match &map.items {
                Some(t) => {
                    let value = scope.template(t, "Items")?;
                    match value {
                        Value::Array(a) => a,
                        other => {
                            let text = match t {
                                Template::Jsonata(e) => e.text().to_owned(),
                                _ => compact(&other),
                            };
                            return Err(Failure::query(
                                "Items",
                                format!(
                                    "The JSONata expression '{text}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {}",
                                    type_name(&other),
                                    compact(&other)
                                ),
                            ));
                        }
                    }
                }
                None => match frame.input.as_ref() {
                    Value::Array(a) => a.clone(),
                    other => {
                        return Err(Failure::query_unlocated(format!(
                            "Map state input must be an array but was: {}",
                            compact(other)
                        )));
                    }
                },
            },
        };
        let max_concurrency = match &map.max_concurrency {
            Some(n) => {
                let v = scope.integer(n, "MaxConcurrency")?;
                if v < 0 {
                    return Err(Failure::runtime("MaxConcurrency cannot be negative."));
                }
                v as usize
            }
            None => 0,
        };
        let items = match &map.item_batcher {
            Some(batcher) => batch(&mut scope, batcher, items)?,
            None => items,
        };
        // ItemSelector sees the Map's effective input as `$` and the item as `$$.Map.Item`.
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let input = match &map.item_selector {
                Some(t) => {
                    let mut item_ctx = crate::context::StateContext {
                        map_item: Some((index as u64, &item)),
                        ..ctx
                    };
                    item_ctx.map_item = Some((index as u64, &item));
                    let selector_input = match state.query_language {
                        QueryLanguage::JsonPath => &frame.effective,
                        QueryLanguage::Jsonata => &frame.input,
                    };
                    let mut item_scope =
                        Scope::new(selector_input, &item_ctx, &run.vars, scope.rng);
                    item_scope.template(t, "ItemSelector")?
                }
                None => item,
            };
            inputs.push(input);
        }
        Ok((inputs, max_concurrency))
    })();
    let (inputs, max_concurrency) = match prepared {
        Ok(p) => p,
        Err(f) => {
            engine.rng = rng;
            return Err(f);
        }
    };
    engine.push_event(
        Some(id),
        EventType::MapStateStarted,
        Details::MapStateStarted {
            length: inputs.len() as u64,
        },
    );
    // AWS checks the failure tolerance only once the Map has started.
    let ctx = engine.state_context(&run, state, frame.entered_time, None, None);
    let tolerance = (|| {
        let mut scope = Scope::new(&frame.effective, &ctx, &run.vars, &mut rng);
        let tolerated_count = match &map.tolerated_failure_count {
            Some(n) => {
                let v = scope.integer(n, "ToleratedFailureCount")?;
                if v < 0 {
                    return Err(Failure::runtime(
                        "ToleratedFailureCount cannot be negative.",
                    ));
                }
                Some(v as u64)
            }
            None => None,
        };
        let tolerated_percentage = match &map.tolerated_failure_percentage {
            Some(n) => {
                let v = percentage(&mut scope, n)?;
                if !(0.0..=100.0).contains(&v) {
                    return Err(Failure::runtime(
                        "ToleratedFailurePercentage must be between 0 and 100.",
                    ));
                }
                Some(v)
            }
            None => None,
        };
        Ok((tolerated_count, tolerated_percentage))
    })();
    engine.rng = rng;
    let (tolerated_count, tolerated_percentage) = tolerance?;
    if map.distributed {
        // arn:aws:states:<region>:<account>:mapRun:<machine>/<label>:<id>
        let run_id = format!(
            "{:016x}{:016x}",
            engine.rng.next_u64(),
            engine.rng.next_u64()
        );
        let map_run_arn = format!(
            "arn:aws:states:{}:{}:mapRun:{}/{}:{}-{}-{}-{}-{}",
            engine.info.region,
            engine.info.account,
            engine.info.state_machine_name,
            map.label.as_deref().unwrap_or(&state.name),
            &run_id[0..8],
            &run_id[8..12],
            &run_id[12..16],
            &run_id[16..20],
            &run_id[20..32]
        );
        engine.push_event(
            Some(id),
            EventType::MapRunStarted,
            Details::MapRunStarted { map_run_arn },
        );
    }
    if inputs.is_empty() {
        return Ok(None);
    }
    let mut children = Children {
        results: vec![None; inputs.len()],
        pending: (0..inputs.len()).collect(),
        inputs: inputs.into_iter().map(Arc::new).collect(),
        running: Vec::new(),
        max_concurrency,
        failures: 0,
        tolerated_count,
        tolerated_percentage,
        distributed: map.distributed,
    };
    start_children(engine, id, state, &mut children);
    Ok(Some(children))
}

fn percentage(scope: &mut Scope<'_>, n: &NumberField) -> Result<f64, Failure> {
    match n {
        NumberField::Literal(v) => v
            .as_f64()
            .ok_or_else(|| Failure::runtime("ToleratedFailurePercentage must be a number.")),
        NumberField::Path(p) => {
            let v = scope.resolve_invalid_path(p)?;
            let parsed = match &v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            parsed.ok_or_else(|| {
                Failure::runtime(format!(
                    "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {}",
                    display_raw(&v),
                    p.text()
                ))
            })
        }
        NumberField::Jsonata(e) => {
            let v = scope.jsonata(e, "ToleratedFailurePercentage")?;
            v.as_f64().ok_or_else(|| {
                Failure::query("ToleratedFailurePercentage", format!("The JSONata expression '{}' specified for the field 'ToleratedFailurePercentage' returned an unexpected result type. Expected 'number', but was '{}' for value: {}", e.text(), type_name(&v), compact(&v)))
            })
        }
    }
}

/// Groups items into `{"Items": [...]}` batches (plus `BatchInput`), as ItemBatcher does.
fn batch(
    scope: &mut Scope<'_>,
    batcher: &baton_asl::ItemBatcher,
    items: Vec<Value>,
) -> Result<Vec<Value>, Failure> {
    let max_items = match &batcher.max_items_per_batch {
        Some(n) => scope.integer(n, "MaxItemsPerBatch")?.max(1) as usize,
        None => usize::MAX,
    };
    let max_bytes = match &batcher.max_input_bytes_per_batch {
        Some(n) => scope.integer(n, "MaxInputBytesPerBatch")?.max(1) as usize,
        None => 256 * 1024,
    };
    let batch_input = match &batcher.batch_input {
        Some(t) => Some(scope.template(t, "BatchInput")?),
        None => None,
    };
    let mut batches = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut bytes = 0usize;
    for item in items {
        let size = compact(&item).len();
        if !current.is_empty() && (current.len() >= max_items || bytes + size > max_bytes) {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    Ok(batches
        .into_iter()
        .map(|items| {
            let mut obj = Map::new();
            if let Some(input) = &batch_input {
                obj.insert("BatchInput".into(), input.clone());
            }
            obj.insert("Items".into(), Value::Array(items));
            Value::Object(obj)
        })
        .collect())
}

/// Starts pending children (Map iterations up to MaxConcurrency, or Parallel branches).
fn start_children(engine: &mut Engine, id: RunId, state: &State, children: &mut Children) {
    let vars = engine.run(id).vars.clone();
    let silent = engine.run(id).silent || children.distributed;
    while children.max_concurrency == 0 || children.running.len() < children.max_concurrency {
        let Some(index) = children.pending.pop_front() else {
            break;
        };
        let machine = match &state.kind {
            Kind::Map(map) => {
                if !map.distributed {
                    engine.push_event(
                        Some(id),
                        EventType::MapIterationStarted,
                        Details::MapIteration {
                            name: state.name.clone(),
                            index: index as u64,
                        },
                    );
                }
                map.processor.clone()
            }
            Kind::Parallel(parallel) => parallel.branches[index].clone(),
            _ => return,
        };
        let input = children.inputs[index].clone();
        let child = engine.spawn(machine, Some((id, index)), vars.clone(), input, silent);
        children.running.push((index, child));
    }
}

/// Redrives a Map or Parallel state: only the children without a result run again.
pub(super) fn redrive(
    engine: &mut Engine,
    id: RunId,
    state: &State,
    mut frame: Frame,
    mut children: Children,
) {
    children.running.clear();
    children.failures = 0;
    children.pending = (0..children.results.len())
        .filter(|i| children.results[*i].is_none())
        .collect();
    start_children(engine, id, state, &mut children);
    frame.wait = match state.kind {
        Kind::Map(_) => Waiting::Map(children),
        _ => Waiting::Parallel(children),
    };
    engine.run_mut(id).cursor = Cursor::In(Box::new(frame));
}

/// A child run of `parent` (slot `slot`) finished.
pub(super) fn child_finished(
    engine: &mut Engine,
    parent: RunId,
    slot: usize,
    result: Result<Payload, Failure>,
) {
    let Some(run) = engine.runs[parent].as_mut() else {
        return;
    };
    let Cursor::In(mut frame) = std::mem::replace(&mut run.cursor, Cursor::Done) else {
        return;
    };
    let machine = run.machine.clone();
    let state = machine.state(frame.state);
    let (is_map, mut children) = match std::mem::replace(&mut frame.wait, Waiting::Timer(0)) {
        Waiting::Parallel(c) => (false, c),
        Waiting::Map(c) => (true, c),
        other => {
            frame.wait = other;
            engine.run_mut(parent).cursor = Cursor::In(frame);
            return;
        }
    };
    children.running.retain(|(s, _)| *s != slot);
    let name = state.name.clone();
    let iteration = |ty| {
        (
            ty,
            Details::MapIteration {
                name: name.clone(),
                index: slot as u64,
            },
        )
    };
    let failed = match result {
        Ok(output) => {
            if is_map && !children.distributed {
                let (ty, d) = iteration(EventType::MapIterationSucceeded);
                engine.push_event(Some(parent), ty, d);
            }
            children.results[slot] = Some(Arc::unwrap_or_clone(output));
            None
        }
        Err(failure) => {
            if is_map && !children.distributed {
                let (ty, d) = iteration(EventType::MapIterationFailed);
                engine.push_event(Some(parent), ty, d);
            }
            children.failures += 1;
            let total = children.results.len();
            let tolerated = failure.handleable()
                && is_map
                && (children
                    .tolerated_count
                    .is_some_and(|c| children.failures as u64 <= c)
                    || children
                        .tolerated_percentage
                        .is_some_and(|p| children.failures as f64 * 100.0 / total as f64 <= p));
            if tolerated {
                let mut error_output = Map::new();
                error_output.insert("Error".into(), Value::String(failure.error.clone()));
                if let Some(cause) = &failure.cause {
                    error_output.insert("Cause".into(), Value::String(cause.clone()));
                }
                children.results[slot] = Some(Value::Object(error_output));
                None
            } else if is_map
                && (children.tolerated_count.is_some() || children.tolerated_percentage.is_some())
                && failure.handleable()
            {
                Some(Failure::plain(
                    "States.ExceedToleratedFailureThreshold",
                    Some("The specified tolerated failure threshold was exceeded".into()),
                ))
            } else {
                Some(failure)
            }
        }
    };
    if let Some(failure) = failed {
        // Abort what is still running, then fail the state.
        for (index, child) in std::mem::take(&mut children.running) {
            engine.abort_subtree(child);
            if is_map && !children.distributed {
                engine.push_event(
                    Some(parent),
                    EventType::MapIterationAborted,
                    Details::MapIteration {
                        name: state.name.clone(),
                        index: index as u64,
                    },
                );
            }
        }
        if children.distributed {
            engine.push_event(
                Some(parent),
                EventType::MapRunFailed,
                Details::Failure {
                    error: Some(failure.error.clone()),
                    cause: failure.cause.clone(),
                },
            );
        }
        // The results so far stay with the frame: a redrive runs only the rest again.
        frame.wait = if is_map {
            Waiting::Map(children)
        } else {
            Waiting::Parallel(children)
        };
        engine.fail_state(parent, state, *frame, failure);
        engine.ready.push_back(parent);
        return;
    }
    if is_map {
        start_children(engine, parent, state, &mut children);
    }
    if children.running.is_empty() && children.pending.is_empty() {
        if children.distributed {
            engine.push_event(Some(parent), EventType::MapRunSucceeded, Details::None);
        }
        let ty = if is_map {
            EventType::MapStateSucceeded
        } else {
            EventType::ParallelStateSucceeded
        };
        engine.push_event(Some(parent), ty, Details::None);
        let results: Vec<Value> = children
            .results
            .into_iter()
            .map(|r| r.unwrap_or(Value::Null))
            .collect();
        engine.complete(parent, state, *frame, Arc::new(Value::Array(results)));
        engine.ready.push_back(parent);
        return;
    }
    frame.wait = if is_map {
        Waiting::Map(children)
    } else {
        Waiting::Parallel(children)
    };
    engine.run_mut(parent).cursor = Cursor::In(frame);
}
