//! The Baton runtime: drives Step Functions executions durably on a [`baton_store::Store`].
//!
//! [`Runtime`] is the engine behind every API action: it creates state machines and
//! activities, starts executions, feeds them events (task results, callbacks, timer firings,
//! stop requests) through the pure interpreter (`baton_interp`), commits each transition before
//! carrying out its commands, and recovers after a crash (timers re-armed from their rows,
//! unacknowledged integration tasks dispatched again, executions rebuilt by replaying their
//! inbox). See `docs/design.md` for the durability rules.
//!
//! The server maps these methods and [`Error`] to the AWS JSON protocol; record types come from
//! `baton_store` and are converted explicitly there.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use baton_runtime::{Config, CreateActivity, Runtime};
//! let runtime = Runtime::open(Arc::new(baton_store::MemoryStore::new()), Config::default()).await.unwrap();
//! let activity = runtime.create_activity(CreateActivity { name: "work".into(), ..Default::default() }).await.unwrap();
//! assert_eq!(activity.arn, "arn:aws:states:us-east-1:000000000000:activity:work");
//! # });
//! ```
#![warn(missing_docs)]

pub mod arn;
mod clock;
mod cluster;
mod codec;
mod dispatch;
mod driver;
mod service;
mod timers;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cluster::ClusterConfig;
pub use codec::details_key;
pub use dispatch::{Completion, DispatchedTask, TaskDispatcher, UnsupportedDispatcher};
pub use service::*;

use std::sync::Arc;
use std::time::Duration;

use baton_store::{Millis, Store};

use driver::{Inner, Settings};

