//! Amazon States Language: the definition model, its parser and its validator.
//!
//! A definition goes through two stages, each with its own type:
//! 1. [`validate()`] reads the raw JSON and reports every problem as a [`Diagnostic`] with AWS's
//!    code and location, which is what `CreateStateMachine`'s `InvalidDefinition` and
//!    `ValidateStateMachineDefinition` report;
//! 2. [`StateMachine::from_json`] builds the typed [`model`] (paths parsed, expressions
//!    compiled, transitions resolved) from a definition the validator accepted.
//!
//! ```
//! let def = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
//! let machine = baton_asl::StateMachine::from_text(def).unwrap();
//! assert_eq!(machine.states[0].name.as_ref(), "A");
//! ```
#![warn(missing_docs)]

pub mod model;
mod parse;
pub mod validate;

pub use model::*;
pub use validate::{Diagnostic, Severity, validate};

use serde_json::Value;

impl StateMachine {
    /// Validates and parses definition text.
    pub fn from_text(text: &str) -> Result<StateMachine, Vec<Diagnostic>> {
        let json = validate::parse_text(text)?;
        StateMachine::from_json(&json)
    }

    /// Validates and parses a definition already read as JSON.
    pub fn from_json(json: &Value) -> Result<StateMachine, Vec<Diagnostic>> {
        let diagnostics = validate(json);
        if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            return Err(diagnostics);
        }
        parse::machine(json)
    }
}
