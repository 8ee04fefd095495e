//! Checks Baton's JSONata against executions recorded on AWS Step Functions
//! (`../shared/conformance/cases`, read in place): every recorded state machine that is a
//! single JSONata `Pass` state whose `Output` is one `{% %}` expression is evaluated with
//! `$states.input` bound to the execution input, and its result must equal the recorded
//! output exactly (as JSON text, so `0` and `0.0` differ). Skips if the folder is absent.

use std::path::Path;

use baton_jsonata::{Bindings, Expression};
use serde_json::{Value, json};

#[test]
fn single_expression_pass_states_match_aws() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/cases");
    let Ok(categories) = std::fs::read_dir(&root) else {
        eprintln!("conformance cases not found at {}: skipped", root.display());
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut files: Vec<_> = categories
        .filter_map(Result::ok)
        .filter_map(|category| std::fs::read_dir(category.path()).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    files.sort();
    for path in files {
        let Some(case) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        else {
            continue;
        };
        let Some((expression, expected)) = single_expression_case(&case) else {
            continue;
        };
        checked += 1;
        let input = case.get("input").cloned().unwrap_or(Value::Null);
        let bindings = Bindings {
            vars: vec![("states".to_owned(), json!({ "input": input.clone() }))],
        };
        let got = Expression::compile(expression)
            .and_then(|e| e.evaluate(&input, &bindings, &mut || 0x5EED));
        // With arbitrary_precision, numbers compare as their text: `0` and `0.0` differ.
        let same = matches!(&got, Ok(Some(value)) if value == expected);
        if !same {
            failures.push(format!(
                "{}: {expression} gave {got:?}, AWS {expected}",
                path.display()
            ));
        }
    }
    println!("{checked} recorded single-expression Pass states checked");
    assert!(checked > 0 || !root.exists(), "no case matched the pattern");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The `Output` expression and recorded output of a one-state JSONata Pass machine that
/// succeeded.
fn single_expression_case(case: &Value) -> Option<(&str, &Value)> {
    let definition = case.get("definition")?;
    let states = definition.get("States")?.as_object()?;
    let [(_, state)] = states.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let language = state
        .get("QueryLanguage")
        .or_else(|| definition.get("QueryLanguage"));
    if language?.as_str()? != "JSONata" || state.get("Type")?.as_str()? != "Pass" {
        return None;
    }
    let text = state.get("Output")?.as_str()?;
    let expression = text.strip_prefix("{%")?.strip_suffix("%}")?;
    let expected = case.get("expected")?;
    if expected.get("status")?.as_str()? != "SUCCEEDED" {
        return None;
    }
    Some((expression, expected.get("output")?))
}
