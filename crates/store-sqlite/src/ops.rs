//! The SQL behind each store operation. Writes run on the writer thread inside a savepoint;
//! reads run on reader threads.

use baton_store::{
    ActivityRecord, AliasRecord, AliasRoute, Commit, Error, ExecutionFilter, ExecutionRecord,
    ExecutionStatus, HistoryQuery, HistoryRecord, InboxRecord, MachineType, Millis, Page,
    PageRequest, Result, StateMachineRecord, Tag, TaskRecord, TaskState, TimerRecord,
    VersionRecord,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::{Value, json};

use crate::backend;

fn corrupt(what: &str, text: &str) -> Error {
    Error::Corrupt(format!("unknown {what} {text:?}"))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
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

fn time_cursor(text: &str) -> Result<(Millis, String)> {
    let invalid = || Error::Corrupt(format!("invalid page cursor {text:?}"));
    let (ms, arn) = text.split_once('|').ok_or_else(invalid)?;
    Ok((ms.parse().map_err(|_| invalid())?, arn.to_owned()))
}

fn number_cursor(text: &str) -> Result<i64> {
    text.parse()
        .map_err(|_| Error::Corrupt(format!("invalid page cursor {text:?}")))
}

// ---------------------------------------------------------------- state machines

const MACHINE_COLUMNS: &str = "arn, name, kind, definition, role_arn, created_ms, revision_id, description, attributes, next_version";

fn machine_row(row: &Row<'_>) -> rusqlite::Result<(StateMachineRecord, String)> {
    let kind: String = row.get(2)?;
    Ok((
        StateMachineRecord {
            arn: row.get(0)?,
            name: row.get(1)?,
            kind: MachineType::Standard,
            definition: row.get(3)?,
            role_arn: row.get(4)?,
            created_ms: row.get(5)?,
            revision_id: row.get(6)?,
            description: row.get(7)?,
            attributes: row.get(8)?,
            next_version: to_u64(row.get(9)?),
        },
        kind,
    ))
}

fn machine_from(row: (StateMachineRecord, String)) -> Result<StateMachineRecord> {
    let (mut record, kind) = row;
    record.kind = MachineType::parse(&kind).ok_or_else(|| corrupt("machine type", &kind))?;
    Ok(record)
}

pub(crate) fn insert_state_machine(conn: &Connection, r: &StateMachineRecord) -> Result<()> {
    let sql = format!(
        "INSERT INTO state_machines ({MACHINE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    );
    conn.prepare_cached(&sql)
        .and_then(|mut s| {
            s.execute(params![
                r.arn,
                r.name,
                r.kind.as_str(),
                r.definition,
                r.role_arn,
                r.created_ms,
                r.revision_id,
                r.description,
                r.attributes,
                to_i64(r.next_version)
            ])
        })
        .map_err(backend)
        .map_err(|e| match e {
            Error::AlreadyExists(_) => Error::AlreadyExists(r.arn.clone()),
            other => other,
        })?;
    Ok(())
}

pub(crate) fn update_state_machine(conn: &Connection, r: &StateMachineRecord) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE state_machines SET name = ?2, kind = ?3, definition = ?4, role_arn = ?5, created_ms = ?6,
             revision_id = ?7, description = ?8, attributes = ?9, next_version = ?10 WHERE arn = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                r.arn,
                r.name,
                r.kind.as_str(),
                r.definition,
                r.role_arn,
                r.created_ms,
                r.revision_id,
                r.description,
                r.attributes,
                to_i64(r.next_version)
            ])
        })
        .map_err(backend)?;
    if changed == 0 {
        return Err(Error::NotFound(r.arn.clone()));
    }
    Ok(())
}

pub(crate) fn get_state_machine(
    conn: &Connection,
    arn: &str,
) -> Result<Option<StateMachineRecord>> {
    let sql = format!("SELECT {MACHINE_COLUMNS} FROM state_machines WHERE arn = ?1");
    let row = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([arn], machine_row).optional())
        .map_err(backend)?;
    row.map(machine_from).transpose()
}

