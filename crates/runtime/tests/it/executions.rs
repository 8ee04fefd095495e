//! Executions end to end on the in-memory store: a table of machines run to completion with
//! scripted clock moves, plus stop, idempotent start, callbacks and cache eviction.

use std::sync::Arc;

use baton_runtime::{Error, ManualClock, StartExecution};
use baton_store::{ExecutionStatus, MemoryStore};
use serde_json::{Value, json};

use crate::harness::{Harness, Recorder, START_MS, assert_well_formed};

struct Case {
    name: &'static str,
    definition: &'static str,
    input: &'static str,
    /// Clock moves (ms) made one after another while the execution runs; the execution must
    /// still be running before the last one.
    advances: &'static [i64],
    status: ExecutionStatus,
    output: Option<Value>,
    error: Option<(&'static str, &'static str)>,
    events: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "pass-chain",
            definition: r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Result":1,"ResultPath":"$.a","Next":"B"},
                "B":{"Type":"Pass","Result":2,"ResultPath":"$.b","Next":"C"},
                "C":{"Type":"Pass","End":true}}}"#,
            input: r#"{"x":0}"#,
            advances: &[],
            status: ExecutionStatus::Succeeded,
            output: Some(json!({"x":0,"a":1,"b":2})),
            error: None,
            events: &[
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "PassStateEntered",
                "PassStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded",
            ],
        },
        Case {
            name: "wait-seconds",
            definition: r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"D"},"D":{"Type":"Succeed"}}}"#,
            input: r#"{"k":"v"}"#,
            advances: &[9_999, 1],
            status: ExecutionStatus::Succeeded,
            output: Some(json!({"k":"v"})),
            error: None,
            events: &[
                "ExecutionStarted",
                "WaitStateEntered",
                "WaitStateExited",
                "SucceedStateEntered",
                "SucceedStateExited",
                "ExecutionSucceeded",
            ],
        },
        Case {
            name: "two-waits",
            definition: r#"{"StartAt":"W1","States":{
                "W1":{"Type":"Wait","Seconds":5,"Next":"W2"},
                "W2":{"Type":"Wait","SecondsPath":"$.s","End":true}}}"#,
            input: r#"{"s":3}"#,
            advances: &[5_000, 2_999, 1],
            status: ExecutionStatus::Succeeded,
            output: Some(json!({"s":3})),
            error: None,
            events: &[
                "ExecutionStarted",
                "WaitStateEntered",
                "WaitStateExited",
                "WaitStateEntered",
                "WaitStateExited",
                "ExecutionSucceeded",
            ],
        },
        Case {
            name: "fail",
            definition: r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Oops","Cause":"broken"}}}"#,
            input: "{}",
            advances: &[],
            status: ExecutionStatus::Failed,
            output: None,
            error: Some(("Oops", "broken")),
            events: &["ExecutionStarted", "FailStateEntered", "ExecutionFailed"],
        },
        Case {
            name: "machine-timeout",
            definition: r#"{"TimeoutSeconds":5,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}"#,
            input: "{}",
            advances: &[4_999, 1],
            status: ExecutionStatus::TimedOut,
            output: None,
            error: Some(("States.Timeout", "")),
            events: &["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"],
        },
        Case {
            name: "unsupported-integration-is-caught",
            definition: r#"{"StartAt":"T","States":{
                "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},
                     "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Caught"}],"End":true},
                "Caught":{"Type":"Pass","End":true}}}"#,
            input: "{}",
            advances: &[],
            status: ExecutionStatus::Succeeded,
            output: None,
            error: None,
            events: &[
                "ExecutionStarted",
                "TaskStateEntered",
                "TaskScheduled",
                "TaskStarted",
                "TaskFailed",
                "TaskStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded",
            ],
        },
    ]
}

