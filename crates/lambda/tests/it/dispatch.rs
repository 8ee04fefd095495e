//! The dispatcher inside a real runtime (in-memory store): Lambda Task states run Python
//! handlers and end with the outputs, errors, causes and history events AWS records (checked
//! against the shapes in the conformance cases: the legacy resource's raw error document as
//! cause, `lambda:invoke`'s envelope and compact cause, `Lambda.ResourceNotFoundException`,
//! `Sandbox.Timedout`), plus `.waitForTaskToken`.

use std::sync::Arc;
use std::time::Duration;

use baton_runtime::{
    Config as RuntimeConfig, CreateStateMachine, GetHistory, Runtime, StartExecution,
};
use serde_json::{Value, json};

use crate::harness::{Harness, have};
use crate::matching::matches;

const HANDLERS: &[(&str, u64, &str)] = &[
    (
        "identity",
        3,
        "def handler(event, context):\n    return event\n",
    ),
    (
        "raise",
        3,
        "def handler(event, context):\n    raise Exception(\"Some exception was raised.\")\n",
    ),
    (
        "string",
        3,
        "def handler(event, context):\n    return 'HelloWorld!'\n",
    ),
    (
        "slow",
        1,
        "import time\ndef handler(event, context):\n    time.sleep(10)\n",
    ),
    (
        "token",
        3,
        "def handler(event, context):\n    open(event['file'], 'w').write(event['token'])\n    return {'sent': True}\n",
    ),
];

fn task(resource: &str, parameters: Value) -> String {
    let mut state = json!({"Type": "Task", "Resource": resource, "End": true});
    if !parameters.is_null() {
        state["Parameters"] = parameters;
    }
    json!({"StartAt": "T", "States": {"T": state}}).to_string()
}

