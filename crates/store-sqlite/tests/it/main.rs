//! Integration tests of the SQLite store: the shared contract suite, schema versioning,
//! durability across reopen and group commit under concurrency.

use std::sync::Arc;

use baton_store::contract;
use baton_store::{Error, PageRequest, Store};
use baton_store_sqlite::{Options, SCHEMA_VERSION, SqliteStore};

fn temp() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    (dir, path)
}

#[tokio::test]
async fn sqlite_store_passes_the_contract() {
    let (_dir, path) = temp();
    let store = SqliteStore::open(&path).unwrap();
    contract::run_all(&store).await;
}

#[tokio::test]
async fn sqlite_store_passes_the_contract_with_full_sync_and_one_reader() {
    let (_dir, path) = temp();
    let options = Options {
        full_sync: true,
        readers: 1,
        max_batch: 1,
        page_size: 1024,
    };
    let store = SqliteStore::open_with(&path, options).unwrap();
    contract::run_all(&store).await;
}

#[tokio::test]
async fn data_survives_reopening() {
    let (_dir, path) = temp();
    let record = contract::execution("durable", "e1", 10);
    {
        let store = SqliteStore::open(&path).unwrap();
        store.commit(contract::start(&record)).await.unwrap();
        let mut step = contract::step(&record.arn, 1);
        step.timers_set.push((4, 1234));
        store.commit(step).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let read = store.get_execution(&record.arn).await.unwrap().unwrap();
    assert_eq!(read.seq, 2);
    assert_eq!(store.get_inbox(&record.arn).await.unwrap().len(), 2);
    let timers = store.timers_between(0, 2000, 10).await.unwrap();
    assert_eq!((timers[0].timer_id, timers[0].due_ms), (4, 1234));
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let (_dir, path) = temp();
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite_connection(&path);
    conn.execute(
        "UPDATE schema_version SET version = ?1",
        [SCHEMA_VERSION + 1],
    )
    .unwrap();
    drop(conn);
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(&error, Error::Backend(message) if message.contains("newer")),
        "{error:?}"
    );
}

