//! An in-process driver: runs an [`Execution`] to the end on a virtual clock.
//!
//! The driver plays the runtime's part without I/O: it answers [`Command::Dispatch`] from a
//! [`Script`] (succeed, fail, never answer, heartbeat, echo the input), keeps the timers the
//! interpreter asks for in an agenda and fires them by jumping the clock to their due time,
//! hands out deterministic entropy derived from a seed and a counter, and stops after a bounded
//! number of steps. Everything is deterministic: the same machine, input and script always give
//! the same history.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use baton_asl::{Resource, StateMachine};
use baton_interp::{
    Command, Entropy, Event, Execution, ExecutionInfo, HistoryEvent, Millis, Status, TaskId,
    TaskRequest, TimerId,
};
use serde_json::Value;

/// 2026-01-01T00:00:00Z, the default virtual start time.
pub const DEFAULT_START: Millis = 1_767_225_600_000;

/// How the driver answers tasks and when it stops the execution.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Replies by Task state name. A [`TaskReplies::Sequence`] is consumed in dispatch order
    /// (one entry per attempt or Map iteration); a [`TaskReplies::Always`] answers every dispatch.
    pub tasks: BTreeMap<String, TaskReplies>,
    /// The reply for a state without an entry in `tasks` (or whose sequence is used up).
    pub default_reply: Option<TaskReply>,
    /// When to send `StopExecution`.
    pub stop: Option<StopScript>,
    /// The most events fed to the execution before the driver gives up (default 100,000).
    pub max_steps: Option<usize>,
}

/// The replies for one Task state.
#[derive(Debug, Clone)]
pub enum TaskReplies {
    /// One reply per dispatch, in order.
    Sequence(Vec<TaskReply>),
    /// The same reply for every dispatch.
    Always(TaskReply),
}

/// How to answer one dispatched task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskReply {
    /// The final outcome.
    pub outcome: TaskOutcome,
    /// Seconds between dispatch and the outcome (default 0).
    pub after_seconds: f64,
    /// Seconds after dispatch at which to send `SendTaskHeartbeat`.
    pub heartbeats: Vec<f64>,
    /// Whether to send [`Event::TaskStarted`] at dispatch. By default only for activities,
    /// whose start is a worker's poll: the interpreter records Lambda and service-integration
    /// starts itself when it dispatches them.
    pub started: Option<bool>,
    /// The `workerName` an activity worker gives when it polls.
    pub worker_name: Option<String>,
    /// For `.waitForTaskToken` tasks: the integration call's response, sent as
    /// [`Event::TaskSubmitted`] at dispatch; the outcome then plays `SendTaskSuccess`/`Failure`.
    pub submitted: Option<Value>,
}

/// A task's final outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// Succeed with this output.
    Succeed(Value),
    /// Succeed with the task's own input (its effective parameters).
    Echo,
    /// Fail with this error and cause.
    Fail {
        /// Error name.
        error: Option<String>,
        /// Cause.
        cause: Option<String>,
    },
    /// Never answer: the task ends only by its timeout, heartbeat timeout or a stop.
    Silent,
}

/// When to stop the execution, as `StopExecution` would.
#[derive(Debug, Clone, PartialEq)]
pub struct StopScript {
    /// The trigger.
    pub when: StopWhen,
    /// `error` given to `StopExecution`.
    pub error: Option<String>,
    /// `cause` given to `StopExecution`.
    pub cause: Option<String>,
}

/// The trigger of a [`StopScript`].
#[derive(Debug, Clone, PartialEq)]
pub enum StopWhen {
    /// This many seconds after the start.
    AtSeconds(f64),
    /// As soon as an event of this type (AWS spelling) is in the history.
    AfterEvent(String),
}

