//! Durability: restart on the same SQLite file mid-execution, failed commits, and history
//! that stays exactly-once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use baton_runtime::ManualClock;
use baton_store::{
    ActivityRecord, AliasRecord, BoxFuture, Commit, Error, ExecutionFilter, ExecutionRecord,
    ExecutionStatus, HistoryQuery, HistoryRecord, InboxRecord, MemoryStore, Millis, Page,
    PageRequest, Result, StateMachineRecord, Store, Tag, TaskRecord, TimerRecord, VersionRecord,
};
use baton_store_sqlite::SqliteStore;

use crate::harness::{Harness, START_MS, assert_well_formed, eventually, settle};

/// Wait 5 s, then an activity task, then a Pass: parks on a timer, then on a worker.
fn definition(activity: &str) -> String {
    format!(
        r#"{{"StartAt":"W","States":{{
            "W":{{"Type":"Wait","Seconds":5,"Next":"T"}},
            "T":{{"Type":"Task","Resource":"{activity}","TimeoutSeconds":3600,"Next":"P"}},
            "P":{{"Type":"Pass","Parameters":{{"r.$":"$.r","u.$":"States.UUID()"}},"End":true}}}}}}"#
    )
}

async fn work_through(h: &Harness, activity: &str, count: usize) {
    for _ in 0..count {
        let task = h
            .runtime
            .get_activity_task(activity, Some("w".into()), Duration::ZERO)
            .await
            .unwrap()
            .unwrap();
        let input: serde_json::Value = serde_json::from_str(&task.input).unwrap();
        h.runtime
            .send_task_success(
                &task.token,
                &serde_json::json!({"r": input["n"]}).to_string(),
            )
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_the_same_sqlite_file_finishes_every_execution() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    let clock = ManualClock::new(START_MS);
    const RUNS: usize = 6;

    // An uninterrupted reference run on the in-memory store.
    let reference = Harness::with_store(
        Arc::new(MemoryStore::new()),
        ManualClock::new(START_MS),
        |c| c,
    )
    .await;
    let reference_activity = reference.activity("work").await;
    let machine = reference
        .machine("durable", &definition(&reference_activity))
        .await;
    let run = reference.start(&machine, "ref", r#"{"n":0}"#).await;
    reference.advance(5_000).await;
    work_through(&reference, &reference_activity, 1).await;
    reference.finished(&run.arn).await;
    let expected_types: Vec<String> = reference.event_types(&run.arn).await;

    // First life: start the executions, let half of them reach the activity, then "crash".
    let (activity, machine, arns) = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let h = Harness::with_store(store, clock.clone(), |c| c).await;
        let activity = h.activity("work").await;
        let machine = h.machine("durable", &definition(&activity)).await;
        let mut arns = Vec::new();
        for n in 0..RUNS {
            arns.push(
                h.start(&machine, &format!("run-{n}"), &format!(r#"{{"n":{n}}}"#))
                    .await
                    .arn,
            );
        }
        h.advance(5_000).await;
        for arn in &arns {
            // Each one passes its Wait and parks on the activity.
            eventually("the activity to be scheduled", || async {
                h.event_types(arn)
                    .await
                    .contains(&"ActivityScheduled".to_owned())
            })
            .await;
        }
        // One worker took a task before the crash: its token must still work afterwards.
        let taken = h
            .runtime
            .get_activity_task(&activity, Some("before".into()), Duration::ZERO)
            .await
            .unwrap()
            .unwrap();
        h.runtime.shutdown();
        (activity, machine, (arns, taken))
    };
    let (arns, taken) = arns;
    settle().await;

    // Second life on the same file.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let h = Harness::with_store(store, clock.clone(), |c| c).await;
    h.runtime
        .send_task_success(&taken.token, r#"{"r":"early"}"#)
        .await
        .unwrap();
    work_through(&h, &activity, RUNS - 1).await;
    for arn in &arns {
        let done = h.finished(arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{arn}");
        let history = h.history(arn).await;
        assert_well_formed(&history);
        let types: Vec<String> = history.into_iter().map(|e| e.event_type).collect();
        assert_eq!(
            types, expected_types,
            "{arn}: same shape as an uninterrupted run"
        );
    }
    assert!(
        h.runtime.stats().replays >= 1,
        "executions came back by replay"
    );
    let _ = machine;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_due_during_downtime_fire_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    let clock = ManualClock::new(START_MS);
    let arns = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let h = Harness::with_store(store, clock.clone(), |c| c).await;
        let machine = h
            .machine(
                "sleepy",
                r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}"#,
            )
            .await;
        let mut arns = Vec::new();
        for n in 0..50 {
            arns.push(h.start(&machine, &format!("run-{n}"), "{}").await.arn);
        }
        h.runtime.shutdown();
        arns
    };
    settle().await;
    // Time passes while nothing runs.
    clock.advance(500_000);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let h = Harness::with_store(store, clock.clone(), |c| c).await;
    for arn in &arns {
        let done = h.finished(arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        assert_eq!(
            done.stop_ms,
            Some(START_MS + 500_000),
            "fired on restart, at the restart's time"
        );
    }
}

/// A store that refuses the N-th commit (counting from 1) with a backend error, as a crash or
/// a full disk would, and otherwise passes everything to the in-memory store.
struct FailNth {
    inner: MemoryStore,
    commits: AtomicUsize,
    fail_at: Vec<usize>,
    /// Fail with a fencing conflict (as when another node advanced the execution) instead of
    /// a backend error.
    conflict: bool,
}

impl FailNth {
    fn new(fail_at: Vec<usize>, conflict: bool) -> Arc<FailNth> {
        Arc::new(FailNth {
            inner: MemoryStore::new(),
            commits: AtomicUsize::new(0),
            fail_at,
            conflict,
        })
    }
}

macro_rules! forward {
    ($($name:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty;)*) => {
        $(fn $name(&self $(, $arg: $ty)*) -> BoxFuture<'_, Result<$out>> { self.inner.$name($($arg),*) })*
    };
}

impl Store for FailNth {
    fn commit(&self, commit: Commit) -> BoxFuture<'_, Result<()>> {
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at.contains(&n) {
            let error = if self.conflict {
                Error::Conflict {
                    execution_arn: commit.execution_arn,
                    expected: commit.inbox.seq,
                    actual: commit.inbox.seq + 1,
                }
            } else {
                Error::Backend(format!("injected failure of commit {n}"))
            };
            return Box::pin(std::future::ready(Err(error)));
        }
        self.inner.commit(commit)
    }

    forward! {
        create_state_machine(&self, record: StateMachineRecord) -> ();
        update_state_machine(&self, record: StateMachineRecord) -> ();
        get_state_machine(&self, arn: &str) -> Option<StateMachineRecord>;
        list_state_machines(&self, page: PageRequest) -> Page<StateMachineRecord>;
        delete_state_machine(&self, arn: &str) -> bool;
        create_version(&self, record: VersionRecord) -> ();
        get_version(&self, arn: &str) -> Option<VersionRecord>;
        list_versions(&self, state_machine_arn: &str, page: PageRequest) -> Page<VersionRecord>;
        delete_version(&self, arn: &str) -> bool;
        put_alias(&self, record: AliasRecord) -> ();
        get_alias(&self, arn: &str) -> Option<AliasRecord>;
        list_aliases(&self, state_machine_arn: &str, page: PageRequest) -> Page<AliasRecord>;
        delete_alias(&self, arn: &str) -> bool;
        put_definition(&self, id: &str, text: &str) -> ();
        get_definition(&self, id: &str) -> Option<String>;
        tag_resource(&self, arn: &str, tags: Vec<Tag>) -> ();
        untag_resource(&self, arn: &str, keys: Vec<String>) -> ();
        list_tags(&self, arn: &str) -> Vec<Tag>;
        create_activity(&self, record: ActivityRecord) -> ();
        get_activity(&self, arn: &str) -> Option<ActivityRecord>;
        list_activities(&self, page: PageRequest) -> Page<ActivityRecord>;
        delete_activity(&self, arn: &str) -> bool;
        get_execution(&self, arn: &str) -> Option<ExecutionRecord>;
        list_executions(&self, filter: ExecutionFilter, page: PageRequest) -> Page<ExecutionRecord>;
        get_history(&self, execution_arn: &str, query: HistoryQuery) -> Vec<HistoryRecord>;
        get_inbox(&self, execution_arn: &str) -> Vec<InboxRecord>;
        timers_between(&self, after_ms: Millis, until_ms: Millis, limit: usize) -> Vec<TimerRecord>;
        get_task(&self, token: &str) -> Option<TaskRecord>;
        activity_queue(&self, activity_arn: &str, limit: usize) -> Vec<TaskRecord>;
        tasks_to_dispatch(&self, page: PageRequest) -> Page<TaskRecord>;
    }
}

#[tokio::test]
async fn a_failed_commit_is_retried_without_duplicating_history() {
    // Commit 1 starts the execution; commit 2 (the timer firing) fails once.
    let store = FailNth::new(vec![2], false);
    let h = Harness::with_store(store.clone(), ManualClock::new(START_MS), |c| c).await;
    let machine = h
        .machine(
            "flaky",
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},
                "P":{"Type":"Pass","Parameters":{"id.$":"States.UUID()"},"End":true}}}"#,
        )
        .await;
    let run = h.start(&machine, "run", "{}").await;
    h.advance(1_000).await;
    eventually("the timer's commit to be tried", || async {
        store.commits.load(Ordering::SeqCst) >= 2
    })
    .await;
    assert_eq!(
        h.status(&run.arn).await,
        ExecutionStatus::Running,
        "the firing's commit failed"
    );
    // The runtime retries the timer a second later; the cached state that got ahead of the
    // store was dropped, so the execution is replayed and the history is written once.
    h.advance(1_000).await;
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    let history = h.history(&run.arn).await;
    assert_well_formed(&history);
    assert_eq!(history.len(), 6, "{history:#?}");
    assert_eq!(done.stop_ms, Some(START_MS + 2_000));
}

#[tokio::test]
async fn a_failed_start_leaves_nothing() {
    let store = FailNth::new(vec![1], false);
    let h = Harness::with_store(store.clone(), ManualClock::new(START_MS), |c| c).await;
    let machine = h
        .machine(
            "nothing",
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#,
        )
        .await;
    let request = baton_runtime::StartExecution {
        state_machine_arn: machine.clone(),
        name: Some("run".into()),
        input: None,
    };
    assert!(h.runtime.start_execution(request.clone()).await.is_err());
    let arn = baton_runtime::arn::execution(&machine, "run").unwrap();
    assert!(matches!(
        h.runtime.describe_execution(&arn).await,
        Err(baton_runtime::Error::ExecutionDoesNotExist(_))
    ));
    // The same request works once the store does.
    let run = h.runtime.start_execution(request).await.unwrap();
    assert_eq!(
        h.finished(&run.arn).await.status,
        ExecutionStatus::Succeeded
    );
}

/// Takes tasks and never answers, as a process that dies right after dispatching would.
struct BlackHole;

impl baton_runtime::TaskDispatcher for BlackHole {
    fn dispatch(
        &self,
        _task: baton_runtime::DispatchedTask,
        _completion: baton_runtime::Completion,
    ) {
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_dispatches_are_sent_again_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    let clock = ManualClock::new(START_MS);
    let definition = r#"{"StartAt":"T","States":{"T":{"Type":"Task",
        "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters":{"QueueUrl":"q","MessageBody.$":"$$.Task.Token"},"End":true}}}"#;
    let (arn, first_token) = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let h = Harness::with_store(store, clock.clone(), |mut c| {
            c.dispatcher = Arc::new(BlackHole);
            c
        })
        .await;
        let machine = h.machine("redispatched", definition).await;
        let run = h.start(&machine, "run", "{}").await;
        let tasks = h
            .store
            .tasks_to_dispatch(PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(tasks.items.len(), 1, "dispatched but not acknowledged");
        h.runtime.shutdown();
        (run.arn, tasks.items[0].token.clone())
    };
    settle().await;
    let recorder = crate::harness::Recorder::default();
    let dispatcher = Arc::new(recorder.clone());
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let h = Harness::with_store(store, clock.clone(), move |mut c| {
        c.dispatcher = dispatcher;
        c
    })
    .await;
    settle().await;
    let again = recorder.taken();
    assert_eq!(again.len(), 1, "the task was dispatched again on start");
    assert_eq!(again[0].token, first_token, "with the same token");
    assert_eq!(
        again[0].input["MessageBody"],
        serde_json::json!(first_token)
    );
    eventually("the dispatch to be acknowledged", || async {
        h.store
            .tasks_to_dispatch(PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;
    h.runtime
        .send_task_success(&first_token, r#""ok""#)
        .await
        .unwrap();
    let done = h.finished(&arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_well_formed(&h.history(&arn).await);
}

#[tokio::test]
async fn a_fencing_conflict_reloads_and_retries_at_once() {
    let store = FailNth::new(vec![2], true);
    let h = Harness::with_store(store.clone(), ManualClock::new(START_MS), |c| c).await;
    let machine = h
        .machine(
            "fenced",
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#,
        )
        .await;
    let run = h.start(&machine, "run", "{}").await;
    h.advance(1_000).await;
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        done.stop_ms,
        Some(START_MS + 1_000),
        "retried at once, not a second later"
    );
    assert_eq!(store.commits.load(Ordering::SeqCst), 3);
    assert!(h.runtime.stats().replays >= 1);
    assert_well_formed(&h.history(&run.arn).await);
}

/// Many executions mixing timers, activities and retries, with the runtime dropped and reopened
/// on the same SQLite file three times while work is in flight (a worker task is answering
/// callbacks during each "crash"). Every execution must succeed with a well-formed history of
/// the same shape as the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_restarts_under_load_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    let clock = ManualClock::new(START_MS);
    const RUNS: usize = 60;
    let open = || async {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        Harness::with_store(store, clock.clone(), |c| c).await
    };
    let mut h = open().await;
    let activity = h.activity("work").await;
    let definition = format!(
        r#"{{"StartAt":"W","States":{{
            "W":{{"Type":"Wait","SecondsPath":"$.wait","Next":"T"}},
            "T":{{"Type":"Task","Resource":"{activity}","HeartbeatSeconds":600,
                 "Retry":[{{"ErrorEquals":["Flaky"],"MaxAttempts":2,"IntervalSeconds":1}}],"Next":"W2"}},
            "W2":{{"Type":"Wait","Seconds":1,"End":true}}}}}}"#
    );
    let machine = h.machine("stress", &definition).await;
    let mut arns = Vec::new();
    for n in 0..RUNS {
        let input = format!(r#"{{"n":{n},"wait":{}}}"#, n % 3);
        arns.push(h.start(&machine, &format!("run-{n}"), &input).await.arn);
    }
    let mut failures_sent = 0;
    let mut failed = std::collections::HashSet::new();
    for life in 0..4 {
        // Move time in small steps and answer whatever tasks are waiting; every other task
        // fails once with a retryable error.
        for _ in 0..6 {
            h.advance(500).await;
            while let Some(task) = h
                .runtime
                .get_activity_task(&activity, Some(format!("w{life}")), Duration::ZERO)
                .await
                .unwrap()
            {
                let input: serde_json::Value = serde_json::from_str(&task.input).unwrap();
                let n = input["n"].as_u64().unwrap();
                if n.is_multiple_of(2) && failed.insert(n) {
                    failures_sent += 1;
                    h.runtime
                        .send_task_failure(&task.token, Some("Flaky".into()), None)
                        .await
                        .unwrap();
                } else {
                    h.runtime
                        .send_task_success(&task.token, &task.input)
                        .await
                        .unwrap();
                }
            }
        }
        if life < 3 {
            h.runtime.shutdown();
            drop(h);
            settle().await;
            h = open().await;
        }
    }
    // Let the last timers fire and finish the stragglers (with the same failure rule, so
    // that the shapes below do not depend on how fast the machine is).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        h.advance(1_000).await;
        while let Some(task) = h
            .runtime
            .get_activity_task(&activity, None, Duration::ZERO)
            .await
            .unwrap()
        {
            let input: serde_json::Value = serde_json::from_str(&task.input).unwrap();
            let n = input["n"].as_u64().unwrap();
            if n.is_multiple_of(2) && failed.insert(n) {
                failures_sent += 1;
                h.runtime
                    .send_task_failure(&task.token, Some("Flaky".into()), None)
                    .await
                    .unwrap();
            } else {
                h.runtime
                    .send_task_success(&task.token, &task.input)
                    .await
                    .unwrap();
            }
        }
        let mut running = 0;
        for arn in &arns {
            if h.status(arn).await == ExecutionStatus::Running {
                running += 1;
            }
        }
        if running == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{running} executions never finished"
        );
    }
    let mut shapes = std::collections::BTreeMap::new();
    for arn in &arns {
        let done = h.finished(arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{arn}: {done:?}");
        let history = h.history(arn).await;
        assert_well_formed(&history);
        let types: Vec<String> = history.into_iter().map(|e| e.event_type).collect();
        *shapes.entry(types).or_insert(0) += 1;
    }
    // Two shapes: with and without one failed attempt.
    assert_eq!(shapes.len(), 2, "{shapes:#?}");
    assert_eq!(failures_sent, RUNS / 2);
    assert_eq!(
        shapes.values().copied().collect::<Vec<_>>(),
        [RUNS / 2, RUNS / 2]
    );
}
