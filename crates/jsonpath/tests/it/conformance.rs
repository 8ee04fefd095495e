//! Checks paths against runs recorded on real AWS (`../shared/conformance/cases`, read at test
//! time and skipped when absent):
//! - single-Pass-state cases whose `Parameters` only copy values with `"key.$"` paths: the
//!   output must be what our `select` gives for each path;
//! - failed cases whose cause reads `Invalid path '<path>' : <reason>` for the execution input:
//!   our `NotFound` must render the same reason.

use std::path::PathBuf;

use baton_jsonpath::{Path, Root};
use serde_json::{Map, Value};

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/cases")
}

fn load_cases() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let Ok(categories) = std::fs::read_dir(cases_dir()) else {
        return out;
    };
    for category in categories.flatten() {
        let Ok(files) = std::fs::read_dir(category.path()) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable case");
            let case: Value = serde_json::from_str(&text).expect("case is JSON");
            out.push((path.display().to_string(), case));
        }
    }
    out
}

fn input_of(case: &Value) -> Value {
    if let Some(text) = case.get("input_string").and_then(Value::as_str) {
        return serde_json::from_str(text).unwrap_or(Value::Null);
    }
    if case.get("input_omitted") == Some(&Value::Bool(true)) {
        return Value::Object(Map::new());
    }
    case.get("input")
        .cloned()
        .unwrap_or(Value::Object(Map::new()))
}

/// The `Parameters` of a definition made of one Pass state that does nothing else.
fn single_pass_parameters(definition: &Value) -> Option<&Map<String, Value>> {
    let states = definition.get("States")?.as_object()?;
    if states.len() != 1 {
        return None;
    }
    let state = states.values().next()?.as_object()?;
    let allowed = ["Type", "Parameters", "End", "Comment"];
    if state.get("Type")? != "Pass" || state.keys().any(|k| !allowed.contains(&k.as_str())) {
        return None;
    }
    let parameters = state.get("Parameters")?.as_object()?;
    let simple = parameters.iter().all(|(key, value)| {
        !key.ends_with(".$")
            || value
                .as_str()
                .is_some_and(|p| p.starts_with('$') && !p.starts_with("$$"))
    });
    simple.then_some(parameters)
}

#[test]
fn parameters_paths_match_aws() {
    let cases = load_cases();
    if cases.is_empty() {
        eprintln!(
            "conformance cases not found at {}; skipping",
            cases_dir().display()
        );
        return;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for (file, case) in &cases {
        let expected = &case["expected"];
        if expected["status"] != "SUCCEEDED" {
            continue;
        }
        let Some(parameters) = single_pass_parameters(&case["definition"]) else {
            continue;
        };
        let input = input_of(case);
        let mut output = Map::new();
        for (key, value) in parameters {
            match key.strip_suffix(".$") {
                Some(name) => {
                    let text = value.as_str().unwrap_or_default();
                    let path = Path::parse(text).expect("AWS accepted this path");
                    match path.select(&input) {
                        Ok(selected) => output.insert(name.to_owned(), selected),
                        Err(e) => {
                            failures.push(format!("{file}: {text}: {e}"));
                            continue;
                        }
                    };
                }
                None => {
                    output.insert(key.clone(), value.clone());
                }
            }
        }
        checked += 1;
        if Value::Object(output.clone()) != expected["output"] {
            failures.push(format!(
                "{file}: expected {}, got {}",
                expected["output"],
                Value::Object(output)
            ));
        }
    }
    assert!(
        checked >= 5,
        "only {checked} conformance cases were checked"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn not_found_messages_match_aws() {
    let cases = load_cases();
    if cases.is_empty() {
        eprintln!(
            "conformance cases not found at {}; skipping",
            cases_dir().display()
        );
        return;
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for (file, case) in &cases {
        let Some(cause) = case["expected"]["cause"].as_str() else {
            continue;
        };
        let Some((_, rest)) = cause.split_once("Invalid path '") else {
            continue;
        };
        let Some((text, reason)) = rest.split_once("' : ") else {
            continue;
        };
        let path = Path::parse(text).expect("AWS accepted this path");
        if *path.root() != Root::Input {
            continue;
        }
        checked += 1;
        match path.select(&input_of(case)) {
            Err(e) if e.to_string() == reason => {}
            other => failures.push(format!("{file}: expected {reason:?}, got {other:?}")),
        }
    }
    assert!(checked >= 1, "no 'Invalid path' causes were checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
