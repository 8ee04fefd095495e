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
