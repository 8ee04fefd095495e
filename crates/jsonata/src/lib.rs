//! JSONata for Step Functions: compile once per definition, evaluate per state.
//!
//! This crate is the seam between Baton and the JSONata engine: the rest of Baton sees only
//! [`Expression`], [`Bindings`], [`Prepared`], [`Options`], [`Limits`], [`Error`] and
//! [`type_name`]. The engine is Baton's fork of `jsonata-core` (`crates/jsonata-core-fork`,
//! see its FORK.md), which implements JSONata as the reference implementation does (1672 of
//! the official suite's 1686 cases pass; the rest are listed in SUITE_EXCLUSIONS.md). This
//! crate adds what Step Functions changes:
//!
//! - AWS's added functions `$partition`, `$range`, `$hash`, `$random` (with an optional seed),
//!   `$uuid` and `$parse` (see [`aws`]); `$eval` is not available, as on AWS.
//! - Limits, so that an expression from anyone cannot hang or exhaust memory: evaluation
//!   depth, a step budget (counted, never timed), sequence length, string length and result
//!   nesting ([`Limits`]).
//! - Conversion from and to `serde_json::Value` that keeps integers as integers, and that
//!   reports a function result as an error ([`UNSUPPORTED_RESULT`]) instead of converting it.
//!
//! Speed: converting `serde_json` values into the engine's is most of the cost of a small
//! expression, so a caller evaluating several expressions against one state's data converts
//! it once with [`Prepared::new`] and calls [`Expression::evaluate_prepared`].
//!
//! Purity: this crate reads no clock and makes no random numbers of its own. Entropy for
//! `$random()`, `$uuid()` and `$shuffle()` comes from the caller's `random` source, and the
//! time for `$now()` and `$millis()` from [`Options::now_millis`]. When that is `None` the
//! engine's own `$now`/`$millis` read the system clock: that is the one accepted exception.
//!
//! Threads: an [`Expression`] holds only the source text and the parsed syntax tree, which is
//! `Send + Sync`; the engine's values are not `Send`, so they live only on the evaluating
//! thread ([`Prepared`] is not `Send`), which keeps one reusable evaluator.

pub mod aws;
mod convert;
#[doc(hidden)]
pub mod fuzzing;

use std::sync::Arc;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions, StepBudget};
use jsonata_core::value::JValue;
use serde_json::Value;

pub use convert::type_name;

thread_local! {
    /// This thread's evaluator (see `Expression::evaluate_prepared`).
    static EVALUATOR: std::cell::RefCell<Option<Evaluator>> = const { std::cell::RefCell::new(None) };
}

/// A compiled JSONata expression. `Send + Sync + Clone`: a compiled definition is shared
/// across threads, and cloning is two reference-count increments.
#[derive(Debug, Clone)]
pub struct Expression {
    text: Arc<str>,
    ast: Arc<AstNode>,
    /// Which host functions the text can reach, so an evaluation registers only those.
    uses: aws::Uses,
}

/// Variables visible to an evaluation (`$states`, workflow variables).
#[derive(Debug, Default, Clone)]
pub struct Bindings {
    /// `(name without $, value)` pairs.
    pub vars: Vec<(String, Value)>,
}

/// An input and bindings converted to the engine's values once, for evaluating several
/// expressions against the same data (a state's `Arguments`, `Output` and `Assign` all see the
/// same `$states`). Conversion is most of the cost of a small expression, so converting once
/// per state instead of once per expression is the fast path. Not `Send`: build it on the
/// thread that evaluates.
pub struct Prepared<'a> {
    input: JValue,
    vars: Vec<(String, JValue)>,
    /// Where the converted arrays and objects came from, to convert unchanged ones back fast.
    origins: convert::Origins<'a>,
    /// Values replaced by `bind`, kept alive so that no address in `origins` is reused.
    replaced: Vec<JValue>,
}

