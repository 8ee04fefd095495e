//! The SQL behind each store operation. Every function is one attempt: the caller
//! (`PgStore::retry`) retries connection errors, so each function must be safe to run again
//! after a failure (reads and upserts are; inserts check whether an earlier attempt already
//! applied them when told it may have).

use baton_store::{
    ActivityRecord, AliasRecord, AliasRoute, Commit, Error, ExecutionFilter, ExecutionRecord,
    ExecutionStatus, HistoryQuery, HistoryRecord, InboxRecord, MachineType, Millis, Page,
    PageRequest, StateMachineRecord, Tag, TaskRecord, TaskState, TimerRecord, VersionRecord,
};
use deadpool_postgres::{GenericClient, Object};
use serde_json::{Value, json};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::Fault;
use crate::work::CommitGuard;
use baton_store::cluster::Wakeup;

pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

pub(crate) async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<Vec<Row>, Fault> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query(&statement, params).await?)
}

pub(crate) async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<Option<Row>, Fault> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&statement, params).await?)
}

pub(crate) async fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &Params<'_>,
) -> Result<u64, Fault> {
    let statement = c.prepare_cached(sql).await?;
    Ok(c.execute(&statement, params).await?)
}

fn corrupt(what: &str, text: &str) -> Fault {
    Fault::Store(Error::Corrupt(format!("unknown {what} {text:?}")))
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn limit_plus_one(page: &PageRequest) -> i64 {
    to_i64(page.limit.max(1) as u64 + 1)
}

/// Cuts the extra row a query fetched to learn whether there is a next page.
fn finish_page<T>(mut items: Vec<T>, page: &PageRequest, cursor: impl Fn(&T) -> String) -> Page<T> {
    let limit = page.limit.max(1);
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more { items.last().map(cursor) } else { None };
    Page { items, next }
}

fn invalid_cursor(text: &str) -> Fault {
    Fault::Store(Error::Corrupt(format!("invalid page cursor {text:?}")))
}

fn time_cursor(text: &str) -> Result<(Millis, String), Fault> {
    let (ms, arn) = text.split_once('|').ok_or_else(|| invalid_cursor(text))?;
    Ok((
        ms.parse().map_err(|_| invalid_cursor(text))?,
        arn.to_owned(),
    ))
}

fn number_cursor(text: &str) -> Result<i64, Fault> {
    text.parse().map_err(|_| invalid_cursor(text))
}

/// After an attempt that may have applied, an `AlreadyExists` for a record equal to ours means
/// the earlier attempt did it.
fn settle_insert<T: PartialEq>(
    outcome: Result<u64, Fault>,
    may_have_applied: bool,
    ours: &T,
    stored: Option<T>,
    arn: &str,
) -> Result<(), Fault> {
    match outcome {
        Ok(_) => Ok(()),
        Err(Fault::Db(error)) if crate::db_error_is_unique(&error) => {
            if may_have_applied && stored.as_ref() == Some(ours) {
                Ok(())
            } else {
                Err(Fault::Store(Error::AlreadyExists(arn.to_owned())))
            }
        }
        Err(other) => Err(other),
    }
}

// ---------------------------------------------------------------- state machines

const MACHINE_COLUMNS: &str = "arn, name, kind, definition, role_arn, created_ms, revision_id, description, attributes, next_version";

fn machine_from(row: &Row) -> Result<StateMachineRecord, Fault> {
    let kind: String = row.get(2);
    Ok(StateMachineRecord {
        arn: row.get(0),
        name: row.get(1),
        kind: MachineType::parse(&kind).ok_or_else(|| corrupt("machine type", &kind))?,
        definition: row.get(3),
        role_arn: row.get(4),
        created_ms: row.get(5),
        revision_id: row.get(6),
        description: row.get(7),
        attributes: row.get(8),
        next_version: to_u64(row.get(9)),
    })
}

pub(crate) async fn insert_state_machine(
    c: &Object,
    r: &StateMachineRecord,
    may_have_applied: bool,
) -> Result<(), Fault> {
    let sql = format!(
        "INSERT INTO state_machines ({MACHINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    let outcome = execute(
        c,
        &sql,
        &[
            &r.arn,
            &r.name,
            &r.kind.as_str(),
            &r.definition,
            &r.role_arn,
            &r.created_ms,
            &r.revision_id,
            &r.description,
            &r.attributes,
            &to_i64(r.next_version),
        ],
    )
    .await;
    let stored = if outcome.is_err() && may_have_applied {
        get_state_machine(c, &r.arn).await?
    } else {
        None
    };
    settle_insert(outcome, may_have_applied, r, stored, &r.arn)
}

pub(crate) async fn update_state_machine(c: &Object, r: &StateMachineRecord) -> Result<(), Fault> {
    let changed = execute(
        c,
        "UPDATE state_machines SET name = $2, kind = $3, definition = $4, role_arn = $5, created_ms = $6,
         revision_id = $7, description = $8, attributes = $9, next_version = $10 WHERE arn = $1",
        &[
            &r.arn,
            &r.name,
            &r.kind.as_str(),
            &r.definition,
            &r.role_arn,
            &r.created_ms,
            &r.revision_id,
            &r.description,
            &r.attributes,
            &to_i64(r.next_version),
        ],
    )
    .await?;
    if changed == 0 {
        return Err(Fault::Store(Error::NotFound(r.arn.clone())));
    }
    Ok(())
}

pub(crate) async fn get_state_machine(
    c: &Object,
    arn: &str,
) -> Result<Option<StateMachineRecord>, Fault> {
    let sql = format!("SELECT {MACHINE_COLUMNS} FROM state_machines WHERE arn = $1");
    query_opt(c, &sql, &[&arn])
        .await?
        .map(|row| machine_from(&row))
        .transpose()
}

pub(crate) async fn list_state_machines(
    c: &Object,
    page: &PageRequest,
) -> Result<Page<StateMachineRecord>, Fault> {
    let (after_ms, after_arn) = match &page.after {
        Some(cursor) => time_cursor(cursor)?,
        None => (Millis::MIN, String::new()),
    };
    let sql = format!(
        "SELECT {MACHINE_COLUMNS} FROM state_machines WHERE (created_ms, arn) > ($1, $2)
         ORDER BY created_ms, arn LIMIT $3"
    );
    let rows = query(c, &sql, &[&after_ms, &after_arn, &limit_plus_one(page)]).await?;
    let items = rows
        .iter()
        .map(machine_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(finish_page(items, page, |m| {
        format!("{}|{}", m.created_ms, m.arn)
    }))
}

pub(crate) async fn delete_state_machine(c: &mut Object, arn: &str) -> Result<bool, Fault> {
    let tx = c.transaction().await?;
    let existed = execute(&tx, "DELETE FROM state_machines WHERE arn = $1", &[&arn]).await? > 0;
    execute(
        &tx,
        "DELETE FROM versions WHERE state_machine_arn = $1",
        &[&arn],
    )
    .await?;
    execute(
        &tx,
        "DELETE FROM aliases WHERE state_machine_arn = $1",
        &[&arn],
    )
    .await?;
    execute(&tx, "DELETE FROM tags WHERE resource_arn = $1", &[&arn]).await?;
    tx.commit().await?;
    Ok(existed)
}

pub(crate) async fn delete_by_arn(c: &Object, table: &str, arn: &str) -> Result<bool, Fault> {
    let sql = format!("DELETE FROM {table} WHERE arn = $1");
    Ok(execute(c, &sql, &[&arn]).await? > 0)
}

// ---------------------------------------------------------------- versions and aliases

const VERSION_COLUMNS: &str = "arn, state_machine_arn, version, definition, role_arn, revision_id, description, attributes, created_ms";

fn version_from(row: &Row) -> VersionRecord {
    VersionRecord {
        arn: row.get(0),
        state_machine_arn: row.get(1),
        version: to_u64(row.get(2)),
        definition: row.get(3),
        role_arn: row.get(4),
        revision_id: row.get(5),
        description: row.get(6),
        attributes: row.get(7),
        created_ms: row.get(8),
    }
}

pub(crate) async fn insert_version(
    c: &Object,
    r: &VersionRecord,
    may_have_applied: bool,
) -> Result<(), Fault> {
    let sql = format!(
        "INSERT INTO versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    );
    let outcome = execute(
        c,
        &sql,
        &[
            &r.arn,
            &r.state_machine_arn,
            &to_i64(r.version),
            &r.definition,
            &r.role_arn,
            &r.revision_id,
            &r.description,
            &r.attributes,
            &r.created_ms,
        ],
    )
    .await;
    let stored = if outcome.is_err() && may_have_applied {
        get_version(c, &r.arn).await?
    } else {
        None
    };
    settle_insert(outcome, may_have_applied, r, stored, &r.arn)
}

pub(crate) async fn get_version(c: &Object, arn: &str) -> Result<Option<VersionRecord>, Fault> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM versions WHERE arn = $1");
    Ok(query_opt(c, &sql, &[&arn])
        .await?
        .map(|row| version_from(&row)))
}

pub(crate) async fn list_versions(
    c: &Object,
    machine: &str,
    page: &PageRequest,
) -> Result<Page<VersionRecord>, Fault> {
    let before = match &page.after {
        Some(cursor) => number_cursor(cursor)?,
        None => i64::MAX,
    };
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM versions WHERE state_machine_arn = $1 AND version < $2
         ORDER BY version DESC LIMIT $3"
    );
    let rows = query(c, &sql, &[&machine, &before, &limit_plus_one(page)]).await?;
    let items = rows.iter().map(version_from).collect();
    Ok(finish_page(items, page, |v| v.version.to_string()))
}

const ALIAS_COLUMNS: &str =
    "arn, state_machine_arn, name, description, routes, created_ms, updated_ms";

fn alias_from(row: &Row) -> Result<AliasRecord, Fault> {
    let routes: String = row.get(4);
    let parsed: Value =
        serde_json::from_str(&routes).map_err(|_| corrupt("alias routes", &routes))?;
    let list = parsed
        .as_array()
        .ok_or_else(|| corrupt("alias routes", &routes))?;
    let mut record = AliasRecord {
        arn: row.get(0),
        state_machine_arn: row.get(1),
        name: row.get(2),
        description: row.get(3),
        routes: Vec::with_capacity(list.len()),
        created_ms: row.get(5),
        updated_ms: row.get(6),
    };
    for route in list {
        let version_arn = route["version"]
            .as_str()
            .ok_or_else(|| corrupt("alias route", &routes))?;
        let weight = route["weight"]
            .as_u64()
            .and_then(|w| u32::try_from(w).ok())
            .ok_or_else(|| corrupt("alias route", &routes))?;
        record.routes.push(AliasRoute {
            version_arn: version_arn.to_owned(),
            weight,
        });
    }
    Ok(record)
}

pub(crate) async fn put_alias(c: &Object, r: &AliasRecord) -> Result<(), Fault> {
    let routes: Vec<Value> = r
        .routes
        .iter()
        .map(|route| json!({"version": route.version_arn, "weight": route.weight}))
        .collect();
    let routes = Value::Array(routes).to_string();
    let sql = format!(
        "INSERT INTO aliases ({ALIAS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (arn) DO UPDATE SET state_machine_arn = EXCLUDED.state_machine_arn,
         name = EXCLUDED.name, description = EXCLUDED.description, routes = EXCLUDED.routes,
         created_ms = EXCLUDED.created_ms, updated_ms = EXCLUDED.updated_ms"
    );
    execute(
        c,
        &sql,
        &[
            &r.arn,
            &r.state_machine_arn,
            &r.name,
            &r.description,
            &routes,
            &r.created_ms,
            &r.updated_ms,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn get_alias(c: &Object, arn: &str) -> Result<Option<AliasRecord>, Fault> {
    let sql = format!("SELECT {ALIAS_COLUMNS} FROM aliases WHERE arn = $1");
    query_opt(c, &sql, &[&arn])
        .await?
        .map(|row| alias_from(&row))
        .transpose()
}

pub(crate) async fn list_aliases(
    c: &Object,
    machine: &str,
    page: &PageRequest,
) -> Result<Page<AliasRecord>, Fault> {
    let after = page.after.clone().unwrap_or_default();
    let sql = format!(
        "SELECT {ALIAS_COLUMNS} FROM aliases WHERE state_machine_arn = $1 AND name > $2 ORDER BY name LIMIT $3"
    );
    let rows = query(c, &sql, &[&machine, &after, &limit_plus_one(page)]).await?;
    let items = rows.iter().map(alias_from).collect::<Result<Vec<_>, _>>()?;
    Ok(finish_page(items, page, |a| a.name.clone()))
}

// ---------------------------------------------------------------- definitions and tags

pub(crate) async fn put_definition(c: &Object, id: &str, text: &str) -> Result<(), Fault> {
    execute(
        c,
        "INSERT INTO definitions (id, text) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        &[&id, &text],
    )
    .await?;
    Ok(())
}

pub(crate) async fn get_definition(c: &Object, id: &str) -> Result<Option<String>, Fault> {
    Ok(
        query_opt(c, "SELECT text FROM definitions WHERE id = $1", &[&id])
            .await?
            .map(|row| row.get(0)),
    )
}

pub(crate) async fn tag_resource(c: &Object, arn: &str, tags: &[Tag]) -> Result<(), Fault> {
    // Later tags win over earlier ones with the same key, as applying them one by one would.
    let mut keys: Vec<&str> = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    for tag in tags {
        match keys.iter().position(|k| *k == tag.key) {
            Some(at) => values[at] = &tag.value,
            None => {
                keys.push(&tag.key);
                values.push(&tag.value);
            }
        }
    }
    execute(
        c,
        "INSERT INTO tags (resource_arn, key, value) SELECT $1, * FROM UNNEST($2::text[], $3::text[])
         ON CONFLICT (resource_arn, key) DO UPDATE SET value = EXCLUDED.value",
        &[&arn, &keys, &values],
    )
    .await?;
    Ok(())
}

pub(crate) async fn untag_resource(c: &Object, arn: &str, keys: &[String]) -> Result<(), Fault> {
    execute(
        c,
        "DELETE FROM tags WHERE resource_arn = $1 AND key = ANY($2)",
        &[&arn, &keys],
    )
    .await?;
    Ok(())
}

pub(crate) async fn list_tags(c: &Object, arn: &str) -> Result<Vec<Tag>, Fault> {
    let rows = query(
        c,
        "SELECT key, value FROM tags WHERE resource_arn = $1 ORDER BY key",
        &[&arn],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|row| Tag {
            key: row.get(0),
            value: row.get(1),
        })
        .collect())
}

// ---------------------------------------------------------------- activities

fn activity_from(row: &Row) -> ActivityRecord {
    ActivityRecord {
        arn: row.get(0),
        name: row.get(1),
        created_ms: row.get(2),
    }
}

pub(crate) async fn insert_activity(
    c: &Object,
    r: &ActivityRecord,
    may_have_applied: bool,
) -> Result<(), Fault> {
    let outcome = execute(
        c,
        "INSERT INTO activities (arn, name, created_ms) VALUES ($1, $2, $3)",
        &[&r.arn, &r.name, &r.created_ms],
    )
    .await;
    let stored = if outcome.is_err() && may_have_applied {
        get_activity(c, &r.arn).await?
    } else {
        None
    };
    settle_insert(outcome, may_have_applied, r, stored, &r.arn)
}

pub(crate) async fn get_activity(c: &Object, arn: &str) -> Result<Option<ActivityRecord>, Fault> {
    Ok(query_opt(
        c,
        "SELECT arn, name, created_ms FROM activities WHERE arn = $1",
        &[&arn],
    )
    .await?
    .map(|row| activity_from(&row)))
}

pub(crate) async fn list_activities(
    c: &Object,
    page: &PageRequest,
) -> Result<Page<ActivityRecord>, Fault> {
    let (after_ms, after_arn) = match &page.after {
        Some(cursor) => time_cursor(cursor)?,
        None => (Millis::MIN, String::new()),
    };
    let rows = query(
        c,
        "SELECT arn, name, created_ms FROM activities WHERE (created_ms, arn) > ($1, $2)
         ORDER BY created_ms, arn LIMIT $3",
        &[&after_ms, &after_arn, &limit_plus_one(page)],
    )
    .await?;
    let items = rows.iter().map(activity_from).collect();
    Ok(finish_page(items, page, |a| {
        format!("{}|{}", a.created_ms, a.arn)
    }))
}

pub(crate) async fn delete_activity(c: &mut Object, arn: &str) -> Result<bool, Fault> {
    let tx = c.transaction().await?;
    execute(&tx, "DELETE FROM tags WHERE resource_arn = $1", &[&arn]).await?;
    let existed = delete_by_arn_in(&tx, "activities", arn).await?;
    tx.commit().await?;
    Ok(existed)
}

async fn delete_by_arn_in<C: GenericClient>(c: &C, table: &str, arn: &str) -> Result<bool, Fault> {
    let sql = format!("DELETE FROM {table} WHERE arn = $1");
    Ok(execute(c, &sql, &[&arn]).await? > 0)
}

// ---------------------------------------------------------------- executions

const EXECUTION_COLUMNS: &str = "arn, state_machine_arn, version_arn, alias_arn, name, kind, definition_id, role_arn, \
    input, status, start_ms, stop_ms, output, error, cause, redrive_count, redrive_ms, seq";

fn execution_from(row: &Row) -> Result<ExecutionRecord, Fault> {
    let kind: String = row.get(5);
    let status: String = row.get(9);
    Ok(ExecutionRecord {
        arn: row.get(0),
        state_machine_arn: row.get(1),
        version_arn: row.get(2),
        alias_arn: row.get(3),
        name: row.get(4),
        kind: MachineType::parse(&kind).ok_or_else(|| corrupt("machine type", &kind))?,
        definition_id: row.get(6),
        role_arn: row.get(7),
        input: row.get(8),
        status: ExecutionStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        start_ms: row.get(10),
        stop_ms: row.get(11),
        output: row.get(12),
        error: row.get(13),
        cause: row.get(14),
        redrive_count: to_u64(row.get(15)),
        redrive_ms: row.get(16),
        seq: to_u64(row.get(17)),
    })
}

pub(crate) async fn get_execution(c: &Object, arn: &str) -> Result<Option<ExecutionRecord>, Fault> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = $1");
    query_opt(c, &sql, &[&arn])
        .await?
        .map(|row| execution_from(&row))
        .transpose()
}

pub(crate) async fn list_executions(
    c: &Object,
    filter: &ExecutionFilter,
    page: &PageRequest,
) -> Result<Page<ExecutionRecord>, Fault> {
    let mut conditions = Vec::new();
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    if let Some(machine) = &filter.state_machine_arn {
        values.push(Box::new(machine.clone()));
        conditions.push(format!("state_machine_arn = ${}", values.len()));
    }
    if let Some(qualified) = &filter.qualified_arn {
        values.push(Box::new(qualified.clone()));
        let n = values.len();
        conditions.push(format!("(version_arn = ${n} OR alias_arn = ${n})"));
    }
    if let Some(status) = filter.status {
        values.push(Box::new(status.as_str()));
        conditions.push(format!("status = ${}", values.len()));
    }
    if let Some(cursor) = &page.after {
        let (ms, arn) = time_cursor(cursor)?;
        values.push(Box::new(ms));
        values.push(Box::new(arn));
        let n = values.len();
        conditions.push(format!("(start_ms, arn) < (${}, ${n})", n - 1));
    }
    values.push(Box::new(limit_plus_one(page)));
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions {where_clause} ORDER BY start_ms DESC, arn DESC LIMIT ${}",
        values.len()
    );
    let params: Vec<&(dyn ToSql + Sync)> = values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let rows = query(c, &sql, &params).await?;
    let items = rows
        .iter()
        .map(execution_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(finish_page(items, page, |e| {
        format!("{}|{}", e.start_ms, e.arn)
    }))
}

pub(crate) async fn execution_id<C: GenericClient>(
    c: &C,
    arn: &str,
) -> Result<Option<(i64, u64)>, Fault> {
    Ok(
        query_opt(c, "SELECT id, seq FROM executions WHERE arn = $1", &[&arn])
            .await?
            .map(|row| (row.get(0), to_u64(row.get(1)))),
    )
}

pub(crate) async fn get_history(
    c: &Object,
    arn: &str,
    q: &HistoryQuery,
) -> Result<Vec<HistoryRecord>, Fault> {
    let limit = to_i64(q.limit.max(1) as u64);
    let rows = if q.reverse {
        let before = q.after_id.map_or(i64::MAX, to_i64);
        query(
            c,
            "SELECT h.id, h.previous_event_id, h.timestamp_ms, h.type, h.details
             FROM history h JOIN executions e ON e.id = h.execution_id
             WHERE e.arn = $1 AND h.id < $2 ORDER BY h.id DESC LIMIT $3",
            &[&arn, &before, &limit],
        )
        .await?
    } else {
        let after = q.after_id.map_or(i64::MIN, to_i64);
        query(
            c,
            "SELECT h.id, h.previous_event_id, h.timestamp_ms, h.type, h.details
             FROM history h JOIN executions e ON e.id = h.execution_id
             WHERE e.arn = $1 AND h.id > $2 ORDER BY h.id LIMIT $3",
            &[&arn, &after, &limit],
        )
        .await?
    };
    Ok(rows
        .iter()
        .map(|row| HistoryRecord {
            id: to_u64(row.get(0)),
            previous_event_id: to_u64(row.get(1)),
            timestamp_ms: row.get(2),
            event_type: row.get(3),
            details: row.get(4),
        })
        .collect())
}

fn inbox_from(arn: &str, row: &Row) -> Result<InboxRecord, Fault> {
    let seq = to_u64(row.get(0));
    let entropy: Vec<u8> = row.get(2);
    let entropy: [u8; 32] = entropy.try_into().map_err(|_| {
        Fault::Store(Error::Corrupt(format!(
            "inbox entry {seq} of {arn}: entropy is not 32 bytes"
        )))
    })?;
    Ok(InboxRecord {
        seq,
        now_ms: row.get(1),
        entropy,
        event: row.get(3),
    })
}

pub(crate) async fn get_inbox(c: &Object, arn: &str) -> Result<Vec<InboxRecord>, Fault> {
    let rows = query(
        c,
        "SELECT i.seq, i.now_ms, i.entropy, i.event FROM inbox i JOIN executions e ON e.id = i.execution_id
         WHERE e.arn = $1 ORDER BY i.seq",
        &[&arn],
    )
    .await?;
    rows.iter().map(|row| inbox_from(arn, row)).collect()
}

/// One attempt of a commit (see [`Commit`] for the rules), with the multi-node checks of
/// `guard`, in one transaction.
pub(crate) async fn commit(
    c: &mut Object,
    commit: &Commit,
    guard: &CommitGuard,
    channel: &str,
    may_have_applied: bool,
) -> Result<(), Fault> {
    let outcome = commit_once(c, commit, guard, channel).await;
    match outcome {
        Err(Fault::Store(error)) if may_have_applied => settle_ambiguous(c, commit, error).await,
        other => other,
    }
}

/// An earlier attempt of this commit failed after its statements were sent (the connection
/// dropped around `COMMIT`), so it may have been applied. The fence now refuses the retry; if
/// the inbox entry at our sequence number is ours (same time, same 32 random bytes of entropy,
/// same event), the earlier attempt was applied and the commit succeeded. Otherwise another
/// writer got there first and the refusal stands.
async fn settle_ambiguous(c: &Object, commit: &Commit, error: Error) -> Result<(), Fault> {
    let refused_by_fence = match &error {
        Error::Conflict { actual, .. } => *actual > commit.inbox.seq,
        Error::AlreadyExists(_) => commit.start.is_some(),
        _ => false,
    };
    if !refused_by_fence {
        return Err(Fault::Store(error));
    }
    let row = query_opt(
        c,
        "SELECT i.seq, i.now_ms, i.entropy, i.event FROM inbox i JOIN executions e ON e.id = i.execution_id
         WHERE e.arn = $1 AND i.seq = $2",
        &[&commit.execution_arn, &to_i64(commit.inbox.seq)],
    )
    .await?;
    let stored = row
        .map(|row| inbox_from(&commit.execution_arn, &row))
        .transpose()?;
    if stored.as_ref() == Some(&commit.inbox) {
        Ok(())
    } else {
        Err(Fault::Store(error))
    }
}

async fn commit_once(
    c: &mut Object,
    commit: &Commit,
    guard: &CommitGuard,
    channel: &str,
) -> Result<(), Fault> {
    let tx = c.transaction().await?;
    apply_commit(&tx, commit, guard, channel).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes one commit inside the caller's transaction. On `Err` the caller must roll back:
/// part of the commit may have been written.
pub(crate) async fn apply_commit<C: GenericClient>(
    tx: &C,
    commit: &Commit,
    guard: &CommitGuard,
    channel: &str,
) -> Result<(), Fault> {
    let arn = &commit.execution_arn;
    let inbox = &commit.inbox;
    let next_seq = to_i64(inbox.seq + 1);
    let terminal = commit
        .outcome
        .as_ref()
        .is_some_and(|o| o.status.is_terminal());

    // The fence: the execution row is written only if its seq is the one the step was built on
    // (and, with a guard, only by its owner). Under READ COMMITTED a concurrent writer's
    // committed update is re-checked against this WHERE, so two writers cannot both pass.
    let id: i64 = match &commit.start {
        Some(start) => {
            if start.arn != *arn {
                return Err(Fault::Store(Error::Corrupt(format!(
                    "start record {} for commit on {arn}",
                    start.arn
                ))));
            }
            let mut record = start.clone();
            if let Some(outcome) = &commit.outcome {
                record.status = outcome.status;
                record.stop_ms = outcome.stop_ms;
                record.output.clone_from(&outcome.output);
                record.error.clone_from(&outcome.error);
                record.cause.clone_from(&outcome.cause);
            }
            // An execution that ends in its first step needs no owner (as a terminal update
            // clears it).
            let owner = guard.owner.as_deref().filter(|_| !terminal);
            let Some(id) = insert_execution(tx, &record, next_seq, owner).await? else {
                return Err(Fault::Store(Error::AlreadyExists(arn.clone())));
            };
            if inbox.seq != 0 {
                return Err(Fault::Store(Error::Conflict {
                    execution_arn: arn.clone(),
                    expected: inbox.seq,
                    actual: 0,
                }));
            }
            id
        }
        None => {
            let expected = to_i64(inbox.seq);
            let owner = guard.owner.as_deref();
            let row = match &commit.outcome {
                None => {
                    query_opt(
                        tx,
                        "UPDATE executions SET seq = $2 WHERE arn = $1 AND seq = $3
                         AND ($4::text IS NULL OR owner_node = $4) RETURNING id",
                        &[arn, &next_seq, &expected, &owner],
                    )
                    .await?
                }
                Some(o) => {
                    query_opt(
                        tx,
                        "UPDATE executions SET seq = $2, status = $5, stop_ms = $6, output = $7, error = $8, cause = $9,
                             owner_node = CASE WHEN $5 = 'RUNNING' THEN owner_node END
                         WHERE arn = $1 AND seq = $3 AND ($4::text IS NULL OR owner_node = $4) RETURNING id",
                        &[
                            arn,
                            &next_seq,
                            &expected,
                            &owner,
                            &o.status.as_str(),
                            &o.stop_ms,
                            &o.output,
                            &o.error,
                            &o.cause,
                        ],
                    )
                    .await?
                }
            };
            match row {
                Some(row) => row.get(0),
                None => {
                    return Err(Fault::Store(match execution_id(tx, arn).await? {
                        None => Error::NotFound(arn.clone()),
                        // Refused by the owner check: the seq matched but another node owns
                        // the execution. Reported as a conflict: reload and re-acquire.
                        Some((_, actual)) => Error::Conflict {
                            execution_arn: arn.clone(),
                            expected: inbox.seq,
                            actual,
                        },
                    }));
                }
            }
        }
    };

    // Everything after the fence is sent at once (pipelined) and runs in order on the server;
    // the first failure aborts the transaction and is the error reported.
    let mut pipeline = Pipeline::default();
    pipeline.push(
        "INSERT INTO inbox (execution_id, seq, now_ms, entropy, event) VALUES ($1, $2, $3, $4, $5)",
        vec![
            Box::new(id),
            Box::new(to_i64(inbox.seq)),
            Box::new(inbox.now_ms),
            Box::new(&inbox.entropy[..]),
            Box::new(inbox.event.as_str()),
        ],
    );

    if !commit.history.is_empty() {
        let h = &commit.history;
        pipeline.push(
            "INSERT INTO history (execution_id, id, previous_event_id, timestamp_ms, type, details)
             SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[])",
            vec![
                Box::new(id),
                Box::new(h.iter().map(|e| to_i64(e.id)).collect::<Vec<i64>>()),
                Box::new(h.iter().map(|e| to_i64(e.previous_event_id)).collect::<Vec<i64>>()),
                Box::new(h.iter().map(|e| e.timestamp_ms).collect::<Vec<i64>>()),
                Box::new(h.iter().map(|e| e.event_type.as_str()).collect::<Vec<&str>>()),
                Box::new(h.iter().map(|e| e.details.as_str()).collect::<Vec<&str>>()),
            ],
        );
    }

    // A commit carrying an ExecutionRedriven event counts the redrive (the store contract).
    if let Some(redriven) = commit.redriven_ms() {
        pipeline.push(
            "UPDATE executions SET redrive_count = redrive_count + 1, redrive_ms = $2 WHERE id = $1",
            vec![Box::new(id), Box::new(redriven)],
        );
    }

    // A new execution has no timers or earlier tasks to clean up when it ends at once.
    let starting = commit.start.is_some();
    if terminal {
        if !starting {
            pipeline.push(
                "DELETE FROM timers WHERE execution_id = $1",
                vec![Box::new(id)],
            );
        }
    } else {
        // Set, then delete, as the contract orders them; a timer set twice keeps its last due
        // time (one row may be upserted only once per statement).
        let mut timers: Vec<(i64, i64)> = Vec::new();
        for (timer, due) in &commit.timers_set {
            let timer = to_i64(*timer);
            match timers.iter_mut().find(|(t, _)| *t == timer) {
                Some(slot) => slot.1 = *due,
                None => timers.push((timer, *due)),
            }
        }
        if !timers.is_empty() {
            // A moved timer is a new timer: any claim on its old due time is void.
            pipeline.push(
                "INSERT INTO timers (execution_id, timer_id, due_ms)
                 SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[])
                 ON CONFLICT (execution_id, timer_id) DO UPDATE
                 SET due_ms = EXCLUDED.due_ms, claimed_by = NULL, claim_expires_ms = NULL",
                vec![
                    Box::new(id),
                    Box::new(timers.iter().map(|(t, _)| *t).collect::<Vec<i64>>()),
                    Box::new(timers.iter().map(|(_, d)| *d).collect::<Vec<i64>>()),
                ],
            );
        }
        if !commit.timers_delete.is_empty() {
            pipeline.push(
                "DELETE FROM timers WHERE execution_id = $1 AND timer_id = ANY($2)",
                vec![
                    Box::new(id),
                    Box::new(
                        commit
                            .timers_delete
                            .iter()
                            .map(|t| to_i64(*t))
                            .collect::<Vec<i64>>(),
                    ),
                ],
            );
        }
    }

    if !commit.tasks_insert.is_empty() {
        let t = &commit.tasks_insert;
        // WITH ORDINALITY keeps the insertion order, which is the scheduling order (`seq`).
        pipeline.push(
            "INSERT INTO tasks (token, execution_id, task_id, state_name, resource, activity_arn, input, state,
             worker_name, created_ms)
             SELECT token, $1, task_id, state_name, resource, activity_arn, input, state, worker_name, created_ms
             FROM UNNEST($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::text[], $10::bigint[])
                  WITH ORDINALITY AS u(token, task_id, state_name, resource, activity_arn, input, state,
                                       worker_name, created_ms, n)
             ORDER BY n",
            vec![
                Box::new(id),
                Box::new(t.iter().map(|x| x.token.as_str()).collect::<Vec<&str>>()),
                Box::new(t.iter().map(|x| to_i64(x.task_id)).collect::<Vec<i64>>()),
                Box::new(t.iter().map(|x| x.state_name.as_str()).collect::<Vec<&str>>()),
                Box::new(t.iter().map(|x| x.resource.as_str()).collect::<Vec<&str>>()),
                Box::new(
                    t.iter()
                        .map(|x| x.activity_arn.as_deref())
                        .collect::<Vec<Option<&str>>>(),
                ),
                Box::new(t.iter().map(|x| x.input.as_str()).collect::<Vec<&str>>()),
                Box::new(t.iter().map(|x| x.state.as_str()).collect::<Vec<&str>>()),
                Box::new(
                    t.iter()
                        .map(|x| x.worker_name.as_deref())
                        .collect::<Vec<Option<&str>>>(),
                ),
                Box::new(t.iter().map(|x| x.created_ms).collect::<Vec<i64>>()),
            ],
        );
    }

    if !commit.tasks_update.is_empty() {
        // Applied in order: a later update of the same task wins; a worker name sticks.
        let mut updates: Vec<(i64, &str, Option<&str>)> = Vec::new();
        for update in &commit.tasks_update {
            let task = to_i64(update.task_id);
            let worker = update.worker_name.as_deref();
            match updates.iter_mut().find(|(t, _, _)| *t == task) {
                Some(slot) => {
                    slot.1 = update.state.as_str();
                    if worker.is_some() {
                        slot.2 = worker;
                    }
                }
                None => updates.push((task, update.state.as_str(), worker)),
            }
        }
        pipeline.push(
            "UPDATE tasks t SET state = u.state, worker_name = COALESCE(u.worker, t.worker_name)
             FROM UNNEST($2::bigint[], $3::text[], $4::text[]) AS u(task_id, state, worker)
             WHERE t.execution_id = $1 AND t.task_id = u.task_id",
            vec![
                Box::new(id),
                Box::new(updates.iter().map(|u| u.0).collect::<Vec<i64>>()),
                Box::new(updates.iter().map(|u| u.1).collect::<Vec<&str>>()),
                Box::new(updates.iter().map(|u| u.2).collect::<Vec<Option<&str>>>()),
            ],
        );
    }

    if terminal && !(starting && commit.tasks_insert.is_empty()) {
        pipeline.push(
            "UPDATE tasks SET state = 'CLOSED' WHERE execution_id = $1 AND state <> 'CLOSED'",
            vec![Box::new(id)],
        );
    }

    let consumed_at = (!guard.consume.is_empty()).then(|| {
        pipeline.push(
            "DELETE FROM mailbox WHERE execution_id = $1 AND id = ANY($2)",
            vec![Box::new(id), Box::new(guard.consume.as_slice())],
        )
    });

    if guard.notify_activities {
        let mut activities: Vec<&str> = commit
            .tasks_insert
            .iter()
            .filter_map(|t| t.activity_arn.as_deref())
            .collect();
        activities.sort_unstable();
        activities.dedup();
        for activity in activities {
            let payload = Wakeup::Activity(activity.to_owned()).payload();
            pipeline.push(
                "SELECT pg_notify($1, $2)",
                vec![Box::new(channel), Box::new(payload)],
            );
        }
    }

    let counts = pipeline.run(tx).await?;
    if let Some(at) = consumed_at
        && counts[at] != guard.consume.len() as u64
    {
        // Another writer consumed (some of) these events: this step was built on events
        // that are no longer pending.
        return Err(Fault::Store(Error::Conflict {
            execution_arn: arn.clone(),
            expected: inbox.seq,
            actual: inbox.seq,
        }));
    }
    Ok(())
}

