//! Fencing: two nodes racing to advance the same executions never both succeed on the same
//! sequence number, and the history that results has no gaps and no duplicates.

use std::sync::Arc;

use baton_store::{Error, HistoryQuery, HistoryRecord, Store, contract};
use baton_store_postgres::{CommitGuard, PgStore};
use tokio::sync::Barrier;

use crate::support::TestDb;

fn event(id: u64, writer: usize) -> HistoryRecord {
    HistoryRecord {
        id,
        previous_event_id: id - 1,
        timestamp_ms: id as i64,
        event_type: "PassStateEntered".to_owned(),
        details: format!(r#"{{"writer":{writer}}}"#),
    }
}

/// Both nodes build a step on the same sequence number and commit at the same moment:
/// exactly one wins each round, and the loser writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_racing_on_one_execution() {
    let Some(db) = TestDb::new("two_nodes_racing_on_one_execution").await else {
        return;
    };
    let nodes = [Arc::new(db.node().await), Arc::new(db.node().await)];
    let record = contract::execution("race", "e", 1);
    nodes[0].commit(contract::start(&record)).await.unwrap();
    const ROUNDS: u64 = 40;
    let barrier = Arc::new(Barrier::new(2));
    let mut handles = Vec::new();
    for (writer, node) in nodes.iter().enumerate() {
        let (node, barrier, arn) = (Arc::clone(node), Arc::clone(&barrier), record.arn.clone());
        handles.push(tokio::spawn(async move {
            let mut wins = Vec::new();
            for round in 1..=ROUNDS {
                // Both read the same state, then both commit a step built on it.
                let seq = node.get_execution(&arn).await.unwrap().unwrap().seq;
                assert_eq!(seq, round, "rounds advance one step at a time");
                barrier.wait().await;
                let mut step = contract::step(&arn, seq);
                step.inbox.entropy[0] = writer as u8;
                step.history.push(event(seq + 1, writer));
                step.timers_set.push((writer as u64 + 1, 1000 + seq as i64));
                match node.commit(step).await {
                    Ok(()) => wins.push(round),
                    Err(Error::Conflict {
                        expected, actual, ..
                    }) => assert_eq!((expected, actual), (seq, seq + 1)),
                    Err(other) => panic!("unexpected {other:?}"),
                }
                barrier.wait().await;
            }
            wins
        }));
    }
    let mut wins: Vec<u64> = Vec::new();
    for handle in handles {
        wins.extend(handle.await.unwrap());
    }
    wins.sort_unstable();
    assert_eq!(
        wins,
        (1..=ROUNDS).collect::<Vec<_>>(),
        "exactly one winner per round"
    );

    let store = &nodes[0];
    let history = store
        .get_history(
            &record.arn,
            HistoryQuery {
                after_id: None,
                reverse: false,
                limit: 1000,
            },
        )
        .await
        .unwrap();
    let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        (1..=ROUNDS + 1).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    let inbox = store.get_inbox(&record.arn).await.unwrap();
    assert_eq!(inbox.len() as u64, ROUNDS + 1);
    // Each step's history and inbox entry come from the same writer: nothing of a loser leaked.
    for (entry, event) in inbox.iter().skip(1).zip(history.iter().skip(1)) {
        let writer = entry.inbox_writer();
        assert_eq!(event.details, format!(r#"{{"writer":{writer}}}"#));
    }
}

trait InboxWriter {
    fn inbox_writer(&self) -> u8;
}

impl InboxWriter for baton_store::InboxRecord {
    fn inbox_writer(&self) -> u8 {
        self.entropy[0]
    }
}

/// Two nodes each drive 8 executions to 25 steps, retrying on conflict: every execution ends
/// with exactly 25 steps, whoever wrote them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_writers_complete_every_execution_exactly() {
    let Some(db) = TestDb::new("retrying_writers_complete_every_execution_exactly").await else {
        return;
    };
    const EXECUTIONS: usize = 8;
    const STEPS: u64 = 25;
    let nodes = [Arc::new(db.node().await), Arc::new(db.node().await)];
    let records: Vec<_> = (0..EXECUTIONS)
        .map(|i| contract::execution("retry", &format!("e{i}"), i as i64))
        .collect();
    for record in &records {
        nodes[0].commit(contract::start(record)).await.unwrap();
    }
    let mut handles = Vec::new();
    for (writer, node) in nodes.iter().enumerate() {
        for record in &records {
            let (node, arn) = (Arc::clone(node), record.arn.clone());
            handles.push(tokio::spawn(async move {
                let (mut wins, mut conflicts) = (0u64, 0u64);
                loop {
                    let seq = node.get_execution(&arn).await.unwrap().unwrap().seq;
                    if seq > STEPS {
                        return (wins, conflicts);
                    }
                    let mut step = contract::step(&arn, seq);
                    step.history.push(event(seq + 1, writer));
                    match node.commit(step).await {
                        Ok(()) => wins += 1,
                        Err(Error::Conflict { .. }) => conflicts += 1,
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                }
            }));
        }
    }
    let (mut wins, mut conflicts) = (0, 0);
    for handle in handles {
        let (w, c) = handle.await.unwrap();
        wins += w;
        conflicts += c;
    }
    assert_eq!(
        wins,
        EXECUTIONS as u64 * STEPS,
        "every step committed exactly once"
    );
    eprintln!("{wins} steps committed, {conflicts} conflicts refused");
    for record in &records {
        let inbox = nodes[1].get_inbox(&record.arn).await.unwrap();
        let seqs: Vec<u64> = inbox.iter().map(|i| i.seq).collect();
        assert_eq!(seqs, (0..=STEPS).collect::<Vec<_>>());
    }
}

/// The owner guard: a node that lost ownership cannot commit even on the right sequence number.
#[tokio::test]
async fn the_owner_guard_refuses_a_former_owner() {
    let Some(db) = TestDb::new("the_owner_guard_refuses_a_former_owner").await else {
        return;
    };
    let (a, b): (PgStore, PgStore) = (db.node().await, db.node().await);
    a.renew_leases("a", 0, 1000).await.unwrap();
    let record = contract::execution("owned", "e", 1);
    let guard_a = CommitGuard {
        owner: Some("a".into()),
        ..CommitGuard::default()
    };
    a.commit_with(contract::start(&record), guard_a.clone())
        .await
        .unwrap();
    a.commit_with(contract::step(&record.arn, 1), guard_a.clone())
        .await
        .unwrap();
    // a's lease lapses; b takes over.
    b.renew_leases("b", 5000, 1000).await.unwrap();
    assert_eq!(
        b.acquire_execution("b", &record.arn, 5000).await.unwrap(),
        baton_store_postgres::Ownership::Acquired
    );
    let refused = a.commit_with(contract::step(&record.arn, 2), guard_a).await;
    assert!(
        matches!(
            refused,
            Err(Error::Conflict {
                expected: 2,
                actual: 2,
                ..
            })
        ),
        "{refused:?}"
    );
    let guard_b = CommitGuard {
        owner: Some("b".into()),
        ..CommitGuard::default()
    };
    b.commit_with(contract::step(&record.arn, 2), guard_b)
        .await
        .unwrap();
    assert_eq!(b.get_execution(&record.arn).await.unwrap().unwrap().seq, 3);
}

/// Group commit: stale and fresh steps of many executions submitted at once share
/// transactions, yet each gets the outcome it would have had alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_gives_each_step_its_own_outcome() {
    let Some(db) = TestDb::new("group_commit_gives_each_step_its_own_outcome").await else {
        return;
    };
    const EXECUTIONS: usize = 40;
    let records: Vec<_> = (0..EXECUTIONS)
        .map(|i| contract::execution("group", &format!("e{i}"), i as i64))
        .collect();
    let starts = records.iter().map(|r| db.store.commit(contract::start(r)));
    for result in futures_util::future::join_all(starts).await {
        result.unwrap();
    }
    // Two different steps on the same sequence number per execution, all submitted together.
    let mut steps = Vec::new();
    for record in &records {
        for writer in 0..2u8 {
            let mut step = contract::step(&record.arn, 1);
            step.inbox.entropy[0] = writer;
            step.history.push(event(2, writer as usize));
            steps.push(db.store.commit(step));
        }
    }
    let results = futures_util::future::join_all(steps).await;
    for (record, pair) in records.iter().zip(results.chunks(2)) {
        let wins = pair.iter().filter(|r| r.is_ok()).count();
        let conflicts = pair
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Err(Error::Conflict {
                        expected: 1,
                        actual: 2,
                        ..
                    })
                )
            })
            .count();
        assert_eq!((wins, conflicts), (1, 1), "{}: {pair:?}", record.arn);
        let inbox = db.store.get_inbox(&record.arn).await.unwrap();
        let history = db
            .store
            .get_history(
                &record.arn,
                HistoryQuery {
                    after_id: None,
                    reverse: false,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!((inbox.len(), history.len()), (2, 2));
        let winner = pair.iter().position(|r| r.is_ok()).unwrap();
        assert_eq!(inbox[1].entropy[0] as usize, winner);
        assert_eq!(history[1].details, format!(r#"{{"writer":{winner}}}"#));
    }
}
