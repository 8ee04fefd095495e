//! The step function: runs, states, error handling and the history they write.
//!
//! An execution is a tree of *runs*: the root run executes the state machine, and every
//! Parallel branch and Map iteration is a child run executing a nested machine. A run advances
//! synchronously through Pass, Choice, Succeed and Fail states until it blocks on a task, a
//! timer or its children. [`Engine::drive`] keeps advancing ready runs until none is left, so
//! one call to [`Engine::handle`] does all the work an event makes possible.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use baton_asl::{
    Catcher, Kind, Pattern, QueryLanguage, Resource, State, StateId, StateMachine, Template,
    error_matches,
};
use serde_json::{Map, Value};

use crate::context::StateContext;
use crate::event::{Details, EventType, HistoryEvent, Payload};
use crate::io::{Failure, Scope, Vars, compact};
use crate::rng::Rng;
use crate::{Command, Entropy, Event, ExecutionInfo, Millis, Status, TaskId, TimerId, Transition};

mod choice;
mod map;
mod states;

type RunId = usize;

/// Variables assigned by a state, as shown in `assignedVariables` (name, JSON text).
type Assigned = Vec<(String, String)>;

#[derive(Debug, Clone)]
pub(crate) struct Engine {
    info: Arc<ExecutionInfo>,
    input: Payload,
    start_time: Millis,
    status: Status,
    output: Option<Payload>,
    error: Option<(Option<String>, Option<String>)>,
    next_event_id: u64,
    next_task: TaskId,
    next_timer: TimerId,
    runs: Vec<Option<Run>>,
    /// The root state an unsuccessful execution stopped in, for [`Event::Redrive`].
    redrive_point: Option<Box<Frame>>,
    /// How many times the execution has been redriven.
    redrives: u64,
    /// A caller-supplied context object (TestState), used instead of the built one.
    context: Option<Payload>,
    /// Set once the history is one event short of [`crate::MAX_HISTORY_EVENTS`].
    history_full: bool,
    tasks: BTreeMap<TaskId, RunId>,
    timers: BTreeMap<TimerId, (RunId, TimerPurpose)>,
    // Per-step scratch, reset by every call.
    now: Millis,
    rng: Rng,
    out: Transition,
    ready: VecDeque<RunId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerPurpose {
    Wait,
    Retry,
    TaskTimeout,
    Heartbeat,
    ExecutionTimeout,
}

/// One run of a (nested) state machine.
#[derive(Debug, Clone)]
struct Run {
    machine: Arc<StateMachine>,
    parent: Option<(RunId, usize)>,
    vars: Vars,
    /// The id of the last event this run wrote, for `previousEventId`.
    last_event: u64,
    /// Whether this run's events are written to the history (a Distributed Map's child runs
    /// are not).
    silent: bool,
    cursor: Cursor,
}

#[derive(Debug, Clone)]
enum Cursor {
    /// About to enter `state` with `input`.
    Enter { state: StateId, input: Payload },
    /// Inside a state that waits for something.
    In(Box<Frame>),
    /// Finished.
    Done,
}

/// A state that has been entered and is waiting.
#[derive(Debug, Clone)]
struct Frame {
    state: StateId,
    /// The state's raw input.
    input: Payload,
    /// The input after InputPath and Parameters/Arguments (what a task or branch receives).
    effective: Payload,
    entered_time: Millis,
    entered_event: u64,
    /// The event the `...StateEntered` event followed.
    entered_previous: u64,
    /// Attempts used per retrier.
    retries: Vec<u64>,
    wait: Waiting,
}

#[derive(Debug, Clone)]
enum Waiting {
    Task {
        task: TaskId,
        token: String,
        timeout: Option<TimerId>,
        heartbeat: Option<(TimerId, u64)>,
    },
    Timer(TimerId),
    Retry(TimerId),
    Parallel(map::Children),
    Map(map::Children),
}

/// What a state produced when it finished its work.
enum Outcome {
    /// Move on with this result (before ResultSelector/ResultPath/OutputPath).
    Result(Payload),
    /// The state already produced its output and transition.
    Done,
    /// The state is waiting.
    Blocked,
    /// The state failed.
    Failed(Failure),
}

impl Engine {
    pub(crate) fn start_with(
        machine: Arc<StateMachine>,
        info: ExecutionInfo,
        input: Value,
        now: Millis,
        entropy: Entropy,
        options: crate::StartOptions,
    ) -> (Engine, Transition) {
        let input = Arc::new(input);
        let mut engine = Engine {
            info: Arc::new(info),
            input: input.clone(),
            start_time: now,
            status: Status::Running,
            output: None,
            error: None,
            next_event_id: 1,
            next_task: 1,
            next_timer: 1,
            runs: Vec::new(),
            redrive_point: None,
            redrives: 0,
            context: options.context.map(Arc::new),
            history_full: false,
            tasks: BTreeMap::new(),
            timers: BTreeMap::new(),
            now,
            rng: Rng::new(entropy),
            out: Transition::default(),
            ready: VecDeque::new(),
        };
        let role_arn = engine.info.role_arn.clone();
        engine.push_event(
            None,
            EventType::ExecutionStarted,
            Details::ExecutionStarted {
                input: input.clone(),
                role_arn,
            },
        );
        if let Some(seconds) = machine.timeout_seconds {
            let timer = engine.new_timer(0, TimerPurpose::ExecutionTimeout, seconds as i64 * 1000);
            let _ = timer;
        }
        let root = engine.spawn(machine.clone(), None, Arc::new(Map::new()), input, false);
        if let Some(r) = engine.runs[root].as_mut() {
            r.last_event = 0;
        }
        engine.drive();
        let transition = std::mem::take(&mut engine.out);
        (engine, transition)
    }

