//! Execution actions: start, describe, list, history, stop, idempotency, sync starts.

use serde_json::{Value, json};

use crate::harness::{PASS, is_recent_timestamp, start};

const WAIT: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}"#;

#[tokio::test]
async fn start_describe_history() {
    let server = start().await;
    let machine = server.machine("pass", PASS).await;
    let started = server
        .ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "run-1", "input": r#"{"a": 1.50}"#}),
        )
        .await;
    let arn = "arn:aws:states:us-east-1:000000000000:execution:pass:run-1";
    assert_eq!(started["executionArn"], arn);
    assert!(is_recent_timestamp(&started["startDate"]));

    let described = server.wait(arn).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    assert_eq!(described["executionArn"], arn);
    assert_eq!(described["stateMachineArn"], machine.as_str());
    assert_eq!(described["name"], "run-1");
    assert_eq!(described["input"], r#"{"a": 1.50}"#);
    assert_eq!(described["inputDetails"], json!({"included": true}));
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    // Numbers are compared by value: whether 1.50 keeps its trailing zero is the interpreter's
    // business.
    assert_eq!(output["a"].as_f64(), Some(1.5));
    assert_eq!(output["r"], json!({"done": true}));
    assert_eq!(described["outputDetails"], json!({"included": true}));
    assert!(is_recent_timestamp(&described["stopDate"]));

    let history = server
        .ok("GetExecutionHistory", json!({"executionArn": arn}))
        .await;
    let events = history["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["id"], i as u64 + 1);
        assert!(is_recent_timestamp(&event["timestamp"]));
    }
    let started_details = &events[0]["executionStartedEventDetails"];
    let input: Value = serde_json::from_str(started_details["input"].as_str().unwrap()).unwrap();
    assert_eq!(input["a"].as_f64(), Some(1.5));
    assert_eq!(started_details["inputDetails"], json!({"truncated": false}));
    assert_eq!(events[1]["stateEnteredEventDetails"]["name"], "P");
    assert!(history.get("nextToken").is_none());

    // Reverse order, pages of one, and no execution data.
    let mut ids = Vec::new();
    let mut request = json!({"executionArn": arn, "reverseOrder": true, "maxResults": 1, "includeExecutionData": false});
    loop {
        let page = server.ok("GetExecutionHistory", request.clone()).await;
        let events = page["events"].as_array().unwrap();
        assert_eq!(events.len(), 1);
        if let Some(details) = events[0].get("stateEnteredEventDetails") {
            assert_eq!(details, &json!({"name": "P"}));
        }
        ids.push(events[0]["id"].as_u64().unwrap());
        match page.get("nextToken") {
            Some(token) => request["nextToken"] = token.clone(),
            None => break,
        }
    }
    assert_eq!(ids, [4, 3, 2, 1]);

    let sm = server
        .ok(
            "DescribeStateMachineForExecution",
            json!({"executionArn": arn}),
        )
        .await;
    assert_eq!(sm["stateMachineArn"], machine.as_str());
    assert_eq!(sm["name"], "pass");
    assert_eq!(sm["definition"], PASS);
}

