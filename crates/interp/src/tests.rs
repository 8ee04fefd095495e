//! Replay determinism: whatever order events arrive in, feeding the recorded inputs again
//! reproduces the same history and the same final state.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::{
    Command, Entropy, Event, Execution, ExecutionInfo, HistoryEvent, Millis, Status, TaskId,
};

/// A machine that exercises tasks, retries, timers, Map, Parallel, Choice and variables.
const MACHINE: &str = r#"{
  "StartAt": "Init",
  "States": {
    "Init": {"Type": "Pass", "Assign": {"count": 0}, "Result": {"items": [{"n": 1}, {"n": 2}, {"n": 3}]}, "ResultPath": "$.data", "Next": "Fan"},
    "Fan": {"Type": "Map", "ItemsPath": "$.data.items", "MaxConcurrency": 2, "ResultPath": "$.mapped",
      "ItemProcessor": {"StartAt": "Work", "States": {
        "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"Payload.$": "$", "Token.$": "$$.Task.Token"},
          "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2, "JitterStrategy": "FULL"}],
          "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recovered"}],
          "End": true},
        "Recovered": {"Type": "Pass", "End": true}}},
      "Next": "Both"},
    "Both": {"Type": "Parallel", "ResultPath": "$.both", "Branches": [
      {"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 5, "End": true}}},
      {"StartAt": "Id", "States": {"Id": {"Type": "Pass", "Parameters": {"u.$": "States.UUID()"}, "End": true}}}],
      "Next": "Check"},
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.data.items[0].n", "NumericEquals": 1, "Next": "Done"}], "Default": "Nope"},
    "Nope": {"Type": "Fail", "Error": "Unexpected"},
    "Done": {"Type": "Succeed"}
  }
}"#;

/// A tiny deterministic generator for schedules.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn entropy(n: u64) -> Entropy {
    let mut e = [0u8; 32];
    e[..8].copy_from_slice(&n.to_le_bytes());
    e[8..16].copy_from_slice(&(n ^ 0xDEAD_BEEF).to_le_bytes());
    e
}

/// Drives the machine with a random schedule; returns the recorded inputs and the history.
fn run(seed: u64) -> (Vec<(Event, Millis, Entropy)>, Vec<HistoryEvent>, Execution) {
    let machine = Arc::new(baton_asl::StateMachine::from_text(MACHINE).unwrap());
    let mut rng = Lcg(seed);
    let mut now: Millis = 1_000_000;
    let (mut execution, transition) = Execution::start(
        machine,
        ExecutionInfo::example(),
        json!({"x": 1}),
        now,
        entropy(seed),
    );
    let mut history = transition.events;
    let mut commands = transition.commands;
    let mut open: Vec<TaskId> = Vec::new();
    let mut timers: Vec<(Millis, u64)> = Vec::new();
    let mut inputs = Vec::new();
    for step in 0..500u64 {
        for c in commands.drain(..) {
            match c {
                Command::Dispatch(t) => open.push(t.task),
                Command::StartTimer { timer, due } => timers.push((due, timer)),
                Command::CancelTimer { timer } => timers.retain(|t| t.1 != timer),
                Command::CancelTask { task } => open.retain(|t| *t != task),
            }
        }
        if execution.status() != &Status::Running {
            break;
        }
        let event = if !open.is_empty() && (timers.is_empty() || !rng.next().is_multiple_of(3)) {
            let task = open.remove((rng.next() as usize) % open.len());
            match rng.next() % 4 {
                0 => Event::TaskFailed {
                    task,
                    error: Some("Flaky".into()),
                    cause: None,
                },
                1 => Event::TaskFailed {
                    task,
                    error: Some("Fatal".into()),
                    cause: Some("boom".into()),
                },
                _ => Event::TaskSucceeded {
                    task,
                    output: json!({"ok": step}),
                },
            }
        } else if !timers.is_empty() {
            timers.sort();
            let (due, timer) = timers.remove(0);
            now = now.max(due);
            Event::TimerFired { timer }
        } else {
            panic!("stuck at step {step}: {history:#?}");
        };
        now += (rng.next() % 50) as Millis;
        let e = entropy(seed * 1000 + step);
        inputs.push((event.clone(), now, e));
        let t = execution.handle(event, now, e);
        history.extend(t.events);
        commands = t.commands;
    }
    (inputs, history, execution)
}

