//! The SQLite implementation of Baton's [`Store`]: the embedded default.
//!
//! One dedicated writer thread owns the only writing connection and does *group commit*: it
//! takes every write waiting in its queue (up to [`Options::max_batch`]), runs each inside its
//! own savepoint (so a refused write, such as a fencing conflict, rolls back alone), commits
//! the batch as one transaction and only then acknowledges each write. Reads go to a few reader
//! threads with their own connections; in WAL mode they never block the writer and see every
//! acknowledged write.
//!
//! The schema is versioned (`schema_version` table, migrations in `schema.rs`); opening a
//! database written by a newer Baton is refused.

mod ops;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use baton_store::{
    ActivityRecord, AliasRecord, BoxFuture, Commit, Error, ExecutionFilter, ExecutionRecord,
    HistoryQuery, HistoryRecord, InboxRecord, Millis, Page, PageRequest, Result,
    StateMachineRecord, Store, Tag, TaskRecord, TimerRecord, VersionRecord,
};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

pub use schema::SCHEMA_VERSION;

/// How the database is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// `synchronous=FULL` instead of `NORMAL` (NORMAL in WAL mode loses no committed data on
    /// a process crash; FULL also survives power loss).
    pub full_sync: bool,
    /// Reader threads.
    pub readers: usize,
    /// The most writes committed in one transaction.
    pub max_batch: usize,
    /// Page size of a new database (a power of two from 512 to 65536). Each group commit
    /// writes every page it touched, and the commits of a batch touch many executions' rows,
    /// so smaller pages write fewer bytes; on the shared 2-core test machine 1024 and 2048
    /// were 0-45% faster than 4096 in the runtime's `throughput` example, too noisy to change
    /// SQLite's default.
    pub page_size: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            full_sync: false,
            readers: 2,
            max_batch: 256,
            page_size: 4096,
        }
    }
}

/// A [`Store`] in one SQLite file.
pub struct SqliteStore {
    stats: Arc<WriterStats>,
    /// Dropping it ends the checkpoint thread.
    _stop_checkpoints: mpsc::Sender<()>,
    writer: Mutex<mpsc::Sender<Box<dyn WriteJob>>>,
    readers: Mutex<mpsc::Sender<ReadJob>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct WriterStats {
    batches: AtomicU64,
    writes: AtomicU64,
}

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// A write waiting for the writer thread.
trait WriteJob: Send {
    /// Runs inside the batch's transaction; `false` if it failed (its savepoint is rolled back).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Acknowledges after the batch committed (or failed to).
    fn finish(self: Box<Self>, committed: Result<()>);
}

struct Job<T, F> {
    work: Option<F>,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T: Send, F: FnOnce(&Connection) -> Result<T> + Send> WriteJob for Job<T, F> {
    fn run(&mut self, conn: &Connection) -> bool {
        let outcome = match self.work.take() {
            Some(work) => work(conn),
            None => Err(Error::Backend("write job ran twice".to_owned())),
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<()>) {
        let result = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(Error::Backend("write job never ran".to_owned())),
            // The batch did not commit: whatever this write did is gone.
            (Err(error), _) => Err(error),
        };
        let _ = self.reply.send(result);
    }
}

pub(crate) fn backend(error: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(code, message) = &error
        && code.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return Error::AlreadyExists(message.clone().unwrap_or_else(|| error.to_string()));
    }
    Error::Backend(error.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with default options.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        SqliteStore::open_with(path, Options::default())
    }

    /// Opens (creating if needed) the database at `path`.
    pub fn open_with(path: &Path, options: Options) -> Result<SqliteStore> {
        let mut conn = Connection::open(path).map_err(backend)?;
        // Only a new database takes a page size (WAL mode fixes it once tables exist).
        conn.pragma_update(None, "page_size", i64::from(options.page_size))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(
            None,
            "synchronous",
            if options.full_sync { "FULL" } else { "NORMAL" },
        )
        .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        schema::migrate(&mut conn)?;
        // A page cache big enough for the hot part of the tables: the writer touches the
        // leaves of many executions per batch, and the default 2 MB makes it re-read them.
        conn.pragma_update(None, "cache_size", -16_384)
            .map_err(backend)?;
        // Each write runs in a savepoint, whose journal of original pages would otherwise go
        // to a temporary file once it outgrows 64 KB.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(backend)?;
        // Checkpoints copy the WAL back into the database file; done inline they stall the
        // commit that triggers them, so a separate thread does them instead.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(backend)?;
        let checkpoints = Connection::open(path).map_err(backend)?;
        checkpoints
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        let (stop_checkpoints, checkpoint_ticks) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("baton-sqlite-checkpoint".to_owned())
            .spawn(move || checkpoint_loop(checkpoints, checkpoint_ticks))
            .map_err(|e| Error::Backend(format!("cannot start the checkpoint thread: {e}")))?;

        let (write_tx, write_rx) = mpsc::channel::<Box<dyn WriteJob>>();
        let stats = Arc::new(WriterStats::default());
        let max_batch = options.max_batch.max(1);
        thread::Builder::new()
            .name("baton-sqlite-writer".to_owned())
            .spawn({
                let stats = Arc::clone(&stats);
                move || writer_loop(conn, write_rx, max_batch, stats)
            })
            .map_err(|e| Error::Backend(format!("cannot start the writer thread: {e}")))?;

        let (read_tx, read_rx) = mpsc::channel::<ReadJob>();
        let read_rx = Arc::new(Mutex::new(read_rx));
        for index in 0..options.readers.max(1) {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(backend)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(backend)?;
            let read_rx = Arc::clone(&read_rx);
            thread::Builder::new()
                .name(format!("baton-sqlite-reader-{index}"))
                .spawn(move || reader_loop(conn, read_rx))
                .map_err(|e| Error::Backend(format!("cannot start a reader thread: {e}")))?;
        }
        Ok(SqliteStore {
            stats,
            _stop_checkpoints: stop_checkpoints,
            writer: Mutex::new(write_tx),
            readers: Mutex::new(read_tx),
            path: path.to_owned(),
        })
    }

