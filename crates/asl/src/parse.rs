//! Builds the typed model from a definition the validator accepted.
//!
//! The validator has already reported what users can get wrong, so this module only turns
//! JSON into types; whatever it still cannot make sense of becomes a diagnostic, never a panic.

use std::collections::HashMap;
use std::sync::Arc;

use baton_intrinsics::Call;
use baton_jsonata::Expression;
use baton_jsonpath::Path;
use serde_json::{Map as JsonMap, Value};

use crate::model::*;
use crate::validate::Diagnostic;

type Result<T> = std::result::Result<T, Vec<Diagnostic>>;

pub(crate) fn machine(json: &Value) -> Result<StateMachine> {
    let top_language = match json.get("QueryLanguage").and_then(Value::as_str) {
        Some("JSONata") => QueryLanguage::Jsonata,
        _ => QueryLanguage::JsonPath,
    };
    let mut parser = Parser {
        diagnostics: Vec::new(),
        top: top_language,
    };
    let machine = parser.machine(json, "", top_language);
    match machine {
        Some(m) if parser.diagnostics.is_empty() => Ok(m),
        _ => {
            if parser.diagnostics.is_empty() {
                parser.fail("", "the definition could not be read");
            }
            Err(parser.diagnostics)
        }
    }
}

struct Parser {
    diagnostics: Vec<Diagnostic>,
    /// The top-level `QueryLanguage`: states that declare none use it, also inside Map and
    /// Parallel states that declare another (as AWS does).
    top: QueryLanguage,
}

/// The nearest JSONata delimiters: `{% expr %}`.
pub(crate) fn jsonata_text(s: &str) -> Option<&str> {
    let t = s.strip_prefix("{%")?.strip_suffix("%}")?;
    Some(t.trim())
}

