//! The validator against the cases recorded on AWS (`shared/conformance/cases`): every
//! definition AWS ran must pass, and every definition AWS refused must be refused with the
//! same codes at the same locations.

use baton_asl::validate::{self, MachineType, Options, ResultOptions};
use baton_asl::{Diagnostic, Severity};
use serde_json::Value;

use crate::{files, render, shared_dir};

struct Case {
    id: String,
    kind: String,
    options: Options,
    text: String,
    expected: Value,
}

/// Every case file, or nothing when `shared/` is absent.
fn cases() -> Vec<Case> {
    let Some(shared) = shared_dir() else {
        eprintln!("shared/conformance is absent: skipping");
        return Vec::new();
    };
    let root = shared.join("conformance/cases");
    let mut categories: Vec<_> = std::fs::read_dir(&root)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    categories.sort();
    let mut out = Vec::new();
    for dir in categories.into_iter().filter(|p| p.is_dir()) {
        for path in files(&dir, "json") {
            let text = std::fs::read_to_string(&path).expect("readable case");
            let case: Value = serde_json::from_str(&text).expect("case is JSON");
            let definition_text = match case.get("definition_string").and_then(Value::as_str) {
                Some(s) => s.to_owned(),
                None => serde_json::to_string(&case["definition"]).expect("serializable"),
            };
            let machine_type = match case["state_machine_type"].as_str() {
                Some("EXPRESS") => MachineType::Express,
                _ => MachineType::Standard,
            };
            out.push(Case {
                id: case["id"].as_str().unwrap_or_default().to_owned(),
                kind: case["kind"].as_str().unwrap_or_default().to_owned(),
                options: Options { machine_type },
                text: definition_text,
                expected: case["expected"].clone(),
            });
        }
    }
    out
}

/// The errors only: warnings never block a definition, and the recorded cases used the default
/// severity filter, `ERROR`.
fn errors(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

#[test]
fn every_executed_definition_is_valid() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.kind == "execution")
        .collect();
    let mut failures = Vec::new();
    for case in &cases {
        let diagnostics = errors(validate::check_text(&case.text, &case.options));
        if !diagnostics.is_empty() {
            failures.push(format!("{}:\n{}", case.id, render(&diagnostics)));
        }
    }
    eprintln!(
        "{} executed definitions checked, {} rejected",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "definitions AWS ran were rejected:\n{}",
        failures.join("\n")
    );
}

/// Splits AWS's `InvalidDefinition` message into `(code, message, location)` triples.
fn parse_create_message(message: &str) -> Vec<(String, String, String)> {
    let inner = message
        .strip_prefix("Invalid State Machine Definition: '")
        .and_then(|m| m.strip_suffix('\''))
        .unwrap_or(message);
    let mut out = Vec::new();
    // Entries start with an upper-case code followed by `: `.
    let mut rest = inner;
    while !rest.is_empty() {
        let Some(colon) = rest.find(": ") else { break };
        let code = rest[..colon].to_owned();
        let body = &rest[colon + 2..];
        let next = find_next_entry(body);
        let entry = &body[..next];
        let (text, location) = match entry.rfind(" at ") {
            Some(i) => (&entry[..i], &entry[i + 4..]),
            None => (entry, ""),
        };
        out.push((code, text.to_owned(), location.to_owned()));
        rest = body[next..].trim_start_matches(", ");
    }
    out
}

/// Where the next `, CODE: ` entry starts in `body`, or its end.
fn find_next_entry(body: &str) -> usize {
    let mut search = 0;
    while let Some(i) = body[search..].find(", ") {
        let start = search + i;
        let after = &body[start + 2..];
        let code_len = after.find(": ").unwrap_or(0);
        if code_len > 0
            && after[..code_len]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_')
        {
            return start;
        }
        search = start + 2;
    }
    body.len()
}

#[test]
fn refused_definitions_match_aws() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.kind == "create_error" || c.kind == "validate")
        .collect();
    let mut mismatches = Vec::new();
    let (mut messages, mut messages_matching) = (0, 0);
    for case in &cases {
        // The cases were recorded with the default severity filter, ERROR.
        let diagnostics = errors(validate::check_text(&case.text, &case.options));
        let (expected, expected_message): (Vec<(String, String, String)>, Option<String>) =
            if case.kind == "create_error" {
                let message = case.expected["create_error"]["message"]
                    .as_str()
                    .unwrap_or_default();
                (parse_create_message(message), Some(message.to_owned()))
            } else {
                let list = case.expected["validate"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let triples = list
                    .iter()
                    .map(|d| {
                        let field = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
                        (field("code"), field("message"), field("location"))
                    })
                    .collect();
                (triples, None)
            };
        let actual: Vec<(String, String, String)> = diagnostics
            .iter()
            .map(|d| (d.code.clone(), d.message.clone(), d.location.clone()))
            .collect();
        let key = |t: &(String, String, String)| (t.0.clone(), t.2.clone());
        if expected.iter().map(key).collect::<Vec<_>>()
            != actual.iter().map(key).collect::<Vec<_>>()
        {
            mismatches.push(format!(
                "{}\n  expected {expected:?}\n  actual   {actual:?}",
                case.id
            ));
            continue;
        }
        for (e, a) in expected.iter().zip(&actual) {
            messages += 1;
            if e.1 == a.1 {
                messages_matching += 1;
            } else {
                eprintln!(
                    "{}: message differs\n  AWS: {}\n  ours: {}",
                    case.id, e.1, a.1
                );
            }
        }
        if let Some(message) = expected_message {
            messages += 1;
            let ours = validate::invalid_definition_message(&diagnostics);
            if ours == message {
                messages_matching += 1;
            } else {
                eprintln!(
                    "{}: InvalidDefinition message differs\n  AWS: {message}\n  ours: {ours}",
                    case.id
                );
            }
        }
        if case.kind == "validate" {
            let rendered = validate::validation_result(&diagnostics, &ResultOptions::default());
            assert_eq!(
                rendered["result"], case.expected["validate"]["result"],
                "{}",
                case.id
            );
            assert_eq!(
                rendered["truncated"], case.expected["validate"]["truncated"],
                "{}",
                case.id
            );
        }
    }
    eprintln!(
        "{} refused definitions: codes and locations match in {}; messages match {messages_matching}/{messages}",
        cases.len(),
        cases.len() - mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "codes or locations differ from AWS:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn create_message_parser_splits_entries() {
    let message = "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /, SCHEMA_VALIDATION_FAILED: Field 'Fn::Sub' is not supported at /'";
    let parsed = parse_create_message(message);
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[0].1, "These fields are required: [States, StartAt]");
    assert_eq!(
        parsed[1],
        (
            "SCHEMA_VALIDATION_FAILED".into(),
            "Field 'Fn::Sub' is not supported".into(),
            "/".into()
        )
    );
}

#[test]
fn every_executed_definition_builds_the_typed_model() {
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.kind == "execution")
        .collect();
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(diagnostics) = baton_asl::StateMachine::from_text(&case.text) {
            failures.push(format!("{}:\n{}", case.id, render(&diagnostics)));
        }
    }
    assert!(
        failures.is_empty(),
        "valid definitions the parser refused:\n{}",
        failures.join("\n")
    );
}