/// Statements sent together: all are prepared (from the client's statement cache), then all
/// are sent without waiting for replies, and the replies are collected in order.
#[derive(Default)]
struct Pipeline<'a> {
    statements: Vec<(&'static str, Vec<Box<dyn ToSql + Sync + Send + 'a>>)>,
}

impl<'a> Pipeline<'a> {
    /// Adds a statement; returns its index in the result of [`Pipeline::run`].
    fn push(&mut self, sql: &'static str, params: Vec<Box<dyn ToSql + Sync + Send + 'a>>) -> usize {
        self.statements.push((sql, params));
        self.statements.len() - 1
    }

    /// The rows each statement affected, or the first statement's error.
    async fn run<C: GenericClient>(self, tx: &C) -> Result<Vec<u64>, Fault> {
        let mut prepared = Vec::with_capacity(self.statements.len());
        for (sql, _) in &self.statements {
            prepared.push(tx.prepare_cached(sql).await?);
        }
        let runs =
            self.statements
                .iter()
                .zip(&prepared)
                .map(|((_, params), statement)| async move {
                    let params: Vec<&(dyn ToSql + Sync)> = params
                        .iter()
                        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                        .collect();
                    tx.execute(statement, &params).await
                });
        let results = futures_util::future::join_all(runs).await;
        let mut counts = Vec::with_capacity(results.len());
        for result in results {
            counts.push(result?);
        }
        Ok(counts)
    }
}