impl<'a> Prepared<'a> {
    /// Converts `input` (`None`: undefined) and `bindings`, remembering where each array and
    /// object came from so that results holding them unchanged convert back fast.
    pub fn new(input: Option<&'a Value>, bindings: &'a Bindings) -> Prepared<'a> {
        Prepared::convert(input, bindings, true)
    }

    /// `track`: record origins (worth it when several expressions use the data).
    fn convert(input: Option<&'a Value>, bindings: &'a Bindings, track: bool) -> Prepared<'a> {
        let mut origins = convert::Origins::default();
        let mut one = |value: &'a Value| {
            if track {
                convert::to_jvalue_tracked(value, &mut origins)
            } else {
                convert::to_jvalue(value)
            }
        };
        let input = input.map_or(JValue::Undefined, &mut one);
        let vars = bindings
            .vars
            .iter()
            .map(|(name, value)| (name.clone(), one(value)))
            .collect();
        Prepared {
            input,
            vars,
            origins,
            replaced: Vec::new(),
        }
    }

    /// Adds or replaces the variable `name` (without `$`).
    pub fn bind(&mut self, name: &str, value: &'a Value) {
        let value = convert::to_jvalue_tracked(value, &mut self.origins);
        match self.vars.iter_mut().find(|(existing, _)| existing == name) {
            Some(slot) => self.replaced.push(std::mem::replace(&mut slot.1, value)),
            None => self.vars.push((name.to_owned(), value)),
        }
    }
}

impl Prepared<'static> {
    /// Converts `input` (`None`: undefined) and `bindings` into data that borrows nothing (no
    /// origin tracking), so it can be kept beside the values it came from: the interpreter
    /// converts a state's `$states` once and evaluates all of the state's expressions on it.
    pub fn owned(input: Option<&Value>, bindings: &Bindings) -> Prepared<'static> {
        Prepared {
            input: input.map_or(JValue::Undefined, convert::to_jvalue),
            vars: bindings
                .vars
                .iter()
                .map(|(name, value)| (name.clone(), convert::to_jvalue(value)))
                .collect(),
            origins: convert::Origins::default(),
            replaced: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.vars.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Prepared")
            .field("vars", &names)
            .finish_non_exhaustive()
    }
}

/// Bounds on one evaluation, so that no expression can hang or exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of evaluation (about three levels per non-tail recursive call).
    /// Exceeding it fails with `U1001` (stack overflow).
    pub max_depth: usize,
    /// Evaluation steps: one per evaluated node and per iteration of a built-in loop.
    /// Running out fails with `U1001` (evaluation timeout). Counted, never timed.
    pub max_steps: u64,
    /// Longest sequence a path, range, `$append` or higher-order function may build.
    /// Exceeding it fails with `D2015`.
    pub max_sequence_length: usize,
    /// Longest string (in bytes) concatenation and the string functions may build.
    /// Exceeding it fails with `D2016`.
    pub max_string_length: usize,
    /// Deepest nesting of arrays and objects in a result. Exceeding it fails with `D2017`.
    pub max_result_depth: usize,
}

impl Default for Limits {
    /// Generous for any real Step Functions payload (at most 256 KiB: 5 million steps is
    /// 50 per item of a 100,000-item array), small enough that a runaway expression stops
    /// within about a second (a step takes 0.1 to 0.5 µs in a release build) and a few
    /// hundred MiB.
    fn default() -> Self {
        Limits {
            max_depth: 5_000,
            max_steps: 5_000_000,
            max_sequence_length: 10_000_000,
            max_string_length: 64 << 20,
            max_result_depth: 1_000,
        }
    }
}

/// Per-evaluation settings beyond the bindings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Bounds on the evaluation.
    pub limits: Limits,
    /// The time `$now()` and `$millis()` return, in milliseconds since the Unix epoch
    /// (Step Functions gives one evaluation one instant). `None`: the system clock.
    pub now_millis: Option<i64>,
}

/// A JSONata compile or evaluation error, with the reference implementation's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    /// e.g. `T0410`, `D3001`, `S0201`; [`UNSUPPORTED_RESULT`] for a function result.
    pub code: String,
    /// The reference implementation's message (without the code).
    pub message: String,
}

/// The [`Error::code`] of an evaluation whose result is (or contains) a function, which
/// Step Functions reports as "returned an unsupported result type".
pub const UNSUPPORTED_RESULT: &str = "BATON_UNSUPPORTED_RESULT";

impl Expression {
    /// Compiles `text` (without the `{% %}` delimiters).
    pub fn compile(text: &str) -> Result<Expression, Error> {
        let ast =
            jsonata_core::parser::parse(text).map_err(|e| Error::from_message(&e.to_string()))?;
        Ok(Expression {
            text: Arc::from(text),
            ast: Arc::new(ast),
            uses: aws::Uses::scan(text),
        })
    }

