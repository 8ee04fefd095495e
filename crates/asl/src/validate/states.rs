//! Checks particular to each state type, and the Retry and Catch lists.

use std::collections::HashSet;

use serde_json::{Map as JsonMap, Value};

use super::check::{Checker, MachineKind, at};
use super::fields;
use super::resource;
use super::values::{self, Kind};
use crate::model::QueryLanguage;

impl Checker<'_> {
    pub(crate) fn task(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
    ) {
        if !obj.contains_key("Resource") {
            self.schema("These fields are required: [Resource]", loc);
        }
        if let Some(arn) = self
            .field(obj, "Resource", &[Kind::String], loc)
            .and_then(Value::as_str)
        {
            for (code, message) in resource::check(arn, self.express()) {
                self.diagnostics.push(super::Diagnostic::error(
                    code,
                    message,
                    format!("{loc}/Resource"),
                ));
            }
        }
        let timeout = self.integer_field(obj, "TimeoutSeconds", 1, language, loc);
        let heartbeat = self.integer_field(obj, "HeartbeatSeconds", 1, language, loc);
        if let (Some(timeout), Some(heartbeat)) = (timeout, heartbeat)
            && heartbeat >= timeout
        {
            self.schema(
                "The value of the field 'HeartbeatSeconds' must be smaller than the value of the field 'TimeoutSeconds'",
                format!("{loc}/HeartbeatSeconds"),
            );
        }
        if language == QueryLanguage::JsonPath {
            for key in ["TimeoutSecondsPath", "HeartbeatSecondsPath"] {
                if let Some(text) = self
                    .field(obj, key, &[Kind::String], loc)
                    .and_then(Value::as_str)
                {
                    self.reference_path(text, key, &format!("{loc}/{key}"), true);
                }
            }
            for (plain, path) in [
                ("TimeoutSeconds", "TimeoutSecondsPath"),
                ("HeartbeatSeconds", "HeartbeatSecondsPath"),
            ] {
                if obj.contains_key(plain) && obj.contains_key(path) {
                    self.schema(
                        format!("A Task state cannot include both field '{plain}' and '{path}'"),
                        loc,
                    );
                }
            }
        }
        if let Some(credentials) = obj.get("Credentials") {
            let cred_loc = format!("{loc}/Credentials");
            if let Some(map) = credentials.as_object() {
                if !map.contains_key("RoleArn") && !map.contains_key("RoleArn.$") {
                    self.schema(
                        "The field 'RoleArn' is required but was missing",
                        cred_loc.clone(),
                    );
                }
                for key in map.keys() {
                    let ok = key == "RoleArn"
                        || (key == "RoleArn.$" && language == QueryLanguage::JsonPath);
                    if !ok {
                        self.schema(format!("Field '{key}' is not supported"), cred_loc.clone());
                    }
                }
                // AWS does not read JSONata in `Credentials`, so only JSONPath needs a check.
                if language == QueryLanguage::JsonPath {
                    self.template(credentials, &cred_loc);
                }
            } else {
                self.expect(credentials, &[Kind::Object], &cred_loc);
            }
        }
        if language == QueryLanguage::Jsonata
            && let Some(arguments) = obj.get("Arguments")
            && !Self::is_expression(language, arguments)
        {
            self.expect(arguments, &[Kind::Object], &format!("{loc}/Arguments"));
        }
    }

    pub(crate) fn choice_state(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
        names: &HashSet<&str>,
    ) {
        match obj.get("Choices") {
            None => self.schema("These fields are required: [Choices]", loc),
            Some(_) => {
                if let Some(rules) = self
                    .field(obj, "Choices", &[Kind::Array], loc)
                    .and_then(Value::as_array)
                {
                    if rules.is_empty() {
                        self.schema("Minimum number of items is 1", format!("{loc}/Choices"));
                    }
                    for (i, rule) in rules.iter().enumerate() {
                        self.choice_rule(rule, &format!("{loc}/Choices[{i}]"), language, names);
                    }
                }
            }
        }
        if let Some(target) = self
            .field(obj, "Default", &[Kind::String], loc)
            .and_then(Value::as_str)
        {
            self.target(target, &format!("{loc}/Default"), names);
        }
    }

    pub(crate) fn wait(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
    ) {
        let keys: &[&str] = match language {
            QueryLanguage::JsonPath => &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"],
            QueryLanguage::Jsonata => &["Seconds", "Timestamp"],
        };
        let present = keys.iter().filter(|k| obj.contains_key(**k)).count();
        if present != 1 {
            self.schema(
                format!(
                    "Exactly one of these fields is required: [{}]",
                    keys.join(", ")
                ),
                loc,
            );
        }
        self.integer_field(obj, "Seconds", 0, language, loc);
        if let Some(value) = obj.get("Timestamp") {
            let ts_loc = format!("{loc}/Timestamp");
            if !Self::is_expression(language, value) && self.expect(value, &[Kind::String], &ts_loc)
            {
                let text = value.as_str().unwrap_or_default();
                if !values::is_rfc3339(text) {
                    self.schema("String does not match RFC3339 timestamp", ts_loc);
                }
            }
        }
        if language == QueryLanguage::JsonPath {
            for key in ["SecondsPath", "TimestampPath"] {
                if let Some(text) = self
                    .field(obj, key, &[Kind::String], loc)
                    .and_then(Value::as_str)
                {
                    self.reference_path(text, key, &format!("{loc}/{key}"), true);
                }
            }
        }
    }

    pub(crate) fn pass(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
    ) {
        if language == QueryLanguage::JsonPath
            && let Some(result) = obj.get("Result")
            && has_dynamic_parts(result)
        {
            self.warning(
                "PASS_RESULT_IS_STATIC",
                "Attempt to use a path in the result of a pass state.",
                format!("{loc}/Result"),
            );
        }
    }

    pub(crate) fn fail(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
    ) {
        for (plain, path) in [("Error", "ErrorPath"), ("Cause", "CausePath")] {
            let value = self
                .field(obj, plain, &[Kind::String], loc)
                .and_then(Value::as_str);
            if language != QueryLanguage::JsonPath {
                continue;
            }
            if value.is_some_and(super::check::looks_dynamic) {
                self.warning(
                    "NO_PATH",
                    "Field value looks like a path, but field name does not end with 'Path'.",
                    format!("{loc}/{plain}"),
                );
            }
            if obj.contains_key(plain) && obj.contains_key(path) {
                self.schema(
                    format!("A Fail state cannot include both field '{plain}' and '{path}'"),
                    loc,
                );
            }
            if let Some(text) = self
                .field(obj, path, &[Kind::String], loc)
                .and_then(Value::as_str)
            {
                self.path_or_intrinsic(text, path, &format!("{loc}/{path}"));
            }
        }
    }

    pub(crate) fn parallel(&mut self, obj: &JsonMap<String, Value>, loc: &str) {
        match obj.get("Branches") {
            None => self.schema("These fields are required: [Branches]", loc),
            Some(_) => {
                if let Some(branches) = self
                    .field(obj, "Branches", &[Kind::Array], loc)
                    .and_then(Value::as_array)
                {
                    if branches.is_empty() {
                        self.schema("Minimum number of items is 1", format!("{loc}/Branches"));
                    }
                    for (i, branch) in branches.iter().enumerate() {
                        let branch_loc = format!("{loc}/Branches[{i}]");
                        self.machine(branch, &branch_loc, MachineKind::Branch);
                    }
                }
            }
        }
    }

    pub(crate) fn map(&mut self, obj: &JsonMap<String, Value>, loc: &str, language: QueryLanguage) {
        match (obj.get("ItemProcessor"), obj.get("Iterator")) {
            (None, None) => self.schema("These fields are required: [ItemProcessor]", loc),
            (Some(_), Some(_)) => self.schema("Field 'Iterator' is not supported", loc),
            (Some(processor), None) => self.machine(
                processor,
                &format!("{loc}/ItemProcessor"),
                MachineKind::Processor,
            ),
            (None, Some(iterator)) => {
                self.machine(iterator, &format!("{loc}/Iterator"), MachineKind::Processor)
            }
        }
        if language == QueryLanguage::JsonPath {
            if let Some(text) = self
                .field(obj, "ItemsPath", &[Kind::String, Kind::Null], loc)
                .and_then(Value::as_str)
            {
                self.reference_path(text, "ItemsPath", &format!("{loc}/ItemsPath"), true);
            }
            if obj.contains_key("Parameters") && obj.contains_key("ItemSelector") {
                self.schema(
                    "A Map state cannot include both field 'Parameters' and 'ItemSelector'",
                    loc,
                );
            }
            for key in [
                "MaxConcurrencyPath",
                "ToleratedFailureCountPath",
                "ToleratedFailurePercentagePath",
            ] {
                if let Some(text) = self
                    .field(obj, key, &[Kind::String], loc)
                    .and_then(Value::as_str)
                {
                    self.reference_path(text, key, &format!("{loc}/{key}"), true);
                }
            }
            for (plain, path) in [
                ("MaxConcurrency", "MaxConcurrencyPath"),
                ("ToleratedFailureCount", "ToleratedFailureCountPath"),
                (
                    "ToleratedFailurePercentage",
                    "ToleratedFailurePercentagePath",
                ),
            ] {
                if obj.contains_key(plain) && obj.contains_key(path) {
                    self.schema(
                        format!("A Map state cannot include both field '{plain}' and '{path}'"),
                        format!("{loc}/{plain}"),
                    );
                }
            }
        } else if let Some(items) = obj.get("Items")
            && !Self::is_expression(language, items)
        {
            self.expect(items, &[Kind::Array], &format!("{loc}/Items"));
        }
        self.integer_field(obj, "MaxConcurrency", 0, language, loc);
        self.integer_field(obj, "ToleratedFailureCount", 0, language, loc);
        if let Some(value) = obj.get("ToleratedFailurePercentage") {
            let field_loc = format!("{loc}/ToleratedFailurePercentage");
            if !Self::is_expression(language, value)
                && self.expect(value, &[Kind::Number], &field_loc)
            {
                let n = values::number(value).unwrap_or_default();
                if n < 0.0 {
                    self.schema("Minimum value is 0", field_loc);
                } else if n > 100.0 {
                    self.schema("Maximum value is 100", field_loc);
                }
            }
        }
        if let Some(label) = self
            .field(obj, "Label", &[Kind::String], loc)
            .and_then(Value::as_str)
            && label.chars().count() > 40
        {
            self.schema("Maximum length is 40", format!("{loc}/Label"));
        }
        self.map_part(obj, "ItemReader", fields::ITEM_READER, language, loc);
        self.map_part(obj, "ItemBatcher", fields::ITEM_BATCHER, language, loc);
        self.map_part(obj, "ResultWriter", fields::RESULT_WRITER, language, loc);
        if let Some(batcher) = obj.get("ItemBatcher").and_then(Value::as_object) {
            let batcher_loc = format!("{loc}/ItemBatcher");
            self.integer_field(batcher, "MaxItemsPerBatch", 1, language, &batcher_loc);
            self.integer_field(batcher, "MaxInputBytesPerBatch", 1, language, &batcher_loc);
        }
    }

    /// `ItemReader`, `ItemBatcher`, `ResultWriter`: known fields, payloads checked per language.
    fn map_part(
        &mut self,
        obj: &JsonMap<String, Value>,
        key: &str,
        table: &[(&str, fields::Langs)],
        language: QueryLanguage,
        loc: &str,
    ) {
        let Some(part) = self
            .field(obj, key, &[Kind::Object], loc)
            .and_then(Value::as_object)
        else {
            return;
        };
        let part_loc = format!("{loc}/{key}");
        self.known_fields(part, table, language, &part_loc, &|_| false);
        if language == QueryLanguage::JsonPath {
            for payload in ["Parameters", "BatchInput"] {
                if let Some(value) = part.get(payload) {
                    self.template(value, &format!("{part_loc}/{payload}"));
                }
            }
            for path_key in ["MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"] {
                if let Some(text) = self
                    .field(part, path_key, &[Kind::String], &part_loc)
                    .and_then(Value::as_str)
                {
                    self.reference_path(text, path_key, &format!("{part_loc}/{path_key}"), true);
                }
            }
        }
        self.field(part, "Resource", &[Kind::String], &part_loc);
    }

    /// `Retry`: a list of Retriers.
    pub(crate) fn retriers(&mut self, obj: &JsonMap<String, Value>, loc: &str) {
        let Some(list) = self
            .field(obj, "Retry", &[Kind::Array], loc)
            .and_then(Value::as_array)
        else {
            return;
        };
        for (i, retrier) in list.iter().enumerate() {
            let r_loc = format!("{loc}/Retry[{i}]");
            let Some(r) = retrier.as_object() else {
                self.schema(values::expected_message(&[Kind::Object]), r_loc);
                continue;
            };
            self.known_fields(r, fields::RETRIER, QueryLanguage::JsonPath, &r_loc, &|_| {
                false
            });
            self.error_equals(r, &r_loc, "Retrier", i + 1 == list.len());
            self.integer_field(r, "IntervalSeconds", 1, QueryLanguage::JsonPath, &r_loc);
            self.integer_field(r, "MaxAttempts", 0, QueryLanguage::JsonPath, &r_loc);
            self.integer_field(r, "MaxDelaySeconds", 1, QueryLanguage::JsonPath, &r_loc);
            if let Some(rate) = self.field(r, "BackoffRate", &[Kind::Number], &r_loc)
                && values::number(rate).is_some_and(|n| n < 1.0)
            {
                self.schema("Minimum value is 1.0", format!("{r_loc}/BackoffRate"));
            }
            if let Some(jitter) = self
                .field(r, "JitterStrategy", &[Kind::String], &r_loc)
                .and_then(Value::as_str)
                && !matches!(jitter, "FULL" | "NONE")
            {
                self.schema(
                    "Value should be one of the following: [FULL, NONE]",
                    format!("{r_loc}/JitterStrategy"),
                );
            }
        }
    }

    /// `Catch`: a list of Catchers.
    pub(crate) fn catchers(
        &mut self,
        obj: &JsonMap<String, Value>,
        loc: &str,
        language: QueryLanguage,
        names: &HashSet<&str>,
    ) {
        let Some(list) = self
            .field(obj, "Catch", &[Kind::Array], loc)
            .and_then(Value::as_array)
        else {
            return;
        };
        for (i, catcher) in list.iter().enumerate() {
            let c_loc = format!("{loc}/Catch[{i}]");
            let Some(c) = catcher.as_object() else {
                self.schema(values::expected_message(&[Kind::Object]), c_loc);
                continue;
            };
            self.known_fields(c, fields::CATCHER, language, &c_loc, &|_| false);
            self.error_equals(c, &c_loc, "Catcher", i + 1 == list.len());
            match c.get("Next") {
                None => self.schema(
                    "The field 'Next' is required but was missing",
                    c_loc.clone(),
                ),
                Some(_) => {
                    if let Some(target) = self
                        .field(c, "Next", &[Kind::String], &c_loc)
                        .and_then(Value::as_str)
                    {
                        self.target(target, &format!("{c_loc}/Next"), names);
                    }
                }
            }
            if language == QueryLanguage::JsonPath {
                if let Some(Value::String(text)) =
                    self.field(c, "ResultPath", &[Kind::String, Kind::Null], &c_loc)
                {
                    self.reference_path(text, "ResultPath", &format!("{c_loc}/ResultPath"), false);
                }
                if let Some(assign) = self.field(c, "Assign", &[Kind::Object], &c_loc) {
                    self.template(assign, &format!("{c_loc}/Assign"));
                }
            } else {
                self.field(c, "Assign", &[Kind::Object], &c_loc);
            }
        }
    }

    /// `ErrorEquals`: a non-empty list of names; `States.ALL` alone and in the last entry.
    fn error_equals(&mut self, obj: &JsonMap<String, Value>, loc: &str, what: &str, last: bool) {
        let Some(value) = obj.get("ErrorEquals") else {
            self.schema(
                "The field 'ErrorEquals' is required but was missing",
                at(loc),
            );
            return;
        };
        let field_loc = format!("{loc}/ErrorEquals");
        let Some(names) = value.as_array() else {
            self.schema(values::expected_message(&[Kind::Array]), field_loc);
            return;
        };
        if names.is_empty() {
            self.schema("Minimum number of items is 1", field_loc.clone());
        }
        for (i, name) in names.iter().enumerate() {
            self.expect(name, &[Kind::String], &format!("{field_loc}[{i}]"));
        }
        if names.iter().any(|n| n.as_str() == Some("States.ALL")) {
            if names.len() > 1 {
                self.schema(
                    "States.ALL must appear alone in ErrorEquals",
                    field_loc.clone(),
                );
            }
            if !last {
                self.schema(
                    format!("A {what} with States.ALL must be the last one in its list"),
                    field_loc,
                );
            }
        }
    }
}

/// Whether a Pass `Result` holds a string that looks like a path or an intrinsic call (with or
/// without a `.$` key), which a Pass state's `Result` never evaluates.
fn has_dynamic_parts(value: &Value) -> bool {
    match value {
        Value::String(text) => super::check::looks_dynamic(text),
        Value::Object(map) => map.values().any(has_dynamic_parts),
        Value::Array(items) => items.iter().any(has_dynamic_parts),
        _ => false,
    }
}
