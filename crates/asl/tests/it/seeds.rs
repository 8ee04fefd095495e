//! The state machines quoted in `shared/seeds/*.txt` (the project's example workflows) must be
//! valid.

use baton_asl::validate;
use serde_json::Value;

use crate::{files, render, shared_dir};

/// The JSON blocks of a Markdown-ish text that look like state machines.
fn machines(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
        let Some(end) = after[body_start..].find("```") else {
            break;
        };
        let body = &after[body_start..body_start + end];
        if let Ok(value) = serde_json::from_str::<Value>(body)
            && value.get("StartAt").is_some()
            && value.get("States").is_some()
        {
            out.push(value);
        }
        rest = &after[body_start + end + 3..];
    }
    out
}

#[test]
fn seed_state_machines_are_valid() {
    let Some(shared) = shared_dir() else {
        eprintln!("shared/seeds is absent: skipping");
        return;
    };
    let mut count = 0;
    let mut failures = Vec::new();
    for path in files(&shared.join("seeds"), "txt") {
        let text = std::fs::read_to_string(&path).expect("readable seed");
        for machine in machines(&text) {
            count += 1;
            let mut diagnostics = validate::validate(&machine);
            diagnostics.retain(|d| d.severity == baton_asl::Severity::Error);
            if !diagnostics.is_empty() {
                failures.push(format!("{}:\n{}", path.display(), render(&diagnostics)));
            }
        }
    }
    eprintln!("{count} seed state machines checked");
    assert!(
        failures.is_empty(),
        "seed state machines rejected:\n{}",
        failures.join("\n")
    );
}

#[test]
fn finds_json_blocks() {
    let text = "intro\n```json\n{\"StartAt\":\"A\",\"States\":{}}\n```\n```bash\nls\n```\n";
    assert_eq!(machines(text).len(), 1);
}