    /// The source text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates against `input` with `bindings` and default [`Options`]; `Ok(None)` is
    /// JSONata's *undefined*. `random` supplies entropy for `$random()`, `$uuid()` and
    /// `$shuffle()`; it is called at most once, and only by expressions that use them.
    pub fn evaluate(
        &self,
        input: &Value,
        bindings: &Bindings,
        random: &mut dyn FnMut() -> u64,
    ) -> Result<Option<Value>, Error> {
        self.evaluate_with(Some(input), bindings, &Options::default(), random)
    }

    /// Evaluates with explicit [`Options`]. `input` `None` is an undefined input (no `$`).
    pub fn evaluate_with(
        &self,
        input: Option<&Value>,
        bindings: &Bindings,
        options: &Options,
        random: &mut dyn FnMut() -> u64,
    ) -> Result<Option<Value>, Error> {
        // One expression: tracking origins would cost more than it saves.
        self.evaluate_prepared(&Prepared::convert(input, bindings, false), options, random)
    }

    /// Evaluates against data converted once with [`Prepared::new`].
    pub fn evaluate_prepared(
        &self,
        prepared: &Prepared<'_>,
        options: &Options,
        random: &mut dyn FnMut() -> u64,
    ) -> Result<Option<Value>, Error> {
        let limits = options.limits;
        let engine_options = EvaluatorOptions {
            max_stack_depth: Some(limits.max_depth),
            max_sequence_length: Some(limits.max_sequence_length),
            steps: Some(StepBudget::new(limits.max_steps)),
            max_string_length: Some(limits.max_string_length),
            ..EvaluatorOptions::default()
        };
        let mut run = |evaluator: &mut Evaluator| -> Result<JValue, Error> {
            for (name, value) in &prepared.vars {
                evaluator.bind(name, value.clone());
            }
            aws::register(evaluator, self.uses, options.now_millis, random)
                .map_err(|e| Error::from_evaluator(&e))?;
            evaluator
                .evaluate(&self.ast, &prepared.input)
                .map_err(|e| Error::from_evaluator(&e))
        };
        // One evaluator per thread, reset for each evaluation: it keeps the compiled bodies
        // of the object constructors and `.( )` steps it has run, and its allocations.
        let result = EVALUATOR.with(|cell| match cell.try_borrow_mut() {
            Ok(mut slot) => {
                let evaluator = slot.get_or_insert_with(Evaluator::new);
                evaluator.reset_empty(engine_options);
                let result = run(evaluator);
                // Drop this evaluation's data now rather than at the next evaluation.
                evaluator.reset_empty(EvaluatorOptions::default());
                result
            }
            Err(_) => {
                let mut evaluator = Evaluator::with_options(Context::new(), engine_options);
                run(&mut evaluator)
            }
        })?;
        convert::from_jvalue(&result, limits.max_result_depth, &prepared.origins)
    }
}

impl Error {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Error {
        Error {
            code: code.into(),
            message: message.into(),
        }
    }

    fn from_evaluator(error: &EvaluatorError) -> Error {
        Error::from_message(error.message())
    }

    /// Splits the engine's `"<prefix>X0000: message"` text into code and message. The code
    /// is the first `letter + 4 digits + ':'` in the text; the engine puts it first except
    /// for a few parse errors (`"Invalid syntax: T1006: ..."`).
    fn from_message(text: &str) -> Error {
        if let Some(message) = text.strip_prefix("SyntaxError: ") {
            return Error::new("SyntaxError", message);
        }
        let bytes = text.as_bytes();
        for start in 0..bytes.len().saturating_sub(5) {
            let at_word_start = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
            if at_word_start
                && bytes[start].is_ascii_uppercase()
                && bytes[start + 1..start + 5].iter().all(u8::is_ascii_digit)
                && bytes[start + 5] == b':'
            {
                let code = &text[start..start + 5];
                let message = text[start + 6..].trim_start();
                // Baton's depth limit is the reference time box's, so it reports U1001.
                return match code {
                    "D1011" => Error::new("U1001", STACK_OVERFLOW),
                    _ => Error::new(code, message),
                };
            }
        }
        // Uncoded engine errors. jsonata-js has a code for every error it raises; these
        // messages name the situation the reference reports as below.
        if text.contains("Unclosed comment") {
            return Error::new("S0106", "Comment has no closing tag");
        }
        Error::new("D0000", text)
    }
}

/// The reference time box's message for a too-deep evaluation (code `U1001`).
const STACK_OVERFLOW: &str = "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.";

#[cfg(test)]
mod tests;
