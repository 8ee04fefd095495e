//! The in-memory reference store: the contract in its plainest form, for tests and for
//! `baton run`. Everything sits behind one mutex; lists scan and sort.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use crate::{
    ActivityRecord, AliasRecord, BoxFuture, Commit, Error, ExecutionFilter, ExecutionRecord,
    HistoryQuery, HistoryRecord, InboxRecord, Millis, Page, PageRequest, Result,
    StateMachineRecord, Store, Tag, TaskRecord, TaskState, TimerRecord, VersionRecord,
};

/// A [`Store`] kept in memory. Cheap to create; lost when dropped.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    machines: BTreeMap<String, StateMachineRecord>,
    versions: BTreeMap<String, VersionRecord>,
    aliases: BTreeMap<String, AliasRecord>,
    definitions: HashMap<String, String>,
    tags: BTreeMap<String, BTreeMap<String, String>>,
    activities: BTreeMap<String, ActivityRecord>,
    executions: HashMap<String, ExecutionData>,
    /// Task token → (scheduling order, record).
    tasks: HashMap<String, (u64, TaskRecord)>,
    /// (execution, task id) → token.
    task_tokens: HashMap<(String, u64), String>,
    next_task_order: u64,
}

#[derive(Debug)]
struct ExecutionData {
    record: ExecutionRecord,
    history: Vec<HistoryRecord>,
    inbox: Vec<InboxRecord>,
    timers: BTreeMap<u64, Millis>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied commit (commits validate
        // before they mutate), so a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T>,
    ) -> BoxFuture<'_, Result<T>> {
        let result = f(&mut self.lock());
        Box::pin(std::future::ready(result))
    }
}

/// Pages through `items` sorted ascending by key; the cursor is the last key returned.
pub(crate) fn paginate<K: Ord, T>(
    mut items: Vec<(K, T)>,
    page: &PageRequest,
    descending: bool,
    encode: impl Fn(&K) -> String,
    decode: impl Fn(&str) -> Option<K>,
) -> Result<Page<T>> {
    let after = match &page.after {
        Some(cursor) => Some(
            decode(cursor)
                .ok_or_else(|| Error::Corrupt(format!("invalid page cursor {cursor:?}")))?,
        ),
        None => None,
    };
    items.sort_by(|a, b| {
        if descending {
            b.0.cmp(&a.0)
        } else {
            a.0.cmp(&b.0)
        }
    });
    let limit = page.limit.max(1);
    let mut out = Vec::new();
    let mut last = None;
    let mut more = false;
    for (key, item) in items {
        if let Some(after) = &after {
            let past = if descending {
                key < *after
            } else {
                key > *after
            };
            if !past {
                continue;
            }
        }
        if out.len() == limit {
            more = true;
            break;
        }
        out.push(item);
        last = Some(key);
    }
    let next = if more {
        last.map(|key| encode(&key))
    } else {
        None
    };
    Ok(Page { items: out, next })
}

pub(crate) fn encode_time_key(key: &(Millis, String)) -> String {
    format!("{}|{}", key.0, key.1)
}

pub(crate) fn decode_time_key(text: &str) -> Option<(Millis, String)> {
    let (ms, rest) = text.split_once('|')?;
    Some((ms.parse().ok()?, rest.to_owned()))
}

fn decode_u64(text: &str) -> Option<u64> {
    text.parse().ok()
}