    pub(crate) fn handle(&mut self, event: Event, now: Millis, entropy: Entropy) -> Transition {
        self.now = now;
        self.rng = Rng::new(entropy);
        if self.status == Status::Running {
            match event {
                Event::TaskStarted { task, worker_name } => self.task_started(task, worker_name),
                Event::TaskSubmitted { task, output } => self.task_submitted(task, output),
                Event::TaskSucceeded { task, output } => self.task_succeeded(task, output),
                Event::TaskFailed { task, error, cause } => {
                    self.task_failed(task, Failure::plain(error.unwrap_or_default(), cause))
                }
                Event::TaskHeartbeat { task } => self.task_heartbeat(task),
                Event::TimerFired { timer } => self.timer_fired(timer),
                Event::Stop { error, cause } => self.stop(error, cause),
                Event::Redrive => {}
            }
            self.drive();
        } else if event == Event::Redrive {
            self.redrive();
            self.drive();
        }
        std::mem::take(&mut self.out)
    }

    pub(crate) fn status(&self) -> &Status {
        &self.status
    }
    pub(crate) fn output(&self) -> Option<&Value> {
        self.output.as_deref()
    }
    pub(crate) fn error(&self) -> Option<(Option<&str>, Option<&str>)> {
        self.error
            .as_ref()
            .map(|(e, c)| (e.as_deref(), c.as_deref()))
    }
    pub(crate) fn can_redrive(&self) -> bool {
        self.status != Status::Running
            && self.status != Status::Succeeded
            && self.redrive_point.is_some()
    }
    pub(crate) fn redrive_count(&self) -> u64 {
        self.redrives
    }
    pub(crate) fn history_len(&self) -> u64 {
        self.next_event_id - 1
    }
    pub(crate) fn open_tasks(&self) -> Vec<TaskId> {
        self.tasks.keys().copied().collect()
    }

    // ---- bookkeeping -------------------------------------------------------------------

    fn spawn(
        &mut self,
        machine: Arc<StateMachine>,
        parent: Option<(RunId, usize)>,
        vars: Vars,
        input: Payload,
        silent: bool,
    ) -> RunId {
        let start = machine.start_at;
        let last_event = parent
            .and_then(|(p, _)| self.runs[p].as_ref().map(|r| r.last_event))
            .unwrap_or(0);
        let run = Run {
            machine,
            parent,
            vars,
            last_event,
            silent,
            cursor: Cursor::Enter {
                state: start,
                input,
            },
        };
        self.runs.push(Some(run));
        let id = self.runs.len() - 1;
        self.ready.push_back(id);
        id
    }

    fn run(&self, id: RunId) -> &Run {
        self.runs[id].as_ref().expect("live run")
    }

    fn run_mut(&mut self, id: RunId) -> &mut Run {
        self.runs[id].as_mut().expect("live run")
    }

    /// Appends an event on behalf of `run` (or the execution when `None`).
    fn push_event(&mut self, run: Option<RunId>, ty: EventType, details: Details) -> u64 {
        let previous = match run {
            Some(r) => {
                let run = self.run(r);
                if run.silent {
                    return 0;
                }
                run.last_event
            }
            None => self
                .out
                .events
                .last()
                .map(|e| e.id)
                .unwrap_or(self.next_event_id.saturating_sub(1)),
        };
        let terminal = matches!(
            ty,
            EventType::ExecutionFailed
                | EventType::ExecutionSucceeded
                | EventType::ExecutionAborted
                | EventType::ExecutionTimedOut
        );
        if self.history_full && !terminal {
            return 0;
        }
        if self.next_event_id + 1 >= crate::MAX_HISTORY_EVENTS && !terminal {
            // One slot stays free for the ExecutionFailed that `drive` writes.
            self.history_full = true;
        }
        let previous = if ty == EventType::ExecutionStarted {
            0
        } else {
            previous
        };
        let id = self.next_event_id;
        self.next_event_id += 1;
        self.out.events.push(HistoryEvent {
            id,
            previous_event_id: previous,
            timestamp: self.now,
            ty,
            details,
        });
        if let Some(r) = run {
            self.run_mut(r).last_event = id;
        }
        id
    }

    /// Appends an event for `run` that follows `previous` rather than the run's last event.
    fn push_event_after(
        &mut self,
        run: Option<RunId>,
        previous: u64,
        ty: EventType,
        details: Details,
    ) -> u64 {
        let id = self.push_event(run, ty, details);
        if id != 0
            && let Some(event) = self.out.events.last_mut()
        {
            event.previous_event_id = previous;
        }
        id
    }

