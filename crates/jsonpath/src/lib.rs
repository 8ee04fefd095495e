//! JSONPath as Amazon States Language uses it (the Jayway dialect AWS runs).
//!
//! One parsed [`Path`] serves every place ASL takes a path: `InputPath`, `OutputPath`,
//! `ResultPath` (via [`Path::set`]), `"key.$"` fields in `Parameters`, Choice `Variable`s and
//! intrinsic-function arguments. A path starts at `$` (the state input), `$$` (the context
//! object) or `$name` (a workflow variable).

use serde_json::Value;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the effective input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

/// A parsed JSONPath.
#[derive(Debug, Clone)]
pub struct Path {
    text: String,
    root: Root,
}

/// The path text is not valid JSONPath.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Human-readable reason.
    pub message: String,
}

/// A definite path matched nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("No results for path: {normalized}")]
pub struct NotFound {
    /// The path in Jayway's normalized form, e.g. `$['a'][0]`.
    pub normalized: String,
}

/// Writing a value at a path failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SetError {
    /// Human-readable reason.
    pub message: String,
}

impl Path {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Path, ParseError> {
        let _ = text;
        todo!()
    }
    /// The text the path was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Where the path starts.
    pub fn root(&self) -> &Root {
        &self.root
    }
    /// True when the path can match at most one value.
    pub fn is_definite(&self) -> bool {
        todo!()
    }
    /// True when the path is an ASL reference path (names and indexes only).
    pub fn is_reference(&self) -> bool {
        todo!()
    }
    /// Jayway's normalized form, e.g. `$['a'][0]`.
    pub fn normalized(&self) -> String {
        todo!()
    }
    /// Evaluates the path against `root` (input, context object or variable value).
    pub fn select(&self, root: &Value) -> Result<Value, NotFound> {
        let _ = root;
        todo!()
    }
    /// Writes `value` at this reference path inside `target` (ResultPath semantics).
    pub fn set(&self, target: Value, value: Value) -> Result<Value, SetError> {
        let _ = (target, value);
        todo!()
    }
}