impl Store for MemoryStore {
    fn create_state_machine(&self, record: StateMachineRecord) -> BoxFuture<'_, Result<()>> {
        self.run(move |state| {
            if state.machines.contains_key(&record.arn) {
                return Err(Error::AlreadyExists(record.arn));
            }
            state.machines.insert(record.arn.clone(), record);
            Ok(())
        })
    }

    fn update_state_machine(&self, record: StateMachineRecord) -> BoxFuture<'_, Result<()>> {
        self.run(move |state| match state.machines.get_mut(&record.arn) {
            Some(slot) => {
                *slot = record;
                Ok(())
            }
            None => Err(Error::NotFound(record.arn)),
        })
    }

    fn get_state_machine(&self, arn: &str) -> BoxFuture<'_, Result<Option<StateMachineRecord>>> {
        self.run(|state| Ok(state.machines.get(arn).cloned()))
    }

    fn list_state_machines(
        &self,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<StateMachineRecord>>> {
        self.run(move |state| {
            let items = state
                .machines
                .values()
                .map(|m| ((m.created_ms, m.arn.clone()), m.clone()))
                .collect();
            paginate(items, &page, false, encode_time_key, decode_time_key)
        })
    }

    fn delete_state_machine(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        self.run(|state| {
            let existed = state.machines.remove(arn).is_some();
            let versions: Vec<String> = state
                .versions
                .values()
                .filter(|v| v.state_machine_arn == arn)
                .map(|v| v.arn.clone())
                .collect();
            for version in versions {
                state.versions.remove(&version);
            }
            state.aliases.retain(|_, a| a.state_machine_arn != arn);
            state.tags.remove(arn);
            Ok(existed)
        })
    }

    fn create_version(&self, record: VersionRecord) -> BoxFuture<'_, Result<()>> {
        self.run(move |state| {
            if state.versions.contains_key(&record.arn) {
                return Err(Error::AlreadyExists(record.arn));
            }
            state.versions.insert(record.arn.clone(), record);
            Ok(())
        })
    }

    fn get_version(&self, arn: &str) -> BoxFuture<'_, Result<Option<VersionRecord>>> {
        self.run(|state| Ok(state.versions.get(arn).cloned()))
    }

    fn list_versions(
        &self,
        state_machine_arn: &str,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<VersionRecord>>> {
        self.run(move |state| {
            let items = state
                .versions
                .values()
                .filter(|v| v.state_machine_arn == state_machine_arn)
                .map(|v| (v.version, v.clone()))
                .collect();
            paginate(items, &page, true, u64::to_string, decode_u64)
        })
    }

    fn delete_version(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        self.run(|state| Ok(state.versions.remove(arn).is_some()))
    }

    fn put_alias(&self, record: AliasRecord) -> BoxFuture<'_, Result<()>> {
        self.run(move |state| {
            state.aliases.insert(record.arn.clone(), record);
            Ok(())
        })
    }

    fn get_alias(&self, arn: &str) -> BoxFuture<'_, Result<Option<AliasRecord>>> {
        self.run(|state| Ok(state.aliases.get(arn).cloned()))
    }

    fn list_aliases(
        &self,
        state_machine_arn: &str,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<AliasRecord>>> {
        self.run(move |state| {
            let items = state
                .aliases
                .values()
                .filter(|a| a.state_machine_arn == state_machine_arn)
                .map(|a| (a.name.clone(), a.clone()))
                .collect();
            paginate(items, &page, false, String::clone, |s| Some(s.to_owned()))
        })
    }

    fn delete_alias(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        self.run(|state| Ok(state.aliases.remove(arn).is_some()))
    }

    fn put_definition(&self, id: &str, text: &str) -> BoxFuture<'_, Result<()>> {
        self.run(|state| {
            state
                .definitions
                .entry(id.to_owned())
                .or_insert_with(|| text.to_owned());
            Ok(())
        })
    }

    fn get_definition(&self, id: &str) -> BoxFuture<'_, Result<Option<String>>> {
        self.run(|state| Ok(state.definitions.get(id).cloned()))
    }

    fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> BoxFuture<'_, Result<()>> {
        self.run(move |state| {
            let entry = state.tags.entry(arn.to_owned()).or_default();
            for tag in tags {
                entry.insert(tag.key, tag.value);
            }
            Ok(())
        })
    }

    fn untag_resource(&self, arn: &str, keys: Vec<String>) -> BoxFuture<'_, Result<()>> {
        self.run(move |state| {
            if let Some(entry) = state.tags.get_mut(arn) {
                for key in keys {
                    entry.remove(&key);
                }
                if entry.is_empty() {
                    state.tags.remove(arn);
                }
            }
            Ok(())
        })
    }

    fn list_tags(&self, arn: &str) -> BoxFuture<'_, Result<Vec<Tag>>> {
        self.run(|state| {
            Ok(state
                .tags
                .get(arn)
                .map(|tags| {
                    tags.iter()
                        .map(|(key, value)| Tag {
                            key: key.clone(),
                            value: value.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default())
        })
    }

    fn create_activity(&self, record: ActivityRecord) -> BoxFuture<'_, Result<()>> {
        self.run(move |state| {
            if state.activities.contains_key(&record.arn) {
                return Err(Error::AlreadyExists(record.arn));
            }
            state.activities.insert(record.arn.clone(), record);
            Ok(())
        })
    }

    fn get_activity(&self, arn: &str) -> BoxFuture<'_, Result<Option<ActivityRecord>>> {
        self.run(|state| Ok(state.activities.get(arn).cloned()))
    }

    fn list_activities(&self, page: PageRequest) -> BoxFuture<'_, Result<Page<ActivityRecord>>> {
        self.run(move |state| {
            let items = state
                .activities
                .values()
                .map(|a| ((a.created_ms, a.arn.clone()), a.clone()))
                .collect();
            paginate(items, &page, false, encode_time_key, decode_time_key)
        })
    }

    fn delete_activity(&self, arn: &str) -> BoxFuture<'_, Result<bool>> {
        self.run(|state| {
            state.tags.remove(arn);
            Ok(state.activities.remove(arn).is_some())
        })
    }

    fn commit(&self, commit: Commit) -> BoxFuture<'_, Result<()>> {
        self.run(move |state| state.commit(commit))
    }

    fn get_execution(&self, arn: &str) -> BoxFuture<'_, Result<Option<ExecutionRecord>>> {
        self.run(|state| Ok(state.executions.get(arn).map(|e| e.record.clone())))
    }

    fn list_executions(
        &self,
        filter: ExecutionFilter,
        page: PageRequest,
    ) -> BoxFuture<'_, Result<Page<ExecutionRecord>>> {
        self.run(move |state| {
            let items = state
                .executions
                .values()
                .map(|e| &e.record)
                .filter(|r| matches_filter(r, &filter))
                .map(|r| ((r.start_ms, r.arn.clone()), r.clone()))
                .collect();
            paginate(items, &page, true, encode_time_key, decode_time_key)
        })
    }

    fn get_history(
        &self,
        execution_arn: &str,
        query: HistoryQuery,
    ) -> BoxFuture<'_, Result<Vec<HistoryRecord>>> {
        self.run(move |state| {
            let Some(data) = state.executions.get(execution_arn) else {
                return Ok(Vec::new());
            };
            let limit = query.limit.max(1);
            let keep = |event: &&HistoryRecord| match query.after_id {
                None => true,
                Some(after) if query.reverse => event.id < after,
                Some(after) => event.id > after,
            };
            Ok(if query.reverse {
                data.history
                    .iter()
                    .rev()
                    .filter(keep)
                    .take(limit)
                    .cloned()
                    .collect()
            } else {
                data.history
                    .iter()
                    .filter(keep)
                    .take(limit)
                    .cloned()
                    .collect()
            })
        })
    }

    fn get_inbox(&self, execution_arn: &str) -> BoxFuture<'_, Result<Vec<InboxRecord>>> {
        self.run(|state| {
            Ok(state
                .executions
                .get(execution_arn)
                .map(|e| e.inbox.clone())
                .unwrap_or_default())
        })
    }

    fn timers_between(
        &self,
        after_ms: Millis,
        until_ms: Millis,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TimerRecord>>> {
        self.run(move |state| {
            let mut timers: Vec<TimerRecord> = state
                .executions
                .values()
                .flat_map(|e| {
                    e.timers.iter().map(|(&timer_id, &due_ms)| TimerRecord {
                        execution_arn: e.record.arn.clone(),
                        timer_id,
                        due_ms,
                    })
                })
                .filter(|t| t.due_ms > after_ms && t.due_ms <= until_ms)
                .collect();
            timers.sort_by(|a, b| {
                (a.due_ms, &a.execution_arn, a.timer_id).cmp(&(
                    b.due_ms,
                    &b.execution_arn,
                    b.timer_id,
                ))
            });
            timers.truncate(limit);
            Ok(timers)
        })
    }

    fn get_task(&self, token: &str) -> BoxFuture<'_, Result<Option<TaskRecord>>> {
        self.run(|state| Ok(state.tasks.get(token).map(|(_, t)| t.clone())))
    }

    fn activity_queue(
        &self,
        activity_arn: &str,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TaskRecord>>> {
        self.run(move |state| {
            let mut queued: Vec<&(u64, TaskRecord)> = state
                .tasks
                .values()
                .filter(|(_, t)| {
                    t.state == TaskState::Scheduled
                        && t.activity_arn.as_deref() == Some(activity_arn)
                })
                .collect();
            queued.sort_by_key(|(order, _)| *order);
            Ok(queued
                .into_iter()
                .take(limit)
                .map(|(_, t)| t.clone())
                .collect())
        })
    }

    fn tasks_to_dispatch(&self, page: PageRequest) -> BoxFuture<'_, Result<Page<TaskRecord>>> {
        self.run(move |state| {
            let items = state
                .tasks
                .values()
                .filter(|(_, t)| t.state == TaskState::Scheduled && t.activity_arn.is_none())
                .map(|(order, t)| (*order, t.clone()))
                .collect();
            paginate(items, &page, false, u64::to_string, decode_u64)
        })
    }
}

