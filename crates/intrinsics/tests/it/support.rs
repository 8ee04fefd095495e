//! Shared test helpers: an [`Env`] over an input document, a context object and variables,
//! and JSON comparisons.

use std::path::PathBuf;

use baton_intrinsics::{Env, Failure};
use baton_jsonpath::{Path, Root};
use serde_json::{Map, Value, json};

/// Resolves paths against fixed documents; random numbers come from a seeded SplitMix64.
pub struct TestEnv {
    pub input: Value,
    pub context: Value,
    pub vars: Map<String, Value>,
    state: u64,
}

impl TestEnv {
    pub fn new(input: Value, context: Value, vars: Map<String, Value>, seed: u64) -> TestEnv {
        TestEnv {
            input,
            context,
            vars,
            state: seed,
        }
    }
}

impl Env for TestEnv {
    fn resolve(&mut self, path: &Path) -> Result<Value, Failure> {
        let root = match path.root() {
            Root::Input => &self.input,
            Root::Context => &self.context,
            Root::Variable(name) => self.vars.get(name).ok_or_else(|| Failure {
                error: "States.Runtime".into(),
                cause: format!("The variable '{name}' is not defined"),
            })?,
        };
        path.select(root).map_err(|_| Failure {
            error: "States.Runtime".into(),
            cause: format!(
                "The JSONPath '{}' could not be found in the input '{}'",
                path.text(),
                serde_json::to_string(root).unwrap_or_default()
            ),
        })
    }

    fn random_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A context object like the one AWS passes to a Pass state.
pub fn sample_context(input: &Value) -> Value {
    json!({
        "Execution": {
            "Id": "arn:aws:states:us-east-1:000000000000:execution:conformance-sm-1a2b:exec-1",
            "Input": input,
            "Name": "exec-1",
            "RoleArn": "arn:aws:iam::000000000000:role/conformance",
            "StartTime": "2026-01-01T00:00:00.000Z",
        },
        "StateMachine": {
            "Id": "arn:aws:states:us-east-1:000000000000:stateMachine:conformance-sm-1a2b",
            "Name": "conformance-sm-1a2b",
        },
        "State": { "Name": "State_0", "EnteredTime": "2026-01-01T00:00:00.000Z" },
    })
}

/// Strict equality for this crate's own expectations: integers and floats are different
/// kinds (an integer result must be written as one), floats compare by value, object key
/// order does not matter.
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let is_int = |n: &serde_json::Number| !n.to_string().contains(['.', 'e', 'E']);
            is_int(x) == is_int(y)
                && match (x.as_i64(), y.as_i64()) {
                    (Some(p), Some(q)) => p == q,
                    _ => x.as_f64() == y.as_f64(),
                }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| strict_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| strict_eq(p, q)))
        }
        _ => a == b,
    }
}

/// The conformance runner's equality: numbers compare by value (`1` equals `1.0`).
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(p), Some(q)) => p == q,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loose_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| loose_eq(p, q)))
        }
        _ => a == b,
    }
}

/// The crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
