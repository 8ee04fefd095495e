//! Connection loss: operations retry through terminated connections, a retried commit whose
//! first attempt may have been applied is recognised instead of duplicated, and `health`.

use std::time::Duration;

use baton_store::{Error, Store, contract};
use baton_store_postgres::{Options, PgStore, SCHEMA_VERSION};

use crate::support::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_survive_killed_connections() {
    let Some(db) = TestDb::new("operations_survive_killed_connections").await else {
        return;
    };
    let record = contract::execution("survivor", "e", 1);
    db.store.commit(contract::start(&record)).await.unwrap();
    for seq in 1..=5u64 {
        // Every pooled connection dies between two operations (as when PostgreSQL restarts).
        let killed = db.kill_connections().await;
        assert!(killed >= 1, "no connection to kill");
        db.store
            .commit(contract::step(&record.arn, seq))
            .await
            .unwrap();
        let read = db.store.get_execution(&record.arn).await.unwrap().unwrap();
        assert_eq!(read.seq, seq + 1);
    }
    assert_eq!(db.store.get_inbox(&record.arn).await.unwrap().len(), 6);
    let health = db.store.health().await;
    assert!(health.ok, "{health:?}");
    assert_eq!(health.schema_version, Some(SCHEMA_VERSION));
}

#[tokio::test]
async fn an_ambiguous_commit_is_settled_by_its_inbox_entry() {
    let Some(db) = TestDb::new("an_ambiguous_commit_is_settled_by_its_inbox_entry").await else {
        return;
    };
    let record = contract::execution("ambiguous", "e", 1);
    let start = contract::start(&record);
    db.store.commit(start.clone()).await.unwrap();
    // The same start, retried after a failure that may have applied it: recognised as done.
    db.store
        .commit_after_ambiguous_failure(start.clone())
        .await
        .unwrap();
    let step = contract::step(&record.arn, 1);
    db.store.commit(step.clone()).await.unwrap();
    db.store
        .commit_after_ambiguous_failure(step.clone())
        .await
        .unwrap();
    // A different step on the same sequence number is another writer's: refused.
    let mut other = step.clone();
    other.inbox.entropy = [9; 32];
    let refused = db.store.commit_after_ambiguous_failure(other).await;
    assert!(
        matches!(
            refused,
            Err(Error::Conflict {
                expected: 1,
                actual: 2,
                ..
            })
        ),
        "{refused:?}"
    );
    let mut other_start = start.clone();
    other_start.inbox.event = "{}".into();
    assert!(matches!(
        db.store.commit_after_ambiguous_failure(other_start).await,
        Err(Error::AlreadyExists(_))
    ));
    // Nothing was written twice.
    assert_eq!(db.store.get_inbox(&record.arn).await.unwrap().len(), 2);
    assert_eq!(
        db.store
            .get_execution(&record.arn)
            .await
            .unwrap()
            .unwrap()
            .seq,
        2
    );
}

#[tokio::test]
async fn an_unreachable_database_fails_after_the_retry_window() {
    let Some(_) = crate::support::url("an_unreachable_database_fails_after_the_retry_window")
    else {
        return;
    };
    let started = std::time::Instant::now();
    let error = PgStore::connect_with(
        "postgres://postgres@127.0.0.1:1/test",
        Options {
            retry_for: Duration::from_millis(300),
            connect_timeout: Duration::from_millis(500),
            ..Options::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(error, Error::Backend(_)), "{error:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(5),
        "retried for {waited:?}"
    );
}

/// A real PostgreSQL restart in the middle of a stream of commits: every commit returns `Ok`
/// (the retries wait the restart out) and each is stored exactly once. Runs only when
/// `BATON_TEST_POSTGRES_RESTART` holds the shell command that restarts the server (for
/// example `pg_ctlcluster --skip-systemctl-redirect 15 main restart`), since it disturbs
/// everything else using that server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_ride_out_a_server_restart() {
    let Some(db) = TestDb::new("commits_ride_out_a_server_restart").await else {
        return;
    };
    let Ok(restart) = std::env::var("BATON_TEST_POSTGRES_RESTART") else {
        eprintln!("skipping the restart: set BATON_TEST_POSTGRES_RESTART to a restart command");
        return;
    };
    let store = std::sync::Arc::new(db.node().await);
    let records: Vec<_> = (0..4)
        .map(|i| contract::execution("restart", &format!("e{i}"), i))
        .collect();
    for record in &records {
        store.commit(contract::start(record)).await.unwrap();
    }
    const STEPS: u64 = 60;
    let mut writers = Vec::new();
    for record in &records {
        let (store, arn) = (std::sync::Arc::clone(&store), record.arn.clone());
        writers.push(tokio::spawn(async move {
            for seq in 1..=STEPS {
                store.commit(contract::step(&arn, seq)).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&restart)
        .status()
        .await
        .expect("run the restart command");
    assert!(status.success(), "{restart}: {status}");
    eprintln!("server restarted in {:?}", started.elapsed());
    for writer in writers {
        writer.await.unwrap();
    }
    for record in &records {
        let inbox = store.get_inbox(&record.arn).await.unwrap();
        assert_eq!(
            inbox.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (0..=STEPS).collect::<Vec<_>>()
        );
    }
    assert!(store.health().await.ok);
}
