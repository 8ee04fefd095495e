//! Executions: start (name idempotency), describe, list with status filters and pagination,
//! stop, and history (forward, reverse, paginated, without execution data).

use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::json;

use crate::harness::{Baton, create_machine, history_types, unique, wait_done};

/// A chain of `n` Pass states, each adding its index under `$.trail`.
fn pass_chain(n: usize) -> serde_json::Value {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut state = json!({"Type": "Pass", "Result": i, "ResultPath": format!("$.s{i}")});
        if i + 1 == n {
            state["End"] = json!(true);
        } else {
            state["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), state);
    }
    json!({"StartAt": "S0", "States": states})
}

fn long_wait() -> serde_json::Value {
    json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}})
}

#[tokio::test(flavor = "multi_thread")]
async fn start_describe_history() {
    let Some(baton) = Baton::start("executions::start_describe_history") else {
        return;
    };
    let client = &baton.client;
    let machine = create_machine(client, &unique("chain"), &pass_chain(4)).await;
    let started = client
        .start_execution()
        .state_machine_arn(&machine)
        .name("first")
        .input(r#"{"in": 1}"#)
        .send()
        .await
        .expect("StartExecution");
    let done = wait_done(client, &started.execution_arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.name.as_deref(), Some("first"));
    assert_eq!(done.state_machine_arn, machine);
    let output: serde_json::Value = serde_json::from_str(done.output().unwrap()).unwrap();
    assert_eq!(output, json!({"in": 1, "s0": 0, "s1": 1, "s2": 2, "s3": 3}));
    assert!(done.stop_date.is_some());

    // The name of a closed execution cannot be reused, whatever the input (AWS keeps names
    // unique for 90 days; only a RUNNING execution answers a same-input start idempotently).
    for input in [r#"{"in": 1}"#, r#"{"in": 2}"#] {
        let conflict = client
            .start_execution()
            .state_machine_arn(&machine)
            .name("first")
            .input(input)
            .send()
            .await
            .expect_err("name of a closed execution");
        assert!(conflict.into_service_error().is_execution_already_exists());
    }

    // The history of a Pass chain, as AWS writes it.
    let mut expected = vec!["ExecutionStarted".to_owned()];
    for _ in 0..4 {
        expected.push("PassStateEntered".to_owned());
        expected.push("PassStateExited".to_owned());
    }
    expected.push("ExecutionSucceeded".to_owned());
    let forward = history_types(client, &started.execution_arn, 1000, false).await;
    let types: Vec<_> = forward.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(types, expected);
    let ids: Vec<_> = forward.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (1..=expected.len() as i64).collect::<Vec<_>>());
    for page in [1, 2, 3, 4] {
        assert_eq!(
            history_types(client, &started.execution_arn, page, false).await,
            forward
        );
        let mut reverse = history_types(client, &started.execution_arn, page, true).await;
        reverse.reverse();
        assert_eq!(reverse, forward, "reverse in pages of {page}");
    }

    // Event details: the start carries the input unless includeExecutionData is false.
    let history = client
        .get_execution_history()
        .execution_arn(&started.execution_arn)
        .send()
        .await
        .unwrap();
    let first = &history.events[0];
    assert_eq!(first.r#type, HistoryEventType::ExecutionStarted);
    let details = first
        .execution_started_event_details()
        .expect("started details");
    let input: serde_json::Value = serde_json::from_str(details.input().unwrap()).unwrap();
    assert_eq!(input, json!({"in": 1}));
    let last = history.events.last().unwrap();
    assert!(
        last.execution_succeeded_event_details()
            .and_then(|d| d.output())
            .is_some()
    );
    let bare = client
        .get_execution_history()
        .execution_arn(&started.execution_arn)
        .include_execution_data(false)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.events.len(), history.events.len());
    let details = bare.events[0]
        .execution_started_event_details()
        .expect("started details");
    assert_eq!(details.input(), None);
    let last = bare.events.last().unwrap();
    assert_eq!(
        last.execution_succeeded_event_details()
            .and_then(|d| d.output()),
        None
    );

    // DescribeStateMachineForExecution names the machine that ran it.
    let for_execution = client
        .describe_state_machine_for_execution()
        .execution_arn(&started.execution_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(for_execution.state_machine_arn, machine);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_filter_stop() {
    let Some(baton) = Baton::start("executions::list_filter_stop") else {
        return;
    };
    let client = &baton.client;
    let waiting = create_machine(client, &unique("waiting"), &long_wait()).await;
    let quick = create_machine(client, &unique("quick"), &pass_chain(1)).await;
    let mut running = Vec::new();
    for i in 0..5 {
        let started = client
            .start_execution()
            .state_machine_arn(&waiting)
            .name(format!("w{i}"))
            .input(r#"{"k": 1}"#)
            .send()
            .await
            .unwrap();
        running.push(started.execution_arn);
    }
    // A RUNNING execution: same name and input is the same execution; other input, a conflict.
    let again = client
        .start_execution()
        .state_machine_arn(&waiting)
        .name("w0")
        .input(r#"{"k": 1}"#)
        .send()
        .await
        .expect("idempotent start");
    assert_eq!(again.execution_arn, running[0]);
    let conflict = client
        .start_execution()
        .state_machine_arn(&waiting)
        .name("w0")
        .input(r#"{"k": 2}"#)
        .send()
        .await
        .expect_err("same name, other input");
    assert!(conflict.into_service_error().is_execution_already_exists());
    let finished = client
        .start_execution()
        .state_machine_arn(&quick)
        .send()
        .await
        .unwrap();
    assert_eq!(
        wait_done(client, &finished.execution_arn).await.status,
        ExecutionStatus::Succeeded
    );

    // Stop two of the waiting executions.
    for arn in &running[..2] {
        let stopped = client
            .stop_execution()
            .execution_arn(arn)
            .error("Cancelled")
            .cause("by the test")
            .send()
            .await
            .expect("StopExecution");
        assert!(stopped.stop_date.secs() > 0);
        let described = client
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap();
        assert_eq!(described.status, ExecutionStatus::Aborted);
        assert_eq!(described.error(), Some("Cancelled"));
        assert_eq!(described.cause(), Some("by the test"));
        let history = history_types(client, arn, 100, false).await;
        assert_eq!(
            history.last().map(|(_, t)| t.as_str()),
            Some("ExecutionAborted"),
            "{history:?}"
        );
    }

    // Status filters and pages of every size see the same set.
    let cases = [
        (None, 5),
        (Some(ExecutionStatus::Running), 3),
        (Some(ExecutionStatus::Aborted), 2),
        (Some(ExecutionStatus::Succeeded), 0),
    ];
    for (filter, count) in cases {
        for page in [1, 2, 5, 100] {
            let mut seen = Vec::new();
            let mut token = None;
            loop {
                let output = client
                    .list_executions()
                    .state_machine_arn(&waiting)
                    .set_status_filter(filter.clone())
                    .max_results(page)
                    .set_next_token(token)
                    .send()
                    .await
                    .expect("ListExecutions");
                assert!(output.executions.len() <= page as usize);
                for item in &output.executions {
                    if let Some(status) = &filter {
                        assert_eq!(&item.status, status);
                    }
                    assert_eq!(item.state_machine_arn, waiting);
                }
                seen.extend(output.executions.into_iter().map(|e| e.execution_arn));
                token = output.next_token;
                if token.is_none() {
                    break;
                }
            }
            let mut unique_seen = seen.clone();
            unique_seen.sort();
            unique_seen.dedup();
            assert_eq!(
                unique_seen.len(),
                seen.len(),
                "duplicates: {filter:?} in pages of {page}"
            );
            assert_eq!(seen.len(), count, "{filter:?} in pages of {page}");
        }
    }
    let succeeded = client
        .list_executions()
        .state_machine_arn(&quick)
        .status_filter(ExecutionStatus::Succeeded)
        .send()
        .await
        .unwrap();
    assert_eq!(succeeded.executions.len(), 1);
    assert_eq!(
        succeeded.executions[0].execution_arn,
        finished.execution_arn
    );
}
