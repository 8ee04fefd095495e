//! Which fields each state type accepts, and in which query language.
//!
//! AWS reports a field that no state of this type accepts as `Field 'X' is not supported`, and
//! a field that this type accepts only in the other query language with a message naming both
//! languages; both are located at the state, not at the field.

use crate::model::QueryLanguage;

/// Which query languages accept a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Langs {
    Both,
    JsonPath,
    Jsonata,
}

impl Langs {
    pub(crate) fn accepts(self, language: QueryLanguage) -> bool {
        match self {
            Langs::Both => true,
            Langs::JsonPath => language == QueryLanguage::JsonPath,
            Langs::Jsonata => language == QueryLanguage::Jsonata,
        }
    }
}

use Langs::{Both, JsonPath as Jp, Jsonata as Ja};

const COMMON: &[(&str, Langs)] = &[("Type", Both), ("Comment", Both), ("QueryLanguage", Both)];

const PASS: &[(&str, Langs)] = &[
    ("Next", Both),
    ("End", Both),
    ("Assign", Both),
    ("InputPath", Jp),
    ("OutputPath", Jp),
    ("Parameters", Jp),
    ("ResultPath", Jp),
    ("Result", Jp),
    ("Output", Ja),
];

const TASK: &[(&str, Langs)] = &[
    ("Resource", Both),
    ("Next", Both),
    ("End", Both),
    ("Retry", Both),
    ("Catch", Both),
    ("TimeoutSeconds", Both),
    ("HeartbeatSeconds", Both),
    ("Credentials", Both),
    ("Assign", Both),
    ("InputPath", Jp),
    ("OutputPath", Jp),
    ("Parameters", Jp),
    ("ResultPath", Jp),
    ("ResultSelector", Jp),
    ("TimeoutSecondsPath", Jp),
    ("HeartbeatSecondsPath", Jp),
    ("Arguments", Ja),
    ("Output", Ja),
];

const CHOICE: &[(&str, Langs)] = &[
    ("Choices", Both),
    ("Default", Both),
    ("Assign", Both),
    ("InputPath", Jp),
    ("OutputPath", Jp),
    ("Output", Ja),
];

const WAIT: &[(&str, Langs)] = &[
    ("Next", Both),
    ("End", Both),
    ("Seconds", Both),
    ("Timestamp", Both),
    ("Assign", Both),
    ("InputPath", Jp),
    ("OutputPath", Jp),
    ("SecondsPath", Jp),
    ("TimestampPath", Jp),
    ("Output", Ja),
];

const SUCCEED: &[(&str, Langs)] = &[("InputPath", Jp), ("OutputPath", Jp), ("Output", Ja)];

const FAIL: &[(&str, Langs)] = &[
    ("Error", Both),
    ("Cause", Both),
    ("ErrorPath", Jp),
    ("CausePath", Jp),
];

const PARALLEL: &[(&str, Langs)] = &[
    ("Branches", Both),
    ("Next", Both),
    ("End", Both),
    ("Retry", Both),
    ("Catch", Both),
    ("Assign", Both),
    ("InputPath", Jp),
    ("OutputPath", Jp),
    ("Parameters", Jp),
    ("ResultPath", Jp),
    ("ResultSelector", Jp),
    ("Arguments", Ja),
    ("Output", Ja),
];

const MAP: &[(&str, Langs)] = &[
    ("ItemProcessor", Both),
    ("Iterator", Both),
    ("Next", Both),
    ("End", Both),
    ("Retry", Both),
    ("Catch", Both),
    ("Assign", Both),
    ("ItemSelector", Both),
    ("ItemReader", Both),
    ("ItemBatcher", Both),
    ("ResultWriter", Both),
    ("MaxConcurrency", Both),
    ("ToleratedFailureCount", Both),
    ("ToleratedFailurePercentage", Both),
    ("Label", Both),
    ("InputPath", Jp),
    ("OutputPath", Jp),
    ("Parameters", Jp),
    ("ResultPath", Jp),
    ("ResultSelector", Jp),
    ("ItemsPath", Jp),
    ("MaxConcurrencyPath", Jp),
    ("ToleratedFailureCountPath", Jp),
    ("ToleratedFailurePercentagePath", Jp),
    ("Items", Ja),
    ("Output", Ja),
];