impl Parser {
    fn fail(&mut self, location: &str, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(
            "SCHEMA_VALIDATION_FAILED",
            message,
            location,
        ));
    }

    fn machine(
        &mut self,
        json: &Value,
        loc: &str,
        inherited: QueryLanguage,
    ) -> Option<StateMachine> {
        let obj = json.as_object()?;
        let query_language = match obj.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => QueryLanguage::Jsonata,
            Some("JSONPath") => QueryLanguage::JsonPath,
            _ => inherited,
        };
        let states_json = obj.get("States").and_then(Value::as_object)?;
        let names: HashMap<String, StateId> = states_json
            .keys()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let start_at = obj
            .get("StartAt")
            .and_then(Value::as_str)
            .and_then(|s| names.get(s).copied());
        let Some(start_at) = start_at else {
            self.fail(&format!("{loc}/StartAt"), "StartAt does not name a state");
            return None;
        };
        let mut states = Vec::with_capacity(states_json.len());
        for (name, state_json) in states_json {
            let state_loc = format!("{loc}/States/{name}");
            let state = self.state(name, state_json, &state_loc, query_language, &names)?;
            states.push(state);
        }
        Some(StateMachine {
            comment: obj
                .get("Comment")
                .and_then(Value::as_str)
                .map(str::to_owned),
            start_at,
            states,
            query_language,
            timeout_seconds: obj.get("TimeoutSeconds").and_then(Value::as_u64),
            names,
        })
    }

    fn target(
        &mut self,
        value: Option<&Value>,
        loc: &str,
        names: &HashMap<String, StateId>,
    ) -> Option<StateId> {
        let name = value?.as_str()?;
        match names.get(name) {
            Some(id) => Some(*id),
            None => {
                self.diagnostics.push(Diagnostic::error(
                    "MISSING_TRANSITION_TARGET",
                    format!("Missing 'Next' target: {name}"),
                    loc,
                ));
                None
            }
        }
    }

    fn state(
        &mut self,
        name: &str,
        json: &Value,
        loc: &str,
        inherited: QueryLanguage,
        names: &HashMap<String, StateId>,
    ) -> Option<State> {
        let obj = json.as_object()?;
        let language = match obj.get("QueryLanguage").and_then(Value::as_str) {
            Some("JSONata") => QueryLanguage::Jsonata,
            Some("JSONPath") => QueryLanguage::JsonPath,
            _ => inherited,
        };
        let ty = obj.get("Type").and_then(Value::as_str).unwrap_or("");
        let next = if obj.contains_key("Next") {
            Some(self.target(obj.get("Next"), &format!("{loc}/Next"), names)?)
        } else {
            None
        };
        let (parameters_key, parameters_mode) = match language {
            QueryLanguage::JsonPath => ("Parameters", language),
            QueryLanguage::Jsonata => ("Arguments", language),
        };
        // A Map's `Parameters` is the older spelling of `ItemSelector`.
        let parameters = if ty == "Map" {
            None
        } else {
            self.template_field(obj, parameters_key, parameters_mode, loc)?
        };
        let kind = match ty {
            "Pass" => Kind::Pass(Pass {
                result: obj.get("Result").cloned(),
            }),
            "Task" => Kind::Task(self.task(obj, loc, language)?),
            "Choice" => Kind::Choice(self.choice(obj, loc, language, names)?),
            "Wait" => Kind::Wait(self.wait(obj, loc, language)?),
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail(Fail {
                error: self.string_field(obj, "Error", loc, language)?,
                cause: self.string_field(obj, "Cause", loc, language)?,
            }),
            "Parallel" => {
                let mut branches = Vec::new();
                for (i, b) in obj
                    .get("Branches")
                    .and_then(Value::as_array)?
                    .iter()
                    .enumerate()
                {
                    branches.push(Arc::new(self.machine(
                        b,
                        &format!("{loc}/Branches[{i}]"),
                        self.top,
                    )?));
                }
                Kind::Parallel(Parallel { branches })
            }
            "Map" => Kind::Map(Box::new(self.map(obj, loc, language)?)),
            other => {
                self.fail(
                    &format!("{loc}/Type"),
                    format!("unknown state type {other:?}"),
                );
                return None;
            }
        };
        let mut retry = Vec::new();
        if let Some(list) = obj.get("Retry").and_then(Value::as_array) {
            for r in list {
                retry.push(retrier(r)?);
            }
        }
        let mut catch = Vec::new();
        if let Some(list) = obj.get("Catch").and_then(Value::as_array) {
            for (i, c) in list.iter().enumerate() {
                let c_loc = format!("{loc}/Catch[{i}]");
                let c_obj = c.as_object()?;
                catch.push(Catcher {
                    error_equals: strings(c_obj.get("ErrorEquals")),
                    result_path: self.path_field(c_obj, "ResultPath", &c_loc)?,
                    next: self.target(c_obj.get("Next"), &format!("{c_loc}/Next"), names)?,
                    assign: self.template_field(c_obj, "Assign", language, &c_loc)?,
                    output: self.template_field(c_obj, "Output", QueryLanguage::Jsonata, &c_loc)?,
                });
            }
        }
        Some(State {
            name: Arc::from(name),
            query_language: language,
            kind,
            input_path: self.path_field(obj, "InputPath", loc)?,
            output_path: self.path_field(obj, "OutputPath", loc)?,
            result_path: self.path_field(obj, "ResultPath", loc)?,
            parameters,
            result_selector: self.template_field(obj, "ResultSelector", language, loc)?,
            output: self.template_field(obj, "Output", QueryLanguage::Jsonata, loc)?,
            assign: self.template_field(obj, "Assign", language, loc)?,
            next,
            retry,
            catch,
        })
    }

    fn task(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
    ) -> Option<Task> {
        let arn = obj.get("Resource").and_then(Value::as_str)?;
        let resource = classify_resource(arn);
        Some(Task {
            resource,
            timeout_seconds: self.number_field(obj, "TimeoutSeconds", loc, language)?,
            heartbeat_seconds: self.number_field(obj, "HeartbeatSeconds", loc, language)?,
            credentials: obj.get("Credentials").cloned(),
        })
    }

    fn choice(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
        names: &HashMap<String, StateId>,
    ) -> Option<Choice> {
        let mut rules = Vec::new();
        for (i, rule) in obj
            .get("Choices")
            .and_then(Value::as_array)?
            .iter()
            .enumerate()
        {
            let r_loc = format!("{loc}/Choices[{i}]");
            let r_obj = rule.as_object()?;
            rules.push(ChoiceRule {
                condition: self.condition(r_obj, &r_loc, language)?,
                next: self.target(r_obj.get("Next"), &format!("{r_loc}/Next"), names)?,
                assign: self.template_field(r_obj, "Assign", language, &r_loc)?,
                output: self.template_field(r_obj, "Output", QueryLanguage::Jsonata, &r_loc)?,
            });
        }
        let default = match obj.get("Default") {
            Some(v) => Some(self.target(Some(v), &format!("{loc}/Default"), names)?),
            None => None,
        };
        Some(Choice { rules, default })
    }

    fn condition(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
    ) -> Option<Condition> {
        if language == QueryLanguage::Jsonata
            && let Some(c) = obj.get("Condition")
        {
            {
                return match c {
                    Value::String(s) => match jsonata_text(s) {
                        Some(text) => Some(Condition::Jsonata(
                            self.jsonata(text, &format!("{loc}/Condition"))?,
                        )),
                        None => {
                            self.fail(
                                &format!("{loc}/Condition"),
                                "Condition must be a JSONata expression",
                            );
                            None
                        }
                    },
                    Value::Bool(b) => Some(Condition::Jsonata(self.jsonata(&b.to_string(), loc)?)),
                    _ => None,
                };
            }
        }
        if let Some(list) = obj.get("And").and_then(Value::as_array) {
            let mut out = Vec::new();
            for (i, c) in list.iter().enumerate() {
                out.push(self.condition(c.as_object()?, &format!("{loc}/And[{i}]"), language)?);
            }
            return Some(Condition::And(out));
        }
        if let Some(list) = obj.get("Or").and_then(Value::as_array) {
            let mut out = Vec::new();
            for (i, c) in list.iter().enumerate() {
                out.push(self.condition(c.as_object()?, &format!("{loc}/Or[{i}]"), language)?);
            }
            return Some(Condition::Or(out));
        }
        if let Some(inner) = obj.get("Not") {
            let c = self.condition(inner.as_object()?, &format!("{loc}/Not"), language)?;
            return Some(Condition::Not(Box::new(c)));
        }
        let variable = self.path(
            obj.get("Variable").and_then(Value::as_str)?,
            &format!("{loc}/Variable"),
        )?;
        for (op_name, op) in Comparison::ALL {
            if let Some(v) = obj.get(op_name) {
                return Some(Condition::Compare {
                    variable,
                    op,
                    operand: Operand::Literal(v.clone()),
                });
            }
            if op.has_path_variant() {
                let key = format!("{op_name}Path");
                if let Some(p) = obj.get(&key).and_then(Value::as_str) {
                    let path = self.path(p, &format!("{loc}/{key}"))?;
                    return Some(Condition::Compare {
                        variable,
                        op,
                        operand: Operand::Path(path),
                    });
                }
            }
        }
        self.fail(loc, "Choice rule has no comparison operator");
        None
    }

    fn wait(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
    ) -> Option<Wait> {
        if let Some(f) = self.number_field(obj, "Seconds", loc, language)? {
            return Some(Wait::Seconds(f));
        }
        if let Some(f) = self.string_field(obj, "Timestamp", loc, language)? {
            return Some(Wait::Timestamp(f));
        }
        self.fail(
            loc,
            "Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath",
        );
        None
    }

    fn map(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
    ) -> Option<Map> {
        let (processor_key, processor_json) = match obj.get("ItemProcessor") {
            Some(p) => ("ItemProcessor", p),
            None => ("Iterator", obj.get("Iterator")?),
        };
        let distributed = processor_json
            .get("ProcessorConfig")
            .and_then(|c| c.get("Mode"))
            .and_then(Value::as_str)
            == Some("DISTRIBUTED");
        let processor =
            Arc::new(self.machine(processor_json, &format!("{loc}/{processor_key}"), self.top)?);
        let item_selector = match obj.get("ItemSelector") {
            Some(_) => self.template_field(obj, "ItemSelector", language, loc)?,
            None => self.template_field(obj, "Parameters", language, loc)?,
        };
        let item_batcher = match obj.get("ItemBatcher").and_then(Value::as_object) {
            Some(b) => {
                let b_loc = format!("{loc}/ItemBatcher");
                Some(ItemBatcher {
                    max_items_per_batch: self.number_field(
                        b,
                        "MaxItemsPerBatch",
                        &b_loc,
                        language,
                    )?,
                    max_input_bytes_per_batch: self.number_field(
                        b,
                        "MaxInputBytesPerBatch",
                        &b_loc,
                        language,
                    )?,
                    batch_input: self.template_field(b, "BatchInput", language, &b_loc)?,
                })
            }
            None => None,
        };
        Some(Map {
            processor,
            distributed,
            items_path: self.path_field(obj, "ItemsPath", loc)?,
            items: self.template_field(obj, "Items", QueryLanguage::Jsonata, loc)?,
            item_selector,
            max_concurrency: self.number_field(obj, "MaxConcurrency", loc, language)?,
            tolerated_failure_count: self.number_field(
                obj,
                "ToleratedFailureCount",
                loc,
                language,
            )?,
            tolerated_failure_percentage: self.number_field(
                obj,
                "ToleratedFailurePercentage",
                loc,
                language,
            )?,
            item_batcher,
            label: obj.get("Label").and_then(Value::as_str).map(str::to_owned),
        })
    }

    fn path(&mut self, text: &str, loc: &str) -> Option<Path> {
        match Path::parse(text) {
            Ok(p) => Some(p),
            Err(e) => {
                self.fail(loc, format!("invalid JSONPath {text:?}: {e}"));
                None
            }
        }
    }

    fn jsonata(&mut self, text: &str, loc: &str) -> Option<Expression> {
        match Expression::compile(text) {
            Ok(e) => Some(e),
            Err(e) => {
                self.fail(loc, format!("invalid JSONata expression {text:?}: {e}"));
                None
            }
        }
    }

    /// Reads `key`: absent → `Default`, `null` → `Null`, string → a path.
    fn path_field(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        loc: &str,
    ) -> Option<PathField> {
        match obj.get(key) {
            None => Some(PathField::Default),
            Some(Value::Null) => Some(PathField::Null),
            Some(Value::String(s)) => Some(PathField::Path(self.path(s, &format!("{loc}/{key}"))?)),
            Some(_) => {
                self.fail(
                    &format!("{loc}/{key}"),
                    format!("{key} must be a string or null"),
                );
                None
            }
        }
    }

    /// Reads an optional template field; `Ok(None)` when absent.
    fn template_field(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        language: QueryLanguage,
        loc: &str,
    ) -> Option<Option<Template>> {
        match obj.get(key) {
            None => Some(None),
            Some(v) => Some(Some(self.template(v, language, &format!("{loc}/{key}"))?)),
        }
    }

    fn template(&mut self, value: &Value, language: QueryLanguage, loc: &str) -> Option<Template> {
        let template = match (value, language) {
            (Value::Object(map), _) => {
                let mut members = Vec::with_capacity(map.len());
                for (k, v) in map {
                    let member_loc = format!("{loc}/{k}");
                    match (k.strip_suffix(".$"), language) {
                        (Some(stripped), QueryLanguage::JsonPath) => {
                            let Some(text) = v.as_str() else {
                                self.fail(&member_loc, "a field ending in .$ must hold a path");
                                return None;
                            };
                            members.push((stripped.to_owned(), self.dynamic(text, &member_loc)?));
                        }
                        _ => members.push((k.clone(), self.template(v, language, &member_loc)?)),
                    }
                }
                Template::Object(members)
            }
            (Value::Array(items), _) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.iter().enumerate() {
                    out.push(self.template(v, language, &format!("{loc}[{i}]"))?);
                }
                Template::Array(out)
            }
            (Value::String(s), QueryLanguage::Jsonata) => match jsonata_text(s) {
                Some(text) => Template::Jsonata(self.jsonata(text, loc)?),
                None => Template::Literal(value.clone()),
            },
            _ => Template::Literal(value.clone()),
        };
        Some(fold(template))
    }

    /// A `.$` value: an intrinsic call or a path.
    fn dynamic(&mut self, text: &str, loc: &str) -> Option<Template> {
        if text.starts_with("States.") {
            match Call::parse(text) {
                Ok(call) => Some(Template::Intrinsic(call)),
                Err(e) => {
                    self.fail(loc, format!("invalid intrinsic function {text:?}: {e}"));
                    None
                }
            }
        } else {
            Some(Template::Path(self.path(text, loc)?))
        }
    }

    /// Reads `key` or `keyPath` (JSONPath), or `key` holding `{% %}` (JSONata).
    fn number_field(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        loc: &str,
        language: QueryLanguage,
    ) -> Option<Option<NumberField>> {
        if let Some(v) = obj.get(key) {
            let field_loc = format!("{loc}/{key}");
            return match v {
                Value::String(s) if language == QueryLanguage::Jsonata => match jsonata_text(s) {
                    Some(text) => Some(Some(NumberField::Jsonata(self.jsonata(text, &field_loc)?))),
                    None => {
                        self.fail(
                            &field_loc,
                            format!("{key} must be a number or a JSONata expression"),
                        );
                        None
                    }
                },
                Value::Number(_) => Some(Some(NumberField::Literal(v.clone()))),
                _ => {
                    self.fail(&field_loc, format!("{key} must be a number"));
                    None
                }
            };
        }
        let path_key = format!("{key}Path");
        if let Some(v) = obj.get(&path_key) {
            let field_loc = format!("{loc}/{path_key}");
            let text = v.as_str()?;
            return Some(Some(NumberField::Path(self.path(text, &field_loc)?)));
        }
        Some(None)
    }

    /// Reads `key` or `keyPath` as a string field.
    fn string_field(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        loc: &str,
        language: QueryLanguage,
    ) -> Option<Option<StringField>> {
        if let Some(v) = obj.get(key) {
            let s = v.as_str()?;
            if language == QueryLanguage::Jsonata
                && let Some(text) = jsonata_text(s)
            {
                return Some(Some(StringField::Jsonata(
                    self.jsonata(text, &format!("{loc}/{key}"))?,
                )));
            }
            return Some(Some(StringField::Literal(s.to_owned())));
        }
        let path_key = format!("{key}Path");
        if let Some(v) = obj.get(&path_key) {
            let text = v.as_str()?;
            let field_loc = format!("{loc}/{path_key}");
            if text.starts_with("States.") {
                return match Call::parse(text) {
                    Ok(call) => Some(Some(StringField::Intrinsic(call))),
                    Err(e) => {
                        self.fail(&field_loc, format!("invalid intrinsic function: {e}"));
                        None
                    }
                };
            }
            return Some(Some(StringField::Path(self.path(text, &field_loc)?)));
        }
        Some(None)
    }
}