/// Settings that are not part of the script.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The virtual time of `StartExecution`.
    pub start: Millis,
    /// Seed of the entropy sequence.
    pub seed: u64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            start: DEFAULT_START,
            seed: 0x5eed,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The execution's final status (`Running` when the driver gave up).
    pub status: Status,
    /// The output, when succeeded.
    pub output: Option<Value>,
    /// The error, when failed, timed out or aborted.
    pub error: Option<String>,
    /// The cause, when failed, timed out or aborted.
    pub cause: Option<String>,
    /// The whole history.
    pub events: Vec<HistoryEvent>,
    /// Every command the interpreter returned, in order.
    pub commands: Vec<Command>,
    /// The number of events fed to the execution after the start.
    pub steps: usize,
    /// The entropy given to [`Execution::start`].
    pub start_entropy: Entropy,
    /// Every event fed after the start, with its time and entropy, in order: with the start,
    /// what [`Execution::replay`] needs to rebuild the execution.
    pub inputs: Vec<(Event, Millis, Entropy)>,
    /// The virtual time of the start.
    pub start: Millis,
    /// The virtual time when the run ended.
    pub end: Millis,
    /// Why the driver could not run the execution to its end, or what it found inconsistent
    /// in what the interpreter returned.
    pub problems: Vec<String>,
}

/// Runs `machine` on `input` to the end, answering tasks from `script`.
pub fn run(
    machine: Arc<StateMachine>,
    info: ExecutionInfo,
    input: Value,
    script: &Script,
    config: &RunConfig,
) -> Outcome {
    let mut driver = Driver::new(script, config);
    let now = config.start;
    let start_entropy = driver.entropy();
    let (mut execution, transition) = Execution::start(machine, info, input, now, start_entropy);
    let mut inputs = Vec::new();
    driver.absorb(transition.events, transition.commands, now);
    let max_steps = script.max_steps.unwrap_or(100_000);
    let mut steps = 0;
    while *execution.status() == Status::Running {
        if steps >= max_steps {
            driver
                .problems
                .push(format!("gave up after {max_steps} steps"));
            break;
        }
        let Some((due, occurrence)) = driver.next_occurrence() else {
            driver.problems.push(
                "execution is still running but nothing is pending (no timer, task reply or stop)"
                    .to_owned(),
            );
            break;
        };
        driver.now = driver.now.max(due);
        let now = driver.now;
        let event = match occurrence {
            Occurrence::Timer(timer) => Event::TimerFired { timer },
            Occurrence::Task(event) => event,
            Occurrence::Stop => {
                let stop = script.stop.as_ref();
                Event::Stop {
                    error: stop.and_then(|s| s.error.clone()),
                    cause: stop.and_then(|s| s.cause.clone()),
                }
            }
        };
        let entropy = driver.entropy();
        inputs.push((event.clone(), now, entropy));
        let transition = execution.handle(event, now, entropy);
        steps += 1;
        driver.absorb(transition.events, transition.commands, now);
    }
    let (error, cause) = match execution.error() {
        Some((error, cause)) => (error.map(str::to_owned), cause.map(str::to_owned)),
        None => (None, None),
    };
    Outcome {
        status: execution.status().clone(),
        output: execution.output().cloned(),
        error,
        cause,
        events: driver.events,
        commands: driver.commands,
        steps,
        start_entropy,
        inputs,
        start: config.start,
        end: driver.now,
        problems: driver.problems,
    }
}

enum Occurrence {
    Timer(TimerId),
    Task(Event),
    Stop,
}

/// The agenda key: due time, then insertion order.
type Slot = (Millis, u64);

struct Driver<'a> {
    script: &'a Script,
    now: Millis,
    seed: u64,
    entropy_counter: u64,
    seq: u64,
    agenda: BTreeMap<Slot, Occurrence>,
    timers: HashMap<TimerId, Slot>,
    task_slots: HashMap<TaskId, Vec<Slot>>,
    dispatches: HashMap<String, usize>,
    stop_pending: bool,
    events: Vec<HistoryEvent>,
    commands: Vec<Command>,
    problems: Vec<String>,
}