pub(crate) fn list_state_machines(
    conn: &Connection,
    page: &PageRequest,
) -> Result<Page<StateMachineRecord>> {
    let (after_ms, after_arn) = match &page.after {
        Some(cursor) => time_cursor(cursor)?,
        None => (Millis::MIN, String::new()),
    };
    let sql = format!(
        "SELECT {MACHINE_COLUMNS} FROM state_machines WHERE (created_ms, arn) > (?1, ?2)
         ORDER BY created_ms, arn LIMIT ?3"
    );
    let rows = query_all(
        conn,
        &sql,
        params![after_ms, after_arn, limit_plus_one(page)],
        machine_row,
    )?;
    let items = rows
        .into_iter()
        .map(machine_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(finish_page(items, page, |m| {
        format!("{}|{}", m.created_ms, m.arn)
    }))
}

pub(crate) fn delete_state_machine(conn: &Connection, arn: &str) -> Result<bool> {
    let existed = conn
        .execute("DELETE FROM state_machines WHERE arn = ?1", [arn])
        .map_err(backend)?
        > 0;
    conn.execute("DELETE FROM versions WHERE state_machine_arn = ?1", [arn])
        .map_err(backend)?;
    conn.execute("DELETE FROM aliases WHERE state_machine_arn = ?1", [arn])
        .map_err(backend)?;
    conn.execute("DELETE FROM tags WHERE resource_arn = ?1", [arn])
        .map_err(backend)?;
    Ok(existed)
}

pub(crate) fn delete_by_arn(conn: &Connection, table: &str, arn: &str) -> Result<bool> {
    let sql = format!("DELETE FROM {table} WHERE arn = ?1");
    Ok(conn.execute(&sql, [arn]).map_err(backend)? > 0)
}

fn query_all<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql).map_err(backend)?;
    let rows = statement.query_map(params, map).map_err(backend)?;
    rows.collect::<rusqlite::Result<Vec<T>>>().map_err(backend)
}

// ---------------------------------------------------------------- versions and aliases

const VERSION_COLUMNS: &str = "arn, state_machine_arn, version, definition, role_arn, revision_id, description, attributes, created_ms";

fn version_row(row: &Row<'_>) -> rusqlite::Result<VersionRecord> {
    Ok(VersionRecord {
        arn: row.get(0)?,
        state_machine_arn: row.get(1)?,
        version: to_u64(row.get(2)?),
        definition: row.get(3)?,
        role_arn: row.get(4)?,
        revision_id: row.get(5)?,
        description: row.get(6)?,
        attributes: row.get(7)?,
        created_ms: row.get(8)?,
    })
}

pub(crate) fn insert_version(conn: &Connection, r: &VersionRecord) -> Result<()> {
    let sql = format!(
        "INSERT INTO versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    );
    conn.execute(
        &sql,
        params![
            r.arn,
            r.state_machine_arn,
            to_i64(r.version),
            r.definition,
            r.role_arn,
            r.revision_id,
            r.description,
            r.attributes,
            r.created_ms
        ],
    )
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn get_version(conn: &Connection, arn: &str) -> Result<Option<VersionRecord>> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM versions WHERE arn = ?1");
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.query_row([arn], version_row).optional())
        .map_err(backend)
}

pub(crate) fn list_versions(
    conn: &Connection,
    machine: &str,
    page: &PageRequest,
) -> Result<Page<VersionRecord>> {
    let before = match &page.after {
        Some(cursor) => number_cursor(cursor)?,
        None => i64::MAX,
    };
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM versions WHERE state_machine_arn = ?1 AND version < ?2
         ORDER BY version DESC LIMIT ?3"
    );
    let items = query_all(
        conn,
        &sql,
        params![machine, before, limit_plus_one(page)],
        version_row,
    )?;
    Ok(finish_page(items, page, |v| v.version.to_string()))
}

fn alias_row(row: &Row<'_>) -> rusqlite::Result<(AliasRecord, String)> {
    Ok((
        AliasRecord {
            arn: row.get(0)?,
            state_machine_arn: row.get(1)?,
            name: row.get(2)?,
            description: row.get(3)?,
            routes: Vec::new(),
            created_ms: row.get(5)?,
            updated_ms: row.get(6)?,
        },
        row.get(4)?,
    ))
}

