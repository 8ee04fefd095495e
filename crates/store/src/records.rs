//! Record types: what the store keeps, independent of the interpreter's and the API's types.
//!
//! These are versioned by the schema of each backend (see `docs/design.md`); a change here is a
//! schema migration. Payloads (inputs, outputs, details) are JSON text, stored as given.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// `STANDARD` or `EXPRESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MachineType {
    /// Durable, exactly-once workflows with full history.
    Standard,
    /// Short, high-volume workflows.
    Express,
}

impl MachineType {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }

    /// Parses AWS's spelling.
    pub fn parse(text: &str) -> Option<MachineType> {
        match text {
            "STANDARD" => Some(MachineType::Standard),
            "EXPRESS" => Some(MachineType::Express),
            _ => None,
        }
    }
}

/// A state machine (its current, unpublished revision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineRecord {
    /// `arn:aws:states:<region>:<account>:stateMachine:<name>`.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Type.
    pub kind: MachineType,
    /// The definition text exactly as given.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `creationDate`.
    pub created_ms: Millis,
    /// `revisionId` of the current revision.
    pub revision_id: String,
    /// `description`.
    pub description: String,
    /// Other configuration as a JSON object text owned by the API layer
    /// (`loggingConfiguration`, `tracingConfiguration`, `encryptionConfiguration`).
    pub attributes: String,
    /// The number the next published version gets (versions start at 1).
    pub next_version: u64,
}

/// A published, immutable version of a state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// `<state machine arn>:<version>`.
    pub arn: String,
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    /// Version number, from 1.
    pub version: u64,
    /// Definition text.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `revisionId` this version was published from.
    pub revision_id: String,
    /// Version description.
    pub description: String,
    /// As [`StateMachineRecord::attributes`].
    pub attributes: String,
    /// `creationDate`.
    pub created_ms: Millis,
}

/// One route of an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRoute {
    /// The version ARN.
    pub version_arn: String,
    /// Percentage of executions, 0..=100.
    pub weight: u32,
}

/// A state machine alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    /// `<state machine arn>:<alias name>`.
    pub arn: String,
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    /// Alias name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Routing configuration (one or two routes).
    pub routes: Vec<AliasRoute>,
    /// `creationDate`.
    pub created_ms: Millis,
    /// `updateDate`.
    pub updated_ms: Millis,
}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// An activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    /// `arn:aws:states:<region>:<account>:activity:<name>`.
    pub arn: String,
    /// Name.
    pub name: String,
    /// `creationDate`.
    pub created_ms: Millis,
}

/// An execution's status, as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    /// Running (possibly parked on a task or a timer).
    Running,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
    /// Timed out.
    TimedOut,
    /// Stopped by `StopExecution`.
    Aborted,
    /// A redrive was requested and has not started yet.
    PendingRedrive,
}

impl ExecutionStatus {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
            ExecutionStatus::PendingRedrive => "PENDING_REDRIVE",
        }
    }

    /// Parses AWS's spelling.
    pub fn parse(text: &str) -> Option<ExecutionStatus> {
        Some(match text {
            "RUNNING" => ExecutionStatus::Running,
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            "PENDING_REDRIVE" => ExecutionStatus::PendingRedrive,
            _ => return None,
        })
    }

    /// Whether the execution has finished (no timers or open tasks remain).
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            ExecutionStatus::Running | ExecutionStatus::PendingRedrive
        )
    }
}

/// An execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// `arn:aws:states:<region>:<account>:execution:<machine>:<name>`.
    pub arn: String,
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    /// The version ARN it ran, when started through a version or an alias.
    pub version_arn: Option<String>,
    /// The alias ARN it was started through, if any.
    pub alias_arn: Option<String>,
    /// Execution name.
    pub name: String,
    /// Type of the state machine at start.
    pub kind: MachineType,
    /// Content id of the definition it runs (see [`Store::put_definition`](crate::Store::put_definition)).
    pub definition_id: String,
    /// `roleArn` at start.
    pub role_arn: String,
    /// Input as JSON text.
    pub input: String,
    /// Status.
    pub status: ExecutionStatus,
    /// `startDate`.
    pub start_ms: Millis,
    /// `stopDate`.
    pub stop_ms: Option<Millis>,
    /// Output as JSON text, once succeeded.
    pub output: Option<String>,
    /// Error, once failed, timed out or aborted.
    pub error: Option<String>,
    /// Cause, once failed, timed out or aborted.
    pub cause: Option<String>,
    /// `redriveCount`.
    pub redrive_count: u64,
    /// `redriveDate` of the last redrive.
    pub redrive_ms: Option<Millis>,
    /// The number of inbox entries committed: the fencing token of the next commit.
    pub seq: u64,
}

/// The final or changed status written by a [`Commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionOutcome {
    /// New status.
    pub status: ExecutionStatus,
    /// `stopDate` (set when terminal).
    pub stop_ms: Option<Millis>,
    /// Output JSON text.
    pub output: Option<String>,
    /// Error.
    pub error: Option<String>,
    /// Cause.
    pub cause: Option<String>,
}

/// One history event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRecord {
    /// 1-based id within the execution.
    pub id: u64,
    /// `previousEventId` (0 for none).
    pub previous_event_id: u64,
    /// `timestamp`.
    pub timestamp_ms: Millis,
    /// AWS's event type, e.g. `TaskStateEntered`.
    pub event_type: String,
    /// The AWS-shaped details object as JSON text (empty for events without details).
    pub details: String,
}

