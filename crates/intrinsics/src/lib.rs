//! Amazon States Language intrinsic functions (`States.Format`, `States.Array`, ...).
//!
//! [`Call::parse`] turns the text of a `"key.$"` value such as
//! `States.Format('Hello {}', $.name)` into a call tree once, when the definition is loaded;
//! [`Call::eval`] runs it against an [`Env`] that resolves path arguments and supplies
//! randomness, so the crate itself stays pure and replayable.
//!
//! ```
//! use baton_intrinsics::{Call, Env, Failure};
//! use baton_jsonpath::Path;
//! use serde_json::{Value, json};
//!
//! struct NoPaths;
//! impl Env for NoPaths {
//!     fn resolve(&mut self, _path: &Path) -> Result<Value, Failure> {
//!         unreachable!("the example uses literals only")
//!     }
//!     fn random_u64(&mut self) -> u64 {
//!         4
//!     }
//! }
//!
//! let call = Call::parse("States.Format('{} + {} = {}', 1, 2, States.MathAdd(1, 2))").unwrap();
//! assert_eq!(call.eval(&mut NoPaths).unwrap(), json!("1 + 2 = 3"));
//! ```
//!
//! # What is checked when
//!
//! Syntax is checked by [`Call::parse`]: the function name (case-sensitive, one of the
//! documented `States.*` names), string literals and their escapes (`\'`, `\{`, `\}`, `\\`),
//! number literals (JSON grammar), path arguments (via [`baton_jsonpath::Path::parse`]) and the
//! nesting depth (at most [`MAX_NESTING`] calls deep, as AWS documents). Everything AWS only
//! notices while running (argument counts, argument types, value ranges, malformed `Format`
//! templates) is a [`Failure`] from [`Call::eval`], because AWS accepts such definitions and
//! fails the execution with `States.Runtime`.
//!
//! # Errors
//!
//! AWS documents `States.IntrinsicFailure`, but a real execution reports `States.Runtime` with
//! the cause `Invalid arguments in States.<Name>` for bad arguments, so that is what
//! [`Call::eval`] returns. [`Failure::cause`] holds only that detail: the interpreter prefixes
//! it with `An error occurred while executing the state '<name>' (entered at the event id
//! #<id>). ` as AWS does.
//!
//! # Numbers
//!
//! AWS runs on Java and Jackson; where the difference shows, this crate behaves like them:
//! integers stay integers, `States.MathAdd` rounds its arguments like `Math.round`, the
//! arguments of `ArrayRange`, `ArrayPartition`, `ArrayGetItem` and `MathRandom` are truncated
//! like `(int)`, and `States.Format` prints values like Java's `toString` (floats like
//! `Double.toString`, objects as `{a=1, b=[]}`).

#![warn(missing_docs)]

mod eval;
mod java;
mod parse;
#[cfg(test)]
mod tests;

use baton_jsonpath::Path;
use serde_json::Value;

pub use parse::MAX_NESTING;

/// A workflow-level failure: the error name and cause a state fails with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Error name, e.g. `States.Runtime`.
    pub error: String,
    /// Human-readable cause: only the detail, without AWS's `An error occurred while
    /// executing the state ...` prefix, which the interpreter adds.
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

/// One of the intrinsic functions AWS provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `States.Format(template, args...)`.
    Format,
    /// `States.StringToJson(string)`.
    StringToJson,
    /// `States.JsonToString(value)`.
    JsonToString,
    /// `States.Array(values...)`.
    Array,
    /// `States.ArrayPartition(array, size)`.
    ArrayPartition,
    /// `States.ArrayContains(array, value)`.
    ArrayContains,
    /// `States.ArrayRange(start, end, step)`.
    ArrayRange,
    /// `States.ArrayGetItem(array, index)`.
    ArrayGetItem,
    /// `States.ArrayLength(array)`.
    ArrayLength,
    /// `States.ArrayUnique(array)`.
    ArrayUnique,
    /// `States.Base64Encode(string)`.
    Base64Encode,
    /// `States.Base64Decode(string)`.
    Base64Decode,
    /// `States.Hash(data, algorithm)`.
    Hash,
    /// `States.JsonMerge(object, object, false)`.
    JsonMerge,
    /// `States.MathRandom(start, end[, seed])`.
    MathRandom,
    /// `States.MathAdd(a, b)`.
    MathAdd,
    /// `States.StringSplit(string, delimiters)`.
    StringSplit,
    /// `States.UUID()`.
    Uuid,
}