fn alias_from((mut record, routes): (AliasRecord, String)) -> Result<AliasRecord> {
    let parsed: Value =
        serde_json::from_str(&routes).map_err(|_| corrupt("alias routes", &routes))?;
    let list = parsed
        .as_array()
        .ok_or_else(|| corrupt("alias routes", &routes))?;
    for route in list {
        let version_arn = route["version"]
            .as_str()
            .ok_or_else(|| corrupt("alias route", &routes))?;
        let weight = route["weight"]
            .as_u64()
            .ok_or_else(|| corrupt("alias route", &routes))?;
        record.routes.push(AliasRoute {
            version_arn: version_arn.to_owned(),
            weight: u32::try_from(weight).map_err(|_| corrupt("alias weight", &routes))?,
        });
    }
    Ok(record)
}

const ALIAS_COLUMNS: &str =
    "arn, state_machine_arn, name, description, routes, created_ms, updated_ms";

pub(crate) fn put_alias(conn: &Connection, r: &AliasRecord) -> Result<()> {
    let routes: Vec<Value> = r
        .routes
        .iter()
        .map(|route| json!({"version": route.version_arn, "weight": route.weight}))
        .collect();
    let sql = format!(
        "INSERT OR REPLACE INTO aliases ({ALIAS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    );
    conn.execute(
        &sql,
        params![
            r.arn,
            r.state_machine_arn,
            r.name,
            r.description,
            Value::Array(routes).to_string(),
            r.created_ms,
            r.updated_ms
        ],
    )
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn get_alias(conn: &Connection, arn: &str) -> Result<Option<AliasRecord>> {
    let sql = format!("SELECT {ALIAS_COLUMNS} FROM aliases WHERE arn = ?1");
    let row = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([arn], alias_row).optional())
        .map_err(backend)?;
    row.map(alias_from).transpose()
}

pub(crate) fn list_aliases(
    conn: &Connection,
    machine: &str,
    page: &PageRequest,
) -> Result<Page<AliasRecord>> {
    let after = page.after.clone().unwrap_or_default();
    let sql = format!(
        "SELECT {ALIAS_COLUMNS} FROM aliases WHERE state_machine_arn = ?1 AND name > ?2 ORDER BY name LIMIT ?3"
    );
    let rows = query_all(
        conn,
        &sql,
        params![machine, after, limit_plus_one(page)],
        alias_row,
    )?;
    let items = rows
        .into_iter()
        .map(alias_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(finish_page(items, page, |a| a.name.clone()))
}

// ---------------------------------------------------------------- definitions and tags

pub(crate) fn put_definition(conn: &Connection, id: &str, text: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO definitions (id, text) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![id, text]))
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn get_definition(conn: &Connection, id: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT text FROM definitions WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |row| row.get(0)).optional())
        .map_err(backend)
}

