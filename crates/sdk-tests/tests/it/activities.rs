//! Activities with an SDK worker: GetActivityTask, SendTaskSuccess, SendTaskFailure,
//! SendTaskHeartbeat, and the errors for a task that is closed.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::json;

use crate::harness::{Baton, create_machine, unique, wait_done};

async fn activity(client: &Client) -> String {
    let name = unique("act");
    let created = client
        .create_activity()
        .name(&name)
        .send()
        .await
        .expect("CreateActivity");
    assert!(created.activity_arn.ends_with(&format!(":activity:{name}")));
    // Re-creating an activity is idempotent.
    let again = client.create_activity().name(&name).send().await.unwrap();
    assert_eq!(again.activity_arn, created.activity_arn);
    created.activity_arn
}

fn machine_for(activity: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut task = json!({"Type": "Task", "Resource": activity, "Next": "After"});
    for (key, value) in extra.as_object().unwrap() {
        task[key] = value.clone();
    }
    json!({"StartAt": "Work", "States": {
        "Work": task,
        "After": {"Type": "Pass", "End": true}
    }})
}

/// Polls once (long poll) and returns (token, input).
async fn poll(client: &Client, activity: &str) -> (String, String) {
    let task = client
        .get_activity_task()
        .activity_arn(activity)
        .worker_name("sdk-worker")
        .send()
        .await
        .expect("GetActivityTask");
    (
        task.task_token.expect("a task"),
        task.input.unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_success_failure_heartbeat() {
    let Some(baton) = Baton::start("activities::worker_success_failure_heartbeat") else {
        return;
    };
    let client = &baton.client;
    let activity = activity(client).await;
    let described = client
        .describe_activity()
        .activity_arn(&activity)
        .send()
        .await
        .unwrap();
    assert_eq!(described.activity_arn, activity);
    let listed = client.list_activities().send().await.unwrap();
    assert!(listed.activities.iter().any(|a| a.activity_arn == activity));

    let machine = create_machine(
        client,
        &unique("worker"),
        &machine_for(&activity, json!({"HeartbeatSeconds": 30})),
    )
    .await;

    // Success, with a heartbeat first.
    let ok = client
        .start_execution()
        .state_machine_arn(&machine)
        .input(r#"{"n": 2}"#)
        .send()
        .await
        .unwrap();
    let (token, input) = poll(client, &activity).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&input).unwrap(),
        json!({"n": 2})
    );
    client
        .send_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .expect("heartbeat");
    client
        .send_task_success()
        .task_token(&token)
        .output(r#"{"doubled": 4}"#)
        .send()
        .await
        .expect("success");
    let done = wait_done(client, &ok.execution_arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(done.output().unwrap()).unwrap(),
        json!({"doubled": 4})
    );
    let history = client
        .get_execution_history()
        .execution_arn(&ok.execution_arn)
        .send()
        .await
        .unwrap();
    let types: Vec<_> = history.events.iter().map(|e| e.r#type.clone()).collect();
    use HistoryEventType as T;
    assert_eq!(
        types,
        [
            T::ExecutionStarted,
            T::TaskStateEntered,
            T::ActivityScheduled,
            T::ActivityStarted,
            T::ActivitySucceeded,
            T::TaskStateExited,
            T::PassStateEntered,
            T::PassStateExited,
            T::ExecutionSucceeded
        ]
    );
    let started = history.events[3]
        .activity_started_event_details()
        .expect("started details");
    assert_eq!(started.worker_name(), Some("sdk-worker"));
    // The task is closed now: a second answer is refused as on AWS.
    let late = client
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await
        .expect_err("closed task");
    assert!(late.into_service_error().is_task_timed_out());

    // Failure.
    let bad = client
        .start_execution()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    let (token, _) = poll(client, &activity).await;
    client
        .send_task_failure()
        .task_token(&token)
        .error("Worker.Broke")
        .cause("on purpose")
        .send()
        .await
        .expect("failure");
    let done = wait_done(client, &bad.execution_arn).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error(), Some("Worker.Broke"));
    assert_eq!(done.cause(), Some("on purpose"));
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeat_timeout() {
    let Some(baton) = Baton::start("activities::heartbeat_timeout") else {
        return;
    };
    let client = &baton.client;
    let activity = activity(client).await;
    let machine = create_machine(
        client,
        &unique("hb"),
        &machine_for(&activity, json!({"HeartbeatSeconds": 1})),
    )
    .await;
    let execution = client
        .start_execution()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    let (token, _) = poll(client, &activity).await;
    let done = wait_done(client, &execution.execution_arn).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error(), Some("States.HeartbeatTimeout"));
    let late = client
        .send_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .expect_err("timed out");
    assert!(late.into_service_error().is_task_timed_out());
}

#[tokio::test(flavor = "multi_thread")]
async fn many_workers() {
    let Some(baton) = Baton::start("activities::many_workers") else {
        return;
    };
    let client = &baton.client;
    let activity = activity(client).await;
    let machine = create_machine(client, &unique("fan"), &machine_for(&activity, json!({}))).await;
    let mut executions = Vec::new();
    for i in 0..20 {
        let started = client
            .start_execution()
            .state_machine_arn(&machine)
            .input(json!({"i": i}).to_string())
            .send()
            .await
            .unwrap();
        executions.push(started.execution_arn);
    }
    // Four workers echo their input back; every task is handed out exactly once.
    let mut workers = Vec::new();
    for w in 0..4 {
        let client = client.clone();
        let activity = activity.clone();
        workers.push(tokio::spawn(async move {
            let mut handled = 0;
            for _ in 0..5 {
                let task = client
                    .get_activity_task()
                    .activity_arn(&activity)
                    .worker_name(format!("w{w}"))
                    .send()
                    .await
                    .unwrap();
                let token = task.task_token.expect("a task for each poll");
                client
                    .send_task_success()
                    .task_token(token)
                    .output(task.input.unwrap())
                    .send()
                    .await
                    .unwrap();
                handled += 1;
            }
            handled
        }));
    }
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    assert_eq!(total, 20);
    for (i, arn) in executions.iter().enumerate() {
        let done = wait_done(client, arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(done.output().unwrap()).unwrap(),
            json!({"i": i})
        );
    }
}