pub(crate) fn matches_filter(record: &ExecutionRecord, filter: &ExecutionFilter) -> bool {
    let machine_ok = filter
        .state_machine_arn
        .as_ref()
        .is_none_or(|arn| &record.state_machine_arn == arn);
    let qualified_ok = filter.qualified_arn.as_ref().is_none_or(|arn| {
        record.version_arn.as_ref() == Some(arn) || record.alias_arn.as_ref() == Some(arn)
    });
    let status_ok = filter.status.is_none_or(|status| record.status == status);
    machine_ok && qualified_ok && status_ok
}

impl State {
    fn commit(&mut self, commit: Commit) -> Result<()> {
        // Validate everything first so that a failed commit changes nothing.
        let arn = &commit.execution_arn;
        match (&commit.start, self.executions.get(arn)) {
            (Some(_), Some(_)) => return Err(Error::AlreadyExists(arn.clone())),
            (Some(_), None) if commit.inbox.seq != 0 => {
                return Err(Error::Conflict {
                    execution_arn: arn.clone(),
                    expected: commit.inbox.seq,
                    actual: 0,
                });
            }
            (Some(start), None) if start.arn != *arn => {
                return Err(Error::Corrupt(format!(
                    "start record {} for commit on {arn}",
                    start.arn
                )));
            }
            (Some(_), None) => {}
            (None, None) => return Err(Error::NotFound(arn.clone())),
            (None, Some(data)) => {
                if data.record.seq != commit.inbox.seq {
                    return Err(Error::Conflict {
                        execution_arn: arn.clone(),
                        expected: commit.inbox.seq,
                        actual: data.record.seq,
                    });
                }
                if let Some(event) = commit
                    .history
                    .iter()
                    .find(|e| data.history.iter().any(|h| h.id == e.id))
                {
                    return Err(Error::AlreadyExists(format!(
                        "history event {} of {arn}",
                        event.id
                    )));
                }
            }
        }
        for task in &commit.tasks_insert {
            if self.tasks.contains_key(&task.token) {
                return Err(Error::AlreadyExists(format!("task token {}", task.token)));
            }
            if self.task_tokens.contains_key(&(arn.clone(), task.task_id)) {
                return Err(Error::AlreadyExists(format!(
                    "task {} of {arn}",
                    task.task_id
                )));
            }
        }

        let redriven = commit.redriven_ms();
        if let Some(start) = commit.start {
            self.executions.insert(
                arn.clone(),
                ExecutionData {
                    record: start,
                    history: Vec::new(),
                    inbox: Vec::new(),
                    timers: BTreeMap::new(),
                },
            );
        }
        let Some(data) = self.executions.get_mut(arn) else {
            return Err(Error::NotFound(arn.clone()));
        };
        data.record.seq = commit.inbox.seq + 1;
        if let Some(redriven) = redriven {
            data.record.redrive_count += 1;
            data.record.redrive_ms = Some(redriven);
        }
        data.inbox.push(commit.inbox);
        data.history.extend(commit.history);
        data.history.sort_by_key(|e| e.id);
        for (timer_id, due_ms) in commit.timers_set {
            data.timers.insert(timer_id, due_ms);
        }
        for timer_id in commit.timers_delete {
            data.timers.remove(&timer_id);
        }
        for task in commit.tasks_insert {
            self.task_tokens
                .insert((arn.clone(), task.task_id), task.token.clone());
            self.next_task_order += 1;
            self.tasks
                .insert(task.token.clone(), (self.next_task_order, task));
        }
        for update in commit.tasks_update {
            let Some(token) = self.task_tokens.get(&(arn.clone(), update.task_id)) else {
                continue;
            };
            if let Some((_, task)) = self.tasks.get_mut(token) {
                task.state = update.state;
                if update.worker_name.is_some() {
                    task.worker_name = update.worker_name;
                }
            }
        }
        if let Some(outcome) = commit.outcome {
            let terminal = outcome.status.is_terminal();
            data.record.status = outcome.status;
            data.record.stop_ms = outcome.stop_ms;
            data.record.output = outcome.output;
            data.record.error = outcome.error;
            data.record.cause = outcome.cause;
            if terminal {
                data.timers.clear();
                for ((exec, _), token) in &self.task_tokens {
                    if exec == arn
                        && let Some((_, task)) = self.tasks.get_mut(token)
                    {
                        task.state = TaskState::Closed;
                    }
                }
            }
        }
        Ok(())
    }
}