struct Case {
    name: &'static str,
    definition: String,
    input: Value,
    status: &'static str,
    output: Option<Value>,
    error: Option<&'static str>,
    /// Expected cause: exact text, or a prefix when it ends with `*`.
    cause: Option<String>,
    events: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let legacy = |f: &str| format!("arn:aws:lambda:us-east-1:000000000000:function:{f}");
    let invoke = "arn:aws:states:::lambda:invoke";
    let params = json!({"FunctionName.$": "$.FunctionName", "Payload.$": "$.Payload"});
    vec![
        Case {
            name: "legacy_identity",
            definition: task(&legacy("identity"), Value::Null),
            input: json!({"orderId": "ORDER-001", "amount": 99.99}),
            status: "SUCCEEDED",
            output: Some(json!({"orderId": "ORDER-001", "amount": 99.99})),
            error: None,
            cause: None,
            events: &["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"],
        },
        Case {
            name: "legacy_raise",
            definition: task(&legacy("raise"), Value::Null),
            input: json!({}),
            status: "FAILED",
            output: None,
            error: Some("Exception"),
            cause: Some("{\"errorMessage\": \"Some exception was raised.\", \"errorType\": \"Exception\", \"requestId\": *".into()),
            events: &["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"],
        },
        Case {
            name: "legacy_timeout",
            definition: task(&legacy("slow"), Value::Null),
            input: json!({}),
            status: "FAILED",
            output: None,
            error: Some("Sandbox.Timedout"),
            cause: Some("{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"RequestId: *".into()),
            events: &["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"],
        },
        Case {
            name: "invoke_identity",
            definition: task(invoke, params.clone()),
            input: json!({"FunctionName": "identity", "Payload": {"foo": "foo-1"}}),
            status: "SUCCEEDED",
            output: Some(json!({
                "ExecutedVersion": "$LATEST",
                "Payload": {"foo": "foo-1"},
                "SdkHttpMetadata": {
                    "AllHttpHeaders": {"Content-Length": ["16"], "X-Amz-Executed-Version": ["$LATEST"], "Content-Type": ["application/json"]},
                    "HttpHeaders": {"Connection": "keep-alive", "Content-Length": "16"},
                    "HttpStatusCode": 200
                },
                "SdkResponseMetadata": {"RequestId": "<any>"},
                "StatusCode": 200
            })),
            error: None,
            cause: None,
            events: &["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"],
        },
        Case {
            name: "invoke_string_payload",
            definition: task(invoke, params.clone()),
            input: json!({"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:string", "Payload": "0"}),
            status: "SUCCEEDED",
            output: Some(json!({"Payload": "HelloWorld!", "StatusCode": 200})),
            error: None,
            cause: None,
            events: &["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"],
        },
        Case {
            name: "invoke_event",
            definition: task(invoke, json!({"FunctionName": "identity", "InvocationType": "Event", "Payload": {"a": 1}})),
            input: json!({}),
            status: "SUCCEEDED",
            output: Some(json!({"Payload": "", "StatusCode": 202})),
            error: None,
            cause: None,
            events: &["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"],
        },
        Case {
            name: "invoke_raise",
            definition: task(invoke, params.clone()),
            input: json!({"FunctionName": "raise", "Payload": null}),
            status: "FAILED",
            output: None,
            error: Some("Exception"),
            cause: Some("{\"errorMessage\":\"Some exception was raised.\",\"errorType\":\"Exception\",\"requestId\":*".into()),
            events: &["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "ExecutionFailed"],
        },
        Case {
            name: "invoke_no_such_function",
            definition: task(invoke, params),
            input: json!({"FunctionName": "no_such_function", "Payload": null}),
            status: "FAILED",
            output: None,
            error: Some("Lambda.ResourceNotFoundException"),
            cause: Some("Function not found: arn:aws:lambda:us-east-1:000000000000:function:no_such_function:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: *".into()),
            events: &["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "ExecutionFailed"],
        },
    ]
}

fn cause_matches(expected: &str, actual: Option<&str>) -> bool {
    match (expected.strip_suffix('*'), actual) {
        (Some(prefix), Some(actual)) => actual.starts_with(prefix),
        (None, Some(actual)) => actual == expected,
        _ => false,
    }
}

async fn setup() -> (Harness, Runtime) {
    let mut harness = Harness::start().await;
    for (name, timeout, code) in HANDLERS {
        harness
            .create(
                name,
                "python3.12",
                "app.handler",
                &[("app.py", code)],
                json!({"Timeout": timeout}),
            )
            .await;
    }
    let config = RuntimeConfig {
        dispatcher: Arc::new(harness.lambda.dispatcher()),
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::open(Arc::new(baton_store::MemoryStore::new()), config)
        .await
        .expect("runtime");
    (harness, runtime)
}

async fn run(
    runtime: &Runtime,
    name: &str,
    definition: &str,
    input: &Value,
) -> (baton_store::ExecutionRecord, Vec<String>) {
    let machine = runtime
        .create_state_machine(CreateStateMachine {
            name: name.to_owned(),
            definition: definition.to_owned(),
            role_arn: "arn:aws:iam::000000000000:role/sfn".to_owned(),
            ..CreateStateMachine::default()
        })
        .await
        .expect("create state machine");
    let execution = runtime
        .start_execution(StartExecution {
            state_machine_arn: machine.machine.arn.clone(),
            name: Some("run".into()),
            input: Some(input.to_string()),
        })
        .await
        .expect("start");
    let done = runtime
        .wait_for_execution(&execution.arn, Duration::from_secs(20))
        .await
        .expect("wait");
    let history = runtime
        .get_execution_history(GetHistory {
            execution_arn: execution.arn.clone(),
            ..GetHistory::default()
        })
        .await
        .expect("history");
    (
        done,
        history.items.into_iter().map(|e| e.event_type).collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_tasks_in_executions() {
    if !have("python3") {
        return;
    }
    let (harness, runtime) = setup().await;
    let endpoint = format!("http://{}", harness.addr);
    let mut failures = Vec::new();
    for case in cases() {
        let (done, events) = run(&runtime, case.name, &case.definition, &case.input).await;
        let status = format!("{:?}", done.status).to_uppercase();
        if status != case.status {
            failures.push(format!(
                "{}: status {status} ({:?} {:?})",
                case.name, done.error, done.cause
            ));
            continue;
        }
        if let Some(expected) = &case.output {
            let output: Value =
                serde_json::from_str(done.output.as_deref().unwrap_or("null")).expect("output");
            if let Err(diff) = matches(expected, &output, &endpoint) {
                failures.push(format!("{}: output {diff}", case.name));
            }
        }
        if done.error.as_deref() != case.error {
            failures.push(format!("{}: error {:?}", case.name, done.error));
        }
        if let Some(cause) = &case.cause
            && !cause_matches(cause, done.cause.as_deref())
        {
            failures.push(format!("{}: cause {:?}", case.name, done.cause));
        }
        if events != case.events {
            failures.push(format!("{}: events {events:?}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_task_token() {
    if !have("python3") {
        return;
    }
    let (harness, runtime) = setup().await;
    let file = harness.dir.path().join("token.txt");
    let definition = task(
        "arn:aws:states:::lambda:invoke.waitForTaskToken",
        json!({"FunctionName": "token", "Payload": {"token.$": "$$.Task.Token", "file": file.display().to_string()}}),
    );
    let machine = runtime
        .create_state_machine(CreateStateMachine {
            name: "callback".into(),
            definition,
            role_arn: "arn:aws:iam::000000000000:role/sfn".into(),
            ..CreateStateMachine::default()
        })
        .await
        .expect("create");
    let execution = runtime
        .start_execution(StartExecution {
            state_machine_arn: machine.machine.arn,
            name: None,
            input: None,
        })
        .await
        .expect("start");
    let mut token = String::new();
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(&file)
            && !text.is_empty()
        {
            token = text;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(!token.is_empty(), "the handler never got the token");
    // Still waiting for the callback after the function returned.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let running = runtime
        .describe_execution(&execution.arn)
        .await
        .expect("describe");
    assert_eq!(format!("{:?}", running.status).to_uppercase(), "RUNNING");
    runtime
        .send_task_success(&token, r#"{"approved": true}"#)
        .await
        .expect("send task success");
    let done = runtime
        .wait_for_execution(&execution.arn, Duration::from_secs(10))
        .await
        .expect("wait");
    assert_eq!(done.output.as_deref(), Some(r#"{"approved":true}"#));
    let history = runtime
        .get_execution_history(GetHistory {
            execution_arn: execution.arn,
            ..GetHistory::default()
        })
        .await
        .expect("history");
    let types: Vec<String> = history.items.into_iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}