    /// Transactions committed by the writer and writes they carried (their ratio is the mean
    /// group-commit batch size).
    pub fn write_stats(&self) -> (u64, u64) {
        (
            self.stats.batches.load(Ordering::Relaxed),
            self.stats.writes.load(Ordering::Relaxed),
        )
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write<T, F>(&self, work: F) -> BoxFuture<'_, Result<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, receiver) = oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(Job {
            work: Some(work),
            outcome: None,
            reply,
        });
        let sent = self
            .writer
            .lock()
            .map(|sender| sender.send(job).is_ok())
            .unwrap_or(false);
        Box::pin(async move {
            if !sent {
                return Err(Error::Closed);
            }
            receiver.await.unwrap_or(Err(Error::Closed))
        })
    }

    fn read<T, F>(&self, work: F) -> BoxFuture<'_, Result<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, receiver) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = reply.send(work(conn));
        });
        let sent = self
            .readers
            .lock()
            .map(|sender| sender.send(job).is_ok())
            .unwrap_or(false);
        Box::pin(async move {
            if !sent {
                return Err(Error::Closed);
            }
            receiver.await.unwrap_or(Err(Error::Closed))
        })
    }
}

fn writer_loop(
    conn: Connection,
    jobs: mpsc::Receiver<Box<dyn WriteJob>>,
    max_batch: usize,
    stats: Arc<WriterStats>,
) {
    // Ends when every sender (the store) is gone.
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = run_batch(&conn, &mut batch);
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats
            .writes
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        for job in batch {
            job.finish(committed.clone());
        }
    }
}

fn run_batch(conn: &Connection, batch: &mut [Box<dyn WriteJob>]) -> Result<()> {
    let run = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map_err(backend)
    };
    run("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        let step = (|| -> Result<()> {
            run("SAVEPOINT job")?;
            if !job.run(conn) {
                run("ROLLBACK TO job")?;
            }
            run("RELEASE job").map(|_| ())
        })();
        if let Err(error) = step {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(error);
        }
    }
    if let Err(error) = run("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(error);
    }
    Ok(())
}

/// Checkpoints the WAL every 100 ms (a passive checkpoint never blocks the writer or readers)
/// until the store is dropped.
fn checkpoint_loop(conn: Connection, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) =
        stop.recv_timeout(std::time::Duration::from_millis(100))
    {
        // A failed checkpoint is retried on the next tick; the WAL only grows meanwhile.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
}

fn reader_loop(conn: Connection, jobs: Arc<Mutex<mpsc::Receiver<ReadJob>>>) {
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&conn),
            Err(_) => return,
        }
    }
}