async fn insert_execution<C: GenericClient>(
    c: &C,
    r: &ExecutionRecord,
    seq: i64,
    owner: Option<&str>,
) -> Result<Option<i64>, Fault> {
    let sql = format!(
        "INSERT INTO executions ({EXECUTION_COLUMNS}, owner_node) VALUES
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT (arn) DO NOTHING RETURNING id"
    );
    Ok(query_opt(
        c,
        &sql,
        &[
            &r.arn,
            &r.state_machine_arn,
            &r.version_arn,
            &r.alias_arn,
            &r.name,
            &r.kind.as_str(),
            &r.definition_id,
            &r.role_arn,
            &r.input,
            &r.status.as_str(),
            &r.start_ms,
            &r.stop_ms,
            &r.output,
            &r.error,
            &r.cause,
            &to_i64(r.redrive_count),
            &r.redrive_ms,
            &seq,
            &owner,
        ],
    )
    .await?
    .map(|row| row.get(0)))
}

// ---------------------------------------------------------------- timers and tasks

pub(crate) fn timer_from(row: &Row) -> TimerRecord {
    TimerRecord {
        execution_arn: row.get(0),
        timer_id: to_u64(row.get(1)),
        due_ms: row.get(2),
    }
}

pub(crate) async fn timers_between(
    c: &Object,
    after: Millis,
    until: Millis,
    limit: usize,
) -> Result<Vec<TimerRecord>, Fault> {
    let rows = query(
        c,
        "SELECT e.arn, t.timer_id, t.due_ms FROM timers t JOIN executions e ON e.id = t.execution_id
         WHERE t.due_ms > $1 AND t.due_ms <= $2 ORDER BY t.due_ms, e.arn, t.timer_id LIMIT $3",
        &[&after, &until, &to_i64(limit as u64)],
    )
    .await?;
    Ok(rows.iter().map(timer_from).collect())
}