/// Folds a template whose parts are all literal into one literal.
fn fold(template: Template) -> Template {
    match template {
        Template::Object(members)
            if members
                .iter()
                .all(|(_, t)| matches!(t, Template::Literal(_))) =>
        {
            let mut map = JsonMap::with_capacity(members.len());
            for (k, t) in members {
                if let Template::Literal(v) = t {
                    map.insert(k, v);
                }
            }
            Template::Literal(Value::Object(map))
        }
        Template::Array(items) if items.iter().all(|t| matches!(t, Template::Literal(_))) => {
            Template::Literal(Value::Array(
                items
                    .into_iter()
                    .filter_map(|t| match t {
                        Template::Literal(v) => Some(v),
                        _ => None,
                    })
                    .collect(),
            ))
        }
        other => other,
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn retrier(json: &Value) -> Option<Retrier> {
    let obj = json.as_object()?;
    Some(Retrier {
        error_equals: strings(obj.get("ErrorEquals")),
        interval_seconds: obj
            .get("IntervalSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(1),
        max_attempts: obj.get("MaxAttempts").and_then(Value::as_u64).unwrap_or(3),
        backoff_rate: obj
            .get("BackoffRate")
            .and_then(Value::as_f64)
            .unwrap_or(2.0),
        max_delay_seconds: obj.get("MaxDelaySeconds").and_then(Value::as_u64),
        jitter: match obj.get("JitterStrategy").and_then(Value::as_str) {
            Some("FULL") => Jitter::Full,
            _ => Jitter::None,
        },
    })
}

/// Classifies a Task `Resource` ARN.
pub(crate) fn classify_resource(arn: &str) -> Resource {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    if parts.len() >= 6 && parts[2] == "states" && parts[3].is_empty() && parts[4].is_empty() {
        let service = parts[5].to_owned();
        let rest = parts[6..].join(":");
        let (action, pattern) = if let Some(a) = rest.strip_suffix(".waitForTaskToken") {
            (a, Pattern::WaitForTaskToken)
        } else if let Some(a) = rest.strip_suffix(".sync:2") {
            (a, Pattern::Sync2)
        } else if let Some(a) = rest.strip_suffix(".sync") {
            (a, Pattern::Sync)
        } else {
            (rest.as_str(), Pattern::RequestResponse)
        };
        return Resource::Service {
            arn: arn.to_owned(),
            service,
            action: action.to_owned(),
            pattern,
        };
    }
    if parts.len() >= 6 && parts[2] == "states" && parts[5] == "activity" {
        return Resource::Activity {
            arn: arn.to_owned(),
        };
    }
    Resource::LambdaFunction {
        arn: arn.to_owned(),
    }
}
