//! The walk over a definition: machines, states and the fields every state type shares.
//!
//! Each check pushes a diagnostic and carries on, so one pass reports every problem. Checks
//! particular to a state type live in [`super::states`]; Choice rules in [`super::choice`].

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map as JsonMap, Value};

use super::fields::{self, Langs};
use super::jsonata::Scope;
use super::paths;
use super::values::{self, Kind};
use super::{Diagnostic, MachineType, Options};
use crate::model::QueryLanguage;

/// Which kind of object holds a `StartAt`/`States` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MachineKind {
    /// The definition itself.
    Top,
    /// One of a Parallel state's `Branches`.
    Branch,
    /// A Map state's `ItemProcessor` (or the older `Iterator`).
    Processor,
}

pub(crate) struct Checker<'o> {
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) options: &'o Options,
    /// The top-level `QueryLanguage`; states that declare none use it, at any depth.
    pub(crate) top_language: QueryLanguage,
    /// State names seen so far anywhere in the definition: they must be unique.
    seen_names: HashSet<String>,
}

/// `"/"` for the root, the location otherwise.
pub(crate) fn at(loc: &str) -> String {
    if loc.is_empty() {
        "/".to_owned()
    } else {
        loc.to_owned()
    }
}

/// Whether `text` is a JSONata expression string, `{% ... %}`; returns the expression.
pub(crate) fn jsonata_text(text: &str) -> Option<&str> {
    if text.len() < 4 {
        return None;
    }
    text.strip_prefix("{%")?.strip_suffix("%}")
}

impl<'o> Checker<'o> {
    pub(crate) fn new(options: &'o Options, definition: &Value) -> Self {
        let top_language = match definition.get("QueryLanguage") {
            None => QueryLanguage::JsonPath,
            Some(v) if v.as_str() == Some("JSONPath") => QueryLanguage::JsonPath,
            // AWS treats any other value (wrong case, unknown, not a string) as JSONata and
            // reports the spelling separately.
            Some(_) => QueryLanguage::Jsonata,
        };
        Checker {
            diagnostics: Vec::new(),
            options,
            top_language,
            seen_names: HashSet::new(),
        }
    }

