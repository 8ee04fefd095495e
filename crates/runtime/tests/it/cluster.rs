//! Cluster mode on PostgreSQL (`BATON_TEST_POSTGRES`; skipped without it): several runtimes
//! ("nodes") on one database share executions, callbacks, activity tasks and timers, never
//! write conflicting history, and take over the work of a node that died.

use std::sync::Arc;
use std::time::Duration;

use baton_runtime::{Clock, ClusterConfig, Config, ManualClock, Runtime, SystemClock};
use baton_store::{ExecutionStatus, Store};
use baton_store_postgres::{Options, PgStore};

use crate::harness::{Harness, START_MS, assert_well_formed};

/// One schema per test, dropped at the end.
struct Db {
    url: String,
    schema: String,
}

impl Db {
    fn new(test: &str) -> Option<Db> {
        let url = match std::env::var("BATON_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                eprintln!("skipping {test}: set BATON_TEST_POSTGRES to a PostgreSQL URL");
                return None;
            }
        };
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Some(Db {
            url,
            schema: format!("baton_rt_{hex}"),
        })
    }

    /// A node: its own store (connection pool) on the shared schema, and a runtime on it.
    async fn node(&self, label: &str, lease_ms: u64) -> Harness {
        let options = Options {
            schema: Some(self.schema.clone()),
            application_name: self.schema.clone(),
            ..Options::default()
        };
        let store = Arc::new(PgStore::connect_with(&self.url, options).await.unwrap());
        let mut cluster = ClusterConfig::new(store.clone(), label);
        cluster.lease = Duration::from_millis(lease_ms);
        cluster.sweep_every = Duration::from_millis(100);
        cluster.timer_poll = Duration::from_millis(50);
        let config = Config {
            clock: Arc::new(SystemClock),
            cluster: Some(cluster),
            ..Config::default()
        };
        let store: Arc<dyn Store> = store;
        let runtime = Runtime::open(Arc::clone(&store), config).await.unwrap();
        // The runtime keeps real time; the harness's manual clock is not used here.
        Harness {
            runtime,
            clock: ManualClock::new(START_MS),
            store,
        }
    }

    async fn drop_schema(self) {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .await
            .unwrap();
    }
}

const WORK: &str = r#"{"StartAt":"Wait","States":{
  "Wait":{"Type":"Wait","SecondsPath":"$.wait","Next":"Work"},
  "Work":{"Type":"Task","Resource":"ACTIVITY","ResultPath":"$.result","Next":"Again"},
  "Again":{"Type":"Task","Resource":"ACTIVITY","ResultPath":"$.again","End":true}}}"#;

/// Two nodes `a` and `b` with the given lease, the activity `work` and a machine `name` running
/// [`WORK`] on it.
async fn two_nodes(db: &Db, lease_ms: u64, name: &str) -> (Harness, Harness, String, String) {
    let a = db.node("a", lease_ms).await;
    let b = db.node("b", lease_ms).await;
    let activity = a.activity("work").await;
    let machine = a.machine(name, &WORK.replace("ACTIVITY", &activity)).await;
    (a, b, activity, machine)
}

/// Answers activity tasks polled on `poll` with `send`, until `count` were answered.
async fn work(poll: &Harness, send: &Harness, activity: &str, count: usize) {
    let mut answered = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while answered < count {
        assert!(
            std::time::Instant::now() < deadline,
            "only {answered} of {count} tasks came"
        );
        let task = poll
            .runtime
            .get_activity_task(activity, Some("w".into()), Duration::from_secs(1))
            .await
            .unwrap();
        if let Some(task) = task {
            send.runtime
                .send_task_success(&task.token, &task.input)
                .await
                .unwrap();
            answered += 1;
        }
    }
}

