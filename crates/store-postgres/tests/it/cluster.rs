//! Three nodes on one database run toy executions through the work-distribution primitives
//! the way a runtime would (leases, ownership, SKIP LOCKED timer claims, the mailbox,
//! LISTEN/NOTIFY, sweeps), while one node is killed mid-run without any clean-up. Every
//! execution must finish exactly once with a gap-free history whose steps alternate as the
//! "definition" says, whichever nodes wrote them.
//!
//! The toy definition: `STEPS` steps; odd steps are fired by a timer (10 ms after the previous
//! step), even steps by a callback the driver sends to any live node. An event names the step
//! it is for; an event for a step that is not the current one is ignored, as the interpreter
//! ignores stale events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use baton_store::{
    Error, ExecutionOutcome, ExecutionStatus, HistoryQuery, HistoryRecord, Store, contract,
};
use baton_store_postgres::{CommitGuard, Ownership, PgStore, Wakeup};
use tokio::task::JoinHandle;

use crate::support::TestDb;

const STEPS: u64 = 8;
const EXECUTIONS: usize = 45;
const LEASE_MS: i64 = 600;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn kind_of(step: u64) -> &'static str {
    if step % 2 == 1 { "timer" } else { "callback" }
}

struct Node {
    name: String,
    store: PgStore,
    steps: AtomicU64,
}