/// How the runtime is set up.
#[derive(Clone)]
pub struct Config {
    /// Default region for new ARNs (requests may name another).
    pub region: String,
    /// Account id in ARNs.
    pub account: String,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Runs non-activity tasks.
    pub dispatcher: Arc<dyn TaskDispatcher>,
    /// How many running executions stay in memory between events.
    pub cache_capacity: usize,
    /// How far ahead timers are loaded into memory.
    pub timer_window: Duration,
    /// The longest `GetActivityTask` long poll.
    pub max_activity_wait: Duration,
    /// Set to run as one of several nodes sharing the store (which must implement
    /// [`baton_store::cluster::Cluster`]; PostgreSQL does).
    pub cluster: Option<ClusterConfig>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            region: "us-east-1".to_owned(),
            account: "000000000000".to_owned(),
            clock: Arc::new(SystemClock),
            dispatcher: Arc::new(UnsupportedDispatcher),
            cache_capacity: 10_000,
            timer_window: Duration::from_secs(60),
            max_activity_wait: Duration::from_secs(60),
            cluster: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("region", &self.region)
            .field("account", &self.account)
            .field("cache_capacity", &self.cache_capacity)
            .field("timer_window", &self.timer_window)
            .field("max_activity_wait", &self.max_activity_wait)
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

/// An engine failure or an API error, named as AWS names it where AWS has a name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `InvalidArn`.
    #[error("{0}")]
    InvalidArn(String),
    /// `InvalidName`.
    #[error("{0}")]
    InvalidName(String),
    /// `InvalidDefinition`.
    #[error("{0}")]
    InvalidDefinition(String),
    /// `InvalidExecutionInput`.
    #[error("{0}")]
    InvalidExecutionInput(String),
    /// `InvalidOutput` (`SendTaskSuccess` with output that is not JSON).
    #[error("{0}")]
    InvalidOutput(String),
    /// `InvalidToken` (a task token or a pagination token).
    #[error("{0}")]
    InvalidToken(String),
    /// `ValidationException`.
    #[error("{0}")]
    ValidationException(String),
    /// `StateMachineDoesNotExist`.
    #[error("{0}")]
    StateMachineDoesNotExist(String),
    /// `StateMachineAlreadyExists`.
    #[error("{0}")]
    StateMachineAlreadyExists(String),
    /// `ExecutionDoesNotExist`.
    #[error("{0}")]
    ExecutionDoesNotExist(String),
    /// `ExecutionAlreadyExists`.
    #[error("{0}")]
    ExecutionAlreadyExists(String),
    /// `ActivityDoesNotExist`.
    #[error("{0}")]
    ActivityDoesNotExist(String),
    /// `TaskDoesNotExist`.
    #[error("{0}")]
    TaskDoesNotExist(String),
    /// `TaskTimedOut`: the task timed out or was already closed.
    #[error("{0}")]
    TaskTimedOut(String),
    /// `ResourceNotFound` (versions, aliases, tagged resources).
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ConflictException`.
    #[error("{0}")]
    ConflictException(String),
    /// `StateMachineTypeNotSupported` (an action Express machines do not support).
    #[error("{0}")]
    StateMachineTypeNotSupported(String),
    /// `ExecutionNotRedrivable`.
    #[error("{0}")]
    ExecutionNotRedrivable(String),
    /// The runtime is shutting down.
    #[error("the runtime is shutting down")]
    ShuttingDown,
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] baton_store::Error),
    /// A bug or damaged data.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The engine. Cheap to clone; the background scheduler stops when the last clone is dropped
/// or [`Runtime::shutdown`] is called.
#[derive(Clone)]
pub struct Runtime {
    handle: Arc<Handle>,
}

struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.shutdown.send_replace(true);
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("settings", &self.inner().settings)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Opens the runtime on `store`: loads the nearest timers, dispatches again the integration
    /// tasks whose dispatch was not acknowledged, and starts the timer scheduler. Must be called
    /// inside a tokio runtime.
    pub async fn open(store: Arc<dyn Store>, config: Config) -> Result<Runtime, Error> {
        let settings = Settings {
            region: config.region,
            account: config.account,
            cache_capacity: config.cache_capacity.max(1),
            timer_window_ms: Millis::try_from(config.timer_window.as_millis())
                .unwrap_or(60_000)
                .max(2),
            max_activity_wait: config.max_activity_wait,
        };
        let node = config.cluster.map(cluster::Node::new).transpose()?;
        let clustered = node.is_some();
        let inner = Inner::new(store, config.clock, config.dispatcher, settings, node);
        if clustered {
            // Timers live in the index only for executions owned here (added as they are
            // committed, kept whatever their due time); the others are claimed from the store.
            // Unacknowledged tasks are dispatched again by whichever node takes their
            // execution over, not by every node at start.
            inner.renew_lease().await?;
            inner.timers.finish_refill(Vec::new(), Millis::MAX);
            cluster::spawn_loops(&inner);
        } else {
            inner.refill_timers(inner.clock.now_ms()).await?;
            inner.redispatch().await?;
        }
        tokio::spawn(run_scheduler(
            Arc::downgrade(&inner),
            inner.shutdown.subscribe(),
        ));
        Ok(Runtime {
            handle: Arc::new(Handle { inner }),
        })
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// Stops the scheduler and refuses new work from dispatchers. Committed state is kept.
    pub fn shutdown(&self) {
        self.inner().shutdown.send_replace(true);
    }

    /// Stops, and in cluster mode ends this node's lease so that other nodes take its
    /// executions over at once instead of after the lease.
    pub async fn close(&self) -> Result<(), Error> {
        self.shutdown();
        if self.inner().node.is_some() {
            self.inner().leave().await?;
        }
        Ok(())
    }

    /// This node's id in cluster mode.
    pub fn node_id(&self) -> Option<&str> {
        self.inner().node.as_ref().map(|node| node.id.as_str())
    }

    /// In cluster mode, a check of the shared database (one round trip, no retries).
    pub async fn cluster_health(&self) -> Option<baton_store::cluster::Health> {
        match &self.inner().node {
            Some(node) => Some(node.cluster.health().await),
            None => None,
        }
    }

    /// Figures for tests and metrics.
    pub fn stats(&self) -> Stats {
        let inner = self.inner();
        Stats {
            cached_executions: inner.cached(),
            loaded_timers: inner.timers.len(),
            replays: inner.replays.load(std::sync::atomic::Ordering::Relaxed),
            commits: inner.commits.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

/// Runtime figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Executions cached in memory (running or recently used).
    pub cached_executions: usize,
    /// Timers loaded into the in-memory index.
    pub loaded_timers: usize,
    /// Executions rebuilt by replaying their inbox.
    pub replays: u64,
    /// Steps committed.
    pub commits: u64,
}

/// The timer loop: fires due timers, refills the window, sleeps until the next deadline.
async fn run_scheduler(
    inner: std::sync::Weak<Inner>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let Some(runtime) = inner.upgrade() else {
            return;
        };
        let now = runtime.clock.now_ms();
        // A failed refill is retried on the next turn.
        let refilled = runtime.refill_timers(now).await.is_ok();
        for (execution_arn, timer, _) in runtime.timers.pop_due(now) {
            let runtime = Arc::clone(&runtime);
            tokio::spawn(async move { runtime.fire_timer(execution_arn, timer).await });
        }
        let window = runtime.settings.timer_window_ms;
        let refill_at = if refilled {
            runtime.timers.loaded_until().saturating_sub(window / 2)
        } else {
            now + 1000
        };
        let wake_at = runtime
            .timers
            .next_due()
            .map_or(refill_at, |due| due.min(refill_at))
            .max(now + 1);
        let wake = Arc::clone(&runtime.timers.wake);
        let sleep = runtime.clock.sleep_until(wake_at);
        drop(runtime);
        tokio::select! {
            _ = sleep => {}
            _ = wake.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// AWS's `InvalidDefinition` error for validator diagnostics.
pub(crate) fn definition_error(diagnostics: &[baton_asl::Diagnostic]) -> Error {
    Error::InvalidDefinition(baton_asl::validate::invalid_definition_message(diagnostics))
}
