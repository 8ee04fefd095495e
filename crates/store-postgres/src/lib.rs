//! The PostgreSQL implementation of Baton's [`Store`], for running several `baton serve` nodes
//! on one database.
//!
//! - Connections come from a `deadpool-postgres` pool of `tokio-postgres` clients; batch writes
//!   use `INSERT ... SELECT * FROM UNNEST(...)`, one round trip per table.
//! - Every [`Store::commit`] is one transaction fenced by the execution's sequence number:
//!   `UPDATE executions SET seq = $next WHERE arn = $arn AND seq = $expected`. A writer whose
//!   step was built on a stale state matches no row and gets [`Error::Conflict`]; nothing of its
//!   step is written. Two nodes can therefore never append conflicting history.
//! - Connection errors are retried with exponential back-off ([`Options::retry_for`]). A
//!   retried commit cannot apply twice: the fence refuses the second copy, and when the first
//!   copy's fate was unknown (the connection died around `COMMIT`), the stored inbox entry is
//!   compared with the commit's own (time, 32 bytes of entropy, event) to tell "mine, already
//!   applied" from "someone else's" (see `settle_ambiguous` in `ops.rs`).
//! - The schema is versioned (`schema.rs`): migrations run on open in one transaction under an
//!   advisory lock, and a schema newer than this code is refused.
//! - Work distribution for several nodes lives in inherent methods (`work.rs`): node leases
//!   ([`PgStore::renew_leases`]), execution ownership ([`PgStore::acquire_execution`]), a durable
//!   mailbox of events for executions owned elsewhere ([`PgStore::enqueue_event`],
//!   [`PgStore::claim_runnable`], [`PgStore::commit_with`]), due timers claimed with
//!   `FOR UPDATE SKIP LOCKED` ([`PgStore::claim_due_timers`]) and LISTEN/NOTIFY wake-ups
//!   ([`PgStore::subscribe`]). `docs/design.md`, "PostgreSQL and several nodes", explains how a
//!   runtime uses them.

mod cluster;
mod group;
mod ops;
mod schema;
mod wakeup;
mod work;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_store::{
    ActivityRecord, AliasRecord, BoxFuture, Commit, Error, ExecutionFilter, ExecutionRecord,
    HistoryQuery, HistoryRecord, InboxRecord, Millis, Page, PageRequest, Result,
    StateMachineRecord, Store, Tag, TaskRecord, TimerRecord, VersionRecord,
};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use tokio_postgres::error::SqlState;

pub use baton_store::cluster::{Health, Ownership, PendingEvent, Runnable, Wakeup};
pub use schema::SCHEMA_VERSION;
pub use wakeup::Subscription;
pub use work::{CommitGuard, Enqueued, Renewal};

/// How the store connects.
#[derive(Debug, Clone)]
pub struct Options {
    /// The most pooled connections (the LISTEN connection of a [`Subscription`] is extra).
    pub pool_size: usize,
    /// A schema to keep Baton's tables in (created if missing; `search_path` is set to it on
    /// every connection). `None` uses the connection's default (`public`). Letters, digits and
    /// `_` only. The wake-up channel is named after it, so deployments in different schemas of
    /// one database do not wake each other.
    pub schema: Option<String>,
    /// `application_name` of the connections (shown in `pg_stat_activity`).
    pub application_name: String,
    /// How long an operation keeps retrying connection errors before it gives up.
    pub retry_for: Duration,
    /// Timeout of establishing one connection.
    pub connect_timeout: Duration,
    /// Group-commit writer tasks (each uses one pooled connection while it writes); 0 commits
    /// every step in its own transaction on the caller's task.
    pub writers: usize,
    /// The most steps one group commit writes in one transaction.
    pub max_batch: usize,
    /// `synchronous_commit`: `false` acknowledges a commit before its WAL reaches the disk
    /// (much faster; a PostgreSQL crash, not a Baton crash, can then lose the last few
    /// hundred milliseconds of acknowledged steps, whose effects may already have run).
    pub synchronous_commit: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            pool_size: 16,
            schema: None,
            application_name: "baton".to_owned(),
            retry_for: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            writers: 4,
            max_batch: 64,
            synchronous_commit: true,
        }
    }
}

/// A [`Store`] on PostgreSQL. Cheap to share behind an `Arc`.
pub struct PgStore {
    pool: Pool,
    config: tokio_postgres::Config,
    options: Options,
    channel: String,
    writer: Option<tokio::sync::mpsc::UnboundedSender<group::Job>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.options.schema)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// A failure inside one attempt: either a contract outcome (final) or a database or pool error
/// (possibly retryable).
#[derive(Debug)]
pub(crate) enum Fault {
    Store(Error),
    Db(tokio_postgres::Error),
    Pool(PoolError),
}

