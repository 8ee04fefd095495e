//! JSONata for Step Functions: compile once per definition, evaluate per state.
//!
//! This crate is the seam between Baton and the JSONata engine: the rest of Baton sees only
//! [`Expression`], [`Bindings`] and [`Error`].

use serde_json::Value;

/// A compiled JSONata expression. `Send + Sync`, so a compiled definition can be shared.
#[derive(Debug, Clone)]
pub struct Expression {
    text: String,
}

/// Variables visible to an evaluation (`$states`, workflow variables).
#[derive(Debug, Default, Clone)]
pub struct Bindings {
    /// `(name without $, value)` pairs.
    pub vars: Vec<(String, Value)>,
}

/// A JSONata compile or evaluation error, with the reference implementation's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    /// e.g. `T0410`, `D3001`, `S0201`.
    pub code: String,
    /// The reference implementation's message.
    pub message: String,
}

impl Expression {
    /// Compiles `text` (without the `{% %}` delimiters).
    pub fn compile(text: &str) -> Result<Expression, Error> {
        Ok(Expression { text: text.to_owned() })
    }
    /// The source text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Evaluates against `input` with `bindings`; `Ok(None)` is JSONata's *undefined*.
    /// `random` supplies entropy for `$random()` and `$uuid()`.
    pub fn evaluate(
        &self,
        input: &Value,
        bindings: &Bindings,
        random: &mut dyn FnMut() -> u64,
    ) -> Result<Option<Value>, Error> {
        let _ = (input, bindings, random);
        Err(Error { code: "D0000".into(), message: "JSONata is not wired yet".into() })
    }
}
