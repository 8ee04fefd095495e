//! Amazon States Language intrinsic functions (`States.Format`, `States.Array`, ...).
//!
//! [`Call::parse`] turns the text of a `"key.$"` value such as
//! `States.Format('Hello {}', $.name)` into a call tree once, when the definition is loaded;
//! [`Call::eval`] runs it against an [`Env`] that resolves path arguments and supplies
//! randomness, so the crate itself stays pure and replayable.

use baton_jsonpath::Path;
use serde_json::Value;

/// A workflow-level failure: the error name and cause a state fails with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Error name, e.g. `States.Runtime`.
    pub error: String,
    /// Human-readable cause.
    pub cause: String,
}

/// What an intrinsic call needs from its surroundings.
pub trait Env {
    /// Resolves a path argument (`$.x`, `$$.x`, `$var`).
    fn resolve(&mut self, path: &Path) -> Result<Value, Failure>;
    /// A uniformly random 64-bit number (for `MathRandom` and `UUID`).
    fn random_u64(&mut self) -> u64;
}

/// The intrinsic text could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Human-readable reason.
    pub message: String,
}

/// A parsed intrinsic function call.
#[derive(Debug, Clone)]
pub struct Call {
    text: String,
}

impl Call {
    /// Parses an intrinsic function call such as `States.Array(1, $.x)`.
    pub fn parse(text: &str) -> Result<Call, ParseError> {
        let _ = text;
        todo!()
    }
    /// The text the call was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Evaluates the call.
    pub fn eval(&self, env: &mut dyn Env) -> Result<Value, Failure> {
        let _ = env;
        todo!()
    }
}