pub(crate) fn tag_resource(conn: &Connection, arn: &str, tags: &[Tag]) -> Result<()> {
    let mut statement = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO tags (resource_arn, key, value) VALUES (?1, ?2, ?3)",
        )
        .map_err(backend)?;
    for tag in tags {
        statement
            .execute(params![arn, tag.key, tag.value])
            .map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn untag_resource(conn: &Connection, arn: &str, keys: &[String]) -> Result<()> {
    let mut statement = conn
        .prepare_cached("DELETE FROM tags WHERE resource_arn = ?1 AND key = ?2")
        .map_err(backend)?;
    for key in keys {
        statement.execute(params![arn, key]).map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn list_tags(conn: &Connection, arn: &str) -> Result<Vec<Tag>> {
    query_all(
        conn,
        "SELECT key, value FROM tags WHERE resource_arn = ?1 ORDER BY key",
        [arn],
        |row| {
            Ok(Tag {
                key: row.get(0)?,
                value: row.get(1)?,
            })
        },
    )
}

// ---------------------------------------------------------------- activities

fn activity_row(row: &Row<'_>) -> rusqlite::Result<ActivityRecord> {
    Ok(ActivityRecord {
        arn: row.get(0)?,
        name: row.get(1)?,
        created_ms: row.get(2)?,
    })
}

pub(crate) fn insert_activity(conn: &Connection, r: &ActivityRecord) -> Result<()> {
    conn.execute(
        "INSERT INTO activities (arn, name, created_ms) VALUES (?1, ?2, ?3)",
        params![r.arn, r.name, r.created_ms],
    )
    .map_err(backend)
    .map_err(|e| match e {
        Error::AlreadyExists(_) => Error::AlreadyExists(r.arn.clone()),
        other => other,
    })?;
    Ok(())
}

pub(crate) fn get_activity(conn: &Connection, arn: &str) -> Result<Option<ActivityRecord>> {
    conn.prepare_cached("SELECT arn, name, created_ms FROM activities WHERE arn = ?1")
        .and_then(|mut s| s.query_row([arn], activity_row).optional())
        .map_err(backend)
}

pub(crate) fn list_activities(
    conn: &Connection,
    page: &PageRequest,
) -> Result<Page<ActivityRecord>> {
    let (after_ms, after_arn) = match &page.after {
        Some(cursor) => time_cursor(cursor)?,
        None => (Millis::MIN, String::new()),
    };
    let items = query_all(
        conn,
        "SELECT arn, name, created_ms FROM activities WHERE (created_ms, arn) > (?1, ?2) ORDER BY created_ms, arn LIMIT ?3",
        params![after_ms, after_arn, limit_plus_one(page)],
        activity_row,
    )?;
    Ok(finish_page(items, page, |a| {
        format!("{}|{}", a.created_ms, a.arn)
    }))
}

pub(crate) fn delete_activity(conn: &Connection, arn: &str) -> Result<bool> {
    conn.execute("DELETE FROM tags WHERE resource_arn = ?1", [arn])
        .map_err(backend)?;
    delete_by_arn(conn, "activities", arn)
}

// ---------------------------------------------------------------- executions

const EXECUTION_INSERT_COLUMNS: &str = "arn, state_machine_arn, version_arn, alias_arn, name, kind, definition_id, \
    role_arn, input, status, start_ms, stop_ms, output, error, cause, redrive_count, redrive_ms";

/// The execution's `seq` is not a column: it is one past its last inbox entry, so a step
/// that changes no status writes nothing to the `executions` row (one page less per commit).
const EXECUTION_COLUMNS: &str = "arn, state_machine_arn, version_arn, alias_arn, name, kind, definition_id, role_arn, \
    input, status, start_ms, stop_ms, output, error, cause, redrive_count, redrive_ms, \
    (SELECT COALESCE(MAX(inbox.seq) + 1, 0) FROM inbox WHERE inbox.execution_id = executions.id)";

struct ExecutionRow {
    record: ExecutionRecord,
    kind: String,
    status: String,
}

fn execution_row(row: &Row<'_>) -> rusqlite::Result<ExecutionRow> {
    Ok(ExecutionRow {
        record: ExecutionRecord {
            arn: row.get(0)?,
            state_machine_arn: row.get(1)?,
            version_arn: row.get(2)?,
            alias_arn: row.get(3)?,
            name: row.get(4)?,
            kind: MachineType::Standard,
            definition_id: row.get(6)?,
            role_arn: row.get(7)?,
            input: row.get(8)?,
            status: ExecutionStatus::Running,
            start_ms: row.get(10)?,
            stop_ms: row.get(11)?,
            output: row.get(12)?,
            error: row.get(13)?,
            cause: row.get(14)?,
            redrive_count: to_u64(row.get(15)?),
            redrive_ms: row.get(16)?,
            seq: to_u64(row.get(17)?),
        },
        kind: row.get(5)?,
        status: row.get(9)?,
    })
}

fn execution_from(row: ExecutionRow) -> Result<ExecutionRecord> {
    let mut record = row.record;
    record.kind =
        MachineType::parse(&row.kind).ok_or_else(|| corrupt("machine type", &row.kind))?;
    record.status =
        ExecutionStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
    Ok(record)
}

pub(crate) fn get_execution(conn: &Connection, arn: &str) -> Result<Option<ExecutionRecord>> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1");
    let row = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([arn], execution_row).optional())
        .map_err(backend)?;
    row.map(execution_from).transpose()
}

pub(crate) fn list_executions(
    conn: &Connection,
    filter: &ExecutionFilter,
    page: &PageRequest,
) -> Result<Page<ExecutionRecord>> {
    let mut conditions = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    if let Some(machine) = &filter.state_machine_arn {
        values.push(SqlValue::Text(machine.clone()));
        conditions.push(format!("state_machine_arn = ?{}", values.len()));
    }
    if let Some(qualified) = &filter.qualified_arn {
        values.push(SqlValue::Text(qualified.clone()));
        let n = values.len();
        conditions.push(format!("(version_arn = ?{n} OR alias_arn = ?{n})"));
    }
    if let Some(status) = filter.status {
        values.push(SqlValue::Text(status.as_str().to_owned()));
        conditions.push(format!("status = ?{}", values.len()));
    }
    if let Some(cursor) = &page.after {
        let (ms, arn) = time_cursor(cursor)?;
        values.push(SqlValue::Integer(ms));
        values.push(SqlValue::Text(arn));
        let n = values.len();
        conditions.push(format!("(start_ms, arn) < (?{}, ?{n})", n - 1));
    }
    values.push(SqlValue::Integer(limit_plus_one(page)));
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {EXECUTION_COLUMNS} FROM executions {where_clause} ORDER BY start_ms DESC, arn DESC LIMIT ?{}",
        values.len()
    );
    let rows = query_all(conn, &sql, params_from_iter(values), execution_row)?;
    let items = rows
        .into_iter()
        .map(execution_from)
        .collect::<Result<Vec<_>>>()?;
    Ok(finish_page(items, page, |e| {
        format!("{}|{}", e.start_ms, e.arn)
    }))
}

