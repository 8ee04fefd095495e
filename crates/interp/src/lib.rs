//! The Step Functions interpreter: `(execution state, event) -> transition`.
//!
//! [`Execution::start`] begins an execution; [`Execution::handle`] feeds it one [`Event`]
//! (a task result, a timer firing, a stop request) and returns a [`Transition`]: the history
//! events to append and the [`Command`]s to carry out (dispatch a task, start a timer). The
//! interpreter does no I/O, reads no clock and makes no random numbers: time and entropy arrive
//! with every event, so feeding the same events again reproduces the same history exactly.
//!
//! ```
//! use std::sync::Arc;
//! use baton_interp::{Execution, ExecutionInfo, Status};
//! let machine = Arc::new(baton_asl::StateMachine::from_text(
//!     r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"ok":true},"End":true}}}"#,
//! ).unwrap());
//! let info = ExecutionInfo::example();
//! let (execution, transition) = Execution::start(machine, info, serde_json::json!({}), 0, [7; 32]);
//! assert_eq!(execution.status(), &Status::Succeeded);
//! assert_eq!(transition.events.len(), 4);
//! ```
#![warn(missing_docs)]

mod context;
mod engine;
mod event;
mod io;
mod rng;

pub use event::{Details, EventType, HistoryEvent};

use std::sync::Arc;

use baton_asl::{Resource, StateMachine};
use serde_json::Value;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// 32 bytes of caller-supplied randomness (from the OS in production, fixed in tests).
pub type Entropy = [u8; 32];

/// Identifies a dispatched task within its execution.
pub type TaskId = u64;

/// Identifies a timer within its execution.
pub type TimerId = u64;

/// The most events an execution's history may hold, as on AWS. An execution that would write
/// more fails with `States.Runtime` (the last event is its `ExecutionFailed`) and cannot be
/// redriven.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// Facts about the execution that the runtime decides (names, ARNs, times).
#[derive(Debug, Clone)]
pub struct ExecutionInfo {
    /// Execution ARN (`$$.Execution.Id`).
    pub execution_arn: String,
    /// Execution name.
    pub name: String,
    /// State machine ARN (`$$.StateMachine.Id`).
    pub state_machine_arn: String,
    /// State machine name.
    pub state_machine_name: String,
    /// Role ARN.
    pub role_arn: String,
    /// Region, for `TaskScheduled.region` and service ARNs.
    pub region: String,
    /// Account id.
    pub account: String,
    /// `$$.Execution.RedriveCount` at the start. Redrives fed to the interpreter as
    /// [`Event::Redrive`] add to it, so a runtime that replays the whole inbox passes 0.
    pub redrive_count: u64,
}

impl ExecutionInfo {
    /// A fixed example, for docs and tests.
    pub fn example() -> ExecutionInfo {
        ExecutionInfo {
            execution_arn: "arn:aws:states:us-east-1:000000000000:execution:Machine:run".into(),
            name: "run".into(),
            state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:Machine".into(),
            state_machine_name: "Machine".into(),
            role_arn: "arn:aws:iam::000000000000:role/example".into(),
            region: "us-east-1".into(),
            account: "000000000000".into(),
            redrive_count: 0,
        }
    }
}

/// How to start an execution beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// A context object used as is instead of the one the interpreter builds: `$$` and
    /// `$states.context` read it (TestState's `context` option).
    pub context: Option<Value>,
}

/// Where an execution is.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Still running (possibly waiting for a task or a timer).
    Running,
    /// Finished with an output.
    Succeeded,
    /// Failed with an error and cause.
    Failed,
    /// Exceeded the machine's `TimeoutSeconds`.
    TimedOut,
    /// Stopped by `StopExecution`.
    Aborted,
}

/// Something that happened to an execution, delivered by the runtime.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The task was picked up (an activity worker polled it, a Lambda began).
    TaskStarted {
        /// The task.
        task: TaskId,
        /// `GetActivityTask`'s `workerName`, when given.
        worker_name: Option<String>,
    },
    /// A `.waitForTaskToken` integration call returned; the task now waits for its token.
    TaskSubmitted {
        /// The task.
        task: TaskId,
        /// The integration call's response.
        output: Value,
    },
    /// The task finished successfully.
    TaskSucceeded {
        /// The task.
        task: TaskId,
        /// The result.
        output: Value,
    },
    /// The task failed.
    TaskFailed {
        /// The task.
        task: TaskId,
        /// Error name.
        error: Option<String>,
        /// Cause.
        cause: Option<String>,
    },
    /// `SendTaskHeartbeat` for the task.
    TaskHeartbeat {
        /// The task.
        task: TaskId,
    },
    /// A timer the interpreter asked for is due.
    TimerFired {
        /// The timer.
        timer: TimerId,
    },
    /// `RedriveExecution`: continue a failed, aborted or timed-out execution from its
    /// unsuccessful step (only the failed or aborted iterations and branches of a Map or
    /// Parallel state run again). Ignored when the execution cannot be redriven.
    Redrive,
    /// `StopExecution`.
    Stop {
        /// Error to record.
        error: Option<String>,
        /// Cause to record.
        cause: Option<String>,
    },
}

