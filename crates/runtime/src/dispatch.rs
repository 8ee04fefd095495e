//! Task dispatch: the seam where service integrations (Lambda, SQS, nested executions, ...)
//! plug into the runtime.
//!
//! Activity tasks are handled by the runtime itself (they wait in the store until a worker
//! polls). Every other task is handed to a [`TaskDispatcher`] after its transition is
//! committed; the dispatcher reports back through the task's [`Completion`], at any later time.
//! A task whose dispatch was not acknowledged (no `submitted`/`succeeded`/`failed` recorded) is
//! handed to the dispatcher again after a restart: integrations are at-least-once, as on AWS.

use std::sync::{Arc, Weak};

use baton_interp::Event;
use serde_json::Value;

use crate::{Error, driver::Inner};

/// A task for a dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchedTask {
    /// The execution.
    pub execution_arn: String,
    /// Task id within the execution.
    pub task_id: u64,
    /// The task token (for `.waitForTaskToken`, passed on to whoever will call back).
    pub token: String,
    /// The Task state's name.
    pub state_name: String,
    /// The resource ARN as written in the definition.
    pub resource: String,
    /// The effective parameters.
    pub input: Value,
}

/// Runs non-activity tasks. Implementations must not block: start the work (for example with
/// `tokio::spawn`) and report through the [`Completion`].
pub trait TaskDispatcher: Send + Sync + 'static {
    /// Starts `task`.
    fn dispatch(&self, task: DispatchedTask, completion: Completion);

    /// The task is no longer wanted (timed out, its state was aborted); best effort.
    fn cancel(&self, execution_arn: &str, task_id: u64) {
        let _ = (execution_arn, task_id);
    }
}

/// The way back from a dispatched task into its execution. Each method records one event
/// durably and returns once it is committed; results for a task that is no longer open are
/// ignored (`Ok`).
#[derive(Clone)]
pub struct Completion {
    pub(crate) runtime: Weak<Inner>,
    pub(crate) execution_arn: Arc<str>,
    pub(crate) task_id: u64,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("execution_arn", &self.execution_arn)
            .field("task_id", &self.task_id)
            .finish()
    }
}

impl Completion {
    /// The task began (`TaskStarted`). Integrations that must be re-dispatched after a crash
    /// should report this only together with their result.
    pub async fn started(&self, worker_name: Option<String>) -> Result<(), Error> {
        self.send(Event::TaskStarted {
            task: self.task_id,
            worker_name,
        })
        .await
    }

    /// A `.waitForTaskToken` call was made; the task now waits for its token
    /// (`TaskSubmitted`).
    pub async fn submitted(&self, output: Value) -> Result<(), Error> {
        self.send(Event::TaskSubmitted {
            task: self.task_id,
            output,
        })
        .await
    }

    /// The task succeeded with `output`.
    pub async fn succeeded(&self, output: Value) -> Result<(), Error> {
        self.send(Event::TaskSucceeded {
            task: self.task_id,
            output,
        })
        .await
    }

    /// The task failed.
    pub async fn failed(&self, error: Option<String>, cause: Option<String>) -> Result<(), Error> {
        self.send(Event::TaskFailed {
            task: self.task_id,
            error,
            cause,
        })
        .await
    }

    async fn send(&self, event: Event) -> Result<(), Error> {
        let Some(runtime) = self.runtime.upgrade() else {
            return Err(Error::ShuttingDown);
        };
        runtime
            .deliver(&self.execution_arn, event, crate::driver::Check::None)
            .await
            .map(|_| ())
    }
}

/// The default dispatcher: fails every task with `States.TaskFailed` and a cause naming the
/// resource, until its integration is implemented.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnsupportedDispatcher;

impl TaskDispatcher for UnsupportedDispatcher {
    fn dispatch(&self, task: DispatchedTask, completion: Completion) {
        tokio::spawn(async move {
            let cause = format!(
                "Baton does not implement the integration '{}' (state '{}') yet",
                task.resource, task.state_name
            );
            // If the execution moved on meanwhile, there is nothing left to fail.
            let _ = completion
                .failed(Some("States.TaskFailed".to_owned()), Some(cause))
                .await;
        });
    }
}