impl Function {
    /// Every function, in the order AWS documents them.
    pub const ALL: [Function; 18] = [
        Function::Array,
        Function::ArrayPartition,
        Function::ArrayContains,
        Function::ArrayRange,
        Function::ArrayGetItem,
        Function::ArrayLength,
        Function::ArrayUnique,
        Function::Base64Encode,
        Function::Base64Decode,
        Function::Hash,
        Function::JsonMerge,
        Function::StringToJson,
        Function::JsonToString,
        Function::MathRandom,
        Function::MathAdd,
        Function::StringSplit,
        Function::Uuid,
        Function::Format,
    ];

    /// The full name, e.g. `States.Format`.
    pub fn name(self) -> &'static str {
        match self {
            Function::Format => "States.Format",
            Function::StringToJson => "States.StringToJson",
            Function::JsonToString => "States.JsonToString",
            Function::Array => "States.Array",
            Function::ArrayPartition => "States.ArrayPartition",
            Function::ArrayContains => "States.ArrayContains",
            Function::ArrayRange => "States.ArrayRange",
            Function::ArrayGetItem => "States.ArrayGetItem",
            Function::ArrayLength => "States.ArrayLength",
            Function::ArrayUnique => "States.ArrayUnique",
            Function::Base64Encode => "States.Base64Encode",
            Function::Base64Decode => "States.Base64Decode",
            Function::Hash => "States.Hash",
            Function::JsonMerge => "States.JsonMerge",
            Function::MathRandom => "States.MathRandom",
            Function::MathAdd => "States.MathAdd",
            Function::StringSplit => "States.StringSplit",
            Function::Uuid => "States.UUID",
        }
    }

    /// Looks a function up by its full name (case-sensitive, as AWS is).
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// How many arguments the function takes: at least `.0`, at most `.1` (`None`: no limit).
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Function::Format => (1, None),
            Function::Array => (0, None),
            Function::Uuid => (0, Some(0)),
            Function::StringToJson
            | Function::JsonToString
            | Function::ArrayLength
            | Function::ArrayUnique
            | Function::Base64Encode
            | Function::Base64Decode => (1, Some(1)),
            Function::ArrayPartition
            | Function::ArrayContains
            | Function::ArrayGetItem
            | Function::Hash
            | Function::MathAdd
            | Function::StringSplit => (2, Some(2)),
            Function::MathRandom => (2, Some(3)),
            Function::ArrayRange | Function::JsonMerge => (3, Some(3)),
        }
    }
}

/// A parsed intrinsic function call.
#[derive(Debug, Clone)]
pub struct Call {
    text: String,
    node: parse::Node,
}

impl Call {
    /// Parses an intrinsic function call such as `States.Array(1, $.x)`.
    pub fn parse(text: &str) -> Result<Call, ParseError> {
        let node = parse::parse(text)?;
        Ok(Call {
            text: text.to_owned(),
            node,
        })
    }
    /// The text the call was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The outermost function.
    pub fn function(&self) -> Function {
        self.node.function
    }
    /// The path arguments anywhere in the call tree, in text order (for validation, e.g.
    /// checking that referenced variables exist).
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        self.node.collect_paths(&mut out);
        out
    }
    /// Evaluates the call.
    pub fn eval(&self, env: &mut dyn Env) -> Result<Value, Failure> {
        eval::eval(&self.node, env)
    }
}
