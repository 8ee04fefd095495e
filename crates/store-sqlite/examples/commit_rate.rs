//! Raw commit rate of the SQLite store: `concurrency` tasks each appending steps to their own
//! execution. `cargo run --release -p baton-store-sqlite --example commit_rate [steps] [concurrency]`.

use std::sync::Arc;
use std::time::Instant;

use baton_store::{HistoryRecord, Store, contract};
use baton_store_sqlite::SqliteStore;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let steps: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    let concurrency: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(512);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("rate.db")).unwrap());
    let began = Instant::now();
    let mut handles = Vec::new();
    for e in 0..concurrency {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            let record = contract::execution("rate", &format!("e{e}"), e as i64);
            store.commit(contract::start(&record)).await.unwrap();
            for seq in 1..=steps {
                let mut step = contract::step(&record.arn, seq);
                step.history = (0..3)
                    .map(|i| HistoryRecord {
                        id: 1 + (seq - 1) * 3 + i + 1,
                        previous_event_id: 0,
                        timestamp_ms: 0,
                        event_type: "TaskStateEntered".into(),
                        details:
                            r#"{"name":"T","input":"{\"a\":1}","inputDetails":{"truncated":false}}"#
                                .into(),
                    })
                    .collect();
                step.timers_set.push((seq, 1_000 + seq as i64));
                step.timers_delete.push(seq.saturating_sub(1));
                store.commit(step).await.unwrap();
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let elapsed = began.elapsed().as_secs_f64();
    let commits = concurrency as u64 * (steps + 1);
    println!(
        "{commits} commits in {elapsed:.2}s = {:.0} commits/s ({:.0} history rows/s)",
        commits as f64 / elapsed,
        (concurrency as u64 * steps * 3) as f64 / elapsed
    );
}