impl From<Error> for Fault {
    fn from(error: Error) -> Fault {
        Fault::Store(error)
    }
}

impl From<tokio_postgres::Error> for Fault {
    fn from(error: tokio_postgres::Error) -> Fault {
        Fault::Db(error)
    }
}

impl Fault {
    /// Whether another attempt may succeed: the connection failed or was refused, the server is
    /// shutting down or starting, or the transaction lost a serialization or deadlock race.
    fn retryable(&self) -> bool {
        match self {
            Fault::Store(_) => false,
            Fault::Pool(PoolError::Backend(error)) | Fault::Db(error) => retryable_db(error),
            Fault::Pool(PoolError::Timeout(_)) => true,
            Fault::Pool(_) => false,
        }
    }

    /// Whether a write may have been applied although the attempt failed (the failure came
    /// from the database after statements were sent, not from getting a connection).
    fn may_have_applied(&self) -> bool {
        matches!(self, Fault::Db(_))
    }

    fn into_error(self) -> Error {
        match self {
            Fault::Store(error) => error,
            Fault::Db(error) => db_error(error),
            Fault::Pool(PoolError::Backend(error)) => db_error(error),
            Fault::Pool(PoolError::Closed) => Error::Closed,
            Fault::Pool(other) => Error::Backend(format!("connection pool: {other}")),
        }
    }
}

fn retryable_db(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        return code.code().starts_with("08")
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
            ]
            .contains(code);
    }
    // No SQLSTATE: an I/O or protocol failure on the socket.
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if inner.is::<std::io::Error>() {
            return true;
        }
        source = inner.source();
    }
    false
}

