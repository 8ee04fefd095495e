//! Coordination of several runtime nodes that share one database: the [`Cluster`] trait and
//! its types. A store that several `baton serve` processes can share implements it next to
//! [`Store`](crate::Store) (PostgreSQL does); the runtime then runs in cluster mode. The model
//! (leases, ownership, the mailbox, claimed timers, wake-ups) is described in `docs/design.md`,
//! "PostgreSQL and several nodes".
//!
//! Safety never rests on these methods alone: every commit is fenced by the execution's
//! sequence number and, through [`Cluster::commit_owned`], by its owner. Ownership, claims and
//! wake-ups decide who does the work and how soon.

use std::time::Duration;

use crate::{BoxFuture, Commit, Millis, Result, TaskRecord, TimerRecord};

/// The result of [`Cluster::acquire_execution`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// This node owns it now (or already did).
    Acquired,
    /// A live node owns it: send it the event through the mailbox.
    OwnedBy(String),
    /// No such execution.
    NotFound,
    /// This node's own lease has expired: renew first.
    LeaseLapsed,
}

/// An event waiting in an execution's mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    /// Mailbox id (ascending in queue order).
    pub id: i64,
    /// The event as runtime-defined JSON text.
    pub event: String,
    /// When it was queued.
    pub created_ms: Millis,
}

/// An execution handed to this node by [`Cluster::claim_runnable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runnable {
    /// The execution.
    pub execution_arn: String,
    /// Its owner before the claim (`None`, this node, or a dead node).
    pub previous_owner: Option<String>,
    /// It has events in its mailbox.
    pub has_events: bool,
}

/// One wake-up between nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wakeup {
    /// Something is waiting for this execution (an event in its mailbox, a change).
    Execution(String),
    /// A task was scheduled for this activity.
    Activity(String),
    /// Wake-ups may have been missed (reconnected, or the buffer overflowed): sweep.
    Resync,
    /// A payload this version does not know.
    Other(String),
}

impl Wakeup {
    /// The notification payload: `e:<execution ARN>`, `a:<activity ARN>` or `resync`.
    pub fn payload(&self) -> String {
        match self {
            Wakeup::Execution(arn) => format!("e:{arn}"),
            Wakeup::Activity(arn) => format!("a:{arn}"),
            Wakeup::Resync => "resync".to_owned(),
            Wakeup::Other(text) => text.clone(),
        }
    }

    /// Parses [`Wakeup::payload`].
    pub fn parse(payload: &str) -> Wakeup {
        if let Some(arn) = payload.strip_prefix("e:") {
            Wakeup::Execution(arn.to_owned())
        } else if let Some(arn) = payload.strip_prefix("a:") {
            Wakeup::Activity(arn.to_owned())
        } else if payload == "resync" {
            Wakeup::Resync
        } else {
            Wakeup::Other(payload.to_owned())
        }
    }
}

/// What a health check of the shared database found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The database answered and its schema is the one this code writes.
    pub ok: bool,
    /// Round trip of the check.
    pub latency: Duration,
    /// The schema version found.
    pub schema_version: Option<i64>,
    /// Connections open in the pool.
    pub pool_size: usize,
    /// Idle connections in the pool.
    pub pool_available: usize,
    /// Why it is not ok.
    pub error: Option<String>,
}

/// A stream of wake-ups from [`Cluster::subscribe`]; dropping it stops listening.
pub trait WakeupStream: Send {
    /// The next wake-up; `None` once the stream has ended for good.
    fn next(&mut self) -> BoxFuture<'_, Option<Wakeup>>;
}

/// Builds the mailbox text of the `TaskStarted` event for an activity task a worker claimed.
pub type StartedEvent = Box<dyn Fn(&TaskRecord) -> String + Send + Sync>;

/// Work distribution between nodes on one database. Times are the callers' clocks.
pub trait Cluster: Send + Sync + 'static {
    /// [`Store::commit`](crate::Store::commit), refused with
    /// [`Error::Conflict`](crate::Error::Conflict) unless `node` owns the execution (a start
    /// records `node` as its owner) and unless every mailbox event in `consume` is still
    /// queued (they are deleted in the same transaction). Wakes the pollers of every node
    /// for activities that got tasks.
    fn commit_owned<'a>(
        &'a self,
        commit: Commit,
        node: &'a str,
        consume: Vec<i64>,
    ) -> BoxFuture<'a, Result<()>>;

    /// Registers `node` or extends its lease to `now_ms + lease_ms`; returns whether the lease
    /// had lapsed (or the node is new): other nodes may have taken its executions.
    fn renew_lease<'a>(
        &'a self,
        node: &'a str,
        now_ms: Millis,
        lease_ms: Millis,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Ends `node`'s lease at once (clean shutdown): other nodes take over its running
    /// executions and timers on their next sweep, as after a crash, without waiting.
    fn leave<'a>(&'a self, node: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Takes an execution that is unowned, already `node`'s, or owned by a dead node.
    fn acquire_execution<'a>(
        &'a self,
        node: &'a str,
        arn: &'a str,
        now_ms: Millis,
    ) -> BoxFuture<'a, Result<Ownership>>;

    /// Gives an execution up; returns whether `node` owned it.
    fn release_execution<'a>(&'a self, node: &'a str, arn: &'a str) -> BoxFuture<'a, Result<bool>>;

    /// Claims up to `limit` due timers of executions `node` owns or may take, for `lease_ms`;
    /// concurrent claimants never get the same timer.
    fn claim_due_timers<'a>(
        &'a self,
        node: &'a str,
        now_ms: Millis,
        lease_ms: Millis,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<TimerRecord>>>;

    /// Queues an event for the execution's owner and wakes every node;
    /// [`Error::NotFound`](crate::Error::NotFound) if the execution does not exist.
    fn enqueue_event<'a>(
        &'a self,
        arn: &'a str,
        event: &'a str,
        now_ms: Millis,
    ) -> BoxFuture<'a, Result<()>>;

    /// The execution's queued events, oldest first.
    fn pending_events<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<Vec<PendingEvent>>>;

    /// Deletes queued events that changed nothing.
    fn discard_events<'a>(&'a self, arn: &'a str, ids: &'a [i64]) -> BoxFuture<'a, Result<u64>>;

    /// Claims up to `limit` executions that need a node: those with queued events that `node`
    /// owns or may take, and running executions of dead nodes.
    fn claim_runnable<'a>(
        &'a self,
        node: &'a str,
        now_ms: Millis,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Runnable>>>;

    /// Hands the oldest `Scheduled` task of an activity to a worker, whichever node owns its
    /// execution: sets it `Started` and queues `started_event(task)` for the execution, at
    /// most once per task across all nodes.
    fn claim_activity_task<'a>(
        &'a self,
        activity_arn: &'a str,
        worker_name: Option<&'a str>,
        now_ms: Millis,
        started_event: StartedEvent,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>>>;

    /// An execution's `Scheduled` tasks that are not activity tasks (to dispatch again after
    /// taking the execution over from a dead node), in scheduling order.
    fn tasks_to_dispatch_of<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<Vec<TaskRecord>>>;

    /// Wakes every node about an execution (for example, it has finished).
    fn notify_execution<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Starts listening for wake-ups; every wake-up sent after this returns is delivered, or
    /// a [`Wakeup::Resync`] says some may have been missed.
    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn WakeupStream>>>;

    /// Checks the database once, without retrying.
    fn health(&self) -> BoxFuture<'_, Health>;
}
