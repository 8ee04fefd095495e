//! Fuzz target: any text given to `Call::parse`, and any call that parses evaluated against a
//! fixed input, context and variables, must return (Ok or Err) without panicking. Crashing
//! inputs go to `crates/intrinsics/tests/fuzz-failures/`, which an ordinary test replays.
//!
//! Run with `cargo +nightly fuzz run parse_eval` from `crates/intrinsics`.

#![no_main]

use baton_intrinsics::{Call, Env, Failure};
use baton_jsonpath::{Path, Root};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

struct FuzzEnv {
    input: Value,
    context: Value,
    var: Value,
    counter: u64,
}

impl Env for FuzzEnv {
    fn resolve(&mut self, path: &Path) -> Result<Value, Failure> {
        let root = match path.root() {
            Root::Input => &self.input,
            Root::Context => &self.context,
            Root::Variable(_) => &self.var,
        };
        path.select(root).map_err(|e| Failure {
            error: "States.Runtime".into(),
            cause: e.to_string(),
        })
    }

    fn random_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.counter
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(call) = Call::parse(&text) else { return };
    assert_eq!(call.text(), text);
    let input = json!({
        "a": [1, 2.5, -3, {"b": "x,y", "c": null}],
        "s": "Hello {} World",
        "n": 2147483647,
        "o": {"k": [true, false], "t": "{\"j\": [1, 2]}"},
        "b64": "aGVsbG8=",
    });
    let mut env = FuzzEnv {
        context: json!({"Execution": {"Input": input.clone(), "Name": "run-1"}, "StateMachine": {"Name": "sm-a-b"}}),
        input,
        var: json!({"v": [0, "1"]}),
        counter: 0,
    };
    let _ = call.eval(&mut env);
});