pub(crate) fn db_error_is_unique(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// Maps a database error to the contract's error: unique violations are `AlreadyExists`.
pub(crate) fn db_error(error: tokio_postgres::Error) -> Error {
    if let Some(db) = error.as_db_error()
        && *db.code() == SqlState::UNIQUE_VIOLATION
    {
        return Error::AlreadyExists(db.detail().unwrap_or(db.message()).to_owned());
    }
    Error::Backend(error.to_string())
}

/// One attempt of an operation: it gets a pooled connection and whether an earlier attempt
/// failed in a way that may have applied its writes.
type Attempt<T> = BoxFuture<'static, Result<T, Fault>>;

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) with default options and brings the
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(url, Options::default()).await
    }

    /// Connects to `url` and brings the schema up to date; refuses a schema newer than this
    /// code ([`SCHEMA_VERSION`]).
    pub async fn connect_with(url: &str, options: Options) -> Result<PgStore> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| Error::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        config.application_name(&options.application_name);
        config.connect_timeout(options.connect_timeout);
        config.keepalives(true);
        let mut server_options = Vec::new();
        if !options.synchronous_commit {
            server_options.push("-c synchronous_commit=off".to_owned());
        }
        let channel = match &options.schema {
            Some(schema) => {
                if schema.is_empty()
                    || schema.len() > 48
                    || !schema
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    return Err(Error::Backend(format!(
                        "invalid schema name {schema:?}: use 1 to 48 lowercase letters, digits and _"
                    )));
                }
                server_options.push(format!("-c search_path={schema}"));
                format!("baton_wakeup_{schema}")
            }
            None => "baton_wakeup".to_owned(),
        };
        if !server_options.is_empty() {
            config.options(server_options.join(" "));
        }
        let manager = Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| Error::Backend(format!("cannot build the connection pool: {e}")))?;
        let writer = (options.writers > 0).then(|| {
            group::start(
                pool.clone(),
                options.retry_for,
                options.writers,
                options.max_batch,
            )
        });
        let store = PgStore {
            pool,
            config,
            options,
            channel,
            writer,
        };
        let schema = store.options.schema.clone();
        store
            .retry(move |mut client, _| {
                let schema = schema.clone();
                Box::pin(async move { schema::migrate(&mut client, schema.as_deref()).await })
            })
            .await?;
        Ok(store)
    }

    /// The options it was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The LISTEN/NOTIFY channel carrying wake-ups.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Checks the database once (no retries): a round trip and the schema version.
    pub async fn health(&self) -> Health {
        let started = Instant::now();
        let check = async {
            let client = self.pool.get().await.map_err(Fault::Pool)?;
            let row = client
                .query_one("SELECT max(version) FROM schema_version", &[])
                .await?;
            Ok::<Option<i64>, Fault>(row.get(0))
        };
        let outcome = tokio::time::timeout(self.options.connect_timeout, check).await;
        let status = self.pool.status();
        let (schema_version, error) = match outcome {
            Err(_) => (None, Some("timed out".to_owned())),
            Ok(Err(fault)) => (None, Some(fault.into_error().to_string())),
            Ok(Ok(Some(version))) if version == SCHEMA_VERSION => (Some(version), None),
            Ok(Ok(version)) => (
                version,
                Some(format!(
                    "schema version {version:?}, this Baton writes {SCHEMA_VERSION}"
                )),
            ),
        };
        Health {
            ok: error.is_none(),
            latency: started.elapsed(),
            schema_version,
            pool_size: status.size,
            pool_available: status.available,
            error,
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or [`Options::retry_for`] has passed.
    pub(crate) async fn retry<T, F>(&self, attempt: F) -> Result<T>
    where
        F: FnMut(Object, bool) -> Attempt<T>,
    {
        retry_with(&self.pool, self.options.retry_for, false, attempt).await
    }

    /// [`PgStore::retry`] for operations that take one owned input, cloned into each attempt.
    fn run<I, T, F, Fut>(&self, input: I, f: F) -> BoxFuture<'_, Result<T>>
    where
        I: Clone + Send + Sync + 'static,
        T: Send + 'static,
        F: Fn(Object, I, bool) -> Fut + Send + Sync + Copy + 'static,
        Fut: Future<Output = Result<T, Fault>> + Send + 'static,
    {
        Box::pin(async move {
            self.retry(move |client, may_have_applied| {
                let input = input.clone();
                Box::pin(f(client, input, may_have_applied))
            })
            .await
        })
    }
}

/// Runs `attempt` until it succeeds, fails for good, or `retry_for` has passed. Back-off starts
/// at 10 ms and doubles up to 1 s. `attempt` is told whether an earlier failure may have
/// applied its writes (starting with `may_have_applied`).
pub(crate) async fn retry_with<T, F>(
    pool: &Pool,
    retry_for: Duration,
    mut may_have_applied: bool,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(Object, bool) -> Attempt<T>,
{
    let deadline = Instant::now() + retry_for;
    let mut delay = Duration::from_millis(10);
    loop {
        let outcome = match pool.get().await {
            Ok(client) => attempt(client, may_have_applied).await,
            Err(error) => Err(Fault::Pool(error)),
        };
        match outcome {
            Ok(value) => return Ok(value),
            Err(fault) if fault.retryable() && Instant::now() + delay < deadline => {
                may_have_applied |= fault.may_have_applied();
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            Err(fault) => return Err(fault.into_error()),
        }
    }
}

impl Store for PgStore {
    fn create_state_machine(&self, record: StateMachineRecord) -> BoxFuture<'_, Result<()>> {
        self.run(Arc::new(record), |c, r, again| async move {
            ops::insert_state_machine(&c, &r, again).await
        })
    }

    fn update_state_machine(&self, record: StateMachineRecord) -> BoxFuture<'_, Result<()>> {
        self.run(Arc::new(record), |c, r, _| async move {
            ops::update_state_machine(&c, &r).await
        })
    }

    fn get_state_machine(&self, arn: &str) -> BoxFuture<'_, Result<Option<StateMachineRecord>>> {
        self.run(arn.to_owned(), |c, arn, _| async move {
            ops::get_state_machine(&c, &arn).await
        })
    }

    fn list_state_machines(
        &self,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<StateMachineRecord>>> {
        self.run(page, |c, page, _| async move {
            ops::list_state_machines(&c, &page).await
        })
    }

    fn delete_state_machine(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        self.run(arn.to_owned(), |mut c, arn, _| async move {
            ops::delete_state_machine(&mut c, &arn).await
        })
    }

    fn create_version(&self, record: VersionRecord) -> BoxFuture<'_, Result<()>> {
        self.run(Arc::new(record), |c, r, again| async move {
            ops::insert_version(&c, &r, again).await
        })
    }

    fn get_version(&self, arn: &str) -> BoxFuture<'_, Result<Option<VersionRecord>>> {
        self.run(arn.to_owned(), |c, arn, _| async move {
            ops::get_version(&c, &arn).await
        })
    }

    fn list_versions(
        &self,
        state_machine_arn: &str,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<VersionRecord>>> {
        self.run(
            (state_machine_arn.to_owned(), page),
            |c, (arn, page), _| async move { ops::list_versions(&c, &arn, &page).await },
        )
    }

    fn delete_version(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        self.run(arn.to_owned(), |c, arn, _| async move {
            ops::delete_by_arn(&c, "versions", &arn).await
        })
    }

    fn put_alias(&self, record: AliasRecord) -> BoxFuture<'_, Result<()>> {
        self.run(Arc::new(record), |c, r, _| async move {
            ops::put_alias(&c, &r).await
        })
    }

    fn get_alias(&self, arn: &str) -> BoxFuture<'_, Result<Option<AliasRecord>>> {
        self.run(arn.to_owned(), |c, arn, _| async move {
            ops::get_alias(&c, &arn).await
        })
    }

    fn list_aliases(
        &self,
        state_machine_arn: &str,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<AliasRecord>>> {
        self.run(
            (state_machine_arn.to_owned(), page),
            |c, (arn, page), _| async move { ops::list_aliases(&c, &arn, &page).await },
        )
    }

    fn delete_alias(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        self.run(arn.to_owned(), |c, arn, _| async move {
            ops::delete_by_arn(&c, "aliases", &arn).await
        })
    }

    fn put_definition(&self, id: &str, text: &str) -> BoxFuture<'_, Result<()>> {
        self.run(
            (id.to_owned(), Arc::new(text.to_owned())),
            |c, (id, text), _| async move { ops::put_definition(&c, &id, &text).await },
        )
    }

    fn get_definition(&self, id: &str) -> BoxFuture<'_, Result<Option<String>>> {
        self.run(id.to_owned(), |c, id, _| async move {
            ops::get_definition(&c, &id).await
        })
    }

    fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> BoxFuture<'_, Result<()>> {
        self.run((arn.to_owned(), tags), |c, (arn, tags), _| async move {
            ops::tag_resource(&c, &arn, &tags).await
        })
    }

    fn untag_resource(&self, arn: &str, keys: Vec<String>) -> BoxFuture<'_, Result<()>> {
        self.run((arn.to_owned(), keys), |c, (arn, keys), _| async move {
            ops::untag_resource(&c, &arn, &keys).await
        })
    }

    fn list_tags(&self, arn: &str) -> BoxFuture<'_, Result<Vec<Tag>>> {
        self.run(arn.to_owned(), |c, arn, _| async move {
            ops::list_tags(&c, &arn).await
        })
    }

    fn create_activity(&self, record: ActivityRecord) -> BoxFuture<'_, Result<()>> {
        self.run(Arc::new(record), |c, r, again| async move {
            ops::insert_activity(&c, &r, again).await
        })
    }

    fn get_activity(&self, arn: &str) -> BoxFuture<'_, Result<Option<ActivityRecord>>> {
        self.run(arn.to_owned(), |c, arn, _| async move {
            ops::get_activity(&c, &arn).await
        })
    }

    fn list_activities(&self, page: PageRequest) -> BoxFuture<'_, Result<Page<ActivityRecord>>> {
        self.run(page, |c, page, _| async move {
            ops::list_activities(&c, &page).await
        })
    }

    fn delete_activity(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        self.run(arn.to_owned(), |mut c, arn, _| async move {
            ops::delete_activity(&mut c, &arn).await
        })
    }

    fn commit(&self, commit: Commit) -> BoxFuture<'_, Result<()>> {
        self.commit_with(commit, CommitGuard::default())
    }

    fn get_execution(&self, arn: &str) -> BoxFuture<'_, Result<Option<ExecutionRecord>>> {
        self.run(arn.to_owned(), |c, arn, _| async move {
            ops::get_execution(&c, &arn).await
        })
    }

    fn list_executions(
        &self,
        filter: ExecutionFilter,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<ExecutionRecord>>> {
        self.run((filter, page), |c, (filter, page), _| async move {
            ops::list_executions(&c, &filter, &page).await
        })
    }

    fn get_history(
        &self,
        execution_arn: &str,
        query: HistoryQuery,
    ) -> BoxFuture<'_, Result<Vec<HistoryRecord>>> {
        self.run(execution_arn.to_owned(), move |c, arn, _| async move {
            ops::get_history(&c, &arn, &query).await
        })
    }

    fn get_inbox(&self, execution_arn: &str) -> BoxFuture<'_, Result<Vec<InboxRecord>>> {
        self.run(execution_arn.to_owned(), |c, arn, _| async move {
            ops::get_inbox(&c, &arn).await
        })
    }

    fn timers_between(
        &self,
        after_ms: Millis,
        until_ms: Millis,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TimerRecord>>> {
        self.run((), move |c, (), _| async move {
            ops::timers_between(&c, after_ms, until_ms, limit).await
        })
    }

    fn get_task(&self, token: &str) -> BoxFuture<'_, Result<Option<TaskRecord>>> {
        self.run(token.to_owned(), |c, token, _| async move {
            ops::get_task(&c, &token).await
        })
    }

    fn activity_queue(
        &self,
        activity_arn: &str,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TaskRecord>>> {
        self.run(activity_arn.to_owned(), move |c, arn, _| async move {
            ops::activity_queue(&c, &arn, limit).await
        })
    }

    fn tasks_to_dispatch(&self, page: PageRequest) -> BoxFuture<'_, Result<Page<TaskRecord>>> {
        self.run(page, |c, page, _| async move {
            ops::tasks_to_dispatch(&c, &page).await
        })
    }
}
