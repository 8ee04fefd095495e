//! Evaluating a state's dynamic fields: paths, payload templates, intrinsic calls, JSONata.
//!
//! Every function here returns a [`Failure`] whose `cause` is only the detail; the engine adds
//! AWS's prefix ("An error occurred while executing the state 'X' (entered at the event id
//! #N). ").

use std::cell::OnceCell;
use std::sync::Arc;

use baton_asl::{NumberField, PathField, StringField, Template};
use baton_jsonata::{Bindings, Expression};
use baton_jsonpath::{Path, Root};
use serde_json::{Map, Value};

use crate::context::StateContext;
use crate::rng::Rng;

/// Where inside a field a template part sits, rendered as AWS names it in errors
/// (`Output/order/items[0]`); only formatted when something fails.
enum Location<'a> {
    Field(&'a str),
    Key(&'a Location<'a>, &'a str),
    Index(&'a Location<'a>, usize),
}

impl std::fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Field(name) => f.write_str(name),
            Location::Key(parent, key) => write!(f, "{parent}/{key}"),
            Location::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// Workflow variables visible in a scope.
pub(crate) type Vars = Arc<Map<String, Value>>;

/// A failure of a state, before it is matched against Retry/Catch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub(crate) error: String,
    pub(crate) cause: Option<String>,
    /// Whether AWS records the failure as an `EvaluationFailed` event.
    pub(crate) evaluation: bool,
    /// The field that failed to evaluate, when AWS names one.
    pub(crate) location: Option<String>,
    /// Whether the prefix naming the state must be added to the cause.
    pub(crate) prefixed: bool,
}

impl Failure {
    /// A task or Fail-state error: reported as given.
    pub(crate) fn plain(error: impl Into<String>, cause: Option<String>) -> Failure {
        Failure {
            error: error.into(),
            cause,
            evaluation: false,
            location: None,
            prefixed: false,
        }
    }
    /// `States.Runtime` with a detail message.
    pub(crate) fn runtime(detail: impl Into<String>) -> Failure {
        Failure {
            error: "States.Runtime".into(),
            cause: Some(detail.into()),
            evaluation: false,
            location: None,
            prefixed: true,
        }
    }
    /// `States.QueryEvaluationError` for the JSONata field `location`.
    pub(crate) fn query(location: &str, detail: impl Into<String>) -> Failure {
        Failure {
            error: "States.QueryEvaluationError".into(),
            cause: Some(detail.into()),
            evaluation: true,
            location: Some(location.to_owned()),
            prefixed: true,
        }
    }
    /// `States.QueryEvaluationError` that AWS reports without naming a field.
    pub(crate) fn query_unlocated(detail: impl Into<String>) -> Failure {
        Failure {
            location: None,
            ..Failure::query("", detail)
        }
    }
    /// Whether Retry and Catch may handle it. AWS lets neither handle `States.Runtime` or
    /// `States.DataLimitExceeded`... except by naming it explicitly, which `error_matches`
    /// decides; this only says whether the state-level handlers are consulted at all.
    pub(crate) fn handleable(&self) -> bool {
        self.error != "States.Runtime"
    }
}

