//! The typed model of a validated state machine.
//!
//! Everything a state needs at run time is compiled here once: paths are parsed, intrinsic
//! calls and JSONata expressions compiled, transitions resolved to indexes. The interpreter
//! never looks at raw definition JSON.

use std::collections::HashMap;
use std::sync::Arc;

use baton_intrinsics::Call;
use baton_jsonata::Expression;
use baton_jsonpath::Path;
use serde_json::Value;

/// Index of a state inside its [`StateMachine`].
pub type StateId = usize;

/// Which query language a state's fields are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    /// `"JSONPath"` (the default).
    JsonPath,
    /// `"JSONata"`.
    Jsonata,
}

/// A state machine or a nested one (Parallel branch, Map item processor).
#[derive(Debug)]
pub struct StateMachine {
    /// `Comment`.
    pub comment: Option<String>,
    /// `StartAt`, resolved.
    pub start_at: StateId,
    /// The states, in definition order.
    pub states: Vec<State>,
    /// Top-level `QueryLanguage` (inherited by nested machines).
    pub query_language: QueryLanguage,
    /// Top-level `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    pub(crate) names: HashMap<String, StateId>,
}

impl StateMachine {
    /// The state with the given name.
    pub fn index_of(&self, name: &str) -> Option<StateId> {
        self.names.get(name).copied()
    }
    /// The state at `id`.
    pub fn state(&self, id: StateId) -> &State {
        &self.states[id]
    }
}

/// One state, with the fields shared by all types.
#[derive(Debug)]
pub struct State {
    /// The state's name.
    pub name: Arc<str>,
    /// The language its fields are written in.
    pub query_language: QueryLanguage,
    /// `Type` and the fields particular to it.
    pub kind: Kind,
    /// `InputPath` (JSONPath only).
    pub input_path: PathField,
    /// `OutputPath` (JSONPath only).
    pub output_path: PathField,
    /// `ResultPath` (JSONPath only).
    pub result_path: PathField,
    /// `Parameters` (JSONPath) or `Arguments` (JSONata).
    pub parameters: Option<Template>,
    /// `ResultSelector` (JSONPath only).
    pub result_selector: Option<Template>,
    /// `Output` (JSONata only).
    pub output: Option<Template>,
    /// `Assign`.
    pub assign: Option<Template>,
    /// `Next`, resolved; `None` with `End: true` or for terminal/Choice states.
    pub next: Option<StateId>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// A path field: absent (the default `$`), explicitly `null`, or a path.
#[derive(Debug, Clone, Default)]
pub enum PathField {
    /// The field is absent: `$`.
    #[default]
    Default,
    /// `null`: the input (or result) is discarded.
    Null,
    /// A path.
    Path(Path),
}

/// A payload template: `Parameters`, `ResultSelector`, `ItemSelector`, `Arguments`, `Output`,
/// `Assign`. Static sub-trees are folded into [`Template::Literal`].
#[derive(Debug, Clone)]
pub enum Template {
    /// A constant value.
    Literal(Value),
    /// An object with at least one dynamic member; keys have their `.$` suffix removed.
    Object(Vec<(String, Template)>),
    /// An array with at least one dynamic element.
    Array(Vec<Template>),
    /// A `"key.$": "$.path"` value.
    Path(Path),
    /// A `"key.$": "States.Fn(...)"` value.
    Intrinsic(Call),
    /// A `"{% expr %}"` string.
    Jsonata(Expression),
}

/// The part of a state particular to its `Type`.
#[derive(Debug)]
pub enum Kind {
    /// `Pass`.
    Pass(Pass),
    /// `Task`.
    Task(Task),
    /// `Choice`.
    Choice(Choice),
    /// `Wait`.
    Wait(Wait),
    /// `Succeed`.
    Succeed,
    /// `Fail`.
    Fail(Fail),
    /// `Parallel`.
    Parallel(Parallel),
    /// `Map`.
    Map(Box<Map>),
}

impl Kind {
    /// The `Type` as written in ASL and used as history event prefix (`PassStateEntered`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass(_) => "Pass",
            Kind::Task(_) => "Task",
            Kind::Choice(_) => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail(_) => "Fail",
            Kind::Parallel(_) => "Parallel",
            Kind::Map(_) => "Map",
        }
    }
}

/// `Pass` fields.
#[derive(Debug)]
pub struct Pass {
    /// `Result`.
    pub result: Option<Value>,
}

/// A field that is a number, given literally or computed at run time.
#[derive(Debug, Clone)]
pub enum NumberField {
    /// A literal number.
    Literal(Value),
    /// `...Path` variant.
    Path(Path),
    /// A JSONata expression.
    Jsonata(Expression),
}