pub(crate) const TASK_COLUMNS: &str = "t.token, e.arn, t.task_id, t.state_name, t.resource, t.activity_arn, t.input, t.state, \
    t.worker_name, t.created_ms, t.seq";

pub(crate) fn task_from(row: &Row) -> Result<TaskRecord, Fault> {
    let state: String = row.get(7);
    Ok(TaskRecord {
        token: row.get(0),
        execution_arn: row.get(1),
        task_id: to_u64(row.get(2)),
        state_name: row.get(3),
        resource: row.get(4),
        activity_arn: row.get(5),
        input: row.get(6),
        state: TaskState::parse(&state).ok_or_else(|| corrupt("task state", &state))?,
        worker_name: row.get(8),
        created_ms: row.get(9),
    })
}

pub(crate) async fn get_task(c: &Object, token: &str) -> Result<Option<TaskRecord>, Fault> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.token = $1"
    );
    query_opt(c, &sql, &[&token])
        .await?
        .map(|row| task_from(&row))
        .transpose()
}

pub(crate) async fn activity_queue(
    c: &Object,
    activity: &str,
    limit: usize,
) -> Result<Vec<TaskRecord>, Fault> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id
         WHERE t.activity_arn = $1 AND t.state = 'SCHEDULED' ORDER BY t.seq LIMIT $2"
    );
    let rows = query(c, &sql, &[&activity, &to_i64(limit as u64)]).await?;
    rows.iter().map(task_from).collect()
}

pub(crate) async fn tasks_to_dispatch(
    c: &Object,
    page: &PageRequest,
) -> Result<Page<TaskRecord>, Fault> {
    let after = match &page.after {
        Some(cursor) => number_cursor(cursor)?,
        None => i64::MIN,
    };
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id
         WHERE t.state = 'SCHEDULED' AND t.activity_arn IS NULL AND t.seq > $1 ORDER BY t.seq LIMIT $2"
    );
    let rows = query(c, &sql, &[&after, &limit_plus_one(page)]).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push((task_from(row)?, row.get::<_, i64>(10)));
    }
    let page_rows = finish_page(items, page, |(_, seq)| seq.to_string());
    Ok(Page {
        items: page_rows.items.into_iter().map(|(t, _)| t).collect(),
        next: page_rows.next,
    })
}
