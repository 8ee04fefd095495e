//! Work distribution between nodes: due timers claimed with SKIP LOCKED by two claimants,
//! lapsed claims and dead nodes' executions taken over, the mailbox applied exactly once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use baton_store::{Error, ExecutionOutcome, ExecutionStatus, Store, contract};
use baton_store_postgres::{CommitGuard, Ownership, PgStore};

use crate::support::TestDb;

/// `count` running executions of machine `machine`, each with one timer due at `due`.
async fn executions_with_timers(
    store: &PgStore,
    machine: &str,
    count: usize,
    due: i64,
) -> Vec<String> {
    let mut arns = Vec::new();
    for i in 0..count {
        let record = contract::execution(machine, &format!("e{i:03}"), i as i64);
        let mut start = contract::start(&record);
        start.timers_set.push((1, due + i as i64 % 7));
        store.commit(start).await.unwrap();
        arns.push(record.arn);
    }
    arns
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_claimants_split_due_timers_without_overlap() {
    let Some(db) = TestDb::new("two_claimants_split_due_timers_without_overlap").await else {
        return;
    };
    let arns = executions_with_timers(&db.store, "timed", 60, 1000).await;
    // One timer not yet due stays unclaimed.
    let later = contract::execution("timed", "later", 1);
    let mut start = contract::start(&later);
    start.timers_set.push((1, 9_000));
    db.store.commit(start).await.unwrap();

    let nodes = [Arc::new(db.node().await), Arc::new(db.node().await)];
    let mut handles = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let node = Arc::clone(node);
        handles.push(tokio::spawn(async move {
            let name = format!("n{index}");
            let mut claimed = Vec::new();
            loop {
                let batch = node.claim_due_timers(&name, 2000, 30_000, 7).await.unwrap();
                if batch.is_empty() {
                    return claimed;
                }
                claimed.extend(batch.into_iter().map(|t| t.execution_arn));
            }
        }));
    }
    let mut per_node = Vec::new();
    for handle in handles {
        per_node.push(handle.await.unwrap());
    }
    let all: Vec<&String> = per_node.iter().flatten().collect();
    let unique: BTreeSet<&String> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "a timer was claimed twice");
    assert_eq!(
        unique,
        arns.iter().collect(),
        "every due timer claimed once"
    );
    eprintln!(
        "claimed {} + {} timers",
        per_node[0].len(),
        per_node[1].len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_timers_are_skipped_not_waited_for() {
    let Some(db) = TestDb::new("locked_timers_are_skipped_not_waited_for").await else {
        return;
    };
    let arns = executions_with_timers(&db.store, "locked", 4, 100).await;
    // Another session holds a row lock on the first execution's timer.
    let mut admin = db.admin().await;
    let tx = admin.transaction().await.unwrap();
    tx.execute(
        "SELECT 1 FROM timers t JOIN executions e ON e.id = t.execution_id WHERE e.arn = $1 FOR UPDATE OF t",
        &[&arns[0]],
    )
    .await
    .unwrap();
    let claimed = tokio::time::timeout(
        Duration::from_secs(5),
        db.store.claim_due_timers("n", 1000, 30_000, 10),
    )
    .await
    .expect("claiming waited for a locked row")
    .unwrap();
    let claimed: Vec<&str> = claimed.iter().map(|t| t.execution_arn.as_str()).collect();
    assert_eq!(
        claimed,
        arns[1..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    tx.rollback().await.unwrap();
    let rest = db
        .store
        .claim_due_timers("n", 1000, 30_000, 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].execution_arn, arns[0]);
}

#[tokio::test]
async fn a_lapsed_timer_claim_is_taken_over_and_a_moved_timer_is_free() {
    let Some(db) =
        TestDb::new("a_lapsed_timer_claim_is_taken_over_and_a_moved_timer_is_free").await
    else {
        return;
    };
    let arns = executions_with_timers(&db.store, "lapse", 3, 100).await;
    let a = db
        .store
        .claim_due_timers("a", 10_000, 1_000, 10)
        .await
        .unwrap();
    assert_eq!(a.len(), 3);
    // Node a dies without firing them. Before its claims lapse, nobody else gets them.
    assert!(
        db.store
            .claim_due_timers("b", 10_999, 1_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let b = db
        .store
        .claim_due_timers("b", 11_000, 1_000, 10)
        .await
        .unwrap();
    assert_eq!(b, a, "b takes over every lapsed claim");
    // A commit that moves a claimed timer voids the claim: the new due time is claimable.
    let mut moved = contract::step(&arns[0], 1);
    moved.timers_set.push((1, 11_500));
    db.store.commit(moved).await.unwrap();
    let again = db
        .store
        .claim_due_timers("c", 11_500, 1_000, 10)
        .await
        .unwrap();
    assert_eq!(
        again
            .iter()
            .map(|t| (t.execution_arn.as_str(), t.due_ms))
            .collect::<Vec<_>>(),
        [(arns[0].as_str(), 11_500)]
    );
}

#[tokio::test]
async fn a_live_owner_keeps_its_timers_and_a_dead_ones_are_taken() {
    let Some(db) = TestDb::new("a_live_owner_keeps_its_timers_and_a_dead_ones_are_taken").await
    else {
        return;
    };
    let (a, b) = (db.node().await, db.node().await);
    a.renew_leases("a", 0, 1_000).await.unwrap();
    b.renew_leases("b", 0, 10_000).await.unwrap();
    let record = contract::execution("owned", "e", 1);
    let mut start = contract::start(&record);
    start.timers_set.push((1, 50));
    let guard = CommitGuard {
        owner: Some("a".into()),
        ..CommitGuard::default()
    };
    a.commit_with(start, guard).await.unwrap();
    assert!(
        b.claim_due_timers("b", 500, 1_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "a is alive"
    );
    assert_eq!(
        b.acquire_execution("b", &record.arn, 500).await.unwrap(),
        Ownership::OwnedBy("a".into())
    );
    assert_eq!(
        b.owner_of(&record.arn, 500).await.unwrap().as_deref(),
        Some("a")
    );
    // a's lease ends at 1000.
    assert_eq!(
        b.claim_due_timers("b", 1_000, 1_000, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(b.owner_of(&record.arn, 1_000).await.unwrap(), None);
    let taken = b.claim_runnable("b", 1_000, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].previous_owner.as_deref(), Some("a"));
    assert!(!taken[0].has_events);
    assert_eq!(
        b.owner_of(&record.arn, 1_000).await.unwrap().as_deref(),
        Some("b")
    );
    // a comes back: its renewal says it lapsed, and it no longer owns the execution.
    let renewal = a.renew_leases("a", 1_200, 1_000).await.unwrap();
    assert!(renewal.lapsed);
    assert_eq!(
        a.acquire_execution("a", &record.arn, 1_200).await.unwrap(),
        Ownership::OwnedBy("b".into())
    );
    assert!(!a.renew_leases("a", 1_500, 1_000).await.unwrap().lapsed);
    assert_eq!(a.live_nodes(1_500).await.unwrap(), ["a", "b"]);
}

#[tokio::test]
async fn mailbox_events_are_applied_exactly_once() {
    let Some(db) = TestDb::new("mailbox_events_are_applied_exactly_once").await else {
        return;
    };
    let (a, b) = (db.node().await, db.node().await);
    a.renew_leases("a", 0, 10_000).await.unwrap();
    b.renew_leases("b", 0, 10_000).await.unwrap();
    let record = contract::execution("mail", "e", 1);
    let guard_a = CommitGuard {
        owner: Some("a".into()),
        ..CommitGuard::default()
    };
    a.commit_with(contract::start(&record), guard_a.clone())
        .await
        .unwrap();

    // A callback arrives at b, which does not own the execution: it queues the event.
    assert_eq!(
        b.acquire_execution("b", &record.arn, 10).await.unwrap(),
        Ownership::OwnedBy("a".into())
    );
    let queued = b
        .enqueue_event(&record.arn, r#"{"type":"TaskSucceeded"}"#, 10)
        .await
        .unwrap();
    assert_eq!(queued.owner.as_deref(), Some("a"));
    let missing = b.enqueue_event("nope", "{}", 10).await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
    // b may not take it (a is alive); a sweeps and finds it.
    assert!(b.claim_runnable("b", 20, 10).await.unwrap().is_empty());
    let runnable = a.claim_runnable("a", 20, 10).await.unwrap();
    assert_eq!(runnable.len(), 1);
    assert!(runnable[0].has_events);
    let pending = a.pending_events(&record.arn).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, queued.id);

    let mut step = contract::step(&record.arn, 1);
    step.outcome = Some(ExecutionOutcome {
        status: ExecutionStatus::Succeeded,
        stop_ms: Some(30),
        output: Some("{}".into()),
        error: None,
        cause: None,
    });
    let consuming = CommitGuard {
        consume: vec![queued.id],
        ..guard_a.clone()
    };
    a.commit_with(step, consuming.clone()).await.unwrap();
    assert!(a.pending_events(&record.arn).await.unwrap().is_empty());
    // Applying the same event again (say, by a node that read it before) is refused.
    let again = a
        .commit_with(contract::step(&record.arn, 2), consuming)
        .await;
    assert!(matches!(again, Err(Error::Conflict { .. })), "{again:?}");
    assert_eq!(a.get_execution(&record.arn).await.unwrap().unwrap().seq, 2);

    // Ignored events are discarded without a commit.
    let ignored = b.enqueue_event(&record.arn, "{}", 40).await.unwrap();
    assert_eq!(
        a.discard_events(&record.arn, &[ignored.id, 999_999])
            .await
            .unwrap(),
        1
    );
    assert!(a.pending_events(&record.arn).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_released_node_frees_its_executions_at_once() {
    let Some(db) = TestDb::new("a_released_node_frees_its_executions_at_once").await else {
        return;
    };
    let (a, b) = (db.node().await, db.node().await);
    a.renew_leases("a", 0, 60_000).await.unwrap();
    b.renew_leases("b", 0, 60_000).await.unwrap();
    let record = contract::execution("free", "e", 1);
    db.store.commit(contract::start(&record)).await.unwrap();
    assert_eq!(
        a.acquire_execution("a", &record.arn, 1).await.unwrap(),
        Ownership::Acquired
    );
    assert_eq!(
        a.acquire_execution("a", &record.arn, 2).await.unwrap(),
        Ownership::Acquired
    );
    a.release_node("a").await.unwrap();
    assert_eq!(
        b.acquire_execution("b", &record.arn, 3).await.unwrap(),
        Ownership::Acquired
    );
    assert!(b.release_execution("b", &record.arn).await.unwrap());
    assert!(!b.release_execution("b", &record.arn).await.unwrap());
    assert_eq!(
        b.acquire_execution("b", "nope", 3).await.unwrap(),
        Ownership::NotFound
    );
    assert_eq!(
        a.acquire_execution("a", &record.arn, 3).await.unwrap(),
        Ownership::LeaseLapsed
    );
}

/// Pollers on two nodes drain one activity queue: every task goes to exactly one worker, in
/// scheduling order per node, and each claim queues the TaskStarted event for the owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_tasks_are_claimed_once_across_nodes() {
    let Some(db) = TestDb::new("activity_tasks_are_claimed_once_across_nodes").await else {
        return;
    };
    let activity = "arn:aws:states:us-east-1:000000000000:activity:shared";
    let mut tokens = BTreeSet::new();
    for i in 0..10 {
        let record = contract::execution("polled", &format!("e{i}"), i);
        let mut start = contract::start(&record);
        for task_id in 1..=3u64 {
            let token = format!("tok-{i}-{task_id}");
            tokens.insert(token.clone());
            start.tasks_insert.push(baton_store::TaskRecord {
                token,
                execution_arn: record.arn.clone(),
                task_id,
                state_name: "Work".into(),
                resource: activity.into(),
                activity_arn: Some(activity.into()),
                input: "{}".into(),
                state: baton_store::TaskState::Scheduled,
                worker_name: None,
                created_ms: 1,
            });
        }
        db.store.commit(start).await.unwrap();
    }
    let nodes = [Arc::new(db.node().await), Arc::new(db.node().await)];
    let mut handles = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let node = Arc::clone(node);
        handles.push(tokio::spawn(async move {
            let worker = format!("worker-{index}");
            let mut got = Vec::new();
            while let Some(task) = node
                .claim_activity_task(activity, Some(&worker), 7, |task| {
                    format!(r#"{{"type":"TaskStarted","task":{}}}"#, task.task_id)
                })
                .await
                .unwrap()
            {
                assert_eq!(task.state, baton_store::TaskState::Started);
                assert_eq!(task.worker_name.as_deref(), Some(worker.as_str()));
                got.push(task.token);
            }
            got
        }));
    }
    let mut claimed = Vec::new();
    for handle in handles {
        claimed.extend(handle.await.unwrap());
    }
    let unique: BTreeSet<String> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), unique.len(), "a task was handed out twice");
    assert_eq!(unique, tokens);
    assert!(
        db.store
            .activity_queue(activity, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Each execution got one TaskStarted event per task, in its mailbox.
    let arn = contract::execution("polled", "e3", 3).arn;
    let mut events: Vec<String> = db
        .store
        .pending_events(&arn)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    events.sort();
    assert_eq!(
        events,
        (1..=3)
            .map(|t| format!(r#"{{"type":"TaskStarted","task":{t}}}"#))
            .collect::<Vec<_>>()
    );
    let none = db
        .store
        .claim_activity_task(activity, None, 8, |_| String::new())
        .await
        .unwrap();
    assert_eq!(none, None);
}
