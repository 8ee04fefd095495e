//! Choice rules: exactly one comparison (or `And`/`Or`/`Not`) per rule, a valid `Variable`,
//! operands of the right type; in JSONata, a `Condition`.

use std::collections::HashSet;

use serde_json::{Map as JsonMap, Value};

use super::check::Checker;
use super::fields;
use super::values::{self, Kind};
use crate::model::{Comparison, QueryLanguage};

/// What a comparison operator compares against.
fn operand_kind(operator: &str) -> Kind {
    if operator.starts_with("Numeric") {
        Kind::Number
    } else if operator.starts_with("Is") || operator == "BooleanEquals" {
        Kind::Boolean
    } else {
        Kind::String
    }
}

/// Every operator key, with whether it is a `...Path` variant.
fn operators() -> impl Iterator<Item = (String, bool)> {
    Comparison::ALL.into_iter().flat_map(|(name, op)| {
        let path = op.has_path_variant().then(|| (format!("{name}Path"), true));
        std::iter::once((name.to_owned(), false)).chain(path)
    })
}

impl Checker<'_> {
    /// Checks one top-level rule of a Choice state.
    pub(crate) fn choice_rule(
        &mut self,
        rule: &Value,
        loc: &str,
        language: QueryLanguage,
        names: &HashSet<&str>,
    ) {
        let Some(obj) = rule.as_object() else {
            self.schema(values::expected_message(&[Kind::Object]), loc);
            return;
        };
        match obj.get("Next") {
            None => self.schema("The field 'Next' is required but was missing", loc),
            Some(_) => {
                if let Some(target) = self
                    .field(obj, "Next", &[Kind::String], loc)
                    .and_then(Value::as_str)
                {
                    self.target(target, &format!("{loc}/Next"), names);
                }
            }
        }
        if let Some(assign) = self.field(obj, "Assign", &[Kind::Object], loc)
            && language == QueryLanguage::JsonPath
        {
            self.template(assign, &format!("{loc}/Assign"));
        }
        self.field(obj, "Comment", &[Kind::String], loc);
        if language == QueryLanguage::Jsonata {
            self.known_fields(obj, fields::CHOICE_RULE, language, loc, &|_| false);
            match obj.get("Condition") {
                None => self.schema("The field 'Condition' is required but was missing", loc),
                Some(condition) => {
                    if !Self::is_expression(language, condition) {
                        self.expect(condition, &[Kind::Boolean], &format!("{loc}/Condition"));
                    }
                }
            }
            return;
        }
        self.condition(obj, loc, true);
    }

    /// Checks a JSONPath condition: a comparison or `And`/`Or`/`Not`.
    fn condition(&mut self, obj: &JsonMap<String, Value>, loc: &str, top: bool) {
        let all_operators: Vec<(String, bool)> = operators().collect();
        for key in obj.keys() {
            let known = matches!(key.as_str(), "Variable" | "And" | "Or" | "Not" | "Comment")
                || all_operators.iter().any(|(name, _)| name == key)
                || (top && fields::lookup(fields::CHOICE_RULE, key).is_some());
            if !known {
                self.schema(format!("Field '{key}' is not supported"), loc);
            } else if top && matches!(key.as_str(), "Condition" | "Output") {
                self.schema(
                    fields::other_language_message(QueryLanguage::JsonPath, key),
                    loc,
                );
            }
        }
        let present: Vec<&(String, bool)> = all_operators
            .iter()
            .filter(|(name, _)| obj.contains_key(name))
            .collect();
        let boolean: Vec<&str> = ["And", "Or", "Not"]
            .into_iter()
            .filter(|k| obj.contains_key(*k))
            .collect();
        if present.len() + boolean.len() != 1 {
            self.schema(
                "A choice rule must have exactly one comparison operator or And, Or, Not",
                loc,
            );
        }
        for key in boolean {
            let value = &obj[key];
            let key_loc = format!("{loc}/{key}");
            if key == "Not" {
                match value.as_object() {
                    Some(inner) => self.condition(inner, &key_loc, false),
                    None => {
                        self.expect(value, &[Kind::Object], &key_loc);
                    }
                }
                continue;
            }
            let Some(list) = value.as_array() else {
                self.expect(value, &[Kind::Array], &key_loc);
                continue;
            };
            if list.is_empty() {
                self.schema("Minimum number of items is 1", key_loc.clone());
            }
            for (i, item) in list.iter().enumerate() {
                let item_loc = format!("{key_loc}[{i}]");
                match item.as_object() {
                    Some(inner) => self.condition(inner, &item_loc, false),
                    None => {
                        self.expect(item, &[Kind::Object], &item_loc);
                    }
                }
            }
        }
        if present.is_empty() {
            return;
        }
        match obj.get("Variable") {
            None => self.schema("The field 'Variable' is required but was missing", loc),
            Some(_) => {
                if let Some(text) = self
                    .field(obj, "Variable", &[Kind::String], loc)
                    .and_then(Value::as_str)
                {
                    self.path(text, "Variable", &format!("{loc}/Variable"));
                }
            }
        }
        for (name, is_path) in present {
            let value = &obj[name.as_str()];
            let op_loc = format!("{loc}/{name}");
            if *is_path {
                if let Some(text) = value.as_str() {
                    self.path(text, name, &op_loc);
                } else {
                    self.expect(value, &[Kind::String], &op_loc);
                }
                continue;
            }
            if !self.expect(value, &[operand_kind(name)], &op_loc) {
                continue;
            }
            if name.starts_with("Timestamp")
                && value.as_str().is_some_and(|text| !values::is_rfc3339(text))
            {
                self.schema("String does not match RFC3339 timestamp", op_loc);
            }
        }
    }
}
