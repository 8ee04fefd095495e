//! The definition validator: every problem at once, with AWS's codes and locations.
//!
//! [`validate`] (or [`validate_with`] for an Express state machine) walks the raw definition
//! JSON and returns one [`Diagnostic`] per problem, located with a JSON-pointer-like path such
//! as `/States/Map/ItemProcessor/States/Inner/Next`. The same list feeds both APIs that report
//! definition problems:
//! - `CreateStateMachine` fails with `InvalidDefinition` and the text of
//!   [`invalid_definition_message`];
//! - `ValidateStateMachineDefinition` returns [`validation_result`].
//!
//! Codes, messages and locations follow what AWS returns (recorded in the conformance cases and
//! documented in the API reference). Where AWS's wording is unknown the message is ours and the
//! code and location still follow AWS's conventions.
//!
//! The validator must never reject a definition AWS accepts: the interpreter relies on it, and a
//! false positive blocks a working workflow. Checks that cannot be sure stay silent.
//!
//! # What is reported
//!
//! | code | when | message source |
//! | --- | --- | --- |
//! | `INVALID_JSON_DESCRIPTION` | the text is not JSON; location is Jackson's `[Source: ...]` | AWS (Jackson's wording) |
//! | `SCHEMA_VALIDATION_FAILED` | missing fields (`These fields are required: [...]`), unknown fields (`Field 'X' is not supported`), fields of the other query language, wrong types (`Expected value of type [...]`), enums, ranges (`Minimum value is N`), timestamps, unknown integrations, Express restrictions | AWS where recorded; ours otherwise |
//! | `MISSING_TRANSITION_TARGET` | `Next`, `Default`, `StartAt` or a Catcher names no state; a state is not reachable | AWS |
//! | `MISSING_END_STATE` | the top-level workflow has no terminal state (no location) | AWS |
//! | `DUPLICATE_STATE_NAME` | a state name is used twice anywhere in the definition | AWS |
//! | `INVALID_RESOURCE` | a Task `Resource` is not an ARN | ours |
//! | `INVALID_JSONATA_EXPRESSION` | a `{% %}` expression does not compile | AWS (jsonata-js wording) |
//! | `UNSUPPORTED_JSONATA_EXPRESSION` | `$$`, or `$states.errorOutput` outside a Catcher | AWS |
//! | `NO_DOLLAR`, `NO_PATH`, `PASS_RESULT_IS_STATIC` | warnings: a literal that looks like a path | ours (AWS's documented meaning) |
//!
//! States that declare no `QueryLanguage` use the top-level one, also inside Map and Parallel:
//! the enclosing state's language does not carry over.

mod check;
mod choice;
mod fields;
mod json_text;
mod jsonata;
mod paths;
mod resource;
mod states;
#[cfg(test)]
mod tests;
mod values;

use serde_json::{Map as JsonMap, Value};

use check::{Checker, MachineKind};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The definition is rejected.
    Error,
    /// Accepted, but probably not what was meant.
    Warning,
}

impl Severity {
    /// `ERROR` or `WARNING`, as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// `ERROR` or `WARNING`.
    pub severity: Severity,
    /// AWS's code, e.g. `SCHEMA_VALIDATION_FAILED`.
    pub code: String,
    /// AWS's message.
    pub message: String,
    /// A JSON-pointer-like location, e.g. `/States/A/Next`; empty when AWS gives none.
    pub location: String,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(code: &str, message: impl Into<String>, location: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: code.to_owned(),
            message: message.into(),
            location: location.into(),
        }
    }
}

/// `STANDARD` or `EXPRESS`: Express state machines may not use activities, `.sync` or
/// `.waitForTaskToken`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineType {
    /// A Standard workflow (the default).
    #[default]
    Standard,
    /// An Express workflow.
    Express,
}

/// What the validator needs to know besides the definition.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The state machine's type.
    pub machine_type: MachineType,
}

/// Parses definition text as JSON, reporting `INVALID_JSON_DESCRIPTION` on failure with
/// Jackson's message and source location, as AWS does.
///
/// A state name written twice in one `States` object is also refused here, since the parsed
/// JSON keeps only the last one: the error then lists `DUPLICATE_STATE_NAME` followed by what
/// [`validate`] finds in the rest of the definition.
pub fn parse_text(text: &str) -> Result<Value, Vec<Diagnostic>> {
    let json = json_text::parse(text).map_err(|d| vec![d])?;
    let mut duplicates = json_text::duplicate_state_names(text);
    if duplicates.is_empty() {
        return Ok(json);
    }
    duplicates.extend(validate(&json));
    Err(duplicates)
}