#[tokio::test]
async fn names_are_idempotent_while_running() {
    let server = start().await;
    let machine = server.machine("waiting", WAIT).await;
    let request = json!({"stateMachineArn": machine, "name": "same", "input": "{\"k\": 1}"});
    let first = server.ok("StartExecution", request.clone()).await;
    // Same input (as JSON) while running: the same execution.
    let again = server
        .ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "same", "input": "{ \"k\" : 1 }"}),
        )
        .await;
    assert_eq!(again, first);
    let different = server
        .call(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "same", "input": "{\"k\": 2}"}),
        )
        .await;
    assert_eq!(different.error(), "ExecutionAlreadyExists");

    let arn = first["executionArn"].as_str().unwrap();
    let running = server
        .ok("DescribeExecution", json!({"executionArn": arn}))
        .await;
    assert_eq!(running["status"], "RUNNING");
    assert!(running.get("stopDate").is_none() && running.get("output").is_none());

    let stopped = server
        .ok(
            "StopExecution",
            json!({"executionArn": arn, "error": "Halt", "cause": "test"}),
        )
        .await;
    assert!(is_recent_timestamp(&stopped["stopDate"]));
    let aborted = server
        .ok("DescribeExecution", json!({"executionArn": arn}))
        .await;
    assert_eq!(aborted["status"], "ABORTED");
    assert_eq!(aborted["error"], "Halt");
    assert_eq!(aborted["cause"], "test");
    let history = server
        .ok("GetExecutionHistory", json!({"executionArn": arn}))
        .await;
    let last = history["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "ExecutionAborted");
    assert_eq!(
        last["executionAbortedEventDetails"],
        json!({"error": "Halt", "cause": "test"})
    );

    // A closed execution's name cannot be reused.
    let reused = server.call("StartExecution", request).await;
    assert_eq!(reused.error(), "ExecutionAlreadyExists");
}