fn rusqlite_connection(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Many writers at once: group commit must keep each commit atomic and fenced. Every
/// execution gets 20 steps from 8 concurrent tasks; each step is retried on conflict, so the
/// end state must show exactly 20 inbox entries per execution, with no gaps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_are_fenced_and_complete() {
    let (_dir, path) = temp();
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let executions: Vec<_> = (0..10)
        .map(|i| contract::execution("busy", &format!("e{i}"), i))
        .collect();
    for record in &executions {
        store.commit(contract::start(record)).await.unwrap();
    }
    let mut handles = Vec::new();
    for writer in 0..8 {
        let store = Arc::clone(&store);
        let arns: Vec<String> = executions.iter().map(|e| e.arn.clone()).collect();
        handles.push(tokio::spawn(async move {
            let mut done = 0;
            for round in 0..25 {
                let arn = &arns[(writer + round) % arns.len()];
                loop {
                    let seq = store.get_execution(arn).await.unwrap().unwrap().seq;
                    if seq >= 21 {
                        break;
                    }
                    match store.commit(contract::step(arn, seq)).await {
                        Ok(()) => {
                            done += 1;
                            break;
                        }
                        Err(Error::Conflict { .. }) => continue,
                        Err(other) => panic!("unexpected error {other:?}"),
                    }
                }
            }
            done
        }));
    }
    let mut total = 0;
    for handle in handles {
        total += handle.await.unwrap();
    }
    for record in &executions {
        let inbox = store.get_inbox(&record.arn).await.unwrap();
        let seqs: Vec<u64> = inbox.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (0..seqs.len() as u64).collect::<Vec<_>>(),
            "gap in {}",
            record.arn
        );
    }
    let committed: usize = {
        let mut sum = 0;
        for record in &executions {
            sum += store.get_inbox(&record.arn).await.unwrap().len() - 1;
        }
        sum
    };
    assert_eq!(
        committed, total,
        "every acknowledged commit is durable, and only those"
    );
    let page = store
        .list_executions(Default::default(), PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(page.items.len(), executions.len());
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Model-based check: random commits (starts, steps with timers, tasks, task updates and
/// outcomes, some stale or duplicate) applied to SQLite and to the in-memory reference store
/// must get the same answers and leave the same observable state.
#[tokio::test]
async fn random_commits_agree_with_the_memory_store() {
    use baton_store::{
        ExecutionOutcome, ExecutionStatus, HistoryQuery, HistoryRecord, MemoryStore, TaskRecord,
        TaskState, TaskUpdate,
    };
    let (_dir, path) = temp();
    let sqlite = SqliteStore::open(&path).unwrap();
    let memory = MemoryStore::new();
    let stores: [&dyn Store; 2] = [&sqlite, &memory];
    let activity = "arn:aws:states:us-east-1:000000000000:activity:model";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let names: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
    let mut token_counter = 0;
    let (mut accepted, mut refused) = (0, 0);
    for round in 0..400 {
        let name = &names[rng.below(names.len() as u64) as usize];
        let record = contract::execution("model", name, round % 7);
        let current = memory.get_execution(&record.arn).await.unwrap();
        let mut commit = match &current {
            None => contract::start(&record),
            Some(existing) => {
                // Mostly the right sequence number, sometimes a stale or future one.
                let seq = match rng.below(10) {
                    0 => existing.seq.saturating_sub(1),
                    1 => existing.seq + 1,
                    _ => existing.seq,
                };
                let mut step = contract::step(&record.arn, seq);
                let next_id = memory
                    .get_history(
                        &record.arn,
                        HistoryQuery {
                            after_id: None,
                            reverse: true,
                            limit: 1,
                        },
                    )
                    .await
                    .unwrap()
                    .first()
                    .map_or(1, |e| e.id + 1);
                for i in 0..rng.below(3) {
                    // Occasionally reuse an id, which must refuse the whole commit.
                    let id = if rng.below(20) == 0 { 1 } else { next_id + i };
                    step.history.push(HistoryRecord {
                        id,
                        previous_event_id: id - 1,
                        timestamp_ms: round,
                        event_type: "PassStateEntered".into(),
                        details: format!(r#"{{"round":{round}}}"#),
                    });
                }
                step
            }
        };
        for _ in 0..rng.below(3) {
            commit
                .timers_set
                .push((rng.below(4), 1000 + rng.below(50) as i64));
        }
        if rng.below(3) == 0 {
            commit.timers_delete.push(rng.below(4));
        }
        if rng.below(3) == 0 {
            token_counter += 1;
            commit.tasks_insert.push(TaskRecord {
                token: format!("tok-{token_counter}"),
                execution_arn: record.arn.clone(),
                task_id: rng.below(6),
                state_name: "S".into(),
                resource: "r".into(),
                activity_arn: (rng.below(2) == 0).then(|| activity.to_owned()),
                input: "{}".into(),
                state: TaskState::Scheduled,
                worker_name: None,
                created_ms: round,
            });
        }
        if rng.below(3) == 0 {
            let state = [TaskState::Started, TaskState::Closed][rng.below(2) as usize];
            let worker_name = (rng.below(2) == 0).then(|| format!("w{round}"));
            commit.tasks_update.push(TaskUpdate {
                task_id: rng.below(6),
                state,
                worker_name,
            });
        }
        if current.is_some() && rng.below(12) == 0 {
            let status = [
                ExecutionStatus::Succeeded,
                ExecutionStatus::Failed,
                ExecutionStatus::Running,
            ][rng.below(3) as usize];
            commit.outcome = Some(ExecutionOutcome {
                status,
                stop_ms: Some(round),
                output: Some("{}".into()),
                error: None,
                cause: Some("c".into()),
            });
        }
        let mut results = Vec::new();
        for store in stores {
            results.push(
                store
                    .commit(commit.clone())
                    .await
                    .map_err(|e| std::mem::discriminant(&e)),
            );
        }
        assert_eq!(
            results[0], results[1],
            "round {round}: commit outcome differs for {commit:?}"
        );
        if results[0].is_ok() {
            accepted += 1;
        } else {
            refused += 1;
        }

        // Compare everything observable.
        let mut views = Vec::new();
        for store in stores {
            let executions = store
                .list_executions(Default::default(), PageRequest::first(100))
                .await
                .unwrap()
                .items;
            let mut histories = Vec::new();
            let mut inboxes = Vec::new();
            for execution in &executions {
                let query = HistoryQuery {
                    after_id: None,
                    reverse: false,
                    limit: 10_000,
                };
                histories.push(store.get_history(&execution.arn, query).await.unwrap());
                inboxes.push(store.get_inbox(&execution.arn).await.unwrap());
            }
            let timers = store
                .timers_between(i64::MIN, i64::MAX, 10_000)
                .await
                .unwrap();
            let queue = store.activity_queue(activity, 1000).await.unwrap();
            let dispatch = store
                .tasks_to_dispatch(PageRequest::first(1000))
                .await
                .unwrap()
                .items;
            let mut tasks = Vec::new();
            for n in 1..=token_counter {
                tasks.push(store.get_task(&format!("tok-{n}")).await.unwrap());
            }
            views.push(format!("{executions:?}\n{histories:?}\n{inboxes:?}\n{timers:?}\n{queue:?}\n{dispatch:?}\n{tasks:?}"));
        }
        assert_eq!(
            views[0], views[1],
            "round {round}: stores disagree after {commit:?}"
        );
    }
    // The sequence must exercise both paths, or the comparison proves little.
    assert!(
        accepted > 150 && refused > 30,
        "accepted {accepted}, refused {refused}"
    );
}
