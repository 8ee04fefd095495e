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
