//! Data-driven interpreter tests: one folder per case under `test_data/asl/`.
//!
//! Each folder holds `definition.json`, optional `input.json` (default `{}`), optional
//! `script.json` (scripted task replies, stops: see `baton_conformance::driver::Script`),
//! `expect.json` (the final status and output or error/cause, derived by hand from the AWS
//! documentation, optionally `event_types` and `elapsed_seconds` of virtual time) and
//! `expected.txt`, the snapshot: the history one event per line, then status and output.
//! `UPDATE_EXPECT=1 cargo test -p baton-interp` rewrites the snapshots; review them in the diff.
//! Every case is also replayed from what it was fed (`Execution::replay`), which must give the
//! same history and result. `expect.json` is never rewritten: it is the independent check. A `"fixme"` note in it marks
//! a known divergence from AWS: the case then passes only while the divergence remains.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use baton_asl::StateMachine;
use baton_conformance::compare::{Key, Placeholders, compare};
use baton_conformance::driver::{self, Outcome, RunConfig, Script};
use baton_conformance::render;
use baton_interp::{Execution, ExecutionInfo};
use serde_json::Value;

#[test]
fn asl_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/asl");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("test_data/asl exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases under {}", root.display());
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let result = catch_unwind(AssertUnwindSafe(|| check_case(dir)));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(problems)) => failures.push(format!("{name}:\n  {}", problems.join("\n  "))),
            Err(_) => failures.push(format!("{name}: panicked (see above)")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display())),
    )
}

/// Runs one case folder; `Err` lists what differs from `expect.json`. A snapshot mismatch
/// panics (with expect-test's diff).
fn check_case(dir: &Path) -> Result<(), Vec<String>> {
    let definition = read_json(&dir.join("definition.json")).expect("definition.json");
    let input = read_json(&dir.join("input.json")).unwrap_or_else(|| serde_json::json!({}));
    let script = match read_json(&dir.join("script.json")) {
        Some(json) => Script::from_json(&json).map_err(|e| vec![format!("script.json: {e}")])?,
        None => Script::default(),
    };
    let machine = StateMachine::from_json(&definition).map_err(|diagnostics| {
        diagnostics
            .iter()
            .map(|d| format!("definition: {} {} at {}", d.code, d.message, d.location))
            .collect::<Vec<_>>()
    })?;
    let machine = Arc::new(machine);
    let outcome = driver::run(
        machine.clone(),
        ExecutionInfo::example(),
        input.clone(),
        &script,
        &RunConfig::default(),
    );
    // Replaying what the execution was fed gives the same history and the same end.
    let (replayed, history) = Execution::replay(
        machine,
        ExecutionInfo::example(),
        input,
        (outcome.start, outcome.start_entropy),
        outcome.inputs.iter().cloned(),
    );
    let same = history == outcome.events
        && replayed.status() == &outcome.status
        && replayed.output() == outcome.output.as_ref();
    if !same {
        return Err(vec![
            "replaying the inputs gave a different execution".to_owned(),
        ]);
    }
    let snapshot = snapshot(&outcome);
    expect_test::expect_file![dir.join("expected.txt")].assert_eq(&snapshot);
    let Some(expect) = read_json(&dir.join("expect.json")) else {
        return Err(vec!["expect.json is missing".to_owned()]);
    };
    let result = check_expectation(&expect, &outcome);
    // A known divergence from AWS: the expectation stays as AWS behaves, and the case checks
    // that the divergence is still there, so fixing the engine makes the note go away.
    match (expect.get("fixme").and_then(Value::as_str), result) {
        (None, result) => result,
        (Some(note), Err(diffs)) => {
            eprintln!("FIXME {}: {note} ({})", dir.display(), diffs.join("; "));
            Ok(())
        }
        (Some(note), Ok(())) => Err(vec![format!(
            "matches AWS now: remove the \"fixme\" from expect.json ({note})"
        )]),
    }
}

/// The history, one event per line, then the result.
fn snapshot(outcome: &Outcome) -> String {
    let mut out = String::new();
    for event in &outcome.events {
        out.push_str(&render::event_line(event, outcome.start));
        out.push('\n');
    }
    out.push_str(&format!(
        "status: {}\n",
        render::status_str(&outcome.status)
    ));
    if let Some(output) = &outcome.output {
        out.push_str(&format!("output: {output}\n"));
    }
    if let Some(error) = &outcome.error {
        out.push_str(&format!("error: {error}\n"));
    }
    if let Some(cause) = &outcome.cause {
        out.push_str(&format!("cause: {cause}\n"));
    }
    for problem in &outcome.problems {
        out.push_str(&format!("problem: {problem}\n"));
    }
    out
}

/// Checks the outcome against the hand-written `expect.json`:
/// `{"status", "output"?, "error"?, "cause"?, "event_types"?, "elapsed_seconds"?}`
/// (`elapsed_seconds`: virtual time from start to end, a number or a `[min, max]` range).
/// Outputs compare as JSON values (`1 == 1.0`); `error`/`cause` exactly, `null` meaning none.
fn check_expectation(expect: &Value, outcome: &Outcome) -> Result<(), Vec<String>> {
    let mut diffs = Vec::new();
    let status = render::status_str(&outcome.status);
    let want_status = expect["status"].as_str().unwrap_or("SUCCEEDED");
    if status != want_status {
        diffs.push(format!(
            "status: expected {want_status}, got {status} (error {:?}, cause {:?})",
            outcome.error, outcome.cause
        ));
    }
    let none = Placeholders::new();
    if let Some(want) = expect.get("output") {
        let got = outcome.output.clone().unwrap_or(Value::Null);
        compare(want, &got, &[Key::Name("output".into())], &none, &mut diffs);
    }
    for (field, got) in [("error", &outcome.error), ("cause", &outcome.cause)] {
        if let Some(want) = expect.get(field) {
            let got = got.clone().map_or(Value::Null, Value::String);
            compare(want, &got, &[Key::Name(field.into())], &none, &mut diffs);
        }
    }
    if let Some(want) = expect.get("event_types") {
        let got: Vec<Value> = outcome
            .events
            .iter()
            .map(|e| Value::String(e.ty.as_str().into()))
            .collect();
        compare(
            want,
            &Value::Array(got),
            &[Key::Name("event_types".into())],
            &none,
            &mut diffs,
        );
    }
    if let Some(want) = expect.get("elapsed_seconds") {
        // A number, or `[min, max]` where the delay is random (jitter).
        let (min, max) = match want {
            Value::Array(range) => (
                range.first().and_then(Value::as_f64),
                range.get(1).and_then(Value::as_f64),
            ),
            other => (other.as_f64(), other.as_f64()),
        };
        let (Some(min), Some(max)) = (min, max) else {
            return Err(vec![format!("expect.json: bad elapsed_seconds {want}")]);
        };
        let got = (outcome.end - outcome.start) as f64 / 1000.0;
        if got < min - 1e-9 || got > max + 1e-9 {
            diffs.push(format!(
                "elapsed: expected {want}s of virtual time, got {got}s"
            ));
        }
    }
    if !outcome.problems.is_empty() && status != "RUNNING" {
        diffs.extend(outcome.problems.iter().map(|p| format!("driver: {p}")));
    }
    if diffs.is_empty() { Ok(()) } else { Err(diffs) }
}