#[test]
fn replay_reproduces_history_and_state() {
    for seed in 1..60 {
        let (inputs, history, execution) = run(seed);
        assert_eq!(execution.status(), &Status::Succeeded, "seed {seed}");
        let machine = Arc::new(baton_asl::StateMachine::from_text(MACHINE).unwrap());
        let (replayed, replayed_history) = Execution::replay(
            machine,
            ExecutionInfo::example(),
            json!({"x": 1}),
            (1_000_000, entropy(seed)),
            inputs,
        );
        assert_eq!(replayed_history, history, "seed {seed}");
        assert_eq!(replayed.status(), execution.status());
        assert_eq!(replayed.output(), execution.output());
        assert_eq!(replayed.history_len(), history.len() as u64);
        let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            (1..=history.len() as u64).collect::<Vec<_>>(),
            "ids are dense"
        );
    }
}

#[test]
fn stop_aborts_waiting_states() {
    let machine = Arc::new(
        baton_asl::StateMachine::from_text(
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}"#,
        )
        .unwrap(),
    );
    let (mut execution, t) =
        Execution::start(machine, ExecutionInfo::example(), Value::Null, 0, [0; 32]);
    assert!(matches!(
        t.commands[..],
        [Command::StartTimer { due: 100_000, .. }]
    ));
    let t = execution.handle(
        Event::Stop {
            error: Some("E".into()),
            cause: None,
        },
        5,
        [1; 32],
    );
    let types: Vec<&str> = t.events.iter().map(|e| e.ty.as_str()).collect();
    assert_eq!(types, ["ExecutionAborted"]);
    assert!(matches!(t.commands[..], [Command::CancelTimer { .. }]));
    assert_eq!(execution.status(), &Status::Aborted);
}

fn machine(text: &str) -> Arc<baton_asl::StateMachine> {
    Arc::new(baton_asl::StateMachine::from_text(text).unwrap())
}

fn dispatched(commands: &[Command]) -> Vec<(TaskId, Value)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Dispatch(t) => Some((t.task, t.input.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn redrive_runs_only_failed_map_iterations() {
    let m = machine(
        r#"{"StartAt":"Each","States":{"Each":{"Type":"Map","End":true,
            "ItemProcessor":{"StartAt":"Work","States":{"Work":{"Type":"Task",
              "Resource":"arn:aws:states:::lambda:invoke","End":true}}}}}}"#,
    );
    let (mut execution, t) =
        Execution::start(m, ExecutionInfo::example(), json!([1, 2, 3]), 0, [0; 32]);
    let tasks = dispatched(&t.commands);
    assert_eq!(tasks.len(), 3);
    execution.handle(
        Event::TaskSucceeded {
            task: tasks[0].0,
            output: json!("a"),
        },
        1,
        [1; 32],
    );
    execution.handle(
        Event::TaskFailed {
            task: tasks[1].0,
            error: Some("Boom".into()),
            cause: None,
        },
        2,
        [2; 32],
    );
    assert_eq!(execution.status(), &Status::Failed);
    assert!(execution.can_redrive());

    let t = execution.handle(Event::Redrive, 10, [3; 32]);
    assert_eq!(t.events[0].ty.as_str(), "ExecutionRedriven");
    assert_eq!(execution.status(), &Status::Running);
    assert_eq!(execution.redrive_count(), 1);
    // Item 0 succeeded before: only items 1 (failed) and 2 (aborted) run again.
    let again = dispatched(&t.commands);
    assert_eq!(
        again
            .iter()
            .map(|(_, input)| input.clone())
            .collect::<Vec<_>>(),
        [json!(2), json!(3)]
    );
    execution.handle(
        Event::TaskSucceeded {
            task: again[0].0,
            output: json!("b"),
        },
        11,
        [4; 32],
    );
    execution.handle(
        Event::TaskSucceeded {
            task: again[1].0,
            output: json!("c"),
        },
        12,
        [5; 32],
    );
    assert_eq!(execution.status(), &Status::Succeeded);
    assert_eq!(execution.output(), Some(&json!(["a", "b", "c"])));
    assert!(!execution.can_redrive());
}

