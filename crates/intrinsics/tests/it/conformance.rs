//! Replays the AWS-recorded conformance cases in `../shared/conformance/cases/
//! intrinsic_functions/` that this crate can run on its own: a single Pass state whose
//! `Parameters` use intrinsic functions. The Parameters are evaluated against the execution
//! input and compared with the recorded output (numbers by value, placeholders such as
//! random results accepted as anything), or with the recorded error and cause (the cause
//! after AWS's `An error occurred while executing the state ...` prefix, which the
//! interpreter adds). The folder lives outside the repository; without it the test passes
//! with a note.

use std::fs;

use baton_intrinsics::{Call, Env, Failure};
use baton_jsonpath::Path;
use serde_json::{Map, Value};

use crate::support::{TestEnv, crate_dir, loose_eq, sample_context};

#[test]
fn aws_recorded_intrinsic_cases() {
    let dir = crate_dir().join("../../../shared/conformance/cases/intrinsic_functions");
    let Ok(entries) = fs::read_dir(&dir) else {
        eprintln!("conformance cases not found at {}: skipped", dir.display());
        return;
    };
    let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let (mut matched, mut not_applicable) = (0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = fs::read_to_string(file).expect("readable case");
        let case: Value = serde_json::from_str(&text).expect("case is JSON");
        let Some(parameters) = intrinsic_parameters(&case) else {
            not_applicable += 1;
            continue;
        };
        match check_case(&case, parameters) {
            Ok(()) => matched += 1,
            Err(message) => failures.push(format!("{name}: {message}")),
        }
    }
    eprintln!(
        "conformance: {matched} matched, {} failed, {not_applicable} not applicable (no intrinsic Parameters), of {} cases",
        failures.len(),
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // 57 of the 77 recorded cases are intrinsic Pass states (the rest use JSONata); fewer
    // would mean the selection above stopped recognising them.
    assert!(matched >= 57, "only {matched} cases were checked");
}

/// The `Parameters` of the case's only state when it is a Pass state using an intrinsic.
fn intrinsic_parameters(case: &Value) -> Option<&Map<String, Value>> {
    let states = case["definition"]["States"].as_object()?;
    if states.len() != 1 {
        return None;
    }
    let state = states.values().next()?;
    if state["Type"] != "Pass" {
        return None;
    }
    let parameters = state["Parameters"].as_object()?;
    parameters
        .iter()
        .any(|(k, v)| k.ends_with(".$") && v.as_str().is_some_and(|s| s.starts_with("States.")))
        .then_some(parameters)
}

fn check_case(case: &Value, parameters: &Map<String, Value>) -> Result<(), String> {
    let input = case
        .get("input")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let context = sample_context(&input);
    let mut env = TestEnv::new(input, context, Map::new(), 7);
    let expected = &case["expected"];
    let result = evaluate(parameters, &mut env);
    match expected["status"].as_str() {
        Some("SUCCEEDED") => {
            let mut output =
                result.map_err(|f| format!("failed with {} / {}", f.error, f.cause))?;
            let mut wanted = expected["output"].clone();
            for placeholder in case["placeholders"].as_array().into_iter().flatten() {
                let keys: Vec<&str> = placeholder["keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if let Some(("output", rest)) = keys.split_first().map(|(f, r)| (*f, r)) {
                    blank(&mut output, rest);
                    blank(&mut wanted, rest);
                }
            }
            if loose_eq(&output, &wanted) {
                Ok(())
            } else {
                Err(format!("output {output}, recorded {wanted}"))
            }
        }
        Some("FAILED") => {
            let failure = match result {
                Ok(v) => return Err(format!("returned {v}, AWS failed")),
                Err(f) => f,
            };
            let error = expected["error"].as_str().unwrap_or_default();
            let cause = expected["cause"].as_str().unwrap_or_default();
            let detail = cause.split_once("). ").map_or(cause, |(_, d)| d);
            if failure.error == error && failure.cause == detail {
                Ok(())
            } else {
                Err(format!(
                    "failed with {} / {:?}, recorded {error} / {detail:?}",
                    failure.error, failure.cause
                ))
            }
        }
        other => Err(format!("unexpected recorded status {other:?}")),
    }
}

/// Evaluates a Parameters template one level deep (all the cases need).
fn evaluate(parameters: &Map<String, Value>, env: &mut dyn Env) -> Result<Value, Failure> {
    let mut out = Map::new();
    for (key, value) in parameters {
        match (key.strip_suffix(".$"), value.as_str()) {
            (Some(name), Some(text)) if text.starts_with("States.") => {
                let call = Call::parse(text).map_err(|e| Failure {
                    error: "ParseError".into(),
                    cause: e.message,
                })?;
                out.insert(name.to_owned(), call.eval(env)?);
            }
            (Some(name), Some(text)) => {
                let path = Path::parse(text).map_err(|e| Failure {
                    error: "ParseError".into(),
                    cause: e.to_string(),
                })?;
                out.insert(name.to_owned(), env.resolve(&path)?);
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

/// Sets the value at `keys` to null, if it exists.
fn blank(value: &mut Value, keys: &[&str]) {
    let mut current = value;
    for key in keys {
        let next = match current {
            Value::Object(members) => members.get_mut(*key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => return,
        }
    }
    *current = Value::Null;
}
