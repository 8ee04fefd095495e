//! Tests of the driver: script parsing, virtual time, determinism.

use serde_json::json;

use super::*;

fn machine(definition: Value) -> Arc<StateMachine> {
    Arc::new(StateMachine::from_json(&definition).expect("valid definition"))
}

fn run_script(definition: Value, input: Value, script: Value) -> Outcome {
    let script = Script::from_json(&script).expect("valid script");
    run(
        machine(definition),
        ExecutionInfo::example(),
        input,
        &script,
        &RunConfig::default(),
    )
}

#[test]
fn scripts_parse_or_say_why_not() {
    let good = json!({
        "tasks": {
            "A": [{"fail": {"error": "E"}}, {"succeed": 1, "after": 2.5}],
            "B": {"silent": true, "heartbeats": [1, 2], "started": true},
            "*": {"echo": true}
        },
        "stop": {"at": 3, "error": "E", "cause": "C"},
        "max_steps": 10
    });
    let script = Script::from_json(&good).unwrap();
    assert_eq!(script.max_steps, Some(10));
    assert_eq!(
        script.default_reply.as_ref().map(|r| &r.outcome),
        Some(&TaskOutcome::Echo)
    );
    let Some(TaskReplies::Sequence(a)) = script.tasks.get("A") else {
        panic!("A is a sequence");
    };
    assert_eq!(a[1].after_seconds, 2.5);
    assert_eq!(
        script.stop.as_ref().map(|s| &s.when),
        Some(&StopWhen::AtSeconds(3.0))
    );
    let bad = [
        json!([]),
        json!({"tasks": {"A": {"after": 1}}}),
        json!({"tasks": {"A": {"succeed": 1, "after": -1}}}),
        json!({"tasks": {"A": {"succeed": 1, "bogus": 1}}}),
        json!({"tasks": {"*": [{"echo": true}]}}),
        json!({"stop": {"error": "E"}}),
        json!({"surprise": 1}),
    ];
    for script in bad {
        assert!(
            Script::from_json(&script).is_err(),
            "{script} should be rejected"
        );
    }
}

#[test]
fn timers_jump_the_clock_and_runs_are_deterministic() {
    let definition = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3600, "Next": "R"},
        "R": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "End": true}}});
    let first = run_script(definition.clone(), json!({}), json!({}));
    assert_eq!(first.status, Status::Succeeded, "{:?}", first.problems);
    assert_eq!(first.end - first.start, 3_600_000);
    let second = run_script(definition, json!({}), json!({}));
    assert_eq!(first.events, second.events);
    assert_eq!(first.output, second.output);
}

#[test]
fn unanswered_tasks_and_step_bounds_are_reported() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}});
    let outcome = run_script(definition.clone(), json!({}), json!({}));
    assert_eq!(outcome.status, Status::Running);
    assert!(
        outcome
            .problems
            .iter()
            .any(|p| p.contains("no scripted reply")),
        "{:?}",
        outcome.problems
    );
    let looping = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1, "Next": "Again"},
        "Again": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "Done"}],
                  "Default": "W"},
        "Done": {"Type": "Succeed"}}});
    let outcome = run_script(looping, json!({}), json!({"max_steps": 5}));
    assert_eq!(outcome.status, Status::Running);
    assert_eq!(outcome.steps, 5);
    assert!(outcome.problems[0].contains("gave up after 5 steps"));
}

#[test]
fn replies_arrive_in_scripted_order_and_time() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 1}],
              "End": true}}});
    let script = json!({"tasks": {"T": [
        {"fail": {"error": "E"}, "after": 2},
        {"succeed": {"ok": true}, "after": 3}]}});
    let outcome = run_script(definition, json!({}), script);
    assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.problems);
    assert_eq!(outcome.output, Some(json!({"ok": true})));
    // 2 s to fail, 1 s before the retry, 3 s to succeed.
    assert_eq!(outcome.end - outcome.start, 6_000);
    let dispatches = outcome
        .commands
        .iter()
        .filter(|c| matches!(c, Command::Dispatch(_)))
        .count();
    assert_eq!(dispatches, 2);
}