fn execution_id(conn: &Connection, arn: &str) -> Result<Option<(i64, u64)>> {
    conn.prepare_cached(
        "SELECT id, (SELECT COALESCE(MAX(inbox.seq) + 1, 0) FROM inbox WHERE inbox.execution_id = executions.id)
         FROM executions WHERE arn = ?1",
    )
        .and_then(|mut s| {
            s.query_row([arn], |row| {
                Ok((row.get::<_, i64>(0)?, to_u64(row.get(1)?)))
            })
            .optional()
        })
        .map_err(backend)
}

pub(crate) fn get_history(
    conn: &Connection,
    arn: &str,
    query: &HistoryQuery,
) -> Result<Vec<HistoryRecord>> {
    let Some((id, _)) = execution_id(conn, arn)? else {
        return Ok(Vec::new());
    };
    let limit = to_i64(query.limit.max(1) as u64);
    let map = |row: &Row<'_>| {
        Ok(HistoryRecord {
            id: to_u64(row.get(0)?),
            previous_event_id: to_u64(row.get(1)?),
            timestamp_ms: row.get(2)?,
            event_type: row.get(3)?,
            details: row.get(4)?,
        })
    };
    if query.reverse {
        let before = query.after_id.map_or(i64::MAX, to_i64);
        query_all(
            conn,
            "SELECT id, previous_event_id, timestamp_ms, type, details FROM history
             WHERE execution_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            params![id, before, limit],
            map,
        )
    } else {
        let after = query.after_id.map_or(i64::MIN, to_i64);
        query_all(
            conn,
            "SELECT id, previous_event_id, timestamp_ms, type, details FROM history
             WHERE execution_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            params![id, after, limit],
            map,
        )
    }
}

pub(crate) fn get_inbox(conn: &Connection, arn: &str) -> Result<Vec<InboxRecord>> {
    let Some((id, _)) = execution_id(conn, arn)? else {
        return Ok(Vec::new());
    };
    let rows = query_all(
        conn,
        "SELECT seq, now_ms, entropy, event FROM inbox WHERE execution_id = ?1 ORDER BY seq",
        [id],
        |row| {
            Ok((
                to_u64(row.get(0)?),
                row.get::<_, i64>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, String>(3)?,
            ))
        },
    )?;
    rows.into_iter()
        .map(|(seq, now_ms, entropy, event)| {
            let entropy: [u8; 32] = entropy.try_into().map_err(|_| {
                Error::Corrupt(format!(
                    "inbox entry {seq} of {arn}: entropy is not 32 bytes"
                ))
            })?;
            Ok(InboxRecord {
                seq,
                now_ms,
                entropy,
                event,
            })
        })
        .collect()
}