impl<'a> Driver<'a> {
    fn new(script: &'a Script, config: &RunConfig) -> Driver<'a> {
        let mut driver = Driver {
            script,
            now: config.start,
            seed: config.seed,
            entropy_counter: 0,
            seq: 0,
            agenda: BTreeMap::new(),
            timers: HashMap::new(),
            task_slots: HashMap::new(),
            dispatches: HashMap::new(),
            stop_pending: false,
            events: Vec::new(),
            commands: Vec::new(),
            problems: Vec::new(),
        };
        if let Some(StopScript {
            when: StopWhen::AtSeconds(seconds),
            ..
        }) = &script.stop
        {
            let due = config.start + seconds_to_millis(*seconds);
            driver.schedule(due, Occurrence::Stop);
            driver.stop_pending = true;
        }
        driver
    }

    /// 32 bytes from splitmix64 over (seed, counter): deterministic and different every call.
    fn entropy(&mut self) -> Entropy {
        self.entropy_counter += 1;
        let mut state = self
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(self.entropy_counter);
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes());
        }
        bytes
    }

    fn schedule(&mut self, due: Millis, occurrence: Occurrence) -> Slot {
        self.seq += 1;
        let slot = (due, self.seq);
        self.agenda.insert(slot, occurrence);
        slot
    }

    fn next_occurrence(&mut self) -> Option<(Millis, Occurrence)> {
        let (slot, occurrence) = self.agenda.pop_first()?;
        match &occurrence {
            Occurrence::Timer(timer) => {
                self.timers.remove(timer);
            }
            Occurrence::Task(event) => {
                let task = task_of(event);
                let finished = matches!(
                    event,
                    Event::TaskSucceeded { .. } | Event::TaskFailed { .. }
                );
                if finished {
                    // Heartbeats scripted after the result would come from no worker.
                    for other in self.task_slots.remove(&task).unwrap_or_default() {
                        self.agenda.remove(&other);
                    }
                } else if let Some(slots) = self.task_slots.get_mut(&task) {
                    slots.retain(|s| *s != slot);
                }
            }
            Occurrence::Stop => {}
        }
        Some((slot.0, occurrence))
    }

    fn absorb(&mut self, events: Vec<HistoryEvent>, commands: Vec<Command>, now: Millis) {
        for event in &events {
            let expected_id = self.events.len() as u64 + 1;
            if event.id != expected_id {
                self.problems.push(format!(
                    "event {} ({}) has id {}, expected {expected_id}",
                    self.events.len() + 1,
                    event.ty.as_str(),
                    event.id
                ));
            }
            if event.previous_event_id >= event.id {
                self.problems.push(format!(
                    "event {} ({}) has previousEventId {}",
                    event.id,
                    event.ty.as_str(),
                    event.previous_event_id
                ));
            }
            if let Some(StopScript {
                when: StopWhen::AfterEvent(ty),
                ..
            }) = &self.script.stop
                && !self.stop_pending
                && event.ty.as_str() == ty
            {
                self.stop_pending = true;
                self.schedule(now, Occurrence::Stop);
            }
            self.events.push(event.clone());
        }
        for command in commands {
            self.command(&command, now);
            self.commands.push(command);
        }
    }

    fn command(&mut self, command: &Command, now: Millis) {
        match command {
            Command::Dispatch(request) => self.dispatch(request, now),
            Command::StartTimer { timer, due } => {
                let slot = self.schedule(*due, Occurrence::Timer(*timer));
                if let Some(old) = self.timers.insert(*timer, slot) {
                    self.agenda.remove(&old);
                    self.problems
                        .push(format!("timer {timer} started twice without firing"));
                }
            }
            Command::CancelTimer { timer } => {
                if let Some(slot) = self.timers.remove(timer) {
                    self.agenda.remove(&slot);
                }
            }
            Command::CancelTask { task } => {
                for slot in self.task_slots.remove(task).unwrap_or_default() {
                    self.agenda.remove(&slot);
                }
            }
        }
    }

    fn dispatch(&mut self, request: &TaskRequest, now: Millis) {
        let name = request.state_name.to_string();
        let index = {
            let count = self.dispatches.entry(name.clone()).or_insert(0);
            *count += 1;
            *count - 1
        };
        let reply = match self.script.tasks.get(&name) {
            Some(TaskReplies::Always(reply)) => Some(reply),
            Some(TaskReplies::Sequence(replies)) => {
                replies.get(index).or(self.script.default_reply.as_ref())
            }
            None => self.script.default_reply.as_ref(),
        };
        let Some(reply) = reply.cloned() else {
            self.problems.push(format!(
                "no scripted reply for task state {name:?} (dispatch #{})",
                index + 1
            ));
            return;
        };
        let task = request.task;
        let mut slots = Vec::new();
        let activity = matches!(request.resource, Resource::Activity { .. });
        if reply.started.unwrap_or(activity) {
            let event = Event::TaskStarted {
                task,
                worker_name: reply.worker_name.clone(),
            };
            slots.push(self.schedule(now, Occurrence::Task(event)));
        }
        if let Some(output) = reply.submitted.clone() {
            let event = Event::TaskSubmitted { task, output };
            slots.push(self.schedule(now, Occurrence::Task(event)));
        }
        for seconds in &reply.heartbeats {
            let due = now + seconds_to_millis(*seconds);
            slots.push(self.schedule(due, Occurrence::Task(Event::TaskHeartbeat { task })));
        }
        let due = now + seconds_to_millis(reply.after_seconds);
        let event = match reply.outcome {
            TaskOutcome::Succeed(output) => Some(Event::TaskSucceeded { task, output }),
            TaskOutcome::Echo => Some(Event::TaskSucceeded {
                task,
                output: request.input.clone(),
            }),
            TaskOutcome::Fail { error, cause } => Some(Event::TaskFailed { task, error, cause }),
            TaskOutcome::Silent => None,
        };
        if let Some(event) = event {
            slots.push(self.schedule(due, Occurrence::Task(event)));
        }
        self.task_slots.entry(task).or_default().extend(slots);
    }
}