impl Node {
    /// Applies the event for `step` if it is the execution's current step; returns whether a
    /// step was committed. Events that lose ownership on the way are forwarded to the owner.
    async fn handle(&self, arn: &str, step: u64, consume: Vec<i64>) -> bool {
        loop {
            let record = self.store.get_execution(arn).await.unwrap().unwrap();
            if record.status.is_terminal() || record.seq != step {
                if !consume.is_empty() {
                    self.store.discard_events(arn, &consume).await.unwrap();
                }
                return false;
            }
            let mut commit = contract::step(arn, step);
            commit.inbox.event = format!(r#"{{"step":{step},"node":"{}"}}"#, self.name);
            commit.history.push(HistoryRecord {
                id: step + 1,
                previous_event_id: step,
                timestamp_ms: now_ms(),
                event_type: kind_of(step).to_owned(),
                details: format!(r#"{{"node":"{}"}}"#, self.name),
            });
            if kind_of(step) == "timer" {
                commit.timers_delete.push(step);
            }
            let next = step + 1;
            if next > STEPS {
                commit.outcome = Some(ExecutionOutcome {
                    status: ExecutionStatus::Succeeded,
                    stop_ms: Some(now_ms()),
                    output: Some("{}".into()),
                    error: None,
                    cause: None,
                });
            } else if kind_of(next) == "timer" {
                commit.timers_set.push((next, now_ms() + 10));
            }
            let guard = CommitGuard {
                owner: Some(self.name.clone()),
                consume: consume.clone(),
                notify_activities: false,
            };
            match self.store.commit_with(commit, guard).await {
                Ok(()) => {
                    self.steps.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                Err(Error::Conflict { .. }) => {
                    // Lost ownership or raced: re-acquire, or hand the event to the owner.
                    match self
                        .store
                        .acquire_execution(&self.name, arn, now_ms())
                        .await
                        .unwrap()
                    {
                        Ownership::Acquired => continue,
                        _ if !consume.is_empty() => return false,
                        _ => {
                            self.forward(arn, step).await;
                            return false;
                        }
                    }
                }
                Err(other) => panic!("{}: commit failed: {other:?}", self.name),
            }
        }
    }

    async fn forward(&self, arn: &str, step: u64) {
        let event = format!(r#"{{"step":{step}}}"#);
        // The execution may have finished meanwhile; then there is nothing to forward to.
        let _ = self.store.enqueue_event(arn, &event, now_ms()).await;
    }

    /// An event arriving at this node (a callback through the API, a fired timer).
    async fn ingress(&self, arn: &str, step: u64) {
        match self
            .store
            .acquire_execution(&self.name, arn, now_ms())
            .await
            .unwrap()
        {
            Ownership::Acquired => {
                self.handle(arn, step, Vec::new()).await;
            }
            Ownership::OwnedBy(_) | Ownership::LeaseLapsed => self.forward(arn, step).await,
            Ownership::NotFound => panic!("unknown execution {arn}"),
        }
    }

    async fn drain(&self, arn: &str) {
        for event in self.store.pending_events(arn).await.unwrap() {
            let value: serde_json::Value = serde_json::from_str(&event.event).unwrap();
            let step = value["step"].as_u64().unwrap();
            self.handle(arn, step, vec![event.id]).await;
        }
    }

    async fn sweep(&self) {
        let claimed = self
            .store
            .claim_runnable(&self.name, now_ms(), 100)
            .await
            .unwrap();
        for runnable in claimed {
            self.drain(&runnable.execution_arn).await;
        }
    }
}

/// The node's background loops: lease, timers, wake-ups and sweeps.
fn spawn_node(node: Arc<Node>) -> Vec<JoinHandle<()>> {
    let lease = {
        let node = Arc::clone(&node);
        tokio::spawn(async move {
            loop {
                node.store
                    .renew_leases(&node.name, now_ms(), LEASE_MS)
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(LEASE_MS as u64 / 3)).await;
            }
        })
    };
    let timers = {
        let node = Arc::clone(&node);
        tokio::spawn(async move {
            loop {
                let due = node
                    .store
                    .claim_due_timers(&node.name, now_ms(), 1_000, 50)
                    .await
                    .unwrap();
                for timer in &due {
                    node.ingress(&timer.execution_arn, timer.timer_id).await;
                }
                if due.is_empty() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        })
    };
    let wakeups = tokio::spawn(async move {
        let mut subscription = node.store.subscribe().await.unwrap();
        loop {
            let wakeup =
                tokio::time::timeout(Duration::from_millis(200), subscription.recv()).await;
            match wakeup {
                Ok(Some(Wakeup::Execution(arn))) => {
                    if node
                        .store
                        .owner_of(&arn, now_ms())
                        .await
                        .unwrap()
                        .as_deref()
                        == Some(node.name.as_str())
                    {
                        node.drain(&arn).await;
                    } else {
                        node.sweep().await;
                    }
                }
                Ok(Some(_)) | Err(_) => node.sweep().await,
                Ok(None) => return,
            }
        }
    });
    vec![lease, timers, wakeups]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_finish_every_execution_exactly_once_despite_a_killed_node() {
    let Some(db) =
        TestDb::new("three_nodes_finish_every_execution_exactly_once_despite_a_killed_node").await
    else {
        return;
    };
    let mut nodes = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..3 {
        let node = Arc::new(Node {
            name: format!("node-{i}"),
            store: db.node().await,
            steps: AtomicU64::new(0),
        });
        node.store
            .renew_leases(&node.name, now_ms(), LEASE_MS)
            .await
            .unwrap();
        tasks.push(spawn_node(Arc::clone(&node)));
        nodes.push(node);
    }
    // Executions start on every node in turn; the starting node owns them.
    let mut arns = Vec::new();
    for i in 0..EXECUTIONS {
        let node = &nodes[i % 3];
        let record = contract::execution("cluster", &format!("e{i:03}"), i as i64);
        let mut start = contract::start(&record);
        start.timers_set.push((1, now_ms() + 10));
        let guard = CommitGuard {
            owner: Some(node.name.clone()),
            ..CommitGuard::default()
        };
        node.store.commit_with(start, guard).await.unwrap();
        arns.push(record.arn);
    }

    let started = Instant::now();
    let mut killed = false;
    let mut sent: BTreeMap<String, (u64, Instant)> = BTreeMap::new();
    let mut turn = 0usize;
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the cluster did not finish"
        );
        let mut done = 0;
        for arn in &arns {
            let steps: u64 = nodes.iter().map(|n| n.steps.load(Ordering::Relaxed)).sum();
            if !killed && steps >= (EXECUTIONS as u64 * STEPS) / 5 {
                // kill -9 of node-2: its loops stop mid-flight, its lease lapses, nothing is
                // released; its timer claims and queued events wait for another node.
                for task in &tasks[2] {
                    task.abort();
                }
                killed = true;
                eprintln!(
                    "killed node-2 after {:?}, {steps} steps in",
                    started.elapsed()
                );
            }
            let record = nodes[0].store.get_execution(arn).await.unwrap().unwrap();
            if record.status.is_terminal() {
                done += 1;
                continue;
            }
            if kind_of(record.seq) != "callback" {
                continue;
            }
            // Send the callback (again after a second, as a client retries a failed call) to
            // a live node, in turn.
            let due = match sent.get(arn) {
                Some((step, at)) => *step != record.seq || at.elapsed() > Duration::from_secs(1),
                None => true,
            };
            if due {
                let live: Vec<&Arc<Node>> = nodes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !(killed && *i == 2))
                    .map(|(_, n)| n)
                    .collect();
                turn += 1;
                live[turn % live.len()].ingress(arn, record.seq).await;
                sent.insert(arn.clone(), (record.seq, Instant::now()));
            }
        }
        if done == arns.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in tasks.iter().flatten() {
        task.abort();
    }
    eprintln!(
        "all {EXECUTIONS} executions done in {:?}; steps per node: {:?}",
        started.elapsed(),
        nodes
            .iter()
            .map(|n| n.steps.load(Ordering::Relaxed))
            .collect::<Vec<_>>()
    );
    assert!(killed);

    let store = &nodes[0].store;
    let mut survivors_finished_killed_nodes_work = false;
    for (i, arn) in arns.iter().enumerate() {
        let record = store.get_execution(arn).await.unwrap().unwrap();
        assert_eq!(record.status, ExecutionStatus::Succeeded, "{arn}");
        assert_eq!(record.seq, STEPS + 1, "{arn}");
        let history = store
            .get_history(
                arn,
                HistoryQuery {
                    after_id: None,
                    reverse: false,
                    limit: 100,
                },
            )
            .await
            .unwrap();
        let kinds: Vec<&str> = history
            .iter()
            .skip(1)
            .map(|e| e.event_type.as_str())
            .collect();
        let expected: Vec<&str> = (1..=STEPS).map(kind_of).collect();
        assert_eq!(kinds, expected, "{arn}: history");
        let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=STEPS + 1).collect::<Vec<_>>(), "{arn}: ids");
        let inbox = store.get_inbox(arn).await.unwrap();
        assert_eq!(
            inbox.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (0..=STEPS).collect::<Vec<_>>()
        );
        assert!(
            store.pending_events(arn).await.unwrap().is_empty(),
            "{arn}: events left"
        );
        if i % 3 == 2
            && history
                .last()
                .is_some_and(|e| !e.details.contains("node-2"))
        {
            survivors_finished_killed_nodes_work = true;
        }
    }
    assert!(
        survivors_finished_killed_nodes_work,
        "no execution started on the killed node was finished by another"
    );
    assert!(
        store
            .timers_between(0, i64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
