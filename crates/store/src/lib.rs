//! The persistence contract of Baton: the [`Store`] trait, its record types and an in-memory
//! reference implementation ([`MemoryStore`]).
//!
//! The store keeps *records*, not interpreter semantics: history events are stored as their
//! AWS type name plus the AWS-shaped details as JSON text, and the execution's inbox (the
//! ordered events fed to the interpreter, with the time and entropy each was fed with) is
//! stored as runtime-defined JSON text. Replaying an execution's inbox through the interpreter
//! rebuilds its state; that is how an evicted or crashed execution comes back.
//!
//! Every change to a running execution goes through one call, [`Store::commit`], which writes
//! the inbox entry, the history events, the execution's status, its timers and its tasks in
//! one atomic step, fenced by the execution's sequence number so two writers can never append
//! conflicting history (see `docs/design.md`).
//!
//! Every backend must pass the shared contract suite in [`contract`].
//!
//! ```
//! use baton_store::{MemoryStore, Store, ActivityRecord};
//! let store = MemoryStore::new();
//! let activity = ActivityRecord {
//!     arn: "arn:aws:states:us-east-1:000000000000:activity:work".into(),
//!     name: "work".into(),
//!     created_ms: 1,
//! };
//! let fut = store.create_activity(activity.clone());
//! # let _ = fut; // Futures from MemoryStore are ready at once; any executor drives them.
//! ```
#![warn(missing_docs)]

pub mod cluster;
pub mod contract;
mod memory;
mod records;

pub use memory::MemoryStore;
pub use records::*;

use std::future::Future;
use std::pin::Pin;

/// A boxed future, so that [`Store`] stays object-safe (`Arc<dyn Store>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Result of a store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A store failure. Workflow errors never appear here; these are engine faults or contract
/// outcomes the caller is expected to handle (`AlreadyExists`, `NotFound`, `Conflict`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record with this key already exists.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// No record with this key.
    #[error("not found: {0}")]
    NotFound(String),
    /// The execution's sequence number was not the expected one: another writer advanced it.
    #[error("conflict on {execution_arn}: expected sequence {expected}, found {actual}")]
    Conflict {
        /// The execution.
        execution_arn: String,
        /// The sequence number the commit was built on.
        expected: u64,
        /// The sequence number in the store.
        actual: u64,
    },
    /// Stored data could not be read back (a bug or a damaged database).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The database refused or failed (I/O, schema version, connection).
    #[error("backend: {0}")]
    Backend(String),
    /// The store was closed.
    #[error("the store is closed")]
    Closed,
}

