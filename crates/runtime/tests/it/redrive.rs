//! RedriveExecution: a failed execution continues from its unsuccessful step (only failed
//! Parallel branches run again), the redrive survives a restart, and what cannot be redriven
//! says so.

use std::sync::Arc;
use std::time::Duration;

use baton_runtime::{CreateStateMachine, Error, ManualClock};
use baton_store::{ExecutionStatus, MachineType, Store};
use baton_store_sqlite::SqliteStore;
use serde_json::{Value, json};

use crate::harness::{Harness, ROLE, START_MS, assert_well_formed, eventually, settle};

/// An activity task, then a Pass that reports `$$.Execution.RedriveCount`.
fn task_then_count(activity: &str) -> String {
    format!(
        r#"{{"StartAt":"T","States":{{
            "T":{{"Type":"Task","Resource":"{activity}","Next":"P"}},
            "P":{{"Type":"Pass","Parameters":{{"redrives.$":"$$.Execution.RedriveCount"}},"End":true}}}}}}"#
    )
}

/// Hands out the next activity task and answers it.
async fn answer(h: &Harness, activity: &str, success: bool) {
    let task = h
        .runtime
        .get_activity_task(activity, Some("w".into()), Duration::from_secs(5))
        .await
        .unwrap()
        .expect("an activity task");
    if success {
        h.runtime
            .send_task_success(&task.token, r#"{"ok":true}"#)
            .await
            .unwrap();
    } else {
        h.runtime
            .send_task_failure(&task.token, Some("Boom".into()), Some("bad".into()))
            .await
            .unwrap();
    }
}

fn not_redrivable(result: Result<baton_store::Millis, Error>) -> String {
    match result {
        Err(Error::ExecutionNotRedrivable(message)) => message,
        other => panic!("expected ExecutionNotRedrivable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_task_runs_again_and_the_execution_succeeds() {
    let h = Harness::memory().await;
    let activity = h.activity("work").await;
    let machine = h.machine("redriven", &task_then_count(&activity)).await;
    let run = h.start(&machine, "run", "{}").await;

    let message = not_redrivable(h.runtime.redrive_execution(&run.arn, None).await);
    assert!(message.contains("RUNNING"), "{message}");

    answer(&h, &activity, false).await;
    let failed = h.finished(&run.arn).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(failed.redrive_count, 0);

    h.clock.advance(1_000);
    let date = h
        .runtime
        .redrive_execution(&run.arn, Some("token-1"))
        .await
        .unwrap();
    assert_eq!(date, START_MS + 1_000);
    // The same client token answers the same redrive again, without another one.
    h.clock.advance(1_000);
    let again = h
        .runtime
        .redrive_execution(&run.arn, Some("token-1"))
        .await
        .unwrap();
    assert_eq!(again, date);
    let redriven = h.runtime.describe_execution(&run.arn).await.unwrap();
    assert_eq!(redriven.status, ExecutionStatus::Running);
    assert_eq!(redriven.redrive_count, 1);
    assert_eq!(redriven.redrive_ms, Some(START_MS + 1_000));
    assert_eq!(
        (redriven.stop_ms, redriven.error.as_deref()),
        (None, None),
        "the closed execution's outcome is cleared"
    );

    answer(&h, &activity, true).await;
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!({"redrives": 1}));

    let history = h.history(&run.arn).await;
    assert_well_formed(&history);
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    // The failed attempt stays as it was; the redrive schedules the task again (whether the
    // state is re-entered first is the interpreter's business) and the execution goes on.
    assert_eq!(
        types[..7],
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivityFailed",
            "ExecutionFailed",
            "ExecutionRedriven",
        ]
    );
    let again = types
        .iter()
        .rposition(|t| *t == "ActivityScheduled")
        .unwrap();
    assert!(again > 6, "{types:?}");
    assert_eq!(
        types[again..],
        [
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ]
    );
    let details: Value = serde_json::from_str(&history[6].details).unwrap();
    assert_eq!(details, json!({"redriveCount": 1}));

    let message = not_redrivable(h.runtime.redrive_execution(&run.arn, None).await);
    assert!(message.contains("SUCCEEDED"), "{message}");
}

#[tokio::test]
async fn only_the_failed_parallel_branch_runs_again() {
    let h = Harness::memory().await;
    let activity = h.activity("branch").await;
    let definition = format!(
        r#"{{"StartAt":"Par","States":{{"Par":{{"Type":"Parallel","End":true,"Branches":[
            {{"StartAt":"Work","States":{{"Work":{{"Type":"Task","Resource":"{activity}","End":true}}}}}},
            {{"StartAt":"Easy","States":{{"Easy":{{"Type":"Pass","Result":"easy","End":true}}}}}}
        ]}}}}}}"#
    );
    let machine = h.machine("branches", &definition).await;
    let run = h.start(&machine, "run", "{}").await;
    answer(&h, &activity, false).await;
    assert_eq!(h.finished(&run.arn).await.status, ExecutionStatus::Failed);

    h.runtime.redrive_execution(&run.arn, None).await.unwrap();
    answer(&h, &activity, true).await;
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!([{"ok": true}, "easy"]));
    let types = h.event_types(&run.arn).await;
    let count = |ty: &str| types.iter().filter(|t| *t == ty).count();
    assert_eq!(count("ActivityScheduled"), 2, "{types:?}");
    assert_eq!(
        count("PassStateEntered"),
        1,
        "the successful branch is kept: {types:?}"
    );
    assert_eq!(count("ExecutionRedriven"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redriven_execution_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    let clock = ManualClock::new(START_MS);
    let (activity, arn) = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let h = Harness::with_store(store, clock.clone(), |c| c).await;
        let activity = h.activity("work").await;
        let machine = h.machine("durable", &task_then_count(&activity)).await;
        let run = h.start(&machine, "run", "{}").await;
        for _ in 0..2 {
            answer(&h, &activity, false).await;
            assert_eq!(h.finished(&run.arn).await.status, ExecutionStatus::Failed);
            h.runtime.redrive_execution(&run.arn, None).await.unwrap();
        }
        eventually("the third activity task", || async {
            let types = h.event_types(&run.arn).await;
            types.iter().filter(|t| *t == "ActivityScheduled").count() == 3
        })
        .await;
        h.runtime.shutdown();
        (activity, run.arn)
    };
    settle().await;

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let h = Harness::with_store(store, clock, |c| c).await;
    answer(&h, &activity, true).await;
    let done = h.finished(&arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.redrive_count, 2);
    let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    assert_eq!(
        output,
        json!({"redrives": 2}),
        "replay counts every redrive"
    );
    let history = h.history(&arn).await;
    assert_well_formed(&history);
    let redriven: Vec<Value> = history
        .iter()
        .filter(|e| e.event_type == "ExecutionRedriven")
        .map(|e| serde_json::from_str(&e.details).unwrap())
        .collect();
    assert_eq!(
        redriven,
        [json!({"redriveCount": 1}), json!({"redriveCount": 2})]
    );
}

#[tokio::test]
async fn express_and_unknown_executions_are_refused() {
    let h = Harness::memory().await;
    let request = CreateStateMachine {
        name: "fast".to_owned(),
        definition: r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}"#.to_owned(),
        role_arn: ROLE.to_owned(),
        kind: Some(MachineType::Express),
        ..CreateStateMachine::default()
    };
    let machine = h
        .runtime
        .create_state_machine(request)
        .await
        .unwrap()
        .machine
        .arn;
    let run = h.start(&machine, "run", "{}").await;
    let failed = h.finished(&run.arn).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    let message = not_redrivable(h.runtime.redrive_execution(&run.arn, None).await);
    assert!(message.contains("Express"), "{message}");

    let missing = "arn:aws:states:us-east-1:000000000000:execution:fast:nope";
    assert!(matches!(
        h.runtime.redrive_execution(missing, None).await,
        Err(Error::ExecutionDoesNotExist(_))
    ));
    assert!(matches!(
        h.runtime.redrive_execution("not-an-arn", None).await,
        Err(Error::InvalidArn(_))
    ));
}