    pub(crate) fn schema(&mut self, message: impl Into<String>, location: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(
            "SCHEMA_VALIDATION_FAILED",
            message,
            location,
        ));
    }

    pub(crate) fn warning(&mut self, code: &str, message: &str, location: String) {
        let mut diagnostic = Diagnostic::error(code, message, location);
        diagnostic.severity = super::Severity::Warning;
        self.diagnostics.push(diagnostic);
    }

    pub(crate) fn express(&self) -> bool {
        self.options.machine_type == MachineType::Express
    }

    /// Reports `Expected value of type [...]` unless `value` is one of `kinds`.
    pub(crate) fn expect(&mut self, value: &Value, kinds: &[Kind], loc: &str) -> bool {
        if kinds.iter().any(|k| k.matches(value)) {
            return true;
        }
        self.schema(values::expected_message(kinds), loc);
        false
    }

    /// Checks an optional field's type; returns the value when present and well-typed.
    pub(crate) fn field<'v>(
        &mut self,
        obj: &'v JsonMap<String, Value>,
        key: &str,
        kinds: &[Kind],
        loc: &str,
    ) -> Option<&'v Value> {
        let value = obj.get(key)?;
        self.expect(value, kinds, &format!("{loc}/{key}"))
            .then_some(value)
    }

    /// Checks an optional integer (or, in JSONata, `{% %}`) field against a minimum.
    pub(crate) fn integer_field(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        minimum: i64,
        language: QueryLanguage,
        loc: &str,
    ) -> Option<f64> {
        let value = obj.get(key)?;
        let field_loc = format!("{loc}/{key}");
        if language == QueryLanguage::Jsonata
            && value.as_str().is_some_and(|s| jsonata_text(s).is_some())
        {
            return None;
        }
        if !self.expect(value, &[Kind::Integer], &field_loc) {
            return None;
        }
        let n = values::number(value)?;
        if n < minimum as f64 {
            self.schema(format!("Minimum value is {minimum}"), field_loc);
            return None;
        }
        Some(n)
    }

    /// Reports fields that `table` does not know, or knows only in the other language.
    pub(crate) fn known_fields(
        &mut self,
        obj: &JsonMap<String, Value>,
        table: &[(&str, Langs)],
        language: QueryLanguage,
        loc: &str,
        extra: &dyn Fn(&str) -> bool,
    ) {
        for key in obj.keys() {
            match fields::lookup(table, key) {
                None if extra(key) => {}
                None => self.schema(format!("Field '{key}' is not supported"), at(loc)),
                Some(langs) if !langs.accepts(language) => {
                    self.schema(fields::other_language_message(language, key), at(loc))
                }
                Some(_) => {}
            }
        }
    }

    /// Checks a `StartAt`/`States` object and the states inside it.
    pub(crate) fn machine(&mut self, json: &Value, loc: &str, kind: MachineKind) {
        let Some(obj) = json.as_object() else {
            self.schema(values::expected_message(&[Kind::Object]), at(loc));
            return;
        };
        let allowed: &[&str] = match kind {
            MachineKind::Top => &[
                "Comment",
                "StartAt",
                "States",
                "TimeoutSeconds",
                "Version",
                "QueryLanguage",
            ],
            MachineKind::Branch => &["Comment", "StartAt", "States"],
            MachineKind::Processor => &["Comment", "StartAt", "States", "ProcessorConfig"],
        };
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) {
                self.schema(format!("Field '{key}' is not supported"), at(loc));
            }
        }
        let missing: Vec<&str> = ["States", "StartAt"]
            .into_iter()
            .filter(|k| !obj.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            self.schema(
                format!("These fields are required: [{}]", missing.join(", ")),
                at(loc),
            );
        }
        self.field(obj, "Comment", &[Kind::String], loc);
        if kind == MachineKind::Top {
            self.field(obj, "Version", &[Kind::String], loc);
            self.integer_field(obj, "TimeoutSeconds", 1, QueryLanguage::JsonPath, loc);
            self.query_language_value(obj, loc);
        }
        if kind == MachineKind::Processor {
            self.processor_config(obj, loc);
        }
        let start_at = self
            .field(obj, "StartAt", &[Kind::String], loc)
            .and_then(Value::as_str);
        let Some(states) = self
            .field(obj, "States", &[Kind::Object], loc)
            .and_then(Value::as_object)
        else {
            return;
        };
        let names: HashSet<&str> = states.keys().map(String::as_str).collect();
        for (name, state) in states {
            self.state(name, state, &format!("{loc}/States/{name}"), &names);
        }
        let start_exists = start_at.is_some_and(|s| names.contains(s));
        if let Some(start) = start_at.filter(|_| !start_exists) {
            self.diagnostics.push(Diagnostic::error(
                "MISSING_TRANSITION_TARGET",
                format!("Missing 'Next' target: {start}"),
                format!("{loc}/StartAt"),
            ));
        }
        if start_at.is_none() {
            return;
        }
        // AWS reports a top-level workflow without any terminal state once, and then skips the
        // reachability walk for it; nested machines are always walked.
        if kind == MachineKind::Top && !states.values().any(is_terminal) {
            self.diagnostics.push(Diagnostic::error(
                "MISSING_END_STATE",
                "Workflow has no terminal state",
                "",
            ));
            return;
        }
        let reachable = reachable(states, start_at.filter(|_| start_exists));
        for name in states.keys() {
            if !reachable.contains(name.as_str()) {
                self.diagnostics.push(Diagnostic::error(
                    "MISSING_TRANSITION_TARGET",
                    format!("State \"{name}\" is not reachable."),
                    format!("{loc}/States/{name}"),
                ));
            }
        }
    }

    /// `QueryLanguage`: a string naming one of the two languages.
    pub(crate) fn query_language_value(&mut self, obj: &JsonMap<String, Value>, loc: &str) {
        if let Some(value) = self.field(obj, "QueryLanguage", &[Kind::String], loc)
            && !matches!(value.as_str(), Some("JSONPath" | "JSONata"))
        {
            self.schema(
                "Value should be one of the following: [JSONPath, JSONata]",
                format!("{loc}/QueryLanguage"),
            );
        }
    }

    /// `ProcessorConfig` of a Map's `ItemProcessor`.
    fn processor_config(&mut self, obj: &JsonMap<String, Value>, loc: &str) {
        let Some(config) = self
            .field(obj, "ProcessorConfig", &[Kind::Object], loc)
            .and_then(Value::as_object)
        else {
            return;
        };
        let config_loc = format!("{loc}/ProcessorConfig");
        let mode = self
            .field(config, "Mode", &[Kind::String], &config_loc)
            .and_then(Value::as_str);
        if let Some(mode) = mode
            && !matches!(mode, "INLINE" | "DISTRIBUTED")
        {
            self.schema(
                "Value should be one of the following: [INLINE, DISTRIBUTED]",
                format!("{config_loc}/Mode"),
            );
        }
        for key in config.keys() {
            match key.as_str() {
                "Mode" => {}
                "ExecutionType" if mode == Some("DISTRIBUTED") => {
                    let value = self
                        .field(config, key, &[Kind::String], &config_loc)
                        .and_then(Value::as_str);
                    if value.is_some_and(|v| !matches!(v, "STANDARD" | "EXPRESS")) {
                        self.schema(
                            "Value should be one of the following: [STANDARD, EXPRESS]",
                            format!("{config_loc}/ExecutionType"),
                        );
                    }
                }
                _ => self.schema(
                    format!("Field '{key}' is not supported"),
                    config_loc.clone(),
                ),
            }
        }
    }

    /// Checks one state.
    fn state(&mut self, name: &str, json: &Value, loc: &str, names: &HashSet<&str>) {
        if !self.seen_names.insert(name.to_owned()) {
            self.diagnostics.push(Diagnostic::error(
                "DUPLICATE_STATE_NAME",
                format!("Duplicate State name: {name}"),
                loc,
            ));
        }
        let Some(obj) = json.as_object() else {
            self.schema(values::expected_message(&[Kind::Object]), loc);
            return;
        };
        let Some(type_value) = obj.get("Type") else {
            self.schema("These fields are required: [Type]", loc);
            return;
        };
        let type_loc = format!("{loc}/Type");
        if !self.expect(type_value, &[Kind::String], &type_loc) {
            return;
        }
        let ty = type_value.as_str().unwrap_or_default();
        if !fields::STATE_TYPES.contains(&ty) {
            self.schema(
                format!(
                    "Value should be one of the following: [{}]",
                    fields::STATE_TYPES.join(", ")
                ),
                type_loc,
            );
            return;
        }
        let declared = obj.get("QueryLanguage");
        let language = match declared {
            None => self.top_language,
            Some(v) if v.as_str() == Some("JSONPath") => QueryLanguage::JsonPath,
            Some(_) => QueryLanguage::Jsonata,
        };
        // A JSONata machine cannot switch single states back to JSONPath. AWS then reports only
        // that, not the fields the state's JSONPath would refuse.
        let downgraded =
            self.top_language == QueryLanguage::Jsonata && language == QueryLanguage::JsonPath;
        if downgraded {
            self.schema(
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                loc,
            );
        }
        for key in obj.keys() {
            match fields::state_field(ty, key) {
                None => self.schema(format!("Field '{key}' is not supported"), loc),
                Some(langs) if !langs.accepts(language) && !downgraded => {
                    self.schema(fields::other_language_message(language, key), loc)
                }
                Some(_) => {}
            }
        }
        self.query_language_value(obj, loc);
        self.field(obj, "Comment", &[Kind::String], loc);
        if !matches!(ty, "Choice" | "Succeed" | "Fail") {
            self.transition(obj, loc, names);
        }
        if language == QueryLanguage::JsonPath {
            self.jsonpath_io(obj, loc);
        } else {
            self.jsonata_fields(obj, loc);
        }
        if let Some(assign) = self.field(obj, "Assign", &[Kind::Object], loc)
            && language == QueryLanguage::JsonPath
        {
            self.template(assign, &format!("{loc}/Assign"));
        }
        match ty {
            "Pass" => self.pass(obj, loc, language),
            "Task" => self.task(obj, loc, language),
            "Choice" => self.choice_state(obj, loc, language, names),
            "Wait" => self.wait(obj, loc, language),
            "Fail" => self.fail(obj, loc, language),
            "Parallel" => self.parallel(obj, loc),
            "Map" => self.map(obj, loc, language),
            _ => {}
        }
        if matches!(ty, "Task" | "Parallel" | "Map") {
            self.retriers(obj, loc);
            self.catchers(obj, loc, language, names);
        }
    }

    /// `Next`/`End`: exactly one, and `Next` names a sibling state.
    fn transition(&mut self, obj: &JsonMap<String, Value>, loc: &str, names: &HashSet<&str>) {
        let next = self.field(obj, "Next", &[Kind::String], loc);
        let end = self.field(obj, "End", &[Kind::Boolean], loc);
        let ends = end == Some(&Value::Bool(true));
        let has_next = obj.contains_key("Next");
        if has_next == ends {
            self.schema("Exactly one of these fields is required: [Next, End]", loc);
        }
        if let Some(target) = next.and_then(Value::as_str) {
            self.target(target, &format!("{loc}/Next"), names);
        }
    }

    /// Reports a transition to a state that does not exist.
    pub(crate) fn target(&mut self, target: &str, loc: &str, names: &HashSet<&str>) {
        if !names.contains(target) {
            self.diagnostics.push(Diagnostic::error(
                "MISSING_TRANSITION_TARGET",
                format!("Missing 'Next' target: {target}"),
                loc,
            ));
        }
    }

    /// JSONPath-only fields shared by most state types: paths and payload templates.
    fn jsonpath_io(&mut self, obj: &JsonMap<String, Value>, loc: &str) {
        for key in ["InputPath", "OutputPath"] {
            if let Some(Value::String(text)) =
                self.field(obj, key, &[Kind::String, Kind::Null], loc)
            {
                self.path(text, key, &format!("{loc}/{key}"));
            }
        }
        if let Some(Value::String(text)) =
            self.field(obj, "ResultPath", &[Kind::String, Kind::Null], loc)
        {
            self.reference_path(text, "ResultPath", &format!("{loc}/ResultPath"), false);
        }
        for key in ["Parameters", "ResultSelector", "ItemSelector"] {
            if let Some(value) = obj.get(key) {
                // `Parameters` may hold any JSON value; the selectors must be objects.
                if key == "Parameters"
                    || self.expect(value, &[Kind::Object], &format!("{loc}/{key}"))
                {
                    self.template(value, &format!("{loc}/{key}"));
                }
            }
        }
    }

    /// Reports an invalid JSONPath in a `...Path` field.
    pub(crate) fn path(&mut self, text: &str, key: &str, loc: &str) {
        if !paths::is_path(text) {
            self.schema(
                format!("The value for the field '{key}' must be a valid JSONPath"),
                loc,
            );
        }
    }

    /// Reports a path that is not a reference path.
    pub(crate) fn reference_path(&mut self, text: &str, key: &str, loc: &str, allow_context: bool) {
        if !paths::is_reference_path(text, allow_context) {
            self.schema(
                format!("The value for the field '{key}' must be a valid ReferencePath"),
                loc,
            );
        }
    }

    /// A path-or-intrinsic field such as `ErrorPath`.
    pub(crate) fn path_or_intrinsic(&mut self, text: &str, key: &str, loc: &str) {
        let ok = if paths::looks_intrinsic(text) {
            paths::is_intrinsic(text)
        } else {
            paths::is_path(text)
        };
        if !ok {
            self.schema(
                format!("The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"),
                loc,
            );
        }
    }

    /// Walks a JSONPath payload template: every `"key.$"` holds a path or an intrinsic call.
    pub(crate) fn template(&mut self, value: &Value, loc: &str) {
        match value {
            Value::Object(map) => {
                for (key, member) in map {
                    let member_loc = format!("{loc}/{key}");
                    if key.ends_with(".$") {
                        if let Some(text) = member.as_str() {
                            self.path_or_intrinsic(text, key, &member_loc);
                        } else {
                            self.schema(values::expected_message(&[Kind::String]), member_loc);
                        }
                    } else {
                        if member.as_str().is_some_and(looks_dynamic) {
                            self.warning(
                                "NO_DOLLAR",
                                "No .$ on a field that appears to be a JSONPath or Intrinsic Function.",
                                member_loc.clone(),
                            );
                        }
                        self.template(member, &member_loc);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.template(item, &format!("{loc}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// Compiles every `{% %}` expression of a JSONata state's fields.
    fn jsonata_fields(&mut self, obj: &JsonMap<String, Value>, loc: &str) {
        // Fields AWS does not read as JSONata, and the nested parts checked elsewhere.
        const SKIP: [&str; 14] = [
            "Type",
            "Comment",
            "QueryLanguage",
            "Next",
            "End",
            "Default",
            "Resource",
            "Retry",
            "Credentials",
            "Label",
            "Choices",
            "Catch",
            "Branches",
            "ItemProcessor",
        ];
        for (key, value) in obj {
            if SKIP.contains(&key.as_str()) || key == "Iterator" {
                continue;
            }
            self.jsonata_value(value, &format!("{loc}/{key}"), Scope::State);
        }
        if let Some(Value::Array(rules)) = obj.get("Choices") {
            for (i, rule) in rules.iter().enumerate() {
                if let Some(rule) = rule.as_object() {
                    for key in ["Condition", "Output", "Assign"] {
                        if let Some(value) = rule.get(key) {
                            self.jsonata_value(
                                value,
                                &format!("{loc}/Choices[{i}]/{key}"),
                                Scope::State,
                            );
                        }
                    }
                }
            }
        }
        if let Some(Value::Array(catchers)) = obj.get("Catch") {
            for (i, catcher) in catchers.iter().enumerate() {
                if let Some(catcher) = catcher.as_object() {
                    for key in ["Output", "Assign"] {
                        if let Some(value) = catcher.get(key) {
                            self.jsonata_value(
                                value,
                                &format!("{loc}/Catch[{i}]/{key}"),
                                Scope::Catcher,
                            );
                        }
                    }
                }
            }
        }
    }

    /// Whether a JSONata state's field holds a `{% %}` expression.
    pub(crate) fn is_expression(language: QueryLanguage, value: &Value) -> bool {
        language == QueryLanguage::Jsonata
            && value.as_str().is_some_and(|s| jsonata_text(s).is_some())
    }
}

/// Whether a literal string looks like it was meant as a path or an intrinsic call.
pub(crate) fn looks_dynamic(text: &str) -> bool {
    let path_like = (text.starts_with("$.") || text.starts_with("$$.") || text.starts_with("$["))
        && paths::is_path(text);
    path_like || (paths::looks_intrinsic(text) && paths::is_intrinsic(text))
}

/// Whether a state ends the workflow.
fn is_terminal(state: &Value) -> bool {
    matches!(
        state.get("Type").and_then(Value::as_str),
        Some("Succeed" | "Fail")
    ) || state.get("End") == Some(&Value::Bool(true))
}

/// The states reachable from `start` through `Next`, `Default`, Choice rules and Catchers.
fn reachable<'a>(states: &'a JsonMap<String, Value>, start: Option<&'a str>) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut queue: VecDeque<&str> = start.into_iter().collect();
    let index: HashMap<&str, &Value> = states.iter().map(|(k, v)| (k.as_str(), v)).collect();
    while let Some(name) = queue.pop_front() {
        let Some(state) = index.get(name) else {
            continue;
        };
        if !seen.insert(name) {
            continue;
        }
        let mut targets: Vec<&str> = Vec::new();
        targets.extend(state.get("Next").and_then(Value::as_str));
        targets.extend(state.get("Default").and_then(Value::as_str));
        for list in ["Choices", "Catch"] {
            if let Some(Value::Array(items)) = state.get(list) {
                targets.extend(
                    items
                        .iter()
                        .filter_map(|i| i.get("Next").and_then(Value::as_str)),
                );
            }
        }
        for target in targets {
            if let Some((key, _)) = states.get_key_value(target) {
                queue.push_back(key.as_str());
            }
        }
    }
    seen
}
