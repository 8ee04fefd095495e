//! Errors reach the SDK as its typed errors: one row per case, naming the SDK predicate and
//! the error code AWS sends.

use aws_sdk_sfn::error::ProvideErrorMetadata;
use serde_json::json;

use crate::harness::{Baton, MACHINE_PREFIX, ROLE, create_machine, unique};

/// Checks that `$result` failed with a service error satisfying `$is` and carrying `$code`.
macro_rules! expect_error {
    ($label:expr, $result:expr, $is:ident, $code:literal) => {{
        let error = match $result {
            Ok(output) => panic!("{}: expected {}, got {:?}", $label, $code, output),
            Err(error) => error.into_service_error(),
        };
        assert_eq!(error.code(), Some($code), "{}: {:?}", $label, error);
        assert!(
            error.$is(),
            "{}: not typed as {}: {:?}",
            $label,
            $code,
            error
        );
    }};
}

#[tokio::test(flavor = "multi_thread")]
async fn typed_errors() {
    let Some(baton) = Baton::start("errors::typed_errors") else {
        return;
    };
    let c = &baton.client;
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let machine = create_machine(c, &unique("errors"), &definition).await;
    let missing_machine = format!("{MACHINE_PREFIX}missing");
    let missing_execution = "arn:aws:states:us-east-1:000000000000:execution:missing:nope";
    let missing_activity = "arn:aws:states:us-east-1:000000000000:activity:missing";

    expect_error!(
        "describe unknown machine",
        c.describe_state_machine()
            .state_machine_arn(&missing_machine)
            .send()
            .await,
        is_state_machine_does_not_exist,
        "StateMachineDoesNotExist"
    );
    expect_error!(
        "describe malformed ARN",
        c.describe_state_machine()
            .state_machine_arn("not-an-arn")
            .send()
            .await,
        is_invalid_arn,
        "InvalidArn"
    );
    expect_error!(
        "start on unknown machine",
        c.start_execution()
            .state_machine_arn(&missing_machine)
            .send()
            .await,
        is_state_machine_does_not_exist,
        "StateMachineDoesNotExist"
    );
    expect_error!(
        "start with malformed ARN",
        c.start_execution()
            .state_machine_arn("arn:aws:nope")
            .send()
            .await,
        is_invalid_arn,
        "InvalidArn"
    );
    expect_error!(
        "start with invalid JSON input",
        c.start_execution()
            .state_machine_arn(&machine)
            .input("{not json")
            .send()
            .await,
        is_invalid_execution_input,
        "InvalidExecutionInput"
    );
    expect_error!(
        "start with an invalid name",
        c.start_execution()
            .state_machine_arn(&machine)
            .name("bad name?")
            .send()
            .await,
        is_invalid_name,
        "InvalidName"
    );
    expect_error!(
        "create with a definition without States",
        c.create_state_machine()
            .name(unique("bad"))
            .definition(r#"{"StartAt": "A"}"#)
            .role_arn(ROLE)
            .send()
            .await,
        is_invalid_definition,
        "InvalidDefinition"
    );
    expect_error!(
        "create with a definition that is not JSON",
        c.create_state_machine()
            .name(unique("bad"))
            .definition("{")
            .role_arn(ROLE)
            .send()
            .await,
        is_invalid_definition,
        "InvalidDefinition"
    );
    expect_error!(
        "create with an invalid name",
        c.create_state_machine()
            .name("has space")
            .definition(definition.to_string())
            .role_arn(ROLE)
            .send()
            .await,
        is_invalid_name,
        "InvalidName"
    );
    expect_error!(
        "describe unknown execution",
        c.describe_execution()
            .execution_arn(missing_execution)
            .send()
            .await,
        is_execution_does_not_exist,
        "ExecutionDoesNotExist"
    );
    expect_error!(
        "history of unknown execution",
        c.get_execution_history()
            .execution_arn(missing_execution)
            .send()
            .await,
        is_execution_does_not_exist,
        "ExecutionDoesNotExist"
    );
    expect_error!(
        "stop unknown execution",
        c.stop_execution()
            .execution_arn(missing_execution)
            .send()
            .await,
        is_execution_does_not_exist,
        "ExecutionDoesNotExist"
    );
    expect_error!(
        "describe unknown activity",
        c.describe_activity()
            .activity_arn(missing_activity)
            .send()
            .await,
        is_activity_does_not_exist,
        "ActivityDoesNotExist"
    );
    expect_error!(
        "poll unknown activity",
        c.get_activity_task()
            .activity_arn(missing_activity)
            .send()
            .await,
        is_activity_does_not_exist,
        "ActivityDoesNotExist"
    );
    expect_error!(
        "create activity with an invalid name",
        c.create_activity().name("no/slash").send().await,
        is_invalid_name,
        "InvalidName"
    );
    expect_error!(
        "success for an unknown token",
        c.send_task_success()
            .task_token("x".repeat(64))
            .output("{}")
            .send()
            .await,
        is_task_does_not_exist,
        "TaskDoesNotExist"
    );
    expect_error!(
        "heartbeat for an unknown token",
        c.send_task_heartbeat()
            .task_token("x".repeat(64))
            .send()
            .await,
        is_task_does_not_exist,
        "TaskDoesNotExist"
    );
    expect_error!(
        "list executions with a bad page token",
        c.list_executions()
            .state_machine_arn(&machine)
            .next_token("%%%")
            .send()
            .await,
        is_invalid_token,
        "InvalidToken"
    );
}