#[tokio::test]
async fn machines_run_to_completion() {
    for case in cases() {
        let h = Harness::memory().await;
        let machine = h.machine(case.name, case.definition).await;
        let started = h.start(&machine, "run", case.input).await;
        assert_eq!(started.start_ms, START_MS, "{}", case.name);
        for (index, advance) in case.advances.iter().enumerate() {
            assert_eq!(
                h.status(&started.arn).await,
                ExecutionStatus::Running,
                "{}: before move {index}",
                case.name
            );
            h.advance(*advance).await;
        }
        let done = h.finished(&started.arn).await;
        assert_eq!(done.status, case.status, "{}: {done:?}", case.name);
        if let Some(output) = &case.output {
            let actual: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
            assert_eq!(&actual, output, "{}", case.name);
        }
        if let Some((error, cause)) = case.error {
            assert_eq!(done.error.as_deref(), Some(error), "{}", case.name);
            assert_eq!(done.cause.as_deref().unwrap_or(""), cause, "{}", case.name);
        }
        let elapsed: i64 = case.advances.iter().sum();
        assert_eq!(
            done.stop_ms,
            Some(START_MS + elapsed),
            "{}: stop date",
            case.name
        );
        let history = h.history(&started.arn).await;
        assert_well_formed(&history);
        let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, case.events, "{}", case.name);
        // Nothing is left behind: no timers, no cached execution.
        assert!(
            h.store
                .timers_between(i64::MIN, i64::MAX, 10)
                .await
                .unwrap()
                .is_empty(),
            "{}",
            case.name
        );
    }
}