/// Fields of a Catcher.
pub(crate) const CATCHER: &[(&str, Langs)] = &[
    ("ErrorEquals", Both),
    ("Next", Both),
    ("Comment", Both),
    ("Assign", Both),
    ("ResultPath", Jp),
    ("Output", Ja),
];

/// Fields of a Retrier.
pub(crate) const RETRIER: &[(&str, Langs)] = &[
    ("ErrorEquals", Both),
    ("IntervalSeconds", Both),
    ("MaxAttempts", Both),
    ("BackoffRate", Both),
    ("MaxDelaySeconds", Both),
    ("JitterStrategy", Both),
    ("Comment", Both),
];

/// Fields of a top-level Choice rule besides the comparison itself.
pub(crate) const CHOICE_RULE: &[(&str, Langs)] = &[
    ("Next", Both),
    ("Comment", Both),
    ("Assign", Both),
    ("Condition", Ja),
    ("Output", Ja),
];

/// Fields of a Map's `ItemReader`.
pub(crate) const ITEM_READER: &[(&str, Langs)] = &[
    ("Resource", Both),
    ("ReaderConfig", Both),
    ("Parameters", Jp),
    ("Arguments", Ja),
];

/// Fields of a Map's `ItemBatcher`.
pub(crate) const ITEM_BATCHER: &[(&str, Langs)] = &[
    ("MaxItemsPerBatch", Both),
    ("MaxInputBytesPerBatch", Both),
    ("BatchInput", Both),
    ("MaxItemsPerBatchPath", Jp),
    ("MaxInputBytesPerBatchPath", Jp),
];

/// Fields of a Map's `ResultWriter`.
pub(crate) const RESULT_WRITER: &[(&str, Langs)] = &[
    ("Resource", Both),
    ("WriterConfig", Both),
    ("Parameters", Jp),
    ("Arguments", Ja),
];

/// The state types, in the order AWS lists them.
pub(crate) const STATE_TYPES: [&str; 8] = [
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

/// Looks up `field` for a state of type `ty`; `None` when no state of this type accepts it.
pub(crate) fn state_field(ty: &str, field: &str) -> Option<Langs> {
    let specific = match ty {
        "Pass" => PASS,
        "Task" => TASK,
        "Choice" => CHOICE,
        "Wait" => WAIT,
        "Succeed" => SUCCEED,
        "Fail" => FAIL,
        "Parallel" => PARALLEL,
        "Map" => MAP,
        _ => return Some(Both),
    };
    lookup(COMMON, field).or_else(|| lookup(specific, field))
}

/// Looks up `field` in a table.
pub(crate) fn lookup(table: &[(&str, Langs)], field: &str) -> Option<Langs> {
    table
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, langs)| *langs)
}

/// The name AWS uses for a language in messages.
pub(crate) fn language_name(language: QueryLanguage) -> &'static str {
    match language {
        QueryLanguage::JsonPath => "JSONPath",
        QueryLanguage::Jsonata => "JSONata",
    }
}

/// AWS's message for a field that only the other query language accepts.
pub(crate) fn other_language_message(language: QueryLanguage, field: &str) -> String {
    let other = match language {
        QueryLanguage::JsonPath => QueryLanguage::Jsonata,
        QueryLanguage::Jsonata => QueryLanguage::JsonPath,
    };
    format!(
        "The QueryLanguage is set to '{}', but field '{field}' is only supported for the '{}' QueryLanguage",
        language_name(language),
        language_name(other)
    )
}