#[test]
fn redrive_continues_after_stop_and_counts_in_context() {
    let m = machine(
        r#"{"StartAt":"Ask","States":{
            "Ask":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:a","Next":"Count"},
            "Count":{"Type":"Pass","Parameters":{"redrives.$":"$$.Execution.RedriveCount"},"End":true}}}"#,
    );
    let (mut execution, _) =
        Execution::start(m.clone(), ExecutionInfo::example(), json!({}), 0, [0; 32]);
    execution.handle(
        Event::Stop {
            error: None,
            cause: None,
        },
        1,
        [1; 32],
    );
    assert_eq!(execution.status(), &Status::Aborted);
    let t = execution.handle(Event::Redrive, 2, [2; 32]);
    let task = dispatched(&t.commands)[0].0;
    execution.handle(
        Event::TaskSucceeded {
            task,
            output: json!({}),
        },
        3,
        [3; 32],
    );
    assert_eq!(execution.output(), Some(&json!({"redrives": 1})));

    // Replaying everything, the redrive included, gives the same execution.
    let inputs = vec![
        (
            Event::Stop {
                error: None,
                cause: None,
            },
            1,
            [1; 32],
        ),
        (Event::Redrive, 2, [2; 32]),
        (
            Event::TaskSucceeded {
                task,
                output: json!({}),
            },
            3,
            [3; 32],
        ),
    ];
    let (replayed, history) =
        Execution::replay(m, ExecutionInfo::example(), json!({}), (0, [0; 32]), inputs);
    assert_eq!(replayed.output(), execution.output());
    assert_eq!(history.len() as u64, execution.history_len());
}

#[test]
fn succeeded_executions_are_not_redriven() {
    let m = machine(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    let (mut execution, _) = Execution::start(m, ExecutionInfo::example(), json!({}), 0, [0; 32]);
    assert!(!execution.can_redrive());
    assert!(
        execution
            .handle(Event::Redrive, 1, [1; 32])
            .events
            .is_empty()
    );
}

#[test]
fn history_is_capped_at_the_aws_limit() {
    let m = machine(
        r#"{"StartAt":"Loop","States":{
            "Loop":{"Type":"Pass","Next":"Again"},
            "Again":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"Loop"},
            "Done":{"Type":"Succeed"}}}"#,
    );
    let (execution, t) = Execution::start(m, ExecutionInfo::example(), json!({}), 0, [0; 32]);
    assert_eq!(execution.status(), &Status::Failed);
    assert_eq!(t.events.len() as u64, crate::MAX_HISTORY_EVENTS);
    assert_eq!(t.events.last().unwrap().ty.as_str(), "ExecutionFailed");
    assert!(!execution.can_redrive());
}

#[test]
fn jsonata_clock_is_the_event_time() {
    let m = machine(
        r#"{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Pass",
            "Output":{"millis":"{% $millis() %}","now":"{% $now() %}"},"End":true}}}"#,
    );
    let (execution, _) = Execution::start(
        m,
        ExecutionInfo::example(),
        json!({}),
        1_700_000_000_123,
        [0; 32],
    );
    assert_eq!(
        execution.output(),
        Some(&json!({"millis": 1_700_000_000_123_i64, "now": "2023-11-14T22:13:20.123Z"}))
    );
}