impl Store for SqliteStore {
    fn create_state_machine(&self, record: StateMachineRecord) -> BoxFuture<'_, Result<()>> {
        self.write(move |conn| ops::insert_state_machine(conn, &record))
    }

    fn update_state_machine(&self, record: StateMachineRecord) -> BoxFuture<'_, Result<()>> {
        self.write(move |conn| ops::update_state_machine(conn, &record))
    }

    fn get_state_machine(&self, arn: &str) -> BoxFuture<'_, Result<Option<StateMachineRecord>>> {
        let arn = arn.to_owned();
        self.read(move |conn| ops::get_state_machine(conn, &arn))
    }

    fn list_state_machines(
        &self,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<StateMachineRecord>>> {
        self.read(move |conn| ops::list_state_machines(conn, &page))
    }

    fn delete_state_machine(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        let arn = arn.to_owned();
        self.write(move |conn| ops::delete_state_machine(conn, &arn))
    }

    fn create_version(&self, record: VersionRecord) -> BoxFuture<'_, Result<()>> {
        self.write(move |conn| ops::insert_version(conn, &record))
    }

    fn get_version(&self, arn: &str) -> BoxFuture<'_, Result<Option<VersionRecord>>> {
        let arn = arn.to_owned();
        self.read(move |conn| ops::get_version(conn, &arn))
    }

    fn list_versions(
        &self,
        state_machine_arn: &str,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<VersionRecord>>> {
        let arn = state_machine_arn.to_owned();
        self.read(move |conn| ops::list_versions(conn, &arn, &page))
    }

    fn delete_version(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        let arn = arn.to_owned();
        self.write(move |conn| ops::delete_by_arn(conn, "versions", &arn))
    }

    fn put_alias(&self, record: AliasRecord) -> BoxFuture<'_, Result<()>> {
        self.write(move |conn| ops::put_alias(conn, &record))
    }

    fn get_alias(&self, arn: &str) -> BoxFuture<'_, Result<Option<AliasRecord>>> {
        let arn = arn.to_owned();
        self.read(move |conn| ops::get_alias(conn, &arn))
    }

    fn list_aliases(
        &self,
        state_machine_arn: &str,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<AliasRecord>>> {
        let arn = state_machine_arn.to_owned();
        self.read(move |conn| ops::list_aliases(conn, &arn, &page))
    }

    fn delete_alias(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        let arn = arn.to_owned();
        self.write(move |conn| ops::delete_by_arn(conn, "aliases", &arn))
    }

    fn put_definition(&self, id: &str, text: &str) -> BoxFuture<'_, Result<()>> {
        let (id, text) = (id.to_owned(), text.to_owned());
        self.write(move |conn| ops::put_definition(conn, &id, &text))
    }

    fn get_definition(&self, id: &str) -> BoxFuture<'_, Result<Option<String>>> {
        let id = id.to_owned();
        self.read(move |conn| ops::get_definition(conn, &id))
    }

    fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> BoxFuture<'_, Result<()>> {
        let arn = arn.to_owned();
        self.write(move |conn| ops::tag_resource(conn, &arn, &tags))
    }

    fn untag_resource(&self, arn: &str, keys: Vec<String>) -> BoxFuture<'_, Result<()>> {
        let arn = arn.to_owned();
        self.write(move |conn| ops::untag_resource(conn, &arn, &keys))
    }

    fn list_tags(&self, arn: &str) -> BoxFuture<'_, Result<Vec<Tag>>> {
        let arn = arn.to_owned();
        self.read(move |conn| ops::list_tags(conn, &arn))
    }

    fn create_activity(&self, record: ActivityRecord) -> BoxFuture<'_, Result<()>> {
        self.write(move |conn| ops::insert_activity(conn, &record))
    }

    fn get_activity(&self, arn: &str) -> BoxFuture<'_, Result<Option<ActivityRecord>>> {
        let arn = arn.to_owned();
        self.read(move |conn| ops::get_activity(conn, &arn))
    }

    fn list_activities(&self, page: PageRequest) -> BoxFuture<'_, Result<Page<ActivityRecord>>> {
        self.read(move |conn| ops::list_activities(conn, &page))
    }

    fn delete_activity(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        let arn = arn.to_owned();
        self.write(move |conn| ops::delete_activity(conn, &arn))
    }

    fn commit(&self, commit: Commit) -> BoxFuture<'_, Result<()>> {
        self.write(move |conn| ops::commit(conn, &commit))
    }

    fn get_execution(&self, arn: &str) -> BoxFuture<'_, Result<Option<ExecutionRecord>>> {
        let arn = arn.to_owned();
        self.read(move |conn| ops::get_execution(conn, &arn))
    }

    fn list_executions(
        &self,
        filter: ExecutionFilter,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<ExecutionRecord>>> {
        self.read(move |conn| ops::list_executions(conn, &filter, &page))
    }

    fn get_history(
        &self,
        execution_arn: &str,
        query: HistoryQuery,
    ) -> BoxFuture<'_, Result<Vec<HistoryRecord>>> {
        let arn = execution_arn.to_owned();
        self.read(move |conn| ops::get_history(conn, &arn, &query))
    }

    fn get_inbox(&self, execution_arn: &str) -> BoxFuture<'_, Result<Vec<InboxRecord>>> {
        let arn = execution_arn.to_owned();
        self.read(move |conn| ops::get_inbox(conn, &arn))
    }

    fn timers_between(
        &self,
        after_ms: Millis,
        until_ms: Millis,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TimerRecord>>> {
        self.read(move |conn| ops::timers_between(conn, after_ms, until_ms, limit))
    }

    fn get_task(&self, token: &str) -> BoxFuture<'_, Result<Option<TaskRecord>>> {
        let token = token.to_owned();
        self.read(move |conn| ops::get_task(conn, &token))
    }

    fn activity_queue(
        &self,
        activity_arn: &str,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TaskRecord>>> {
        let arn = activity_arn.to_owned();
        self.read(move |conn| ops::activity_queue(conn, &arn, limit))
    }

    fn tasks_to_dispatch(&self, page: PageRequest) -> BoxFuture<'_, Result<Page<TaskRecord>>> {
        self.read(move |conn| ops::tasks_to_dispatch(conn, &page))
    }
}
