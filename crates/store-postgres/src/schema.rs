//! The PostgreSQL schema and its migrations.
//!
//! `schema_version` holds one row with the version the schema is at. Opening takes a
//! transaction-scoped advisory lock (so nodes starting together migrate one at a time), runs
//! every migration above the stored version and records the new version, all in one
//! transaction: a failed migration leaves the schema as it was. A schema whose version is newer
//! than [`SCHEMA_VERSION`] (written by a newer Baton) is refused. Migrations are append-only:
//! never edit a released one, add the next.
//!
//! Text columns that are compared or ordered (ARNs, names, tag keys) use the `C` collation, so
//! the order is byte order, the same as the other backends, whatever the database's locale.

use baton_store::Error;
use deadpool_postgres::Object;

use crate::Fault;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the store contract.
    r#"
    CREATE TABLE state_machines (
        arn text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        kind text NOT NULL,
        definition text NOT NULL,
        role_arn text NOT NULL,
        created_ms bigint NOT NULL,
        revision_id text NOT NULL,
        description text NOT NULL,
        attributes text NOT NULL,
        next_version bigint NOT NULL
    );
    CREATE INDEX state_machines_by_time ON state_machines (created_ms, arn);

    CREATE TABLE versions (
        arn text COLLATE "C" PRIMARY KEY,
        state_machine_arn text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        definition text NOT NULL,
        role_arn text NOT NULL,
        revision_id text NOT NULL,
        description text NOT NULL,
        attributes text NOT NULL,
        created_ms bigint NOT NULL
    );
    CREATE INDEX versions_by_machine ON versions (state_machine_arn, version);

    CREATE TABLE aliases (
        arn text COLLATE "C" PRIMARY KEY,
        state_machine_arn text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        description text NOT NULL,
        routes text NOT NULL,
        created_ms bigint NOT NULL,
        updated_ms bigint NOT NULL
    );
    CREATE INDEX aliases_by_machine ON aliases (state_machine_arn, name);

    CREATE TABLE definitions (
        id text COLLATE "C" PRIMARY KEY,
        text text NOT NULL
    );

    CREATE TABLE tags (
        resource_arn text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (resource_arn, key)
    );

    CREATE TABLE activities (
        arn text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        created_ms bigint NOT NULL
    );
    CREATE INDEX activities_by_time ON activities (created_ms, arn);

    CREATE TABLE executions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        arn text COLLATE "C" NOT NULL UNIQUE,
        state_machine_arn text COLLATE "C" NOT NULL,
        version_arn text COLLATE "C",
        alias_arn text COLLATE "C",
        name text NOT NULL,
        kind text NOT NULL,
        definition_id text NOT NULL,
        role_arn text NOT NULL,
        input text NOT NULL,
        status text NOT NULL,
        start_ms bigint NOT NULL,
        stop_ms bigint,
        output text,
        error text,
        cause text,
        redrive_count bigint NOT NULL,
        redrive_ms bigint,
        seq bigint NOT NULL
    );
    CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_ms, arn);
    CREATE INDEX executions_by_time ON executions (start_ms, arn);

    CREATE TABLE history (
        execution_id bigint NOT NULL,
        id bigint NOT NULL,
        previous_event_id bigint NOT NULL,
        timestamp_ms bigint NOT NULL,
        type text NOT NULL,
        details text NOT NULL,
        PRIMARY KEY (execution_id, id)
    );

    CREATE TABLE inbox (
        execution_id bigint NOT NULL,
        seq bigint NOT NULL,
        now_ms bigint NOT NULL,
        entropy bytea NOT NULL,
        event text NOT NULL,
        PRIMARY KEY (execution_id, seq)
    );

    CREATE TABLE timers (
        execution_id bigint NOT NULL,
        timer_id bigint NOT NULL,
        due_ms bigint NOT NULL,
        PRIMARY KEY (execution_id, timer_id)
    );
    CREATE INDEX timers_by_due ON timers (due_ms, execution_id, timer_id);

    CREATE TABLE tasks (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        token text COLLATE "C" NOT NULL UNIQUE,
        execution_id bigint NOT NULL,
        task_id bigint NOT NULL,
        state_name text NOT NULL,
        resource text NOT NULL,
        activity_arn text COLLATE "C",
        input text NOT NULL,
        state text NOT NULL,
        worker_name text,
        created_ms bigint NOT NULL,
        UNIQUE (execution_id, task_id)
    );
    CREATE INDEX tasks_queue ON tasks (activity_arn, seq) WHERE state = 'SCHEDULED';
    CREATE INDEX tasks_to_dispatch ON tasks (seq) WHERE state = 'SCHEDULED' AND activity_arn IS NULL;
    "#,
    // 2: several nodes on one database (see docs/design.md, "PostgreSQL and several nodes").
    r#"
    CREATE TABLE nodes (
        node_id text COLLATE "C" PRIMARY KEY,
        started_ms bigint NOT NULL,
        expires_ms bigint NOT NULL
    );

    ALTER TABLE executions ADD COLUMN owner_node text COLLATE "C";
    CREATE INDEX executions_by_owner ON executions (owner_node) WHERE owner_node IS NOT NULL;

    ALTER TABLE timers ADD COLUMN claimed_by text COLLATE "C";
    ALTER TABLE timers ADD COLUMN claim_expires_ms bigint;

    CREATE TABLE mailbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        execution_id bigint NOT NULL,
        event text NOT NULL,
        created_ms bigint NOT NULL
    );
    CREATE INDEX mailbox_by_execution ON mailbox (execution_id, id);
    "#,
];

/// Brings the schema to [`SCHEMA_VERSION`], creating `schema` first when given.
pub(crate) async fn migrate(client: &mut Object, schema: Option<&str>) -> Result<(), Fault> {
    if let Some(schema) = schema {
        // `schema` was checked to be a plain identifier when the store was opened. Two nodes
        // may race here; CREATE SCHEMA IF NOT EXISTS can still fail on the loser, so retry once.
        let sql = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
        if client.batch_execute(&sql).await.is_err() {
            client.batch_execute(&sql).await?;
        }
    }
    let tx = client.transaction().await?;
    // One lock per schema: the key is derived from the schema's name.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('baton-migrate:' || current_schema()))",
        &[],
    )
    .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
        .await?;
    let current: i64 = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await?
        .map(|row| row.get(0))
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(Fault::Store(Error::Backend(format!(
            "the database schema is at version {current}, newer than this Baton supports ({SCHEMA_VERSION}); upgrade Baton"
        ))));
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    for migration in &MIGRATIONS[current as usize..] {
        tx.batch_execute(migration).await?;
    }
    tx.execute("DELETE FROM schema_version", &[]).await?;
    tx.execute(
        "INSERT INTO schema_version (version) VALUES ($1)",
        &[&SCHEMA_VERSION],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