/// One entry of an execution's inbox: an event fed to the interpreter, with the time and
/// entropy it was fed with, so that replay reproduces the step exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRecord {
    /// 0-based position; entry 0 is the start.
    pub seq: u64,
    /// The time the event was fed with.
    pub now_ms: Millis,
    /// The entropy the event was fed with.
    pub entropy: [u8; 32],
    /// The event as runtime-defined JSON text.
    pub event: String,
}

/// A durable timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerRecord {
    /// The execution.
    pub execution_arn: String,
    /// Timer id within the execution.
    pub timer_id: u64,
    /// When it is due.
    pub due_ms: Millis,
}

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Waiting for a worker (activities) or for its dispatch to be acknowledged (integrations).
    Scheduled,
    /// Picked up by a worker, or submitted and waiting for its token.
    Started,
    /// No longer accepts results (succeeded, failed, timed out, cancelled).
    Closed,
}

impl TaskState {
    /// Stable spelling used by the backends.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Scheduled => "SCHEDULED",
            TaskState::Started => "STARTED",
            TaskState::Closed => "CLOSED",
        }
    }

    /// Parses [`TaskState::as_str`].
    pub fn parse(text: &str) -> Option<TaskState> {
        match text {
            "SCHEDULED" => Some(TaskState::Scheduled),
            "STARTED" => Some(TaskState::Started),
            "CLOSED" => Some(TaskState::Closed),
            _ => None,
        }
    }
}

/// A dispatched task, found by its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// The task token (unique).
    pub token: String,
    /// The execution.
    pub execution_arn: String,
    /// Task id within the execution.
    pub task_id: u64,
    /// The Task state's name.
    pub state_name: String,
    /// The resource ARN as written.
    pub resource: String,
    /// The activity ARN, for activity tasks.
    pub activity_arn: Option<String>,
    /// The task's input as JSON text.
    pub input: String,
    /// Where it is.
    pub state: TaskState,
    /// `workerName` of the worker that picked it up.
    pub worker_name: Option<String>,
    /// When it was scheduled.
    pub created_ms: Millis,
}

/// A change to a task written by a [`Commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskUpdate {
    /// Task id within the commit's execution.
    pub task_id: u64,
    /// New state.
    pub state: TaskState,
    /// Worker name to record (kept as is when `None`).
    pub worker_name: Option<String>,
}

/// One atomic step of an execution.
///
/// Rules every backend implements:
/// - `inbox.seq` must equal the execution's current [`ExecutionRecord::seq`], otherwise the
///   commit fails with [`Error::Conflict`](crate::Error::Conflict) and writes nothing. On
///   success the execution's `seq` becomes `inbox.seq + 1`.
/// - With `start`, the execution is inserted (its `seq` field is ignored and `inbox.seq` must
///   be 0); [`Error::AlreadyExists`](crate::Error::AlreadyExists) if the ARN is taken. Without
///   it, [`Error::NotFound`](crate::Error::NotFound) if the execution is absent.
/// - History ids must not already exist for the execution (they are appended).
/// - `outcome` overwrites status, stop date, output, error and cause. When the new status is
///   terminal, every timer of the execution is deleted and every task not already closed is
///   closed, whatever the other fields say.
/// - A history event of type [`REDRIVEN`] counts a redrive: the execution's `redrive_count`
///   goes up by one and its `redrive_ms` becomes the event's timestamp (the outcome then
///   usually sets the status back to `RUNNING`).
/// - Timers are upserted by `(execution, timer_id)`, deleted by id (missing ids are ignored).
/// - Tasks are inserted (token and `(execution, task_id)` unique) and then updated by task id
///   (missing ids are ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The execution.
    pub execution_arn: String,
    /// The execution to create (the first step).
    pub start: Option<ExecutionRecord>,
    /// The event that caused this step.
    pub inbox: InboxRecord,
    /// History events to append.
    pub history: Vec<HistoryRecord>,
    /// A status change.
    pub outcome: Option<ExecutionOutcome>,
    /// Timers to create or move: `(timer_id, due_ms)`.
    pub timers_set: Vec<(u64, Millis)>,
    /// Timers to delete.
    pub timers_delete: Vec<u64>,
    /// Tasks to insert.
    pub tasks_insert: Vec<TaskRecord>,
    /// Task changes.
    pub tasks_update: Vec<TaskUpdate>,
}

/// Which executions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionFilter {
    /// Only executions of this (unqualified) state machine.
    pub state_machine_arn: Option<String>,
    /// Only executions started through this version or alias ARN.
    pub qualified_arn: Option<String>,
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
}

/// Where a list continues and how much it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// At most this many items (at least 1 is returned when available).
    pub limit: usize,
}

impl PageRequest {
    /// The first page of at most `limit` items.
    pub fn first(limit: usize) -> PageRequest {
        PageRequest { after: None, limit }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Cursor for the next page, when there may be more.
    pub next: Option<String>,
}

/// Which history events to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Only events after this id (before it when `reverse`).
    pub after_id: Option<u64>,
    /// Newest first.
    pub reverse: bool,
    /// At most this many.
    pub limit: usize,
}

/// The history event type that marks a redrive (see [`Commit`]).
pub const REDRIVEN: &str = "ExecutionRedriven";

impl Commit {
    /// The timestamp of the last redrive this commit records, if any.
    pub fn redriven_ms(&self) -> Option<Millis> {
        self.history
            .iter()
            .rev()
            .find(|event| event.event_type == REDRIVEN)
            .map(|event| event.timestamp_ms)
    }
}
