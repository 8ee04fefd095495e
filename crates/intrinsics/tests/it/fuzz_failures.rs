//! Replays every input in `tests/fuzz-failures/` (inputs that once crashed or hung the fuzz
//! target, plus hand-picked tricky ones): parsing and evaluating them must not panic.

use std::fs;

use baton_intrinsics::Call;
use serde_json::{Map, json};

use crate::support::{TestEnv, crate_dir};

#[test]
fn fuzz_failures_do_not_panic() {
    let dir = crate_dir().join("tests/fuzz-failures");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("tests/fuzz-failures exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no fuzz-failure inputs in {}",
        dir.display()
    );
    for file in files {
        let bytes = fs::read(&file).expect("readable input");
        let text = String::from_utf8_lossy(&bytes);
        let input = json!({"a": [1, 2, {"b": "x"}], "s": "text", "n": 1.5});
        let mut env = TestEnv::new(
            input.clone(),
            json!({"Execution": {"Input": input}}),
            Map::new(),
            3,
        );
        if let Ok(call) = Call::parse(&text) {
            let _ = call.eval(&mut env);
        }
    }
}