/// Checks a Standard state machine's definition and returns every problem found (empty when
/// it is valid).
pub fn validate(definition: &Value) -> Vec<Diagnostic> {
    validate_with(definition, &Options::default())
}

/// Checks a definition with explicit [`Options`].
pub fn validate_with(definition: &Value, options: &Options) -> Vec<Diagnostic> {
    let mut checker = Checker::new(options, definition);
    checker.machine(definition, "", MachineKind::Top);
    checker.diagnostics
}

/// The message of `CreateStateMachine`'s `InvalidDefinition` error, e.g.
/// `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ... at /States/X/Next'`.
///
/// Several diagnostics are joined with `, ` inside the quotes. A diagnostic without a location
/// is rendered `at null`, as AWS does; a JSON syntax error is rendered as Jackson's message
/// alone, which already names its source position. JSONata expression errors are left out
/// when there are other errors, and only the first is given when there are none.
pub fn invalid_definition_message(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    // A JSONata expression error is reported on its own: only when nothing else is wrong, and
    // then only the first one.
    let is_jsonata = |d: &&Diagnostic| d.code.ends_with("_JSONATA_EXPRESSION");
    let others: Vec<&Diagnostic> = errors.iter().copied().filter(|d| !is_jsonata(d)).collect();
    let errors = if others.is_empty() {
        errors.into_iter().take(1).collect()
    } else {
        others
    };
    let parts: Vec<String> = errors
        .iter()
        .map(|d| {
            if d.code == "INVALID_JSON_DESCRIPTION" {
                format!("{}: {}", d.code, d.message)
            } else {
                let location = if d.location.is_empty() {
                    "null"
                } else {
                    d.location.as_str()
                };
                format!("{}: {} at {}", d.code, d.message, location)
            }
        })
        .collect();
    format!("Invalid State Machine Definition: '{}'", parts.join(", "))
}

/// Which diagnostics `ValidateStateMachineDefinition` returns, and how many.
#[derive(Debug, Clone)]
pub struct ResultOptions {
    /// `ERROR` returns errors only; `WARNING` returns warnings and errors.
    pub severity: Severity,
    /// At most this many diagnostics (`maxResults`; AWS uses 100 when it is 0 or absent).
    pub max_results: usize,
}

impl Default for ResultOptions {
    fn default() -> Self {
        ResultOptions {
            severity: Severity::Error,
            max_results: 100,
        }
    }
}

/// The body of a `ValidateStateMachineDefinition` response:
/// `{"result": "OK"|"FAIL", "diagnostics": [...], "truncated": bool}`.
///
/// `result` is `FAIL` when any error was found, whether or not it fits in `max_results`.
pub fn validation_result(diagnostics: &[Diagnostic], options: &ResultOptions) -> Value {
    let failed = diagnostics.iter().any(|d| d.severity == Severity::Error);
    let selected: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| options.severity == Severity::Warning || d.severity == Severity::Error)
        .collect();
    let limit = if options.max_results == 0 {
        100
    } else {
        options.max_results
    };
    let truncated = selected.len() > limit;
    let rendered: Vec<Value> = selected
        .into_iter()
        .take(limit)
        .map(|d| {
            let mut item = JsonMap::new();
            item.insert("severity".into(), d.severity.as_str().into());
            item.insert("code".into(), d.code.clone().into());
            item.insert("message".into(), d.message.clone().into());
            if !d.location.is_empty() {
                item.insert("location".into(), d.location.clone().into());
            }
            Value::Object(item)
        })
        .collect();
    let mut body = JsonMap::new();
    body.insert("result".into(), if failed { "FAIL" } else { "OK" }.into());
    body.insert("diagnostics".into(), Value::Array(rendered));
    body.insert("truncated".into(), truncated.into());
    Value::Object(body)
}

/// Parses and validates definition text in one step, as both APIs do.
pub fn check_text(text: &str, options: &Options) -> Vec<Diagnostic> {
    match json_text::parse(text) {
        Ok(json) => {
            let mut diagnostics = json_text::duplicate_state_names(text);
            diagnostics.extend(validate_with(&json, options));
            diagnostics
        }
        Err(diagnostic) => vec![diagnostic],
    }
}