/// A field that is a string, given literally or computed at run time.
#[derive(Debug, Clone)]
pub enum StringField {
    /// A literal string.
    Literal(String),
    /// `...Path` variant.
    Path(Path),
    /// `...Path` holding an intrinsic function call.
    Intrinsic(Call),
    /// A JSONata expression.
    Jsonata(Expression),
}

/// `Task` fields.
#[derive(Debug)]
pub struct Task {
    /// `Resource`, classified.
    pub resource: Resource,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout_seconds: Option<NumberField>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat_seconds: Option<NumberField>,
    /// `Credentials`, kept as written.
    pub credentials: Option<Value>,
}

/// How a `Task` resource is invoked; decides the history events AWS writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:states:<region>:<account>:activity:<name>`.
    Activity {
        /// The activity ARN.
        arn: String,
    },
    /// `arn:aws:lambda:<region>:<account>:function:<name>` (the legacy direct form).
    LambdaFunction {
        /// The function ARN.
        arn: String,
    },
    /// `arn:aws:states:::<service>:<action>[.sync|.sync:2|.waitForTaskToken]`.
    Service {
        /// The full resource ARN as written.
        arn: String,
        /// e.g. `lambda`, `sqs`, `states`.
        service: String,
        /// e.g. `invoke`, `sendMessage`, `startExecution`.
        action: String,
        /// The integration pattern.
        pattern: Pattern,
    },
}

impl Resource {
    /// The ARN as written.
    pub fn arn(&self) -> &str {
        match self {
            Resource::Activity { arn } | Resource::LambdaFunction { arn } => arn,
            Resource::Service { arn, .. } => arn,
        }
    }
}

/// A service integration pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Call and continue with the response.
    RequestResponse,
    /// `.sync`: run a job and wait for it.
    Sync,
    /// `.sync:2`.
    Sync2,
    /// `.waitForTaskToken`: wait for SendTaskSuccess/Failure.
    WaitForTaskToken,
}

/// `Choice` fields.
#[derive(Debug)]
pub struct Choice {
    /// `Choices`.
    pub rules: Vec<ChoiceRule>,
    /// `Default`, resolved.
    pub default: Option<StateId>,
}

/// One top-level Choice rule.
#[derive(Debug)]
pub struct ChoiceRule {
    /// The condition.
    pub condition: Condition,
    /// `Next`, resolved.
    pub next: StateId,
    /// `Assign` on the rule.
    pub assign: Option<Template>,
    /// `Output` on the rule (JSONata).
    pub output: Option<Template>,
}

/// A Boolean expression of a Choice rule.
#[derive(Debug)]
pub enum Condition {
    /// `And`.
    And(Vec<Condition>),
    /// `Or`.
    Or(Vec<Condition>),
    /// `Not`.
    Not(Box<Condition>),
    /// `Variable` + comparison operator.
    Compare {
        /// `Variable`.
        variable: Path,
        /// The operator.
        op: Comparison,
        /// Its operand (literal or `...Path`).
        operand: Operand,
    },
    /// JSONata `Condition`.
    Jsonata(Expression),
}