    fn new_timer(&mut self, run: RunId, purpose: TimerPurpose, delay_ms: i64) -> TimerId {
        let timer = self.next_timer;
        self.next_timer += 1;
        self.timers.insert(timer, (run, purpose));
        self.out.commands.push(Command::StartTimer {
            timer,
            due: self.now + delay_ms.max(0),
        });
        timer
    }

    fn cancel_timer(&mut self, timer: TimerId) {
        if self.timers.remove(&timer).is_some() {
            self.out.commands.push(Command::CancelTimer { timer });
        }
    }

    fn state_context<'a>(
        &'a self,
        run: &'a Run,
        state: &'a State,
        entered: Millis,
        retry: Option<u64>,
        token: Option<&'a str>,
    ) -> StateContext<'a> {
        let _ = run;
        StateContext {
            info: &self.info,
            redrive_count: self.info.redrive_count + self.redrives,
            given: self.context.as_deref(),
            now: self.now,
            execution_input: &self.input,
            start_time: self.start_time,
            state_name: &state.name,
            entered_time: entered,
            retry_count: retry,
            token,
            map_item: None,
        }
    }

    // ---- the loop ----------------------------------------------------------------------

    fn drive(&mut self) {
        while let Some(id) = self.ready.pop_front() {
            if self.status != Status::Running || self.history_full {
                break;
            }
            let Some(run) = self.runs[id].as_ref() else {
                continue;
            };
            if let Cursor::Enter { .. } = run.cursor {
                self.advance(id);
            }
        }
        self.ready.clear();
        if self.history_full && self.status == Status::Running {
            self.finish_execution(Err(Failure::plain(
                "States.Runtime",
                Some(format!(
                    "The execution reached the maximum number of history events ({}).",
                    crate::MAX_HISTORY_EVENTS
                )),
            )));
            // AWS does not redrive an execution whose history is full.
            self.redrive_point = None;
        }
    }

    /// Runs states of `id` until it blocks or finishes.
    fn advance(&mut self, id: RunId) {
        loop {
            if self.status != Status::Running || self.history_full || self.runs[id].is_none() {
                return;
            }
            let run = self.run_mut(id);
            let Cursor::Enter { state, input } = std::mem::replace(&mut run.cursor, Cursor::Done)
            else {
                return;
            };
            match self.enter(id, state, input) {
                Step::Continue => continue,
                Step::Blocked => return,
            }
        }
    }

    /// Enters `state_id` with `input` and executes as far as possible.
    fn enter(&mut self, id: RunId, state_id: StateId, input: Payload) -> Step {
        let machine = self.run(id).machine.clone();
        let state = machine.state(state_id);
        let entered_previous = self.run(id).last_event;
        let entered_event = self.push_event(
            Some(id),
            entered_type(&state.kind),
            Details::StateEntered {
                name: state.name.clone(),
                input: input.clone(),
            },
        );
        let frame = Frame {
            state: state_id,
            input: input.clone(),
            effective: input,
            entered_time: self.now,
            entered_event,
            entered_previous,
            retries: vec![0; state.retry.len()],
            wait: Waiting::Timer(0),
        };
        self.execute(id, frame)
    }

    /// Executes the entered state described by `frame` (also used to re-run it on retry).
    fn execute(&mut self, id: RunId, mut frame: Frame) -> Step {
        let machine = self.run(id).machine.clone();
        let state = machine.state(frame.state);
        let outcome = states::execute(self, id, state, &mut frame);
        match outcome {
            Outcome::Blocked => {
                self.run_mut(id).cursor = Cursor::In(Box::new(frame));
                Step::Blocked
            }
            Outcome::Done => self.after_transition(id),
            Outcome::Result(result) => {
                self.complete(id, state, frame, result);
                self.after_transition(id)
            }
            Outcome::Failed(failure) => {
                self.fail_state(id, state, frame, failure);
                self.after_transition(id)
            }
        }
    }

    fn after_transition(&mut self, id: RunId) -> Step {
        match self.runs[id].as_ref().map(|r| &r.cursor) {
            Some(Cursor::Enter { .. }) => Step::Continue,
            _ => Step::Blocked,
        }
    }

    /// A state's work produced `result`: apply result processing, exit, move on.
    fn complete(&mut self, id: RunId, state: &State, frame: Frame, result: Payload) {
        match self.process_result(id, state, &frame, result) {
            Ok((output, assigned)) => self.exit(id, state, output, assigned, state.next),
            Err(failure) => self.fail_state(id, state, frame, failure),
        }
    }

    /// ResultSelector, ResultPath, OutputPath (JSONPath) or Output (JSONata), plus Assign.
    fn process_result(
        &mut self,
        id: RunId,
        state: &State,
        frame: &Frame,
        result: Payload,
    ) -> Result<(Payload, Option<Assigned>), Failure> {
        let run = self.run(id).clone_light();
        let ctx = self.state_context(&run, state, frame.entered_time, None, None);
        let mut rng = self.rng.clone();
        let out = match state.query_language {
            QueryLanguage::JsonPath => {
                let selected = match &state.result_selector {
                    Some(t) => {
                        let mut scope = Scope::new(&result, &ctx, &run.vars, &mut rng);
                        Arc::new(scope.template(t, "ResultSelector")?)
                    }
                    None => result,
                };
                // Assign sees the result (after ResultSelector) as `$`.
                let assigned = match &state.assign {
                    Some(t) => {
                        let mut scope = Scope::new(&selected, &ctx, &run.vars, &mut rng);
                        Some(scope.template(t, "Assign")?)
                    }
                    None => None,
                };
                let combined = apply_result_path(&state.result_path, &frame.input, selected)?;
                let output = match &state.output_path {
                    baton_asl::PathField::Default => combined,
                    other => {
                        let scope = Scope::new(&combined, &ctx, &run.vars, &mut rng);
                        scope.filter(other, &combined)?
                    }
                };
                (output, assigned)
            }
            QueryLanguage::Jsonata => {
                let mut scope = Scope::new(&frame.input, &ctx, &run.vars, &mut rng);
                scope.result = Some(&result);
                let assigned = match &state.assign {
                    Some(t) => Some(scope.template(t, "Assign")?),
                    None => None,
                };
                let output = match &state.output {
                    Some(t) => Arc::new(scope.template(t, "Output")?),
                    None => result.clone(),
                };
                (output, assigned)
            }
        };
        self.rng = rng;
        let (output, assigned) = out;
        Ok((output, assigned.map(|a| self.assign(id, a))))
    }

    /// Stores assigned variables in the run's scope; returns them for the history.
    fn assign(&mut self, id: RunId, assigned: Value) -> Vec<(String, String)> {
        let Value::Object(members) = assigned else {
            return Vec::new();
        };
        let run = self.run_mut(id);
        let vars = Arc::make_mut(&mut run.vars);
        let mut shown = Vec::with_capacity(members.len());
        for (name, value) in members {
            shown.push((name.clone(), compact(&value)));
            vars.insert(name, value);
        }
        shown
    }

    /// Writes the `...StateExited` event and moves to `next` (or ends the run).
    fn exit(
        &mut self,
        id: RunId,
        state: &State,
        output: Payload,
        assigned: Option<Vec<(String, String)>>,
        next: Option<StateId>,
    ) {
        self.push_event(
            Some(id),
            exited_type(&state.kind),
            Details::StateExited {
                name: state.name.clone(),
                output: output.clone(),
                assigned_variables: assigned,
            },
        );
        match next {
            Some(next) => {
                self.run_mut(id).cursor = Cursor::Enter {
                    state: next,
                    input: output,
                };
            }
            None => self.finish_run(id, Ok(output)),
        }
    }

    /// The state failed: retry, catch, or fail the run.
    fn fail_state(&mut self, id: RunId, state: &State, mut frame: Frame, failure: Failure) {
        let failure = self.prefix(state, &frame, failure);
        if failure.evaluation {
            // AWS links EvaluationFailed to the event before the state was entered, except
            // in Wait states, where it follows WaitStateEntered.
            let previous = match state.kind {
                Kind::Wait(_) => frame.entered_event,
                _ => frame.entered_previous,
            };
            self.push_event_after(
                Some(id),
                previous,
                EventType::EvaluationFailed,
                Details::EvaluationFailed {
                    error: failure.error.clone(),
                    cause: failure.cause.clone().unwrap_or_default(),
                    location: failure.location.clone(),
                    state: state.name.clone(),
                },
            );
        }
        if failure.handleable() {
            // Retry: the first retrier whose ErrorEquals matches decides.
            if let Some(index) = state
                .retry
                .iter()
                .position(|r| error_matches(&r.error_equals, &failure.error))
            {
                let retrier = &state.retry[index];
                let attempt = frame.retries[index];
                if attempt < retrier.max_attempts {
                    frame.retries[index] += 1;
                    let mut delay =
                        retrier.interval_seconds as f64 * retrier.backoff_rate.powi(attempt as i32);
                    if let Some(max) = retrier.max_delay_seconds {
                        delay = delay.min(max as f64);
                    }
                    if retrier.jitter == baton_asl::Jitter::Full {
                        delay *= self.rng.next_f64();
                    }
                    let timer =
                        self.new_timer(id, TimerPurpose::Retry, (delay * 1000.0).round() as i64);
                    frame.wait = Waiting::Retry(timer);
                    self.run_mut(id).cursor = Cursor::In(Box::new(frame));
                    return;
                }
            }
            // Map and Parallel record their failure once it is final for this attempt.
            match state.kind {
                Kind::Map(_) => {
                    self.push_event(Some(id), EventType::MapStateFailed, Details::None);
                }
                Kind::Parallel(_) => {
                    self.push_event(Some(id), EventType::ParallelStateFailed, Details::None);
                }
                _ => {}
            }
            if let Some(catcher) = state
                .catch
                .iter()
                .find(|c| error_matches(&c.error_equals, &failure.error))
            {
                self.catch(id, state, &frame, catcher, &failure);
                return;
            }
        }
        self.note_redrive_point(id, &frame);
        self.finish_run(id, Err(failure));
    }

    /// Remembers where the root run stopped unsuccessfully, for a later redrive.
    fn note_redrive_point(&mut self, id: RunId, frame: &Frame) {
        if self.runs[id].as_ref().is_some_and(|r| r.parent.is_none()) {
            self.redrive_point = Some(Box::new(frame.clone()));
        }
    }

    /// Continues an unsuccessful execution from the root state it stopped in.
    fn redrive(&mut self) {
        if !self.can_redrive() {
            return;
        }
        let Some(frame) = self.redrive_point.take() else {
            return;
        };
        self.redrives += 1;
        self.status = Status::Running;
        self.error = None;
        // Children left behind by an abort or a timeout are started afresh where needed.
        for run in self.runs.iter_mut().skip(1) {
            *run = None;
        }
        self.push_event(
            Some(0),
            EventType::ExecutionRedriven,
            Details::ExecutionRedriven {
                redrive_count: self.redrives,
            },
        );
        let mut frame = *frame;
        frame.retries.iter_mut().for_each(|r| *r = 0);
        let machine = self.run(0).machine.clone();
        let state = machine.state(frame.state);
        match std::mem::replace(&mut frame.wait, Waiting::Timer(0)) {
            Waiting::Map(children) | Waiting::Parallel(children) => {
                map::redrive(self, 0, state, frame, children);
            }
            _ => {
                if let Step::Continue = self.execute(0, frame) {
                    self.ready.push_back(0);
                }
            }
        }
    }

    /// Adds AWS's "An error occurred while executing the state ..." prefix where due.
    fn prefix(&self, state: &State, frame: &Frame, mut failure: Failure) -> Failure {
        if failure.prefixed {
            failure.prefixed = false;
            let detail = failure.cause.take().unwrap_or_default();
            failure.cause = Some(format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {detail}",
                state.name, frame.entered_event
            ));
        }
        failure
    }

    fn catch(
        &mut self,
        id: RunId,
        state: &State,
        frame: &Frame,
        catcher: &Catcher,
        failure: &Failure,
    ) {
        let mut error_output = Map::new();
        error_output.insert("Error".into(), Value::String(failure.error.clone()));
        // AWS always hands Catch a Cause: an empty one when the error came without (a task
        // timeout, for example).
        error_output.insert(
            "Cause".into(),
            Value::String(failure.cause.clone().unwrap_or_default()),
        );
        let error_output = Value::Object(error_output);
        let result = match state.query_language {
            QueryLanguage::JsonPath => {
                let assigned = match &catcher.assign {
                    Some(t) => self
                        .eval_template(id, state, frame, &error_output, t, "Assign", None)
                        .map(Some),
                    None => Ok(None),
                };
                assigned.and_then(|assigned| {
                    apply_result_path(
                        &catcher.result_path,
                        &frame.input,
                        Arc::new(error_output.clone()),
                    )
                    .map(|o| (o, assigned))
                })
            }
            QueryLanguage::Jsonata => {
                let assigned = match &catcher.assign {
                    Some(t) => self
                        .eval_template(
                            id,
                            state,
                            frame,
                            &frame.input,
                            t,
                            "Assign",
                            Some(&error_output),
                        )
                        .map(Some),
                    None => Ok(None),
                };
                assigned.and_then(|assigned| {
                    let output = match &catcher.output {
                        Some(t) => self
                            .eval_template(
                                id,
                                state,
                                frame,
                                &frame.input,
                                t,
                                "Output",
                                Some(&error_output),
                            )
                            .map(Arc::new),
                        None => Ok(Arc::new(error_output.clone())),
                    };
                    output.map(|o| (o, assigned))
                })
            }
        };
        match result {
            Ok((output, assigned)) => {
                let assigned = assigned.map(|a| self.assign(id, a));
                self.exit(id, state, output, assigned, Some(catcher.next));
            }
            Err(f) => {
                let f = self.prefix(state, frame, f);
                self.note_redrive_point(id, frame);
                self.finish_run(id, Err(f));
            }
        }
    }

    /// Evaluates a template in the state's scope with `input` as `$`/`$states.input`.
    #[allow(clippy::too_many_arguments)] // One call site shape per field; a struct would only rename them.
    fn eval_template(
        &mut self,
        id: RunId,
        state: &State,
        frame: &Frame,
        input: &Value,
        template: &Template,
        field: &str,
        error_output: Option<&Value>,
    ) -> Result<Value, Failure> {
        let run = self.run(id).clone_light();
        let ctx = self.state_context(&run, state, frame.entered_time, None, None);
        let mut rng = self.rng.clone();
        let mut scope = Scope::new(input, &ctx, &run.vars, &mut rng);
        scope.error_output = error_output;
        let value = scope.template(template, field);
        drop(scope);
        self.rng = rng;
        value
    }

    /// Ends run `id` with an output or a failure and tells its parent.
    fn finish_run(&mut self, id: RunId, result: Result<Payload, Failure>) {
        let Some(run) = self.runs[id].as_mut() else {
            return;
        };
        run.cursor = Cursor::Done;
        match run.parent {
            None => self.finish_execution(result),
            Some((parent, slot)) => {
                self.runs[id] = None;
                map::child_finished(self, parent, slot, result);
            }
        }
    }

    fn finish_execution(&mut self, result: Result<Payload, Failure>) {
        match result {
            Ok(output) => {
                self.push_event(
                    Some(0),
                    EventType::ExecutionSucceeded,
                    Details::Output {
                        output: output.clone(),
                    },
                );
                self.status = Status::Succeeded;
                self.output = Some(output);
            }
            Err(f) => {
                self.push_event(
                    Some(0),
                    EventType::ExecutionFailed,
                    Details::Failure {
                        error: Some(f.error.clone()).filter(|e| !e.is_empty()),
                        cause: f.cause.clone(),
                    },
                );
                self.status = Status::Failed;
                self.error = Some((Some(f.error).filter(|e| !e.is_empty()), f.cause));
            }
        }
        self.close_everything();
    }

    /// Remembers the root state that was waiting when the execution was stopped or timed out.
    fn note_waiting_root(&mut self) {
        if let Some(Some(root)) = self.runs.first()
            && let Cursor::In(frame) = &root.cursor
        {
            let mut frame = frame.clone();
            if let Waiting::Map(children) | Waiting::Parallel(children) = &mut frame.wait {
                children.forget_running();
            }
            self.redrive_point = Some(frame);
        }
    }

    /// Cancels every outstanding task and timer (the execution ended).
    fn close_everything(&mut self) {
        for task in std::mem::take(&mut self.tasks).into_keys() {
            self.out.commands.push(Command::CancelTask { task });
        }
        for timer in std::mem::take(&mut self.timers).into_keys() {
            self.out.commands.push(Command::CancelTimer { timer });
        }
    }

    /// Aborts run `id` and all runs below it, cancelling their tasks and timers.
    fn abort_subtree(&mut self, id: RunId) {
        let mut doomed = vec![id];
        let mut i = 0;
        while i < doomed.len() {
            let current = doomed[i];
            for (child, run) in self.runs.iter().enumerate() {
                if let Some(run) = run
                    && run.parent.map(|(p, _)| p) == Some(current)
                {
                    doomed.push(child);
                }
            }
            i += 1;
        }
        let tasks: Vec<TaskId> = self
            .tasks
            .iter()
            .filter(|(_, r)| doomed.contains(r))
            .map(|(t, _)| *t)
            .collect();
        for task in tasks {
            self.tasks.remove(&task);
            self.out.commands.push(Command::CancelTask { task });
        }
        let timers: Vec<TimerId> = self
            .timers
            .iter()
            .filter(|(_, (r, _))| doomed.contains(r))
            .map(|(t, _)| *t)
            .collect();
        for timer in timers {
            self.cancel_timer(timer);
        }
        for run in doomed {
            self.runs[run] = None;
        }
    }

    // ---- events from outside -------------------------------------------------------------

    fn frame_of_task(&mut self, task: TaskId) -> Option<(RunId, Box<Frame>)> {
        let run = *self.tasks.get(&task)?;
        let r = self.runs[run].as_mut()?;
        match &r.cursor {
            Cursor::In(frame) if matches!(frame.wait, Waiting::Task { task: t, .. } if t == task) =>
                {}
            _ => return None,
        }
        let Cursor::In(frame) = std::mem::replace(&mut r.cursor, Cursor::Done) else {
            return None;
        };
        Some((run, frame))
    }

    fn put_back(&mut self, run: RunId, frame: Box<Frame>) {
        self.run_mut(run).cursor = Cursor::In(frame);
    }

    fn task_started(&mut self, task: TaskId, worker_name: Option<String>) {
        let Some((run, frame)) = self.frame_of_task(task) else {
            return;
        };
        let state = self.run(run).machine.clone();
        let state = state.state(frame.state);
        // The interpreter records Lambda and service starts when it dispatches them; only an
        // activity starts later, when a worker polls it.
        if let Kind::Task(t) = &state.kind
            && let Resource::Activity { .. } = t.resource
        {
            self.push_event(
                Some(run),
                EventType::ActivityStarted,
                Details::ActivityStarted { worker_name },
            );
        }
        self.put_back(run, frame);
    }

    fn task_submitted(&mut self, task: TaskId, output: Value) {
        let Some((run, frame)) = self.frame_of_task(task) else {
            return;
        };
        let machine = self.run(run).machine.clone();
        if let Kind::Task(t) = &machine.state(frame.state).kind {
            let (resource_type, resource) = service_names(&t.resource);
            self.push_event(
                Some(run),
                EventType::TaskSubmitted,
                Details::TaskOutput {
                    resource_type,
                    resource,
                    output: Arc::new(output),
                },
            );
        }
        self.put_back(run, frame);
    }

    fn task_heartbeat(&mut self, task: TaskId) {
        let Some((run, mut frame)) = self.frame_of_task(task) else {
            return;
        };
        if let Waiting::Task {
            heartbeat: Some((timer, seconds)),
            ..
        } = &mut frame.wait
        {
            let old = *timer;
            let seconds = *seconds;
            self.cancel_timer(old);
            *timer = self.new_timer(run, TimerPurpose::Heartbeat, seconds as i64 * 1000);
        }
        self.put_back(run, frame);
    }

    fn task_succeeded(&mut self, task: TaskId, output: Value) {
        let Some((run, frame)) = self.frame_of_task(task) else {
            return;
        };
        self.tasks.remove(&task);
        self.clear_task_timers(&frame);
        let machine = self.run(run).machine.clone();
        let state = machine.state(frame.state);
        let output = Arc::new(output);
        if let Kind::Task(t) = &state.kind {
            let (ty, details) = match &t.resource {
                Resource::Activity { .. } => (
                    EventType::ActivitySucceeded,
                    Details::Output {
                        output: output.clone(),
                    },
                ),
                Resource::LambdaFunction { .. } => (
                    EventType::LambdaFunctionSucceeded,
                    Details::Output {
                        output: output.clone(),
                    },
                ),
                Resource::Service { .. } => {
                    let (resource_type, resource) = service_names(&t.resource);
                    (
                        EventType::TaskSucceeded,
                        Details::TaskOutput {
                            resource_type,
                            resource,
                            output: output.clone(),
                        },
                    )
                }
            };
            self.push_event(Some(run), ty, details);
        }
        self.complete(run, state, *frame, output);
        self.ready.push_back(run);
    }

    fn clear_task_timers(&mut self, frame: &Frame) {
        if let Waiting::Task {
            timeout, heartbeat, ..
        } = &frame.wait
        {
            if let Some(t) = timeout {
                self.cancel_timer(*t);
            }
            if let Some((t, _)) = heartbeat {
                self.cancel_timer(*t);
            }
        }
    }

    fn task_failed(&mut self, task: TaskId, failure: Failure) {
        let Some((run, frame)) = self.frame_of_task(task) else {
            return;
        };
        self.tasks.remove(&task);
        self.clear_task_timers(&frame);
        let machine = self.run(run).machine.clone();
        let state = machine.state(frame.state);
        let error = Some(failure.error.clone()).filter(|e| !e.is_empty());
        if let Kind::Task(t) = &state.kind {
            let (ty, details) = match &t.resource {
                Resource::Activity { .. } => (
                    EventType::ActivityFailed,
                    Details::Failure {
                        error: error.clone(),
                        cause: failure.cause.clone(),
                    },
                ),
                Resource::LambdaFunction { .. } => (
                    EventType::LambdaFunctionFailed,
                    Details::Failure {
                        error: error.clone(),
                        cause: failure.cause.clone(),
                    },
                ),
                Resource::Service { .. } => {
                    let (resource_type, resource) = service_names(&t.resource);
                    (
                        EventType::TaskFailed,
                        Details::TaskFailure {
                            resource_type,
                            resource,
                            error: error.clone(),
                            cause: failure.cause.clone(),
                        },
                    )
                }
            };
            self.push_event(Some(run), ty, details);
        }
        self.fail_state(run, state, *frame, failure);
        self.ready.push_back(run);
    }

    fn task_timed_out(&mut self, run: RunId, frame: Box<Frame>, error: &str) {
        let Waiting::Task { task, .. } = frame.wait else {
            return;
        };
        self.tasks.remove(&task);
        self.out.commands.push(Command::CancelTask { task });
        self.clear_task_timers(&frame);
        let machine = self.run(run).machine.clone();
        let state = machine.state(frame.state);
        if let Kind::Task(t) = &state.kind {
            let failure = Details::Failure {
                error: Some(error.to_owned()),
                cause: None,
            };
            let (ty, details) = match &t.resource {
                Resource::Activity { .. } => (EventType::ActivityTimedOut, failure),
                Resource::LambdaFunction { .. } => (EventType::LambdaFunctionTimedOut, failure),
                Resource::Service { .. } => {
                    let (resource_type, resource) = service_names(&t.resource);
                    (
                        EventType::TaskTimedOut,
                        Details::TaskFailure {
                            resource_type,
                            resource,
                            error: Some(error.to_owned()),
                            cause: None,
                        },
                    )
                }
            };
            self.push_event(Some(run), ty, details);
        }
        self.fail_state(run, state, *frame, Failure::plain(error, None));
        self.ready.push_back(run);
    }

    fn timer_fired(&mut self, timer: TimerId) {
        let Some((run, purpose)) = self.timers.remove(&timer) else {
            return;
        };
        if purpose == TimerPurpose::ExecutionTimeout {
            self.push_event(
                Some(0),
                EventType::ExecutionTimedOut,
                Details::Failure {
                    error: Some("States.Timeout".into()),
                    cause: None,
                },
            );
            self.status = Status::TimedOut;
            self.error = Some((Some("States.Timeout".into()), None));
            self.note_waiting_root();
            self.close_everything();
            return;
        }
        let Some(r) = self.runs[run].as_mut() else {
            return;
        };
        let Cursor::In(frame) = std::mem::replace(&mut r.cursor, Cursor::Done) else {
            return;
        };
        match (purpose, &frame.wait) {
            (TimerPurpose::Wait, Waiting::Timer(t)) if *t == timer => {
                let machine = self.run(run).machine.clone();
                let state = machine.state(frame.state);
                states::finish_wait(self, run, state, *frame);
                self.ready.push_back(run);
            }
            (TimerPurpose::Retry, Waiting::Retry(t)) if *t == timer => {
                let step = self.execute(run, *frame);
                if let Step::Continue = step {
                    self.ready.push_back(run);
                }
            }
            (
                TimerPurpose::TaskTimeout,
                Waiting::Task {
                    timeout: Some(t), ..
                },
            ) if *t == timer => {
                self.task_timed_out(run, frame, "States.Timeout");
            }
            (
                TimerPurpose::Heartbeat,
                Waiting::Task {
                    heartbeat: Some((t, _)),
                    ..
                },
            ) if *t == timer => {
                self.task_timed_out(run, frame, "States.HeartbeatTimeout");
            }
            _ => {
                self.run_mut(run).cursor = Cursor::In(frame);
            }
        }
    }

    fn stop(&mut self, error: Option<String>, cause: Option<String>) {
        // Abort the states that are waiting, innermost first, as AWS writes them.
        let waiting: Vec<(RunId, EventType)> = self
            .runs
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, r)| {
                let r = r.as_ref()?;
                let Cursor::In(frame) = &r.cursor else {
                    return None;
                };
                let ty = match &r.machine.state(frame.state).kind {
                    // AWS writes no event for an aborted Wait state.
                    Kind::Task(_) => EventType::TaskStateAborted,
                    Kind::Map(_) => EventType::MapStateAborted,
                    Kind::Parallel(_) => EventType::ParallelStateAborted,
                    _ => return None,
                };
                Some((i, ty))
            })
            .collect();
        for (run, ty) in waiting {
            self.push_event(Some(run), ty, Details::None);
        }
        // AWS records ExecutionAborted as following no event.
        self.push_event_after(
            Some(0),
            0,
            EventType::ExecutionAborted,
            Details::Failure {
                error: error.clone(),
                cause: cause.clone(),
            },
        );
        self.status = Status::Aborted;
        self.error = Some((error, cause));
        self.note_waiting_root();
        self.close_everything();
    }
}

