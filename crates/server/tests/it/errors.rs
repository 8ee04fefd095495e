//! Error shapes: one row per request that AWS rejects, with the error name and HTTP status.

use serde_json::json;

use crate::harness::{ROLE, start};

const MACHINE: &str = "arn:aws:states:us-east-1:000000000000:stateMachine:Nope";
const EXECUTION: &str = "arn:aws:states:us-east-1:000000000000:execution:Nope:run";
const ACTIVITY: &str = "arn:aws:states:us-east-1:000000000000:activity:nope";

#[tokio::test]
async fn rejected_requests() {
    let server = start().await;
    let big_input = serde_json::Value::String(format!("\"{}\"", "x".repeat(262_144)));
    // (target, body, error name, start of the message)
    let rows: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "AWSStepFunctions.Nope",
            b"{}".to_vec(),
            "UnknownOperationException",
            "Unknown operation",
        ),
        ("", b"{}".to_vec(), "UnknownOperationException", ""),
        (
            "AWSStepFunctions.StartExecution",
            b"{not json".to_vec(),
            "SerializationException",
            "",
        ),
        (
            "AWSStepFunctions.StartExecution",
            b"[1]".to_vec(),
            "SerializationException",
            "",
        ),
        (
            "AWSStepFunctions.StartExecution",
            br#"{"stateMachineArn": 7}"#.to_vec(),
            "SerializationException",
            "",
        ),
        (
            "AWSStepFunctions.CreateStateMachine",
            b"{}".to_vec(),
            "ValidationException",
            "1 validation error detected: Value null at 'name'",
        ),
        (
            "AWSStepFunctions.CreateStateMachine",
            body(json!({"name": "bad name", "definition": "{}", "roleArn": ROLE})),
            "InvalidName",
            "Invalid Name: 'bad name'",
        ),
        (
            "AWSStepFunctions.CreateStateMachine",
            body(json!({"name": "x", "definition": "{}", "roleArn": ROLE})),
            "InvalidDefinition",
            "Invalid State Machine Definition: '",
        ),
        (
            "AWSStepFunctions.CreateStateMachine",
            body(json!({"name": "x", "definition": "not json", "roleArn": ROLE})),
            "InvalidDefinition",
            "Invalid State Machine Definition: '",
        ),
        (
            "AWSStepFunctions.CreateStateMachine",
            body(
                json!({"name": "x", "definition": crate::harness::PASS, "roleArn": ROLE, "type": "standard"}),
            ),
            "ValidationException",
            "1 validation error detected: Value 'standard' at 'type'",
        ),
        (
            "AWSStepFunctions.CreateStateMachine",
            body(json!({"name": "x", "definition": crate::harness::PASS, "roleArn": "nope"})),
            "InvalidArn",
            "",
        ),
        (
            "AWSStepFunctions.CreateStateMachine",
            body(
                json!({"name": "x", "type": "EXPRESS", "roleArn": ROLE, "definition": r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:a","End":true}}}"#}),
            ),
            "InvalidDefinition",
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at /States/A/Resource'",
        ),
        (
            "AWSStepFunctions.DescribeStateMachine",
            body(json!({"stateMachineArn": "foo"})),
            "InvalidArn",
            "Invalid Arn: 'Invalid ARN prefix: foo'",
        ),
        (
            "AWSStepFunctions.DescribeStateMachine",
            body(json!({"stateMachineArn": EXECUTION})),
            "InvalidArn",
            "Invalid Arn: 'Resource type not valid in this context: execution'",
        ),
        (
            "AWSStepFunctions.DescribeStateMachine",
            body(json!({"stateMachineArn": MACHINE})),
            "StateMachineDoesNotExist",
            "State Machine Does Not Exist: 'arn:aws:states:us-east-1:000000000000:stateMachine:Nope'",
        ),
        (
            "AWSStepFunctions.DescribeExecution",
            body(json!({"executionArn": EXECUTION})),
            "ExecutionDoesNotExist",
            "Execution Does Not Exist: 'arn:aws:states:us-east-1:000000000000:execution:Nope:run'",
        ),
        (
            "AWSStepFunctions.DescribeExecution",
            body(json!({"executionArn": MACHINE})),
            "InvalidArn",
            "",
        ),
        (
            "AWSStepFunctions.GetExecutionHistory",
            body(json!({"executionArn": EXECUTION})),
            "ExecutionDoesNotExist",
            "Execution Does Not Exist",
        ),
        (
            "AWSStepFunctions.DescribeActivity",
            body(json!({"activityArn": ACTIVITY})),
            "ActivityDoesNotExist",
            "Activity Does Not Exist: 'arn:aws:states:us-east-1:000000000000:activity:nope'",
        ),
        (
            "AWSStepFunctions.CreateActivity",
            body(json!({"name": "a/b"})),
            "InvalidName",
            "Invalid Name: 'a/b'",
        ),
        (
            "AWSStepFunctions.StartExecution",
            body(json!({"stateMachineArn": MACHINE})),
            "StateMachineDoesNotExist",
            "State Machine Does Not Exist",
        ),
        (
            "AWSStepFunctions.StartExecution",
            body(json!({"stateMachineArn": MACHINE, "input": "{oops"})),
            "InvalidExecutionInput",
            "Invalid State Machine Execution Input: '",
        ),
        (
            "AWSStepFunctions.StartExecution",
            body(json!({"stateMachineArn": MACHINE, "name": "a b"})),
            "InvalidName",
            "Invalid Name: 'a b'",
        ),
        (
            "AWSStepFunctions.StartExecution",
            body(json!({"stateMachineArn": MACHINE, "input": big_input})),
            "ValidationException",
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144",
        ),
        (
            "AWSStepFunctions.ListStateMachines",
            body(json!({"maxResults": 1001})),
            "ValidationException",
            "1 validation error detected: Value '1001' at 'maxResults'",
        ),
        (
            "AWSStepFunctions.ListStateMachines",
            body(json!({"nextToken": "!!garbage!!"})),
            "InvalidToken",
            "",
        ),
        (
            "AWSStepFunctions.ListExecutions",
            b"{}".to_vec(),
            "ValidationException",
            "Must provide a StateMachine ARN or MapRun ARN",
        ),
        (
            "AWSStepFunctions.ListExecutions",
            body(json!({"stateMachineArn": MACHINE, "statusFilter": "DONE"})),
            "ValidationException",
            "1 validation error detected: Value 'DONE' at 'statusFilter'",
        ),
        (
            "AWSStepFunctions.ListExecutions",
            body(json!({"stateMachineArn": MACHINE})),
            "StateMachineDoesNotExist",
            "",
        ),
        (
            "AWSStepFunctions.SendTaskSuccess",
            body(json!({"taskToken": "no-such-token", "output": "{}"})),
            "TaskDoesNotExist",
            "",
        ),
        (
            "AWSStepFunctions.SendTaskSuccess",
            body(json!({"taskToken": "no-such-token", "output": "nope"})),
            "InvalidOutput",
            "",
        ),
        (
            "AWSStepFunctions.SendTaskFailure",
            body(json!({"taskToken": "no-such-token"})),
            "TaskDoesNotExist",
            "",
        ),
        // Payload limits count UTF-8 bytes and are checked before the token is looked up.
        (
            "AWSStepFunctions.SendTaskSuccess",
            body(json!({"taskToken": "no-such-token", "output": big_input.clone()})),
            "ValidationException",
            "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to 262144",
        ),
        (
            "AWSStepFunctions.SendTaskSuccess",
            body(
                json!({"taskToken": "no-such-token", "output": format!("\"{}\"", "é".repeat(131_072))}),
            ),
            "ValidationException",
            "1 validation error detected: Value at 'output'",
        ),
        (
            "AWSStepFunctions.SendTaskFailure",
            body(json!({"taskToken": "no-such-token", "error": "e".repeat(257)})),
            "ValidationException",
            "1 validation error detected: Value at 'error'",
        ),
        (
            "AWSStepFunctions.SendTaskFailure",
            body(json!({"taskToken": "no-such-token", "cause": "c".repeat(32_769)})),
            "ValidationException",
            "1 validation error detected: Value at 'cause'",
        ),
        (
            "AWSStepFunctions.SendTaskHeartbeat",
            body(json!({"taskToken": ""})),
            "ValidationException",
            "",
        ),
        (
            "AWSStepFunctions.StopExecution",
            body(json!({"executionArn": EXECUTION, "error": "e".repeat(257)})),
            "ValidationException",
            "1 validation error detected: Value at 'error'",
        ),
        (
            "AWSStepFunctions.DescribeMapRun",
            body(json!({"mapRunArn": "arn:aws:states:us-east-1:000000000000:mapRun:M/l:1"})),
            "ResourceNotFound",
            "",
        ),
        (
            "AWSStepFunctions.DescribeStateMachineAlias",
            body(json!({"stateMachineAliasArn": format!("{MACHINE}:prod")})),
            "ResourceNotFound",
            "",
        ),
        (
            "AWSStepFunctions.TagResource",
            body(json!({"resourceArn": MACHINE, "tags": [{"key": "k", "value": "v"}]})),
            "ResourceNotFound",
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (target, request, name, message) in rows {
        let target = (!target.is_empty()).then_some(target);
        let reply = server.raw(target, &request, &[]).await;
        let ok = reply.status == 400
            && reply.content_type == "application/x-amz-json-1.0"
            && reply.error() == name
            && reply.body["__type"]
                .as_str()
                .is_some_and(|t| t.contains('#'))
            && reply.body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(message));
        if !ok {
            failures.push(format!(
                "{target:?} {}: expected {name} {message:?}, got {} {}",
                String::from_utf8_lossy(&request)
                    .chars()
                    .take(120)
                    .collect::<String>(),
                reply.status,
                reply.body
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn body(value: serde_json::Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

#[tokio::test]
async fn service_errors_use_the_sfn_namespace() {
    let server = start().await;
    let reply = server
        .call("DescribeExecution", json!({"executionArn": EXECUTION}))
        .await;
    assert_eq!(
        reply.body["__type"],
        "com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist"
    );
    let reply = server.call("CreateStateMachine", json!({})).await;
    assert_eq!(
        reply.body["__type"],
        "com.amazon.coral.validate#ValidationException"
    );
}

#[tokio::test]
async fn health_and_shutdown() {
    let server = start().await;
    let (status, body) = server.get("/health").await;
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    if std::env::var("BATON_TEST_STORE").as_deref() == Ok("postgres") {
        // Cluster mode: the node and a check of the database.
        assert!(
            body["node"]
                .as_str()
                .is_some_and(|n| n.starts_with("test-")),
            "{body}"
        );
        assert_eq!(body["database"]["ok"], true, "{body}");
        assert!(body["database"]["schemaVersion"].is_number(), "{body}");
    } else {
        assert_eq!(body, serde_json::json!({"status": "ok"}));
    }
    server.stop().await.expect("clean shutdown");
}
