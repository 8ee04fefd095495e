//! A throughput figure: durable commits per second with batched history events, from several
//! concurrent writers, printed as a table (`cargo test -p baton-store-postgres --release
//! commit_throughput -- --nocapture`). The run checks that every commit it counted is stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use baton_store::{HistoryRecord, Store, contract};
use baton_store_postgres::{Options, PgStore};

use crate::support::TestDb;

/// Concurrent executions, each advanced one step at a time.
const WRITERS: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_throughput() {
    let Some(db) = TestDb::new("commit_throughput").await else {
        return;
    };
    let seconds: f64 = std::env::var("BATON_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    eprintln!("group commit | events/commit | executions | commits/s | events/s");
    let configs = [(0usize, 1u64), (4, 1), (4, 10), (4, 50)];
    let sync = std::env::var("BATON_BENCH_ASYNC").is_err();
    for (round, (writers, batch)) in configs.into_iter().enumerate() {
        let store = Arc::new(
            PgStore::connect_with(
                &db.url,
                Options {
                    writers,
                    synchronous_commit: sync,
                    ..db.options()
                },
            )
            .await
            .unwrap(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let commits = Arc::new(AtomicU64::new(0));
        let mut handles = Vec::new();
        for writer in 0..WRITERS {
            let (store, stop, commits) =
                (Arc::clone(&store), Arc::clone(&stop), Arc::clone(&commits));
            handles.push(tokio::spawn(async move {
                run_writer(&store, round, writer, batch, &stop, &commits).await
            }));
        }
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let mut arns = Vec::new();
        for handle in handles {
            arns.push(handle.await.unwrap());
        }
        let elapsed = started.elapsed().as_secs_f64();
        let total = commits.load(Ordering::Relaxed);
        let mode = if writers == 0 { "off" } else { "4 writers" };
        eprintln!(
            "{mode:>12} | {batch:>13} | {WRITERS:>10} | {:>9.0} | {:>8.0}",
            total as f64 / elapsed,
            (total * batch) as f64 / elapsed
        );
        // Every counted commit is in the store: seq counts the steps after the start.
        let mut stored = 0;
        for (arn, steps) in arns {
            let record = store.get_execution(&arn).await.unwrap().unwrap();
            assert_eq!(record.seq, steps + 1, "{arn}");
            stored += steps;
        }
        assert_eq!(stored, total);
        assert!(total > 0, "no commit in {seconds} s");
    }
}

/// One execution per writer, advanced one commit at a time until `stop`; returns its ARN and
/// the number of steps committed.
async fn run_writer(
    store: &PgStore,
    round: usize,
    writer: usize,
    batch: u64,
    stop: &AtomicBool,
    commits: &AtomicU64,
) -> (String, u64) {
    let record = contract::execution("bench", &format!("r{round}-w{writer}"), 1);
    store.commit(contract::start(&record)).await.unwrap();
    let mut seq = 1u64;
    let mut next_event = 2u64;
    let details = "x".repeat(200);
    while !stop.load(Ordering::Relaxed) {
        let mut step = contract::step(&record.arn, seq);
        for _ in 0..batch {
            step.history.push(HistoryRecord {
                id: next_event,
                previous_event_id: next_event - 1,
                timestamp_ms: 1,
                event_type: "PassStateEntered".into(),
                details: format!(r#"{{"d":"{details}"}}"#),
            });
            next_event += 1;
        }
        step.timers_set.push((1, seq as i64));
        store.commit(step).await.unwrap();
        commits.fetch_add(1, Ordering::Relaxed);
        seq += 1;
    }
    (record.arn, seq - 1)
}