enum Step {
    Continue,
    Blocked,
}

impl Run {
    /// A copy sharing the machine and variables, for evaluating while `self` is borrowed.
    fn clone_light(&self) -> Run {
        Run {
            machine: self.machine.clone(),
            parent: self.parent,
            vars: self.vars.clone(),
            last_event: self.last_event,
            silent: self.silent,
            cursor: Cursor::Done,
        }
    }
}

/// `ResultPath`: where the result goes in the raw input.
fn apply_result_path(
    field: &baton_asl::PathField,
    input: &Payload,
    result: Payload,
) -> Result<Payload, Failure> {
    match field {
        baton_asl::PathField::Default => Ok(result),
        baton_asl::PathField::Null => Ok(input.clone()),
        baton_asl::PathField::Path(p) => {
            if p.text() == "$" {
                return Ok(result);
            }
            let target = Value::clone(input);
            p.set(target, Arc::unwrap_or_clone(result))
                .map(Arc::new)
                .map_err(|e| Failure::plain("States.ResultPathMatchFailure", Some(e.message)))
        }
    }
}

/// `resourceType` and `resource` of a service integration (`lambda`, `invoke.waitForTaskToken`).
fn service_names(resource: &Resource) -> (String, String) {
    match resource {
        Resource::Service {
            service,
            action,
            pattern,
            ..
        } => {
            let suffix = match pattern {
                Pattern::RequestResponse => "",
                Pattern::Sync => ".sync",
                Pattern::Sync2 => ".sync:2",
                Pattern::WaitForTaskToken => ".waitForTaskToken",
            };
            // `aws-sdk:s3:listBuckets`: the type is `aws-sdk:s3`, the resource `listBuckets`.
            match action.rsplit_once(':') {
                Some((prefix, last)) => (format!("{service}:{prefix}"), format!("{last}{suffix}")),
                None => (service.clone(), format!("{action}{suffix}")),
            }
        }
        other => (String::new(), other.arn().to_owned()),
    }
}

fn entered_type(kind: &Kind) -> EventType {
    match kind {
        Kind::Pass(_) => EventType::PassStateEntered,
        Kind::Task(_) => EventType::TaskStateEntered,
        Kind::Choice(_) => EventType::ChoiceStateEntered,
        Kind::Wait(_) => EventType::WaitStateEntered,
        Kind::Succeed => EventType::SucceedStateEntered,
        Kind::Fail(_) => EventType::FailStateEntered,
        Kind::Parallel(_) => EventType::ParallelStateEntered,
        Kind::Map(_) => EventType::MapStateEntered,
    }
}

fn exited_type(kind: &Kind) -> EventType {
    match kind {
        Kind::Pass(_) => EventType::PassStateExited,
        Kind::Task(_) => EventType::TaskStateExited,
        Kind::Choice(_) => EventType::ChoiceStateExited,
        Kind::Wait(_) => EventType::WaitStateExited,
        Kind::Succeed | Kind::Fail(_) => EventType::SucceedStateExited,
        Kind::Parallel(_) => EventType::ParallelStateExited,
        Kind::Map(_) => EventType::MapStateExited,
    }
}