/// Every execution succeeded with the history of an undisturbed run.
async fn check_all(observer: &Harness, executions: &[String]) {
    for arn in executions {
        let record = observer.finished(arn).await;
        assert_eq!(record.status, ExecutionStatus::Succeeded, "{arn}");
        let events = observer.history(arn).await;
        assert_well_formed(&events);
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "WaitStateEntered",
                "WaitStateExited",
                "TaskStateEntered",
                "ActivityScheduled",
                "ActivityStarted",
                "ActivitySucceeded",
                "TaskStateExited",
                "TaskStateEntered",
                "ActivityScheduled",
                "ActivityStarted",
                "ActivitySucceeded",
                "TaskStateExited",
                "ExecutionSucceeded"
            ],
            "{arn}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_and_activity_tasks_cross_nodes() {
    let Some(db) = Db::new("callbacks_and_activity_tasks_cross_nodes") else {
        return;
    };
    let (a, b, activity, machine) = two_nodes(&db, 10_000, "cross").await;
    let mut executions = Vec::new();
    for i in 0..20 {
        let starter = if i % 2 == 0 { &a } else { &b };
        let record = starter
            .start(&machine, &format!("e{i}"), r#"{"wait":0}"#)
            .await;
        executions.push(record.arn);
    }
    // Tasks polled on one node and answered on the other, both ways.
    tokio::join!(work(&a, &b, &activity, 20), work(&b, &a, &activity, 20));
    check_all(&a, &executions).await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_callbacks_apply_once() {
    let Some(db) = Db::new("racing_callbacks_apply_once") else {
        return;
    };
    let (a, b, activity, machine) = two_nodes(&db, 10_000, "race").await;
    let mut executions = Vec::new();
    for i in 0..10 {
        executions.push(
            a.start(&machine, &format!("e{i}"), r#"{"wait":0}"#)
                .await
                .arn,
        );
    }
    let mut answered = 0;
    while answered < 20 {
        let Some(task) = b
            .runtime
            .get_activity_task(&activity, None, Duration::from_secs(1))
            .await
            .unwrap()
        else {
            continue;
        };
        // The same answer through both nodes at once: the owner applies one, ignores the
        // other (queued or refused as timed out), and history shows one success.
        let output = task.input.clone();
        let (first, second) = tokio::join!(
            a.runtime.send_task_success(&task.token, &output),
            b.runtime.send_task_success(&task.token, &output)
        );
        assert!(first.is_ok() || second.is_ok(), "{first:?} {second:?}");
        answered += 1;
    }
    check_all(&b, &executions).await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_node_is_taken_over() {
    let Some(db) = Db::new("a_dead_node_is_taken_over") else {
        return;
    };
    let (a, b, activity, machine) = two_nodes(&db, 600, "dead").await;
    let mut executions = Vec::new();
    for i in 0..10 {
        // Owned by `a`: half wait on a timer in `a`'s memory, half have an activity task
        // scheduled already, which `b` hands out while `a`'s lease still runs.
        let input = if i % 2 == 0 {
            r#"{"wait":1}"#
        } else {
            r#"{"wait":0}"#
        };
        executions.push(a.start(&machine, &format!("e{i}"), input).await.arn);
    }
    // `a` dies without a word: no more lease renewals, timers or sweeps.
    a.runtime.shutdown();
    drop(a);
    // Tasks claimed on `b` while `a`'s lease still runs wait in `a`'s mailbox until `b` takes
    // the executions over; their ActivityStarted must keep the time of the claim.
    let mut received = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while received.len() < 20 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} tasks came",
            received.len()
        );
        let Some(task) = b
            .runtime
            .get_activity_task(&activity, None, Duration::from_secs(1))
            .await
            .unwrap()
        else {
            continue;
        };
        received.push((task.token.clone(), SystemClock.now_ms()));
        b.runtime
            .send_task_success(&task.token, &task.input)
            .await
            .unwrap();
    }
    check_all(&b, &executions).await;
    // Per execution, its tasks in the order the worker got them.
    let mut by_execution: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for (token, received_ms) in received {
        let task = b.store.get_task(&token).await.unwrap().unwrap();
        by_execution
            .entry(task.execution_arn)
            .or_default()
            .push(received_ms);
    }
    for (arn, received) in by_execution {
        let events = b.history(&arn).await;
        let started = events.iter().filter(|e| e.event_type == "ActivityStarted");
        for (event, received_ms) in started.zip(&received) {
            assert!(
                event.timestamp_ms <= *received_ms,
                "{arn}: ActivityStarted at {}, the worker had the task at {received_ms}",
                event.timestamp_ms
            );
        }
    }
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_on_one_node_reaches_starts_on_another_within_a_second() {
    let Some(db) = Db::new("an_update_on_one_node_reaches_starts_on_another_within_a_second")
    else {
        return;
    };
    let a = db.node("a", 10_000).await;
    let b = db.node("b", 10_000).await;
    let pass = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}"#;
    let machine = a.machine("changing", pass).await;
    // `b` reads the record (and may keep it for up to a second, as AWS's own starts may use
    // the previous definition shortly after an update).
    assert_eq!(
        b.start(&machine, "before", "{}").await.status,
        ExecutionStatus::Succeeded
    );
    let update = baton_runtime::UpdateStateMachine {
        arn: machine.clone(),
        definition: Some(wait.into()),
        ..Default::default()
    };
    a.runtime.update_state_machine(update).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = b.start(&machine, "after", "{}").await;
    assert_eq!(after.status, ExecutionStatus::Running, "{after:?}");
    db.drop_schema().await;
}
