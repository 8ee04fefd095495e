//! Data-driven validator cases: `test_data/validate/ok/*.json` must produce no diagnostic;
//! each `test_data/validate/err/NAME.json` must produce exactly the diagnostics in `NAME.txt`
//! (one per line, `CODE location: message`). A file named `*.express.json` is validated as an
//! Express state machine. `UPDATE_EXPECT=1 cargo test` rewrites the `.txt` files.

use baton_asl::StateMachine;
use baton_asl::validate::{self, MachineType, Options};

use crate::{crate_dir, files, render};

fn options_for(path: &std::path::Path) -> Options {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let machine_type = if name.ends_with(".express.json") {
        MachineType::Express
    } else {
        MachineType::Standard
    };
    Options { machine_type }
}

#[test]
fn ok_cases_have_no_diagnostics() {
    let dir = crate_dir().join("test_data/validate/ok");
    let cases = files(&dir, "json");
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let mut failures = Vec::new();
    for path in &cases {
        let text = std::fs::read_to_string(path).expect("readable case");
        let diagnostics = validate::check_text(&text, &options_for(path));
        if !diagnostics.is_empty() {
            failures.push(format!("{}:\n{}", path.display(), render(&diagnostics)));
        } else if let Err(diagnostics) = StateMachine::from_text(&text) {
            // The interpreter relies on this: what validates also builds.
            failures.push(format!(
                "{} does not build:\n{}",
                path.display(),
                render(&diagnostics)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "valid definitions rejected:\n{}",
        failures.join("\n")
    );
}

#[test]
fn err_cases_match_expected_diagnostics() {
    let dir = crate_dir().join("test_data/validate/err");
    let cases = files(&dir, "json");
    assert!(
        cases.len() >= 40,
        "expected at least 40 cases in {}",
        dir.display()
    );
    let bless = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for path in &cases {
        let text = std::fs::read_to_string(path).expect("readable case");
        let diagnostics = validate::check_text(&text, &options_for(path));
        if diagnostics.is_empty() {
            failures.push(format!("{}: no diagnostic", path.display()));
            continue;
        }
        let actual = render(&diagnostics);
        let expected_path = path.with_extension("txt");
        if bless {
            std::fs::write(&expected_path, &actual).expect("writable expectation");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