#[tokio::test]
async fn history_details_are_aws_shaped() {
    let h = Harness::memory().await;
    let machine = h
        .machine(
            "details",
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#,
        )
        .await;
    let run = h
        .start(&machine, "run", r#"{"big":12345678901234567890}"#)
        .await;
    h.finished(&run.arn).await;
    let history = h.history(&run.arn).await;
    // What StartExecution returns is what the store holds.
    assert_eq!(run, h.runtime.describe_execution(&run.arn).await.unwrap());
    assert_eq!(
        run.status,
        ExecutionStatus::Succeeded,
        "a Pass machine ends in its first step"
    );
    let started: Value = serde_json::from_str(&history[0].details).unwrap();
    assert_eq!(
        started,
        json!({"input": "{\"big\":12345678901234567890}", "inputDetails": {"truncated": false}, "roleArn": crate::harness::ROLE})
    );
    let entered: Value = serde_json::from_str(&history[1].details).unwrap();
    assert_eq!(entered["name"], "A");
    assert_eq!(
        baton_runtime::details_key(&history[1].event_type),
        Some("stateEnteredEventDetails")
    );
    assert_eq!(history[0].timestamp_ms, START_MS);
}

#[tokio::test]
async fn stop_aborts_and_clears_timers() {
    let h = Harness::memory().await;
    let machine = h
        .machine(
            "stoppable",
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}"#,
        )
        .await;
    let run = h.start(&machine, "run", "{}").await;
    assert_eq!(run, h.runtime.describe_execution(&run.arn).await.unwrap());
    assert_eq!(
        h.store
            .timers_between(i64::MIN, i64::MAX, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    h.advance(1_000).await;
    let stopped = h
        .runtime
        .stop_execution(&run.arn, Some("Halt".into()), Some("by test".into()))
        .await
        .unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
    assert_eq!(stopped.stop_ms, Some(START_MS + 1_000));
    assert_eq!(
        (stopped.error.as_deref(), stopped.cause.as_deref()),
        (Some("Halt"), Some("by test"))
    );
    assert!(
        h.store
            .timers_between(i64::MIN, i64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.event_types(&run.arn).await.last().map(String::as_str),
        Some("ExecutionAborted")
    );
    // The timer that was due later fires into nothing.
    h.advance(200_000).await;
    assert_eq!(h.status(&run.arn).await, ExecutionStatus::Aborted);
    // Stopping again changes nothing.
    let again = h
        .runtime
        .stop_execution(&run.arn, None, None)
        .await
        .unwrap();
    assert_eq!(again, stopped);
}

#[tokio::test]
async fn start_is_idempotent_on_name_and_input() {
    let h = Harness::memory().await;
    let machine = h
        .machine(
            "idem",
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}"#,
        )
        .await;
    let first = h.start(&machine, "same", r#"{"a":1}"#).await;
    h.advance(1).await;
    let again = h.start(&machine, "same", r#"{ "a" : 1 }"#).await;
    assert_eq!(again.arn, first.arn);
    assert_eq!(again.start_ms, first.start_ms);
    let request = |input: &str| StartExecution {
        state_machine_arn: machine.clone(),
        name: Some("same".into()),
        input: Some(input.into()),
    };
    let different = h.runtime.start_execution(request(r#"{"a":2}"#)).await;
    assert!(
        matches!(different, Err(Error::ExecutionAlreadyExists(_))),
        "{different:?}"
    );
    h.advance(10_000).await;
    h.finished(&first.arn).await;
    let closed = h.runtime.start_execution(request(r#"{"a":1}"#)).await;
    assert!(
        matches!(closed, Err(Error::ExecutionAlreadyExists(_))),
        "{closed:?}"
    );
}

#[tokio::test]
async fn start_rejects_bad_requests() {
    let h = Harness::memory().await;
    let machine = h
        .machine(
            "strict",
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#,
        )
        .await;
    let start = |arn: &str, name: Option<&str>, input: &str| StartExecution {
        state_machine_arn: arn.to_owned(),
        name: name.map(str::to_owned),
        input: Some(input.to_owned()),
    };
    let table: Vec<(StartExecution, crate::harness::Expect)> = vec![
        (start(&machine, Some("a"), "{not json"), |e| {
            matches!(e, Error::InvalidExecutionInput(_))
        }),
        (start(&machine, Some("bad name"), "{}"), |e| {
            matches!(e, Error::InvalidName(_))
        }),
        (start(&machine, Some(&"n".repeat(81)), "{}"), |e| {
            matches!(e, Error::InvalidName(_))
        }),
        (start("not-an-arn", Some("a"), "{}"), |e| {
            matches!(e, Error::InvalidArn(_))
        }),
        (
            start(
                "arn:aws:states:us-east-1:000000000000:stateMachine:missing",
                Some("a"),
                "{}",
            ),
            |e| matches!(e, Error::StateMachineDoesNotExist(_)),
        ),
        (
            start(
                &machine,
                Some("big"),
                &format!(r#"{{"s":"{}"}}"#, "x".repeat(256 * 1024)),
            ),
            |e| matches!(e, Error::ValidationException(_)),
        ),
    ];
    for (request, expected) in table {
        let name = request.name.clone();
        let error = h.runtime.start_execution(request).await.unwrap_err();
        assert!(expected(&error), "{name:?}: {error:?}");
    }
    // Without a name, a UUID is used.
    let unnamed = h
        .runtime
        .start_execution(start(&machine, None, "{}"))
        .await
        .unwrap();
    assert_eq!(unnamed.name.len(), 36);
}

#[tokio::test]
async fn callbacks_through_a_dispatcher() {
    let recorder = Recorder::default();
    let dispatcher = Arc::new(recorder.clone());
    let h = Harness::with_store(
        Arc::new(MemoryStore::new()),
        ManualClock::new(START_MS),
        move |mut c| {
            c.dispatcher = dispatcher;
            c
        },
    )
    .await;
    let machine = h
        .machine(
            "callback",
            r#"{"StartAt":"T","States":{"T":{"Type":"Task",
                "Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters":{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}"#,
        )
        .await;
    let run = h.start(&machine, "run", "{}").await;
    crate::harness::settle().await;
    let tasks = recorder.taken();
    assert_eq!(tasks.len(), 1);
    let token = tasks[0].token.clone();
    assert_eq!(
        tasks[0].input["MessageBody"]["token"],
        Value::String(token.clone()),
        "token passed in the parameters"
    );
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    assert_eq!(h.status(&run.arn).await, ExecutionStatus::Running);
    h.runtime
        .send_task_success(&token, r#"{"answer":42}"#)
        .await
        .unwrap();
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        serde_json::from_str::<Value>(done.output.as_deref().unwrap()).unwrap(),
        json!({"answer":42})
    );
    assert_eq!(
        h.event_types(&run.arn).await,
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
    let late = h.runtime.send_task_success(&token, "{}").await;
    assert!(matches!(late, Err(Error::TaskTimedOut(_))), "{late:?}");
}

#[tokio::test]
async fn parked_executions_are_evicted_and_replayed() {
    let h = Harness::with_store(
        Arc::new(MemoryStore::new()),
        ManualClock::new(START_MS),
        |mut c| {
            c.cache_capacity = 2;
            c
        },
    )
    .await;
    let machine = h
        .machine(
            "parked",
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"P"},
                "P":{"Type":"Pass","Parameters":{"n.$":"$.n","rand.$":"States.MathRandom(0, 1000000)"},"End":true}}}"#,
        )
        .await;
    let mut runs = Vec::new();
    for n in 0..12 {
        runs.push(
            h.start(&machine, &format!("run-{n}"), &format!(r#"{{"n":{n}}}"#))
                .await,
        );
    }
    let stats = h.runtime.stats();
    assert!(stats.cached_executions <= 4, "cache bounded: {stats:?}");
    h.advance(10_000).await;
    for (n, run) in runs.iter().enumerate() {
        let done = h.finished(&run.arn).await;
        let output: Value = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
        assert_eq!(output["n"], json!(n));
        assert_well_formed(&h.history(&run.arn).await);
    }
    assert!(
        h.runtime.stats().replays >= 8,
        "evicted executions were replayed: {:?}",
        h.runtime.stats()
    );
}

#[tokio::test]
async fn express_executions_report_status_and_output_without_history() {
    let h = Harness::memory().await;
    let request = baton_runtime::CreateStateMachine {
        name: "quick".into(),
        definition:
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"ok":true},"End":true}}}"#
                .into(),
        role_arn: crate::harness::ROLE.into(),
        kind: Some(baton_store::MachineType::Express),
        ..Default::default()
    };
    let machine = h
        .runtime
        .create_state_machine(request)
        .await
        .unwrap()
        .machine
        .arn;
    let first = h.start(&machine, "same-name", "{}").await;
    let second = h.start(&machine, "same-name", "{}").await;
    assert_ne!(first.arn, second.arn, "express names need not be unique");
    assert!(
        first
            .arn
            .starts_with("arn:aws:states:us-east-1:000000000000:express:quick:same-name:"),
        "{}",
        first.arn
    );
    let done = h.finished(&first.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.output.as_deref(), Some(r#"{"ok":true}"#));
    // As on AWS, Express executions have no history to read and are not listed.
    let history = h
        .runtime
        .get_execution_history(baton_runtime::GetHistory {
            execution_arn: first.arn.clone(),
            reverse: false,
            page: Default::default(),
        })
        .await;
    assert!(
        matches!(&history, Err(baton_runtime::Error::InvalidArn(m)) if m.contains("express")),
        "{history:?}"
    );
    let listed = h
        .runtime
        .list_executions(baton_runtime::ListExecutions {
            state_machine_arn: machine.clone(),
            status: None,
            page: Default::default(),
        })
        .await;
    assert!(
        matches!(
            listed,
            Err(baton_runtime::Error::StateMachineTypeNotSupported(_))
        ),
        "{listed:?}"
    );
}

#[tokio::test]
async fn an_endless_loop_fails_at_the_history_limit() {
    let h = Harness::memory().await;
    let machine = h
        .machine(
            "endless",
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Next":"B"},
                "B":{"Type":"Choice","Default":"A",
                     "Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}]},
                "Done":{"Type":"Succeed"}}}"#,
        )
        .await;
    let run = h.start(&machine, "run", "{}").await;
    let done = h.finished(&run.arn).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("States.Runtime"));
    let history = h.history(&run.arn).await;
    assert_eq!(history.len() as u64, baton_interp::MAX_HISTORY_EVENTS);
    assert_eq!(history.last().unwrap().event_type, "ExecutionFailed");
    crate::harness::assert_well_formed(&history);
    // Nothing is left to continue from within the limit.
    assert!(matches!(
        h.runtime.redrive_execution(&run.arn, None).await,
        Err(baton_runtime::Error::ExecutionNotRedrivable(_))
    ));
}