/// One commit; see [`Commit`] for the rules. Runs inside the writer's savepoint, so an error
/// anywhere undoes all of it.
pub(crate) fn commit(conn: &Connection, commit: &Commit) -> Result<()> {
    let arn = &commit.execution_arn;
    let existing = execution_id(conn, arn)?;
    let id = match (&commit.start, existing) {
        (Some(_), Some(_)) => return Err(Error::AlreadyExists(arn.clone())),
        (None, None) => return Err(Error::NotFound(arn.clone())),
        (Some(start), None) => {
            if commit.inbox.seq != 0 {
                return Err(Error::Conflict {
                    execution_arn: arn.clone(),
                    expected: commit.inbox.seq,
                    actual: 0,
                });
            }
            if start.arn != *arn {
                return Err(Error::Corrupt(format!(
                    "start record {} for commit on {arn}",
                    start.arn
                )));
            }
            insert_execution(conn, start)?
        }
        (None, Some((id, seq))) => {
            if seq != commit.inbox.seq {
                return Err(Error::Conflict {
                    execution_arn: arn.clone(),
                    expected: commit.inbox.seq,
                    actual: seq,
                });
            }
            id
        }
    };
    let inbox = &commit.inbox;
    conn.prepare_cached(
        "INSERT INTO inbox (execution_id, seq, now_ms, entropy, event) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            id,
            to_i64(inbox.seq),
            inbox.now_ms,
            &inbox.entropy[..],
            inbox.event
        ])
    })
    .map_err(backend)?;
    if !commit.history.is_empty() {
        let mut statement = conn
            .prepare_cached(
                "INSERT INTO history (execution_id, id, previous_event_id, timestamp_ms, type, details)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?;
        for event in &commit.history {
            statement
                .execute(params![
                    id,
                    to_i64(event.id),
                    to_i64(event.previous_event_id),
                    event.timestamp_ms,
                    event.event_type,
                    event.details
                ])
                .map_err(backend)?;
        }
    }
    if let Some(redriven) = commit.redriven_ms() {
        conn.prepare_cached(
            "UPDATE executions SET redrive_count = redrive_count + 1, redrive_ms = ?2 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, redriven]))
        .map_err(backend)?;
    }
    if let Some(outcome) = &commit.outcome {
        conn.prepare_cached(
            "UPDATE executions SET status = ?2, stop_ms = ?3, output = ?4, error = ?5, cause = ?6
             WHERE id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                id,
                outcome.status.as_str(),
                outcome.stop_ms,
                outcome.output,
                outcome.error,
                outcome.cause
            ])
        })
        .map_err(backend)?;
    }
    if !commit.timers_set.is_empty() {
        let mut statement = conn
            .prepare_cached("INSERT OR REPLACE INTO timers (execution_id, timer_id, due_ms) VALUES (?1, ?2, ?3)")
            .map_err(backend)?;
        for (timer, due) in &commit.timers_set {
            statement
                .execute(params![id, to_i64(*timer), due])
                .map_err(backend)?;
        }
    }
    if !commit.timers_delete.is_empty() {
        let mut statement = conn
            .prepare_cached("DELETE FROM timers WHERE execution_id = ?1 AND timer_id = ?2")
            .map_err(backend)?;
        for timer in &commit.timers_delete {
            statement
                .execute(params![id, to_i64(*timer)])
                .map_err(backend)?;
        }
    }
    if !commit.tasks_insert.is_empty() {
        let mut statement = conn
            .prepare_cached(
                "INSERT INTO tasks (token, execution_id, task_id, state_name, resource, activity_arn, input, state,
                 worker_name, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(backend)?;
        for task in &commit.tasks_insert {
            statement
                .execute(params![
                    task.token,
                    id,
                    to_i64(task.task_id),
                    task.state_name,
                    task.resource,
                    task.activity_arn,
                    task.input,
                    task.state.as_str(),
                    task.worker_name,
                    task.created_ms
                ])
                .map_err(backend)?;
        }
    }
    if !commit.tasks_update.is_empty() {
        let mut statement = conn
            .prepare_cached(
                "UPDATE tasks SET state = ?3, worker_name = COALESCE(?4, worker_name)
                 WHERE execution_id = ?1 AND task_id = ?2",
            )
            .map_err(backend)?;
        for update in &commit.tasks_update {
            statement
                .execute(params![
                    id,
                    to_i64(update.task_id),
                    update.state.as_str(),
                    update.worker_name
                ])
                .map_err(backend)?;
        }
    }
    if commit
        .outcome
        .as_ref()
        .is_some_and(|o| o.status.is_terminal())
    {
        conn.prepare_cached("DELETE FROM timers WHERE execution_id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(backend)?;
        conn.prepare_cached(
            "UPDATE tasks SET state = 'CLOSED' WHERE execution_id = ?1 AND state <> 'CLOSED'",
        )
        .and_then(|mut s| s.execute([id]))
        .map_err(backend)?;
    }
    Ok(())
}

fn insert_execution(conn: &Connection, r: &ExecutionRecord) -> Result<i64> {
    let sql = format!(
        "INSERT INTO executions ({EXECUTION_INSERT_COLUMNS}) VALUES
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    );
    conn.prepare_cached(&sql)
        .and_then(|mut s| {
            s.execute(params![
                r.arn,
                r.state_machine_arn,
                r.version_arn,
                r.alias_arn,
                r.name,
                r.kind.as_str(),
                r.definition_id,
                r.role_arn,
                r.input,
                r.status.as_str(),
                r.start_ms,
                r.stop_ms,
                r.output,
                r.error,
                r.cause,
                to_i64(r.redrive_count),
                r.redrive_ms
            ])
        })
        .map_err(backend)?;
    Ok(conn.last_insert_rowid())
}

// ---------------------------------------------------------------- timers and tasks

pub(crate) fn timers_between(
    conn: &Connection,
    after: Millis,
    until: Millis,
    limit: usize,
) -> Result<Vec<TimerRecord>> {
    query_all(
        conn,
        "SELECT e.arn, t.timer_id, t.due_ms FROM timers t JOIN executions e ON e.id = t.execution_id
         WHERE t.due_ms > ?1 AND t.due_ms <= ?2 ORDER BY t.due_ms, e.arn, t.timer_id LIMIT ?3",
        params![after, until, to_i64(limit as u64)],
        |row| Ok(TimerRecord { execution_arn: row.get(0)?, timer_id: to_u64(row.get(1)?), due_ms: row.get(2)? }),
    )
}

const TASK_COLUMNS: &str = "t.token, e.arn, t.task_id, t.state_name, t.resource, t.activity_arn, t.input, t.state, \
    t.worker_name, t.created_ms, t.seq";

fn task_row(row: &Row<'_>) -> rusqlite::Result<(TaskRecord, String, i64)> {
    Ok((
        TaskRecord {
            token: row.get(0)?,
            execution_arn: row.get(1)?,
            task_id: to_u64(row.get(2)?),
            state_name: row.get(3)?,
            resource: row.get(4)?,
            activity_arn: row.get(5)?,
            input: row.get(6)?,
            state: TaskState::Scheduled,
            worker_name: row.get(8)?,
            created_ms: row.get(9)?,
        },
        row.get(7)?,
        row.get(10)?,
    ))
}

fn task_from((mut record, state, _): (TaskRecord, String, i64)) -> Result<TaskRecord> {
    record.state = TaskState::parse(&state).ok_or_else(|| corrupt("task state", &state))?;
    Ok(record)
}

pub(crate) fn get_task(conn: &Connection, token: &str) -> Result<Option<TaskRecord>> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id WHERE t.token = ?1"
    );
    let row = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([token], task_row).optional())
        .map_err(backend)?;
    row.map(task_from).transpose()
}