/// A Choice comparison operator (without the `Path` suffix, which lives in [`Operand`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // The names are ASL's operator names.
pub enum Comparison {
    StringEquals,
    StringLessThan,
    StringGreaterThan,
    StringLessThanEquals,
    StringGreaterThanEquals,
    StringMatches,
    NumericEquals,
    NumericLessThan,
    NumericGreaterThan,
    NumericLessThanEquals,
    NumericGreaterThanEquals,
    BooleanEquals,
    TimestampEquals,
    TimestampLessThan,
    TimestampGreaterThan,
    TimestampLessThanEquals,
    TimestampGreaterThanEquals,
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

impl Comparison {
    /// Every operator with its ASL name; `...Path` variants exist for all but the `Is*` and
    /// `StringMatches` operators.
    pub const ALL: [(&'static str, Comparison); 23] = [
        ("StringEquals", Comparison::StringEquals),
        ("StringLessThan", Comparison::StringLessThan),
        ("StringGreaterThan", Comparison::StringGreaterThan),
        ("StringLessThanEquals", Comparison::StringLessThanEquals),
        (
            "StringGreaterThanEquals",
            Comparison::StringGreaterThanEquals,
        ),
        ("StringMatches", Comparison::StringMatches),
        ("NumericEquals", Comparison::NumericEquals),
        ("NumericLessThan", Comparison::NumericLessThan),
        ("NumericGreaterThan", Comparison::NumericGreaterThan),
        ("NumericLessThanEquals", Comparison::NumericLessThanEquals),
        (
            "NumericGreaterThanEquals",
            Comparison::NumericGreaterThanEquals,
        ),
        ("BooleanEquals", Comparison::BooleanEquals),
        ("TimestampEquals", Comparison::TimestampEquals),
        ("TimestampLessThan", Comparison::TimestampLessThan),
        ("TimestampGreaterThan", Comparison::TimestampGreaterThan),
        (
            "TimestampLessThanEquals",
            Comparison::TimestampLessThanEquals,
        ),
        (
            "TimestampGreaterThanEquals",
            Comparison::TimestampGreaterThanEquals,
        ),
        ("IsNull", Comparison::IsNull),
        ("IsPresent", Comparison::IsPresent),
        ("IsNumeric", Comparison::IsNumeric),
        ("IsString", Comparison::IsString),
        ("IsBoolean", Comparison::IsBoolean),
        ("IsTimestamp", Comparison::IsTimestamp),
    ];

    /// Whether a `...Path` variant of this operator exists.
    pub fn has_path_variant(self) -> bool {
        !matches!(
            self,
            Comparison::StringMatches
                | Comparison::IsNull
                | Comparison::IsPresent
                | Comparison::IsNumeric
                | Comparison::IsString
                | Comparison::IsBoolean
                | Comparison::IsTimestamp
        )
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A literal value.
    Literal(Value),
    /// A `...Path` operand.
    Path(Path),
}

/// `Wait` fields.
#[derive(Debug)]
pub enum Wait {
    /// `Seconds` / `SecondsPath`.
    Seconds(NumberField),
    /// `Timestamp` / `TimestampPath`.
    Timestamp(StringField),
}

/// `Fail` fields.
#[derive(Debug)]
pub struct Fail {
    /// `Error` / `ErrorPath`.
    pub error: Option<StringField>,
    /// `Cause` / `CausePath`.
    pub cause: Option<StringField>,
}

/// `Parallel` fields.
#[derive(Debug)]
pub struct Parallel {
    /// `Branches`.
    pub branches: Vec<Arc<StateMachine>>,
}

/// `Map` fields.
#[derive(Debug)]
pub struct Map {
    /// `ItemProcessor` (or the older `Iterator`).
    pub processor: Arc<StateMachine>,
    /// `ItemProcessor.ProcessorConfig.Mode == DISTRIBUTED`.
    pub distributed: bool,
    /// `ItemsPath` (JSONPath).
    pub items_path: PathField,
    /// `Items` (JSONata: an expression or a literal array).
    pub items: Option<Template>,
    /// `ItemSelector` (or the older `Parameters` on a Map).
    pub item_selector: Option<Template>,
    /// `MaxConcurrency` / `MaxConcurrencyPath`.
    pub max_concurrency: Option<NumberField>,
    /// `ToleratedFailureCount` / `...Path`.
    pub tolerated_failure_count: Option<NumberField>,
    /// `ToleratedFailurePercentage` / `...Path`.
    pub tolerated_failure_percentage: Option<NumberField>,
    /// `ItemBatcher`.
    pub item_batcher: Option<ItemBatcher>,
    /// `Label`.
    pub label: Option<String>,
}

/// `ItemBatcher` fields.
#[derive(Debug)]
pub struct ItemBatcher {
    /// `MaxItemsPerBatch` / `...Path`.
    pub max_items_per_batch: Option<NumberField>,
    /// `MaxInputBytesPerBatch` / `...Path`.
    pub max_input_bytes_per_batch: Option<NumberField>,
    /// `BatchInput`.
    pub batch_input: Option<Template>,
}

/// One `Retry` entry.
#[derive(Debug, Clone)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: u64,
    /// `MaxAttempts` (default 3).
    pub max_attempts: u64,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy`.
    pub jitter: Jitter,
}

/// `JitterStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// `NONE` (the default).
    None,
    /// `FULL`.
    Full,
}

/// One `Catch` entry.
#[derive(Debug)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `ResultPath` (JSONPath).
    pub result_path: PathField,
    /// `Next`, resolved.
    pub next: StateId,
    /// `Assign`.
    pub assign: Option<Template>,
    /// `Output` (JSONata).
    pub output: Option<Template>,
}

/// Whether an `ErrorEquals` list matches `error` (`States.ALL` matches everything but
/// `States.Runtime`; `States.TaskFailed` every error but the timeouts and the terminal ones).
pub fn error_matches(error_equals: &[String], error: &str) -> bool {
    error_equals.iter().any(|name| match name.as_str() {
        // AWS's documentation says States.ALL does not catch States.DataLimitExceeded, but
        // AWS does catch it when a task reports it (recorded in the conformance cases).
        "States.ALL" => error != "States.Runtime",
        "States.TaskFailed" => !matches!(
            error,
            "States.Timeout"
                | "States.HeartbeatTimeout"
                | "States.Runtime"
                | "States.DataLimitExceeded"
        ),
        other => other == error,
    })
}