fn task_of(event: &Event) -> TaskId {
    match event {
        Event::TaskStarted { task, .. }
        | Event::TaskSubmitted { task, .. }
        | Event::TaskSucceeded { task, .. }
        | Event::TaskFailed { task, .. }
        | Event::TaskHeartbeat { task } => *task,
        Event::TimerFired { .. } | Event::Stop { .. } | Event::Redrive => TaskId::MAX,
    }
}

fn seconds_to_millis(seconds: f64) -> Millis {
    (seconds * 1000.0).round() as Millis
}

impl Script {
    /// Reads a script from its JSON form:
    ///
    /// ```json
    /// {
    ///   "tasks": {
    ///     "Work": [{"fail": {"error": "E", "cause": "c"}}, {"succeed": {"x": 1}, "after": 2}],
    ///     "Slow": {"silent": true},
    ///     "*": {"echo": true, "heartbeats": [1, 2], "started": false}
    ///   },
    ///   "stop": {"after_event": "WaitStateEntered", "error": "E", "cause": "c"},
    ///   "max_steps": 1000
    /// }
    /// ```
    ///
    /// A reply is one of `succeed` (the output), `echo: true` (the task's input), `fail`
    /// (`{error?, cause?}`) or `silent: true` (never answer), with optional `after` (seconds),
    /// `heartbeats` (seconds after dispatch), `started` (default: activities only), `worker`
    /// (an activity worker's name) and `submitted` (a `.waitForTaskToken` call's response,
    /// reported at dispatch). `stop` has either
    /// `at` (seconds after the start) or `after_event` (an event type).
    pub fn from_json(json: &Value) -> Result<Script, String> {
        let object = json.as_object().ok_or("a script is a JSON object")?;
        let mut script = Script::default();
        for (key, value) in object {
            match key.as_str() {
                "tasks" => {
                    let tasks = value.as_object().ok_or("\"tasks\" is an object")?;
                    for (name, replies) in tasks {
                        let replies = match replies {
                            Value::Array(items) => TaskReplies::Sequence(
                                items
                                    .iter()
                                    .map(TaskReply::from_json)
                                    .collect::<Result<_, _>>()
                                    .map_err(|e| format!("tasks.{name}: {e}"))?,
                            ),
                            other => TaskReplies::Always(
                                TaskReply::from_json(other)
                                    .map_err(|e| format!("tasks.{name}: {e}"))?,
                            ),
                        };
                        if name == "*" {
                            match replies {
                                TaskReplies::Always(reply) => script.default_reply = Some(reply),
                                TaskReplies::Sequence(_) => {
                                    return Err("tasks.*: the default is one reply".to_owned());
                                }
                            }
                        } else {
                            script.tasks.insert(name.clone(), replies);
                        }
                    }
                }
                "stop" => script.stop = Some(StopScript::from_json(value)?),
                "max_steps" => {
                    let steps = value.as_u64().ok_or("\"max_steps\" is a count")?;
                    script.max_steps = Some(usize::try_from(steps).unwrap_or(usize::MAX));
                }
                other => return Err(format!("unknown script field {other:?}")),
            }
        }
        Ok(script)
    }
}