/// What to do after committing a transition.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start a task: invoke an integration, offer an activity, wait for a token.
    Dispatch(Box<TaskRequest>),
    /// Deliver [`Event::TimerFired`] at `due`.
    StartTimer {
        /// Timer id.
        timer: TimerId,
        /// When it fires.
        due: Millis,
    },
    /// The task is no longer wanted (its state was aborted, failed or timed out).
    CancelTask {
        /// The task.
        task: TaskId,
    },
    /// The timer is no longer wanted.
    CancelTimer {
        /// The timer.
        timer: TimerId,
    },
}

/// A task to dispatch.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    /// Its id within the execution.
    pub task: TaskId,
    /// The name of the Task state.
    pub state_name: Arc<str>,
    /// The resource, classified.
    pub resource: Resource,
    /// The effective parameters (the task's input).
    pub input: Value,
    /// The task token (always minted; `$$.Task.Token` and activities use it).
    pub token: String,
    /// Effective `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    /// Effective `HeartbeatSeconds`.
    pub heartbeat_seconds: Option<u64>,
}

/// The result of one step: history to append and commands to run after commit.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Transition {
    /// New history events, in order, with ids continuing the execution's history.
    pub events: Vec<HistoryEvent>,
    /// Commands to carry out once the events are durable.
    pub commands: Vec<Command>,
}

/// An execution in progress: everything the interpreter needs to take the next step.
#[derive(Debug, Clone)]
pub struct Execution {
    inner: engine::Engine,
}

impl Execution {
    /// Starts an execution of `machine` with `input` at time `now`.
    pub fn start(
        machine: Arc<StateMachine>,
        info: ExecutionInfo,
        input: Value,
        now: Millis,
        entropy: Entropy,
    ) -> (Execution, Transition) {
        Execution::start_with(machine, info, input, now, entropy, StartOptions::default())
    }

    /// Starts an execution with [`StartOptions`] (TestState's caller-supplied context object).
    pub fn start_with(
        machine: Arc<StateMachine>,
        info: ExecutionInfo,
        input: Value,
        now: Millis,
        entropy: Entropy,
        options: StartOptions,
    ) -> (Execution, Transition) {
        let (inner, transition) =
            engine::Engine::start_with(machine, info, input, now, entropy, options);
        (Execution { inner }, transition)
    }

    /// Feeds one event at time `now`.
    pub fn handle(&mut self, event: Event, now: Millis, entropy: Entropy) -> Transition {
        self.inner.handle(event, now, entropy)
    }

    /// The execution's status.
    pub fn status(&self) -> &Status {
        self.inner.status()
    }

    /// The output, once succeeded.
    pub fn output(&self) -> Option<&Value> {
        self.inner.output()
    }

    /// Error and cause, once failed, timed out or aborted.
    pub fn error(&self) -> Option<(Option<&str>, Option<&str>)> {
        self.inner.error()
    }

    /// The tasks currently waiting for a result, by id.
    pub fn open_tasks(&self) -> Vec<TaskId> {
        self.inner.open_tasks()
    }

    /// Rebuilds an execution from what it was fed: the start (`now`, `entropy`) and then every
    /// event in order with its own time and entropy. Because the interpreter is deterministic,
    /// the result is the same execution state and the same history, which this returns whole;
    /// the runtime uses it to bring back an execution that was evicted or lost in a crash.
    pub fn replay(
        machine: Arc<StateMachine>,
        info: ExecutionInfo,
        input: Value,
        start: (Millis, Entropy),
        inputs: impl IntoIterator<Item = (Event, Millis, Entropy)>,
    ) -> (Execution, Vec<HistoryEvent>) {
        let (mut execution, transition) = Execution::start(machine, info, input, start.0, start.1);
        let mut history = transition.events;
        for (event, now, entropy) in inputs {
            history.extend(execution.handle(event, now, entropy).events);
        }
        (execution, history)
    }

    /// Whether [`Event::Redrive`] would continue the execution now.
    pub fn can_redrive(&self) -> bool {
        self.inner.can_redrive()
    }

    /// How many times the execution has been redriven.
    pub fn redrive_count(&self) -> u64 {
        self.inner.redrive_count()
    }

    /// The number of history events written so far.
    pub fn history_len(&self) -> u64 {
        self.inner.history_len()
    }
}

#[cfg(test)]
mod tests;