/// Everything an evaluation can refer to.
pub(crate) struct Scope<'a> {
    /// `$` in JSONPath; `$states.input` in JSONata.
    pub(crate) input: &'a Value,
    pub(crate) context: &'a StateContext<'a>,
    pub(crate) context_value: OnceCell<Value>,
    context_light: OnceCell<Value>,
    pub(crate) vars: &'a Vars,
    pub(crate) rng: &'a mut Rng,
    /// `$states.result` (JSONata, after a task/Map/Parallel).
    pub(crate) result: Option<&'a Value>,
    /// `$states.errorOutput` (JSONata, in a Catch).
    pub(crate) error_output: Option<&'a Value>,
    /// `$states` and the variables converted for JSONata once, on the first expression; every
    /// expression of the scope evaluates on it.
    jsonata_data: OnceCell<baton_jsonata::Prepared<'static>>,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(
        input: &'a Value,
        context: &'a StateContext<'a>,
        vars: &'a Vars,
        rng: &'a mut Rng,
    ) -> Scope<'a> {
        Scope {
            input,
            context,
            context_value: OnceCell::new(),
            context_light: OnceCell::new(),
            vars,
            rng,
            result: None,
            error_output: None,
            jsonata_data: OnceCell::new(),
        }
    }

    fn context_value(&self) -> &Value {
        self.context_value.get_or_init(|| self.context.build(true))
    }

    /// The context object for `path`: built without `Execution.Input` (a deep copy of the
    /// execution's input) when the path cannot reach it, which is the common case
    /// (`$$.Execution.Id`, `$$.State.EnteredTime`, `$$.Task.Token`, `$$.Map.Item.Value`).
    fn context_for(&self, path: &Path) -> &Value {
        if let Some(full) = self.context_value.get() {
            return full;
        }
        let text = path.text();
        let may_reach_input = text.contains("Input")
            || text.contains('*')
            || text.contains("..")
            || text.contains('[')
            || text == "$$"
            || text == "$$.Execution";
        if may_reach_input {
            self.context_value()
        } else {
            self.context_light.get_or_init(|| self.context.build(false))
        }
    }

    /// The document a path's root refers to.
    fn root_value(&self, path: &Path) -> Result<&Value, Failure> {
        match path.root() {
            Root::Input => Ok(self.input),
            Root::Context => Ok(self.context_for(path)),
            Root::Variable(name) => self.vars.get(name.as_str()).ok_or_else(|| {
                Failure::runtime(format!(
                    "The JSONPath '{}' could not be found: the variable '{name}' is not defined",
                    path.text()
                ))
            }),
        }
    }

    /// Resolves a path used in a payload field `field` (e.g. `value.$`, `ErrorPath`).
    pub(crate) fn resolve_field(&self, path: &Path, field: &str) -> Result<Value, Failure> {
        self.resolve_member(path, field, "")
    }

    /// Resolves the path of the member `key` + `suffix` (`value` + `.$`); the field name is
    /// only formatted when the path matches nothing.
    fn resolve_member(&self, path: &Path, key: &str, suffix: &str) -> Result<Value, Failure> {
        let root = self.root_value(path)?;
        if let Some(v) = path.select_ref(root) {
            return Ok(v.clone());
        }
        path.select(root).map_err(|_| {
            Failure::runtime(format!(
                "The JSONPath '{}' specified for the field '{key}{suffix}' could not be found in the input '{}'",
                path.text(),
                compact(root)
            ))
        })
    }

    /// Resolves an `InputPath`/`OutputPath`/`...SecondsPath`-style path (Jayway's message).
    pub(crate) fn resolve_invalid_path(&self, path: &Path) -> Result<Value, Failure> {
        let root = self.root_value(path)?;
        path.select(root)
            .map_err(|e| Failure::runtime(format!("Invalid path '{}' : {e}", path.text())))
    }

    /// Evaluates a payload template; `field` names it in error messages.
    pub(crate) fn template(&mut self, template: &Template, field: &str) -> Result<Value, Failure> {
        self.template_at(template, &Location::Field(field))
    }

    fn template_at(&mut self, template: &Template, at: &Location<'_>) -> Result<Value, Failure> {
        match template {
            Template::Literal(v) => Ok(v.clone()),
            Template::Object(members) => {
                let mut out = Map::with_capacity(members.len());
                for (key, member) in members {
                    let value = match member {
                        Template::Path(p) => self.resolve_member(p, key, ".$")?,
                        Template::Intrinsic(call) => self.intrinsic(call, key, ".$")?,
                        other => self.template_at(other, &Location::Key(at, key))?,
                    };
                    out.insert(key.clone(), value);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    out.push(self.template_at(item, &Location::Index(at, index))?);
                }
                Ok(Value::Array(out))
            }
            Template::Path(p) => self.resolve_field(p, &at.to_string()),
            Template::Intrinsic(call) => self.intrinsic(call, &at.to_string(), ""),
            Template::Jsonata(expr) => self.jsonata(expr, &at.to_string()),
        }
    }

    /// Evaluates an intrinsic call found in the field `key` + `suffix` (e.g. `value` + `.$`).
    fn intrinsic(
        &mut self,
        call: &baton_intrinsics::Call,
        key: &str,
        suffix: &str,
    ) -> Result<Value, Failure> {
        let mut env = IntrinsicEnv {
            scope: self,
            key,
            suffix,
        };
        call.eval(&mut env)
            .map_err(|f| Failure::runtime(f.cause).with_error(f.error))
    }

    /// Evaluates a JSONata expression that must produce a value.
    pub(crate) fn jsonata(&mut self, expr: &Expression, field: &str) -> Result<Value, Failure> {
        match self.jsonata_optional(expr, field)? {
            Some(v) => Ok(v),
            None => Err(Failure::query(
                field,
                format!(
                    "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                    expr.text()
                ),
            )),
        }
    }

    /// Evaluates a JSONata expression; `None` is *undefined*.
    pub(crate) fn jsonata_optional(
        &mut self,
        expr: &Expression,
        field: &str,
    ) -> Result<Option<Value>, Failure> {
        if self.jsonata_data.get().is_none() {
            let mut states = Map::new();
            states.insert("input".into(), self.input.clone());
            states.insert("context".into(), self.context_value().clone());
            if let Some(result) = self.result {
                states.insert("result".into(), result.clone());
            }
            if let Some(error_output) = self.error_output {
                states.insert("errorOutput".into(), error_output.clone());
            }
            let mut bindings = Bindings::default();
            bindings.vars.reserve(self.vars.len() + 1);
            bindings.vars.push(("states".into(), Value::Object(states)));
            for (name, value) in self.vars.iter() {
                bindings.vars.push((name.clone(), value.clone()));
            }
            let data = baton_jsonata::Prepared::owned(Some(self.input), &bindings);
            let _ = self.jsonata_data.set(data);
        }
        let data = self.jsonata_data.get().expect("set above");
        let rng = &mut *self.rng;
        let mut random = || rng.next_u64();
        let options = baton_jsonata::Options {
            now_millis: Some(self.context.now),
            ..Default::default()
        };
        expr.evaluate_prepared(data, &options, &mut random).map_err(|e| {
            if e.code == baton_jsonata::UNSUPPORTED_RESULT {
                return Failure::query(
                    field,
                    format!(
                        "The JSONata expression '{}' specified for the field '{field}' returned an unsupported result type.",
                        expr.text()
                    ),
                );
            }
            Failure::query(
                field,
                format!(
                    "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {}: {}",
                    expr.text(),
                    e.code,
                    e.message
                ),
            )
        })
    }

    /// Applies `InputPath`/`OutputPath`.
    pub(crate) fn filter(
        &self,
        field: &PathField,
        value: &Arc<Value>,
    ) -> Result<Arc<Value>, Failure> {
        match field {
            PathField::Default => Ok(value.clone()),
            PathField::Null => Ok(Arc::new(Value::Object(Map::new()))),
            PathField::Path(p) => {
                if p.text() == "$" {
                    return Ok(value.clone());
                }
                let root = match p.root() {
                    Root::Input => value.as_ref(),
                    _ => self.root_value(p)?,
                };
                p.select(root)
                    .map(Arc::new)
                    .map_err(|e| Failure::runtime(format!("Invalid path '{}' : {e}", p.text())))
            }
        }
    }

    /// Evaluates a number field that must be a non-negative integer (`field` names it in
    /// messages, e.g. `TimeoutSecondsPath`).
    pub(crate) fn integer(&mut self, number: &NumberField, field: &str) -> Result<i64, Failure> {
        match number {
            NumberField::Literal(v) => v.as_i64().ok_or_else(|| {
                Failure::runtime(format!(
                    "The {field} field must be an integer: {}",
                    compact(v)
                ))
            }),
            NumberField::Path(p) => {
                let v = self.resolve_invalid_path(p)?;
                integer_value(&v).ok_or_else(|| {
                    Failure::runtime(format!(
                        "The {field}Path field refers to value \"{}\" which is not a valid integer: {}",
                        display_raw(&v),
                        p.text()
                    ))
                })
            }
            NumberField::Jsonata(e) => {
                let v = self.jsonata(e, field)?;
                integer_value(&v).ok_or_else(|| {
                    Failure::query(
                        field,
                        format!(
                            "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}",
                            e.text(),
                            type_name(&v),
                            compact(&v)
                        ),
                    )
                })
            }
        }
    }

    /// Evaluates a string field (Fail `Error`/`Cause`, Wait `Timestamp`).
    pub(crate) fn string(&mut self, field: &StringField, name: &str) -> Result<Value, Failure> {
        match field {
            StringField::Literal(s) => Ok(Value::String(s.clone())),
            StringField::Path(p) => self.resolve_field(p, &format!("{name}Path")),
            StringField::Intrinsic(call) => self.intrinsic(call, name, "Path"),
            StringField::Jsonata(e) => self.jsonata(e, name),
        }
    }
}

impl Failure {
    fn with_error(mut self, error: String) -> Failure {
        self.error = error;
        self
    }
}

struct IntrinsicEnv<'s, 'a> {
    scope: &'s mut Scope<'a>,
    key: &'s str,
    suffix: &'s str,
}

impl baton_intrinsics::Env for IntrinsicEnv<'_, '_> {
    fn resolve(&mut self, path: &Path) -> Result<Value, baton_intrinsics::Failure> {
        self.scope
            .resolve_member(path, self.key, self.suffix)
            .map_err(|f| baton_intrinsics::Failure {
                error: f.error,
                cause: f.cause.unwrap_or_default(),
            })
    }
    fn random_u64(&mut self) -> u64 {
        self.scope.rng.next_u64()
    }
}

/// An integer value, accepting integral floats such as `2.0` and numeric strings such as
/// `"1"` as AWS does for its `...Path` fields.
pub(crate) fn integer_value(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    if let Some(s) = v.as_str() {
        return s.trim().parse().ok();
    }
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// Compact JSON text.
pub(crate) fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A value as AWS quotes it in messages: strings without quotes, the rest as JSON.
pub(crate) fn display_raw(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    }
}

/// AWS's name for a JSON value's type in messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
