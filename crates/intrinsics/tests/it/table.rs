//! Runs every row of `tests/cases.json`: an expression, an input document (plus optional
//! context object and variables), and what must happen: an `expected` value, an `error`
//! cause (with `States.Runtime` unless `error_name` says otherwise), a `parse_error`
//! substring, or a `check` for random results (`"uuid"`, `{"int_in": [start, end]}`,
//! `{"length": n}`). `"deterministic": true` also evaluates the call under a second random
//! source and requires the same result. An input value `{"$repeat": [text, n]}` stands for
//! `text` repeated `n` times.

use baton_intrinsics::Call;
use serde_json::{Map, Value};

use crate::support::{TestEnv, strict_eq};

#[test]
fn case_table() {
    let path = crate::support::crate_dir().join("tests/cases.json");
    let text = std::fs::read_to_string(&path).expect("tests/cases.json");
    let rows: Vec<Map<String, Value>> = serde_json::from_str(&text).expect("cases.json is JSON");
    assert!(rows.len() >= 60, "the table should stay comprehensive");
    let mut failures = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let expr = row["expr"].as_str().expect("expr is a string");
        if let Err(message) = run_row(row) {
            failures.push(format!("row {index}: {expr}\n    {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

fn run_row(row: &Map<String, Value>) -> Result<(), String> {
    let expr = row["expr"].as_str().unwrap_or_default();
    let call = match Call::parse(expr) {
        Ok(call) => call,
        Err(e) => {
            return match row.get("parse_error").and_then(Value::as_str) {
                Some(wanted) if e.message.contains(wanted) => Ok(()),
                Some(wanted) => Err(format!(
                    "parse error {:?} does not contain {wanted:?}",
                    e.message
                )),
                None => Err(format!("unexpected parse error: {}", e.message)),
            };
        }
    };
    if row.contains_key("parse_error") {
        return Err("parsed, but a parse error was expected".into());
    }
    let input = expand(
        row.get("input")
            .cloned()
            .unwrap_or(Value::Object(Map::new())),
    );
    let context = row
        .get("context")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let vars = row
        .get("vars")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut env = TestEnv::new(input.clone(), context.clone(), vars.clone(), 1);
    let result = call.eval(&mut env);
    if row.get("deterministic").and_then(Value::as_bool) == Some(true) {
        let mut other = TestEnv::new(input, context, vars, 0xDEAD_BEEF);
        let again = call.eval(&mut other);
        if again != result {
            return Err(format!("not deterministic: {result:?} then {again:?}"));
        }
    }
    if let Some(cause) = row.get("error").and_then(Value::as_str) {
        let name = row
            .get("error_name")
            .and_then(Value::as_str)
            .unwrap_or("States.Runtime");
        return match result {
            Err(f) if f.error == name && f.cause == cause => Ok(()),
            Err(f) => Err(format!(
                "failed with {} / {:?}, expected {name} / {cause:?}",
                f.error, f.cause
            )),
            Ok(v) => Err(format!("returned {v}, expected failure {cause:?}")),
        };
    }
    let value = result.map_err(|f| format!("failed: {} / {}", f.error, f.cause))?;
    if let Some(expected) = row.get("expected")
        && !strict_eq(&value, expected)
    {
        return Err(format!("returned {value}, expected {expected}"));
    }
    if let Some(check) = row.get("check") {
        check_value(check, &value)?;
    }
    if !row.contains_key("expected") && !row.contains_key("check") {
        return Err("row has no expectation".into());
    }
    Ok(())
}

fn check_value(check: &Value, value: &Value) -> Result<(), String> {
    if check.as_str() == Some("uuid") {
        let text = value.as_str().ok_or("not a string")?;
        let groups: Vec<&str> = text.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        let hex = text
            .chars()
            .all(|c| c == '-' || matches!(c, '0'..='9' | 'a'..='f'));
        let version = groups.get(2).is_some_and(|g| g.starts_with('4'));
        let variant = groups
            .get(3)
            .and_then(|g| g.chars().next())
            .is_some_and(|c| matches!(c, '8' | '9' | 'a' | 'b'));
        return if lengths == [8, 4, 4, 4, 12] && hex && version && variant {
            Ok(())
        } else {
            Err(format!("{text} is not a version 4 UUID"))
        };
    }
    if let Some(bounds) = check.get("int_in").and_then(Value::as_array) {
        let (start, end) = (
            bounds[0].as_i64().unwrap_or(0),
            bounds[1].as_i64().unwrap_or(0),
        );
        let n = value
            .as_i64()
            .ok_or_else(|| format!("{value} is not an integer"))?;
        return if (start..end).contains(&n) {
            Ok(())
        } else {
            Err(format!("{n} is not in [{start}, {end})"))
        };
    }
    if let Some(length) = check.get("length").and_then(Value::as_u64) {
        let actual = match value {
            Value::String(s) => s.chars().count(),
            Value::Array(items) => items.len(),
            _ => return Err(format!("{value} has no length")),
        };
        return if actual as u64 == length {
            Ok(())
        } else {
            Err(format!("length {actual}, expected {length}"))
        };
    }
    Err(format!("unknown check {check}"))
}

/// Replaces `{"$repeat": [text, n]}` with `text` repeated `n` times.
fn expand(value: Value) -> Value {
    match value {
        Value::Object(members) => {
            if let Some(Value::Array(spec)) = members.get("$repeat") {
                let text = spec[0].as_str().unwrap_or_default();
                let times = spec[1].as_u64().unwrap_or(0) as usize;
                return Value::String(text.repeat(times));
            }
            Value::Object(members.into_iter().map(|(k, v)| (k, expand(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(expand).collect()),
        other => other,
    }
}