/// The persistence contract. All methods are asynchronous so that network databases fit;
/// the futures are `Send` and boxed so that a binary can choose a backend at run time.
///
/// Pagination: list methods take a [`PageRequest`] and return a [`Page`] whose `next` cursor
/// is an opaque string that only the same backend understands.
pub trait Store: Send + Sync + 'static {
    // ---- state machines, versions, aliases, definitions ----

    /// Inserts a state machine; [`Error::AlreadyExists`] if the ARN is taken.
    fn create_state_machine(&self, record: StateMachineRecord) -> BoxFuture<'_, Result<()>>;
    /// Replaces a state machine; [`Error::NotFound`] if absent.
    fn update_state_machine(&self, record: StateMachineRecord) -> BoxFuture<'_, Result<()>>;
    /// Reads a state machine.
    fn get_state_machine(&self, arn: &str) -> BoxFuture<'_, Result<Option<StateMachineRecord>>>;
    /// Lists state machines by creation time, then ARN.
    fn list_state_machines(
        &self,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<StateMachineRecord>>>;
    /// Deletes a state machine with its versions, aliases and tags; returns whether it existed.
    /// Its executions and their definitions stay.
    fn delete_state_machine(&self, arn: &str) -> BoxFuture<'_, Result<bool>>;

    /// Inserts a version; [`Error::AlreadyExists`] if the ARN is taken.
    fn create_version(&self, record: VersionRecord) -> BoxFuture<'_, Result<()>>;
    /// Reads a version.
    fn get_version(&self, arn: &str) -> BoxFuture<'_, Result<Option<VersionRecord>>>;
    /// Lists a state machine's versions, newest (highest number) first.
    fn list_versions(
        &self,
        state_machine_arn: &str,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<VersionRecord>>>;
    /// Deletes a version; returns whether it existed.
    fn delete_version(&self, arn: &str) -> BoxFuture<'_, Result<bool>>;

    /// Inserts or replaces an alias.
    fn put_alias(&self, record: AliasRecord) -> BoxFuture<'_, Result<()>>;
    /// Reads an alias.
    fn get_alias(&self, arn: &str) -> BoxFuture<'_, Result<Option<AliasRecord>>>;
    /// Lists a state machine's aliases by name.
    fn list_aliases(
        &self,
        state_machine_arn: &str,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<AliasRecord>>>;
    /// Deletes an alias; returns whether it existed.
    fn delete_alias(&self, arn: &str) -> BoxFuture<'_, Result<bool>>;

    /// Stores definition text under its content id (idempotent: same id, same text).
    fn put_definition(&self, id: &str, text: &str) -> BoxFuture<'_, Result<()>>;
    /// Reads definition text by content id.
    fn get_definition(&self, id: &str) -> BoxFuture<'_, Result<Option<String>>>;

    // ---- tags (state machines and activities) ----

    /// Adds or overwrites tags on a resource.
    fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> BoxFuture<'_, Result<()>>;
    /// Removes tags by key (missing keys are ignored).
    fn untag_resource(&self, arn: &str, keys: Vec<String>) -> BoxFuture<'_, Result<()>>;
    /// A resource's tags, ordered by key.
    fn list_tags(&self, arn: &str) -> BoxFuture<'_, Result<Vec<Tag>>>;

    // ---- activities ----

    /// Inserts an activity; [`Error::AlreadyExists`] if the ARN is taken.
    fn create_activity(&self, record: ActivityRecord) -> BoxFuture<'_, Result<()>>;
    /// Reads an activity.
    fn get_activity(&self, arn: &str) -> BoxFuture<'_, Result<Option<ActivityRecord>>>;
    /// Lists activities by creation time, then ARN.
    fn list_activities(&self, page: PageRequest) -> BoxFuture<'_, Result<Page<ActivityRecord>>>;
    /// Deletes an activity and its tags; returns whether it existed.
    fn delete_activity(&self, arn: &str) -> BoxFuture<'_, Result<bool>>;

    // ---- executions ----

    /// Appends one step of an execution atomically; see [`Commit`] for the rules.
    fn commit(&self, commit: Commit) -> BoxFuture<'_, Result<()>>;
    /// Reads an execution.
    fn get_execution(&self, arn: &str) -> BoxFuture<'_, Result<Option<ExecutionRecord>>>;
    /// Lists executions, newest start first (ties by ARN, descending).
    fn list_executions(
        &self,
        filter: ExecutionFilter,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<ExecutionRecord>>>;
    /// Reads history events in id order (or reverse), after the cursor in `query`.
    fn get_history(
        &self,
        execution_arn: &str,
        query: HistoryQuery,
    ) -> BoxFuture<'_, Result<Vec<HistoryRecord>>>;
    /// The execution's whole inbox, in sequence order (what replay feeds the interpreter).
    fn get_inbox(&self, execution_arn: &str) -> BoxFuture<'_, Result<Vec<InboxRecord>>>;

    // ---- timers and tasks ----

    /// Timers with `after_ms < due_ms <= until_ms`, by due time, at most `limit`.
    fn timers_between(
        &self,
        after_ms: Millis,
        until_ms: Millis,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TimerRecord>>>;
    /// A task by its token.
    fn get_task(&self, token: &str) -> BoxFuture<'_, Result<Option<TaskRecord>>>;
    /// The oldest `Scheduled` tasks of an activity, in the order they were scheduled.
    fn activity_queue(
        &self,
        activity_arn: &str,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TaskRecord>>>;
    /// `Scheduled` tasks that are not activity tasks (their dispatch may not have happened),
    /// in scheduling order.
    fn tasks_to_dispatch(&self, page: PageRequest) -> BoxFuture<'_, Result<Page<TaskRecord>>>;
}
