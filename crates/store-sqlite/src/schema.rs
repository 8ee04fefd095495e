//! The SQLite schema and its migrations.
//!
//! `schema_version` holds one row with the version the database is at. Opening runs every
//! migration above it, each in its own transaction, and refuses a database whose version is
//! newer than [`SCHEMA_VERSION`] (written by a newer Baton). Migrations are append-only: never
//! edit a released one, add the next.

use baton_store::{Error, Result};
use rusqlite::{Connection, OptionalExtension};

use crate::backend;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    CREATE TABLE state_machines (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        definition TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        revision_id TEXT NOT NULL,
        description TEXT NOT NULL,
        attributes TEXT NOT NULL,
        next_version INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX state_machines_by_time ON state_machines (created_ms, arn);

    CREATE TABLE versions (
        arn TEXT PRIMARY KEY,
        state_machine_arn TEXT NOT NULL,
        version INTEGER NOT NULL,
        definition TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        description TEXT NOT NULL,
        attributes TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX versions_by_machine ON versions (state_machine_arn, version);

    CREATE TABLE aliases (
        arn TEXT PRIMARY KEY,
        state_machine_arn TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        routes TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX aliases_by_machine ON aliases (state_machine_arn, name);

    CREATE TABLE definitions (
        id TEXT PRIMARY KEY,
        text TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE tags (
        resource_arn TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (resource_arn, key)
    ) WITHOUT ROWID;

    CREATE TABLE activities (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX activities_by_time ON activities (created_ms, arn);

    CREATE TABLE executions (
        id INTEGER PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        state_machine_arn TEXT NOT NULL,
        version_arn TEXT,
        alias_arn TEXT,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        definition_id TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        stop_ms INTEGER,
        output TEXT,
        error TEXT,
        cause TEXT,
        redrive_count INTEGER NOT NULL,
        redrive_ms INTEGER
    );
    CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_ms, arn);
    CREATE INDEX executions_by_time ON executions (start_ms, arn);

    CREATE TABLE history (
        execution_id INTEGER NOT NULL,
        id INTEGER NOT NULL,
        previous_event_id INTEGER NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        type TEXT NOT NULL,
        details TEXT NOT NULL,
        PRIMARY KEY (execution_id, id)
    ) WITHOUT ROWID;

    CREATE TABLE inbox (
        execution_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        now_ms INTEGER NOT NULL,
        entropy BLOB NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (execution_id, seq)
    ) WITHOUT ROWID;

    CREATE TABLE timers (
        execution_id INTEGER NOT NULL,
        timer_id INTEGER NOT NULL,
        due_ms INTEGER NOT NULL,
        PRIMARY KEY (execution_id, timer_id)
    ) WITHOUT ROWID;
    CREATE INDEX timers_by_due ON timers (due_ms, execution_id, timer_id);

    CREATE TABLE tasks (
        seq INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        execution_id INTEGER NOT NULL,
        task_id INTEGER NOT NULL,
        state_name TEXT NOT NULL,
        resource TEXT NOT NULL,
        activity_arn TEXT,
        input TEXT NOT NULL,
        state TEXT NOT NULL,
        worker_name TEXT,
        created_ms INTEGER NOT NULL,
        UNIQUE (execution_id, task_id)
    );
    CREATE INDEX tasks_queue ON tasks (activity_arn, seq) WHERE state = 'SCHEDULED';
    CREATE INDEX tasks_to_dispatch ON tasks (seq) WHERE state = 'SCHEDULED' AND activity_arn IS NULL;
    "#,
];

/// Brings the database to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(backend)?;
    let current: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
        .optional()
        .map_err(backend)?
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(Error::Backend(format!(
            "the database schema is at version {current}, newer than this Baton supports ({SCHEMA_VERSION}); upgrade Baton"
        )));
    }
    for version in current..SCHEMA_VERSION {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(MIGRATIONS[version as usize])
            .map_err(backend)?;
        tx.execute("DELETE FROM schema_version", [])
            .map_err(backend)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [version + 1],
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(())
}
