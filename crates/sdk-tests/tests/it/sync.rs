//! EXPRESS machines: StartSyncExecution (sent by the SDK to the `sync-` host prefix) returns
//! the result in the response; TestState runs one state.

use aws_sdk_sfn::types::{StateMachineType, SyncExecutionStatus};
use serde_json::json;

use crate::harness::{Baton, ROLE, unique};

#[tokio::test(flavor = "multi_thread")]
async fn start_sync_execution() {
    let Some(baton) = Baton::start("sync::start_sync_execution") else {
        return;
    };
    let client = &baton.client;
    let definition = json!({"StartAt": "Double", "States": {
        "Double": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "Next": "Check"},
        "Check": {"Type": "Choice",
            "Choices": [{"Variable": "$.twice", "NumericGreaterThan": 100, "Next": "TooBig"}],
            "Default": "Done"},
        "TooBig": {"Type": "Fail", "Error": "TooBig", "Cause": "over 100"},
        "Done": {"Type": "Succeed"}
    }});
    let machine = client
        .create_state_machine()
        .name(unique("express"))
        .definition(definition.to_string())
        .role_arn(ROLE)
        .r#type(StateMachineType::Express)
        .send()
        .await
        .expect("create EXPRESS")
        .state_machine_arn;
    let described = client
        .describe_state_machine()
        .state_machine_arn(&machine)
        .send()
        .await
        .unwrap();
    assert_eq!(described.r#type, StateMachineType::Express);

    let cases = [
        (
            json!({"n": 21}),
            SyncExecutionStatus::Succeeded,
            Some(json!({"twice": 42})),
            None,
        ),
        (
            json!({"n": 51}),
            SyncExecutionStatus::Failed,
            None,
            Some("TooBig"),
        ),
    ];
    for (input, status, output, error) in cases {
        let result = client
            .start_sync_execution()
            .state_machine_arn(&machine)
            .name(unique("sync"))
            .input(input.to_string())
            .send()
            .await
            .expect("StartSyncExecution");
        assert_eq!(result.status, status, "{input}");
        assert_eq!(result.state_machine_arn.as_deref(), Some(machine.as_str()));
        assert!(
            result.execution_arn.contains(":express:"),
            "{}",
            result.execution_arn
        );
        let got = result
            .output()
            .map(|o| serde_json::from_str::<serde_json::Value>(o).unwrap());
        assert_eq!(got, output, "{input}");
        assert_eq!(result.error(), error, "{input}");
    }

    // StartSyncExecution is for EXPRESS machines only.
    let standard = crate::harness::create_machine(client, &unique("std"), &definition).await;
    let refused = client
        .start_sync_execution()
        .state_machine_arn(&standard)
        .input(r#"{"n": 1}"#)
        .send()
        .await
        .expect_err("StartSyncExecution on STANDARD");
    assert!(
        refused
            .into_service_error()
            .is_state_machine_type_not_supported()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn test_state() {
    let Some(baton) = Baton::start("sync::test_state") else {
        return;
    };
    let client = &baton.client;
    let state =
        json!({"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "Next": "X"});
    let result = client
        .test_state()
        .definition(state.to_string())
        .role_arn(ROLE)
        .input(r#"{"a": 2, "b": 3}"#)
        .send()
        .await
        .expect("TestState");
    assert_eq!(
        result.status.as_ref().map(|s| s.as_str()),
        Some("SUCCEEDED")
    );
    assert_eq!(result.next_state(), Some("X"));
    let output: serde_json::Value = serde_json::from_str(result.output().unwrap()).unwrap();
    assert_eq!(output, json!({"sum": 5}));
}
