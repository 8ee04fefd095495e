//! Runs `tests/cases.txt`: one line per case (see the header of that file for the format).

use std::collections::HashMap;

use baton_jsonpath::{Path, Root};
use serde_json::Value;

#[test]
fn case_table() {
    let table = include_str!("../cases.txt");
    let mut docs: HashMap<&str, Value> = HashMap::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for (number, line) in table.lines().enumerate() {
        let number = number + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("doc ") {
            let (name, json) = rest
                .split_once(" = ")
                .expect("doc line: doc <name> = <json>");
            let value = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("line {number}: bad document JSON: {e}"));
            docs.insert(name, value);
            continue;
        }
        count += 1;
        let outcome = if let Some(rest) = line.strip_prefix("set ") {
            run_set(rest, &docs)
        } else if let Some(rest) = line.strip_prefix("info ") {
            run_info(rest)
        } else {
            run_select(line, &docs)
        };
        if let Err(message) = outcome {
            failures.push(format!("line {number}: {line}\n    {message}"));
        }
    }
    assert!(count >= 80, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn split_doc(line: &str) -> (&str, &str) {
    line.split_once(' ').unwrap_or((line, ""))
}

fn doc<'d>(docs: &'d HashMap<&str, Value>, name: &str) -> Result<&'d Value, String> {
    if name == "-" {
        static EMPTY: Value = Value::Null;
        return Ok(&EMPTY);
    }
    docs.get(name)
        .ok_or_else(|| format!("no document named {name}"))
}

fn run_select(line: &str, docs: &HashMap<&str, Value>) -> Result<(), String> {
    let (name, rest) = split_doc(line);
    let (path_text, expected) = rest.rsplit_once(" => ").ok_or("missing ' => '")?;
    let document = doc(docs, name)?;
    let parsed = Path::parse(path_text);
    if let Some(fragment) = expected.strip_prefix("ParseError") {
        return match parsed {
            Err(e) if e.message.contains(fragment.trim()) => Ok(()),
            Err(e) => Err(format!(
                "parse error {:?} lacks {:?}",
                e.message,
                fragment.trim()
            )),
            Ok(path) => Err(format!("parsed, selecting {:?}", path.select(document))),
        };
    }
    let path = parsed.map_err(|e| format!("parse error: {e}"))?;
    let selected = path.select(document);
    check_round_trip(&path, document, &selected)?;
    if let Some(normalized) = expected.strip_prefix("NotFound ") {
        return match selected {
            Err(e) if e.normalized == normalized => {
                check_ref(&path, document, None)?;
                Ok(())
            }
            other => Err(format!("expected NotFound {normalized}, got {other:?}")),
        };
    }
    let expected: Value =
        serde_json::from_str(expected).map_err(|e| format!("bad expected JSON: {e}"))?;
    match selected {
        Ok(value) if value == expected => check_ref(&path, document, Some(&value)),
        other => Err(format!("expected {expected}, got {other:?}")),
    }
}

/// The normalized form parses back to itself and selects the same thing (checked where
/// Jayway's form can round-trip: no filters, no quotes or backslashes inside names).
fn check_round_trip(
    path: &Path,
    document: &Value,
    selected: &Result<Value, baton_jsonpath::NotFound>,
) -> Result<(), String> {
    let normalized = path.normalized();
    let names = normalized.get(1..).unwrap_or_default();
    if normalized.contains("[?]") || names.contains('\\') || names.matches('\'').count() % 2 == 1 {
        return Ok(());
    }
    if names.contains('"') && names.contains('\'') {
        return Ok(());
    }
    let again =
        Path::parse(&normalized).map_err(|e| format!("normalized form {normalized}: {e}"))?;
    if again.normalized() != normalized {
        return Err(format!(
            "{normalized} re-normalizes to {}",
            again.normalized()
        ));
    }
    if &again.select(document) != selected {
        return Err(format!("{normalized} selects differently"));
    }
    Ok(())
}

/// `select_ref` must agree with `select` on reference paths and decline the others.
fn check_ref(path: &Path, document: &Value, selected: Option<&Value>) -> Result<(), String> {
    let by_ref = path.select_ref(document);
    let agrees = if path.is_reference() {
        by_ref == selected
    } else {
        by_ref.is_none()
    };
    if agrees {
        Ok(())
    } else {
        Err(format!(
            "select_ref gave {by_ref:?}, select gave {selected:?}"
        ))
    }
}

fn run_set(line: &str, docs: &HashMap<&str, Value>) -> Result<(), String> {
    let (name, rest) = split_doc(line);
    let (path_text, rest) = rest.split_once(" := ").ok_or("missing ' := '")?;
    let (value, expected) = rest.split_once(" => ").ok_or("missing ' => '")?;
    let target = doc(docs, name)?.clone();
    let value: Value = serde_json::from_str(value).map_err(|e| format!("bad value JSON: {e}"))?;
    let path = Path::parse(path_text).map_err(|e| format!("parse error: {e}"))?;
    let written = path.set(target, value);
    if let Some(fragment) = expected.strip_prefix("SetError ") {
        return match written {
            Err(e) if e.message.contains(fragment) => Ok(()),
            other => Err(format!(
                "expected a SetError containing {fragment:?}, got {other:?}"
            )),
        };
    }
    match written {
        Ok(value) => {
            let text = serde_json::to_string(&value).map_err(|e| e.to_string())?;
            if text == expected {
                Ok(())
            } else {
                Err(format!("expected {expected}, got {text}"))
            }
        }
        Err(e) => Err(format!("expected {expected}, got {e:?}")),
    }
}

fn run_info(line: &str) -> Result<(), String> {
    let (path_text, expected) = line.rsplit_once(" => ").ok_or("missing ' => '")?;
    let path = Path::parse(path_text).map_err(|e| format!("parse error: {e}"))?;
    let root = match path.root() {
        Root::Input => "Input".to_owned(),
        Root::Context => "Context".to_owned(),
        Root::Variable(name) => format!("Variable({name})"),
    };
    let actual = format!(
        "{root} {} {} {}",
        if path.is_definite() {
            "definite"
        } else {
            "indefinite"
        },
        if path.is_reference() {
            "reference"
        } else {
            "-"
        },
        path.normalized()
    );
    if actual == expected {
        Ok(())
    } else {
        Err(format!("expected {expected}, got {actual}"))
    }
}