#[tokio::test]
async fn list_executions_with_filter_and_pages() {
    let server = start().await;
    let pass = server.machine("quick", PASS).await;
    for i in 0..3 {
        let started = server
            .ok(
                "StartExecution",
                json!({"stateMachineArn": pass, "name": format!("e{i}")}),
            )
            .await;
        server.wait(started["executionArn"].as_str().unwrap()).await;
    }
    let listed = server
        .ok("ListExecutions", json!({"stateMachineArn": pass}))
        .await;
    let executions = listed["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 3);
    for execution in executions {
        assert_eq!(execution["status"], "SUCCEEDED");
        assert_eq!(execution["stateMachineArn"], pass.as_str());
        assert!(
            is_recent_timestamp(&execution["startDate"])
                && is_recent_timestamp(&execution["stopDate"])
        );
    }
    let running = server
        .ok(
            "ListExecutions",
            json!({"stateMachineArn": pass, "statusFilter": "RUNNING"}),
        )
        .await;
    assert_eq!(running["executions"], json!([]));
    let first = server
        .ok(
            "ListExecutions",
            json!({"stateMachineArn": pass, "maxResults": 2}),
        )
        .await;
    assert_eq!(first["executions"].as_array().unwrap().len(), 2);
    let rest = server
        .ok(
            "ListExecutions",
            json!({"stateMachineArn": pass, "maxResults": 2, "nextToken": first["nextToken"]}),
        )
        .await;
    assert_eq!(rest["executions"].as_array().unwrap().len(), 1);
    assert!(rest.get("nextToken").is_none());
}

#[tokio::test]
async fn start_sync_execution_on_the_sync_host() {
    let server = start().await;
    let express = server.machine_of_type("fast", PASS, "EXPRESS").await;
    let body = json!({"stateMachineArn": express, "input": "{\"x\": true}"}).to_string();
    let reply = server
        .raw(
            Some("AWSStepFunctions.StartSyncExecution"),
            body.as_bytes(),
            &[("host", "sync-localhost")],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let sync = reply.body;
    assert_eq!(sync["status"], "SUCCEEDED");
    assert_eq!(sync["stateMachineArn"], express.as_str());
    let output: Value = serde_json::from_str(sync["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"x": true, "r": {"done": true}}));
    assert!(is_recent_timestamp(&sync["startDate"]) && is_recent_timestamp(&sync["stopDate"]));
    assert!(
        sync["billingDetails"]["billedDurationInMilliseconds"]
            .as_u64()
            .unwrap()
            >= 100
    );

    let standard = server.machine("slow", PASS).await;
    let reply = server
        .call("StartSyncExecution", json!({"stateMachineArn": standard}))
        .await;
    assert_eq!(reply.error(), "StateMachineTypeNotSupported");
}

#[tokio::test]
async fn redrive_a_failed_execution() {
    let server = start().await;
    let activity = server.ok("CreateActivity", json!({"name": "work"})).await["activityArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": activity, "End": true}}});
    let machine = server.machine("redrive", &definition.to_string()).await;
    let arn = server
        .ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": "r"}),
        )
        .await["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let running = server
        .call("RedriveExecution", json!({"executionArn": arn}))
        .await;
    assert_eq!(
        (running.status, running.error()),
        (400, "ExecutionNotRedrivable")
    );

    let task = server
        .ok("GetActivityTask", json!({"activityArn": activity}))
        .await;
    server
        .ok(
            "SendTaskFailure",
            json!({"taskToken": task["taskToken"], "error": "Boom"}),
        )
        .await;
    let failed = server.wait(&arn).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["redriveCount"], 0);
    assert_eq!(failed["redriveStatus"], "REDRIVABLE");

    let redriven = server
        .ok(
            "RedriveExecution",
            json!({"executionArn": arn, "clientToken": "t-1"}),
        )
        .await;
    assert!(is_recent_timestamp(&redriven["redriveDate"]), "{redriven}");
    let described = server
        .ok("DescribeExecution", json!({"executionArn": arn}))
        .await;
    assert_eq!(described["status"], "RUNNING");
    assert_eq!(described["redriveCount"], 1);
    assert_eq!(described["redriveDate"], redriven["redriveDate"]);
    assert_eq!(described["redriveStatus"], "NOT_REDRIVABLE");
    assert!(described.get("stopDate").is_none(), "{described}");
    assert!(described.get("error").is_none(), "{described}");
    let listed = server
        .ok(
            "ListExecutions",
            json!({"stateMachineArn": machine, "redriveFilter": "REDRIVEN"}),
        )
        .await;
    assert_eq!(listed["executions"][0]["redriveCount"], 1, "{listed}");

    let history = server
        .ok("GetExecutionHistory", json!({"executionArn": arn}))
        .await;
    let redrive_event = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ExecutionRedriven")
        .expect("an ExecutionRedriven event")
        .clone();
    assert_eq!(
        redrive_event["executionRedrivenEventDetails"],
        json!({"redriveCount": 1})
    );

    // Aborted executions can be redriven too.
    server
        .ok("StopExecution", json!({"executionArn": arn}))
        .await;
    server
        .ok("RedriveExecution", json!({"executionArn": arn}))
        .await;
    let task = server
        .ok("GetActivityTask", json!({"activityArn": activity}))
        .await;
    server
        .ok(
            "SendTaskSuccess",
            json!({"taskToken": task["taskToken"], "output": "{}"}),
        )
        .await;
    let done = server.wait(&arn).await;
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["redriveCount"], 2);
    let succeeded = server
        .call("RedriveExecution", json!({"executionArn": arn}))
        .await;
    assert_eq!(succeeded.error(), "ExecutionNotRedrivable");
    let missing = server
        .call(
            "RedriveExecution",
            json!({"executionArn": "arn:aws:states:us-east-1:000000000000:execution:redrive:nope"}),
        )
        .await;
    assert_eq!(missing.error(), "ExecutionDoesNotExist");
}

#[tokio::test]
async fn express_executions_are_not_listed_and_have_no_history() {
    let server = start().await;
    let express = server.machine_of_type("quick", PASS, "EXPRESS").await;
    let started = server
        .ok(
            "StartExecution",
            json!({"stateMachineArn": express, "name": "e1"}),
        )
        .await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    assert!(
        arn.starts_with("arn:aws:states:us-east-1:000000000000:express:quick:e1:"),
        "{arn}"
    );
    let listed = server
        .call("ListExecutions", json!({"stateMachineArn": express}))
        .await;
    assert_eq!(
        (listed.status, listed.error()),
        (400, "StateMachineTypeNotSupported"),
        "{:?}",
        listed.body
    );
    let history = server
        .call("GetExecutionHistory", json!({"executionArn": arn}))
        .await;
    assert_eq!((history.status, history.error()), (400, "InvalidArn"));
    assert_eq!(
        history.body["message"],
        "Invalid Arn: 'Resource type not valid in this context: express'"
    );
}