pub(crate) fn activity_queue(
    conn: &Connection,
    activity: &str,
    limit: usize,
) -> Result<Vec<TaskRecord>> {
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id
         WHERE t.activity_arn = ?1 AND t.state = 'SCHEDULED' ORDER BY t.seq LIMIT ?2"
    );
    let rows = query_all(
        conn,
        &sql,
        params![activity, to_i64(limit as u64)],
        task_row,
    )?;
    rows.into_iter().map(task_from).collect()
}

pub(crate) fn tasks_to_dispatch(conn: &Connection, page: &PageRequest) -> Result<Page<TaskRecord>> {
    let after = match &page.after {
        Some(cursor) => number_cursor(cursor)?,
        None => i64::MIN,
    };
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN executions e ON e.id = t.execution_id
         WHERE t.state = 'SCHEDULED' AND t.activity_arn IS NULL AND t.seq > ?1 ORDER BY t.seq LIMIT ?2"
    );
    let rows = query_all(conn, &sql, params![after, limit_plus_one(page)], task_row)?;
    let page_rows = finish_page(rows, page, |(_, _, seq)| seq.to_string());
    Ok(Page {
        items: page_rows
            .items
            .into_iter()
            .map(task_from)
            .collect::<Result<Vec<_>>>()?,
        next: page_rows.next,
    })
}
