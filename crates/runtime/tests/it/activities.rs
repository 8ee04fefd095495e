//! Activities: the worker round trip, heartbeats, timeouts, long polls and the callback errors.

use std::time::Duration;

use baton_runtime::{Clock, Error};
use baton_store::ExecutionStatus;
use serde_json::{Value, json};

use crate::harness::{Harness, assert_well_formed, settle};

fn activity_machine(activity_arn: &str, extra: &str) -> String {
    format!(
        r#"{{"StartAt":"Work","States":{{"Work":{{"Type":"Task","Resource":"{activity_arn}"{extra},"End":true}}}}}}"#
    )
}

#[tokio::test]
async fn worker_round_trip_with_heartbeats() {
    let h = Harness::memory().await;
    let activity = h.activity("work").await;
    let machine = h
        .machine(
            "worked",
            &activity_machine(&activity, r#","HeartbeatSeconds":10,"TimeoutSeconds":100"#),
        )
        .await;
    let run = h.start(&machine, "run", r#"{"job":7}"#).await;

    let task = h
        .runtime
        .get_activity_task(&activity, Some("w1".into()), Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&task.input).unwrap(),
        json!({"job":7})
    );
    let none = h
        .runtime
        .get_activity_task(&activity, Some("w2".into()), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(none, None, "a task is handed out once");

    // Heartbeats keep the task alive past HeartbeatSeconds.
    for _ in 0..3 {
        h.advance(8_000).await;
        h.runtime.send_task_heartbeat(&task.token).await.unwrap();
    }
    h.advance(8_000).await;
    assert_eq!(h.status(&run.arn).await, ExecutionStatus::Running);
    h.runtime
        .send_task_success(&task.token, r#"{"done":true}"#)
        .await
        .unwrap();
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    let history = h.history(&run.arn).await;
    assert_well_formed(&history);
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let started: Value = serde_json::from_str(&history[3].details).unwrap();
    assert_eq!(started, json!({"workerName": "w1"}));
    let scheduled: Value = serde_json::from_str(&history[2].details).unwrap();
    assert_eq!(scheduled["heartbeatInSeconds"], json!(10));
    assert_eq!(scheduled["timeoutInSeconds"], json!(100));

    // After the task closed, every callback says TaskTimedOut.
    for result in [
        h.runtime.send_task_success(&task.token, "{}").await,
        h.runtime.send_task_failure(&task.token, None, None).await,
        h.runtime.send_task_heartbeat(&task.token).await,
    ] {
        assert!(matches!(result, Err(Error::TaskTimedOut(_))), "{result:?}");
    }
}

#[tokio::test]
async fn heartbeat_timeout_fails_the_task() {
    let h = Harness::memory().await;
    let activity = h.activity("silent").await;
    let machine = h
        .machine(
            "silent",
            &activity_machine(&activity, r#","HeartbeatSeconds":10"#),
        )
        .await;
    let run = h.start(&machine, "run", "{}").await;
    let task = h
        .runtime
        .get_activity_task(&activity, None, Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    h.advance(9_999).await;
    assert_eq!(h.status(&run.arn).await, ExecutionStatus::Running);
    h.advance(1).await;
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("States.HeartbeatTimeout"));
    let late = h.runtime.send_task_success(&task.token, "{}").await;
    assert!(matches!(late, Err(Error::TaskTimedOut(_))), "{late:?}");
}

#[tokio::test]
async fn timeout_applies_while_nobody_polls() {
    let h = Harness::memory().await;
    let activity = h.activity("unpolled").await;
    let machine = h
        .machine(
            "unpolled",
            &activity_machine(&activity, r#","TimeoutSeconds":30"#),
        )
        .await;
    let run = h.start(&machine, "run", "{}").await;
    h.advance(30_000).await;
    let done = h.finished(&run.arn).await;
    assert_eq!(
        (done.status, done.error.as_deref()),
        (ExecutionStatus::Failed, Some("States.Timeout"))
    );
    let none = h
        .runtime
        .get_activity_task(&activity, None, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(none, None, "a timed-out task is not handed out");
}

#[tokio::test]
async fn failure_is_reported_with_error_and_cause() {
    let h = Harness::memory().await;
    let activity = h.activity("failing").await;
    let machine = h.machine("failing", &activity_machine(&activity, "")).await;
    let run = h.start(&machine, "run", "{}").await;
    let task = h
        .runtime
        .get_activity_task(&activity, None, Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    h.runtime
        .send_task_failure(
            &task.token,
            Some("Custom.Error".into()),
            Some("it broke".into()),
        )
        .await
        .unwrap();
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(
        (done.error.as_deref(), done.cause.as_deref()),
        (Some("Custom.Error"), Some("it broke"))
    );
    assert!(
        h.event_types(&run.arn)
            .await
            .contains(&"ActivityFailed".to_owned())
    );
}

#[tokio::test]
async fn long_poll_wakes_when_a_task_arrives() {
    let h = Harness::memory().await;
    let activity = h.activity("waited").await;
    let machine = h.machine("waited", &activity_machine(&activity, "")).await;
    let runtime = h.runtime.clone();
    let poll_arn = activity.clone();
    let poller = tokio::spawn(async move {
        runtime
            .get_activity_task(&poll_arn, Some("early".into()), Duration::from_secs(60))
            .await
    });
    settle().await;
    assert!(!poller.is_finished(), "nothing to hand out yet");
    let run = h.start(&machine, "run", r#"{"v":1}"#).await;
    let task = tokio::time::timeout(Duration::from_secs(5), poller)
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(task.input, r#"{"v":1}"#);
    h.runtime
        .send_task_success(&task.token, "{}")
        .await
        .unwrap();
    assert_eq!(
        h.finished(&run.arn).await.status,
        ExecutionStatus::Succeeded
    );
}

#[tokio::test]
async fn long_poll_gives_up_at_its_deadline() {
    let h = Harness::memory().await;
    let activity = h.activity("idle").await;
    // `join!` polls the long poll first, so its deadline is taken before the clock moves.
    let poll = async {
        let result = h
            .runtime
            .get_activity_task(&activity, None, Duration::from_secs(60))
            .await
            .unwrap();
        (result, h.clock.now_ms())
    };
    let driver = async {
        settle().await;
        h.advance(59_000).await;
        h.advance(1_000).await;
    };
    let ((result, returned_at), ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(poll, driver)
    })
    .await
    .expect("the long poll ends at its deadline");
    assert_eq!(result, None);
    assert_eq!(
        returned_at,
        crate::harness::START_MS + 60_000,
        "not before its deadline"
    );
}

#[tokio::test]
async fn tasks_are_handed_out_in_order_to_concurrent_workers() {
    let h = Harness::memory().await;
    let activity = h.activity("fifo").await;
    let machine = h.machine("fifo", &activity_machine(&activity, "")).await;
    let mut runs = Vec::new();
    for n in 0..6 {
        runs.push(
            h.start(&machine, &format!("run-{n}"), &format!(r#"{{"n":{n}}}"#))
                .await,
        );
    }
    let mut pollers = Vec::new();
    for worker in 0..6 {
        let runtime = h.runtime.clone();
        let arn = activity.clone();
        pollers.push(tokio::spawn(async move {
            runtime
                .get_activity_task(&arn, Some(format!("w{worker}")), Duration::ZERO)
                .await
        }));
    }
    let mut inputs = Vec::new();
    for poller in pollers {
        let task = poller
            .await
            .unwrap()
            .unwrap()
            .expect("each worker gets one task");
        inputs.push(
            serde_json::from_str::<Value>(&task.input).unwrap()["n"]
                .as_u64()
                .unwrap(),
        );
        h.runtime
            .send_task_success(&task.token, "{}")
            .await
            .unwrap();
    }
    inputs.sort_unstable();
    assert_eq!(inputs, [0, 1, 2, 3, 4, 5], "no task given twice, none lost");
    for run in runs {
        assert_eq!(
            h.finished(&run.arn).await.status,
            ExecutionStatus::Succeeded
        );
    }
}

#[tokio::test]
async fn callback_errors() {
    let h = Harness::memory().await;
    let cases: Vec<(&str, crate::harness::Expect)> = vec![
        ("", |e| matches!(e, Error::InvalidToken(_))),
        ("unknown-token", |e| matches!(e, Error::TaskDoesNotExist(_))),
    ];
    for (token, expected) in cases {
        for result in [
            h.runtime.send_task_success(token, "{}").await,
            h.runtime.send_task_failure(token, None, None).await,
            h.runtime.send_task_heartbeat(token).await,
        ] {
            let error = result.unwrap_err();
            assert!(expected(&error), "{token:?}: {error:?}");
        }
    }
    let long = "t".repeat(2049);
    assert!(matches!(
        h.runtime.send_task_heartbeat(&long).await,
        Err(Error::InvalidToken(_))
    ));

    // Output that is not JSON is refused before anything happens.
    let activity = h.activity("strict").await;
    let machine = h.machine("strict", &activity_machine(&activity, "")).await;
    let run = h.start(&machine, "run", "{}").await;
    let task = h
        .runtime
        .get_activity_task(&activity, None, Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    let bad = h.runtime.send_task_success(&task.token, "{oops").await;
    assert!(matches!(bad, Err(Error::InvalidOutput(_))), "{bad:?}");
    assert_eq!(h.status(&run.arn).await, ExecutionStatus::Running);
    let missing = h
        .runtime
        .get_activity_task(
            "arn:aws:states:us-east-1:000000000000:activity:nope",
            None,
            Duration::ZERO,
        )
        .await;
    assert!(
        matches!(missing, Err(Error::ActivityDoesNotExist(_))),
        "{missing:?}"
    );
}