impl TaskReply {
    /// A reply that succeeds at once with `output`.
    pub fn succeed(output: Value) -> TaskReply {
        TaskReply {
            outcome: TaskOutcome::Succeed(output),
            after_seconds: 0.0,
            heartbeats: Vec::new(),
            started: None,
            worker_name: None,
            submitted: None,
        }
    }

    /// A reply that fails at once.
    pub fn fail(error: &str, cause: &str) -> TaskReply {
        TaskReply {
            outcome: TaskOutcome::Fail {
                error: Some(error.to_owned()),
                cause: Some(cause.to_owned()),
            },
            ..TaskReply::succeed(Value::Null)
        }
    }

    fn from_json(json: &Value) -> Result<TaskReply, String> {
        let object = json.as_object().ok_or("a reply is a JSON object")?;
        let mut outcome = None;
        let mut reply = TaskReply::succeed(Value::Null);
        for (key, value) in object {
            match key.as_str() {
                "succeed" => outcome = Some(TaskOutcome::Succeed(value.clone())),
                "echo" if value == &Value::Bool(true) => outcome = Some(TaskOutcome::Echo),
                "silent" if value == &Value::Bool(true) => outcome = Some(TaskOutcome::Silent),
                "fail" => {
                    let text = |field: &str| -> Result<Option<String>, String> {
                        match value.get(field) {
                            None | Some(Value::Null) => Ok(None),
                            Some(Value::String(s)) => Ok(Some(s.clone())),
                            Some(_) => Err(format!("fail.{field} is a string")),
                        }
                    };
                    outcome = Some(TaskOutcome::Fail {
                        error: text("error")?,
                        cause: text("cause")?,
                    });
                }
                "after" => reply.after_seconds = seconds(value, "after")?,
                "heartbeats" => {
                    reply.heartbeats = value
                        .as_array()
                        .ok_or("\"heartbeats\" is an array of seconds")?
                        .iter()
                        .map(|v| seconds(v, "heartbeats"))
                        .collect::<Result<_, _>>()?;
                }
                "worker" => {
                    let name = value.as_str().ok_or("\"worker\" is a string")?;
                    reply.worker_name = Some(name.to_owned());
                }
                "submitted" => reply.submitted = Some(value.clone()),
                "started" => {
                    reply.started = Some(value.as_bool().ok_or("\"started\" is a boolean")?);
                }
                other => return Err(format!("unknown reply field {other:?}")),
            }
        }
        reply.outcome = outcome.ok_or("a reply needs succeed, echo, fail or silent")?;
        Ok(reply)
    }
}

impl StopScript {
    fn from_json(json: &Value) -> Result<StopScript, String> {
        let text = |field: &str| json.get(field).and_then(Value::as_str).map(str::to_owned);
        let when = if let Some(at) = json.get("at") {
            StopWhen::AtSeconds(seconds(at, "stop.at")?)
        } else if let Some(ty) = json.get("after_event").and_then(Value::as_str) {
            StopWhen::AfterEvent(ty.to_owned())
        } else {
            return Err("\"stop\" needs \"at\" or \"after_event\"".to_owned());
        };
        Ok(StopScript {
            when,
            error: text("error"),
            cause: text("cause"),
        })
    }
}

fn seconds(value: &Value, field: &str) -> Result<f64, String> {
    value
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| format!("{field:?} is a number of seconds"))
}

#[cfg(test)]
mod tests;
