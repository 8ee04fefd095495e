//! API errors: every error name the server can return, its `__type` and its HTTP status.
//!
//! This is the one place that knows AWS's error names. On the wire an error is HTTP 400 (500
//! for [`ErrorCode::InternalFailure`]) with the body `{"__type": "<namespace>#<Name>",
//! "message": "..."}`. AWS qualifies Step Functions' own exceptions with
//! `com.amazonaws.swf.service.v2.model#`, model-constraint violations with
//! `com.amazon.coral.validate#` and protocol errors with `com.amazon.coral.service#`. Clients
//! (botocore, the smithy SDKs) keep only what follows the `#`, so both the qualified and the
//! plain name work for them; we send the qualified one as AWS does.

use std::fmt;

use serde_json::{Map, Value};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident => $namespace:expr, $status:expr;)*) => {
        /// An AWS Step Functions API error name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $name,)*
        }

        impl ErrorCode {
            /// Every error code, for tests and docs.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The plain name (`StateMachineDoesNotExist`).
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name),)* }
            }

            /// The namespace AWS qualifies this error with.
            fn namespace(self) -> &'static str {
                match self { $(ErrorCode::$name => $namespace,)* }
            }

            /// The HTTP status code of the response.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$name => $status,)* }
            }

            /// Parses a plain or qualified name.
            pub fn parse(name: &str) -> Option<ErrorCode> {
                let plain = name.rsplit('#').next().unwrap_or(name);
                match plain { $(stringify!($name) => Some(ErrorCode::$name),)* _ => None }
            }
        }
    };
}

const SFN: &str = "com.amazonaws.swf.service.v2.model";
const CORAL_VALIDATE: &str = "com.amazon.coral.validate";
const CORAL_SERVICE: &str = "com.amazon.coral.service";

error_codes! {
    /// The activity does not exist.
    ActivityDoesNotExist => SFN, 400;
    /// Too many activities.
    ActivityLimitExceeded => SFN, 400;
    /// Too many workers polling the activity.
    ActivityWorkerLimitExceeded => SFN, 400;
    /// The request conflicts with the resource's state (for example a version in use by an alias).
    ConflictException => SFN, 400;
    /// An execution with this name exists (with a different input, or closed).
    ExecutionAlreadyExists => SFN, 400;
    /// The execution does not exist.
    ExecutionDoesNotExist => SFN, 400;
    /// Too many running executions.
    ExecutionLimitExceeded => SFN, 400;
    /// The execution cannot be redriven.
    ExecutionNotRedrivable => SFN, 400;
    /// The ARN is malformed or of the wrong resource type.
    InvalidArn => SFN, 400;
    /// The definition is not valid ASL.
    InvalidDefinition => SFN, 400;
    /// The encryption configuration is not valid.
    InvalidEncryptionConfiguration => SFN, 400;
    /// The execution input is not valid JSON.
    InvalidExecutionInput => SFN, 400;
    /// The logging configuration is not valid.
    InvalidLoggingConfiguration => SFN, 400;
    /// The name breaks AWS's naming rules.
    InvalidName => SFN, 400;
    /// A task output is not valid JSON.
    InvalidOutput => SFN, 400;
    /// A task token or pagination token is not valid.
    InvalidToken => SFN, 400;
    /// The tracing configuration is not valid.
    InvalidTracingConfiguration => SFN, 400;
    /// A required parameter is missing.
    MissingRequiredParameter => SFN, 400;
    /// The resource (for example a version or an alias) does not exist.
    ResourceNotFound => SFN, 400;
    /// A quota was exceeded.
    ServiceQuotaExceededException => SFN, 400;
    /// A state machine with this name exists with a different definition.
    StateMachineAlreadyExists => SFN, 400;
    /// The state machine is being deleted.
    StateMachineDeleting => SFN, 400;
    /// The state machine does not exist.
    StateMachineDoesNotExist => SFN, 400;
    /// Too many state machines.
    StateMachineLimitExceeded => SFN, 400;
    /// The operation is not supported for this state machine type.
    StateMachineTypeNotSupported => SFN, 400;
    /// The task token names no open task.
    TaskDoesNotExist => SFN, 400;
    /// The task already timed out.
    TaskTimedOut => SFN, 400;
    /// Too many tags.
    TooManyTags => SFN, 400;
    /// A request member breaks its model constraint (length, range, required).
    ValidationException => CORAL_VALIDATE, 400;
    /// The `X-Amz-Target` names no operation.
    UnknownOperationException => CORAL_SERVICE, 400;
    /// The request body is not the JSON the operation expects.
    SerializationException => CORAL_SERVICE, 400;
    /// An engine fault (database down, bug).
    InternalFailure => CORAL_SERVICE, 500;
}

impl ErrorCode {
    /// The `__type` value as AWS sends it: `namespace#Name`.
    pub fn type_name(self) -> String {
        format!("{}#{}", self.namespace(), self.name())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An API error: a code and AWS's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The error name.
    pub code: ErrorCode,
    /// The human-readable message.
    pub message: String,
}

impl ApiError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// The response body: `{"__type": ..., "message": ...}`.
    pub fn body(&self) -> Value {
        let mut map = Map::new();
        map.insert("__type".into(), Value::String(self.code.type_name()));
        map.insert("message".into(), Value::String(self.message.clone()));
        Value::Object(map)
    }

    /// `StateMachineDoesNotExist` for `arn`.
    pub fn state_machine_does_not_exist(arn: &str) -> ApiError {
        ApiError::new(
            ErrorCode::StateMachineDoesNotExist,
            format!("State Machine Does Not Exist: '{arn}'"),
        )
    }

    /// `ExecutionDoesNotExist` for `arn`.
    pub fn execution_does_not_exist(arn: &str) -> ApiError {
        ApiError::new(
            ErrorCode::ExecutionDoesNotExist,
            format!("Execution Does Not Exist: '{arn}'"),
        )
    }

    /// `ActivityDoesNotExist` for `arn`.
    pub fn activity_does_not_exist(arn: &str) -> ApiError {
        ApiError::new(
            ErrorCode::ActivityDoesNotExist,
            format!("Activity Does Not Exist: '{arn}'"),
        )
    }

    /// `ExecutionAlreadyExists` for `arn`.
    pub fn execution_already_exists(arn: &str) -> ApiError {
        ApiError::new(
            ErrorCode::ExecutionAlreadyExists,
            format!("Execution Already Exists: '{arn}'"),
        )
    }

    /// `StateMachineAlreadyExists` for `arn`.
    pub fn state_machine_already_exists(arn: &str) -> ApiError {
        ApiError::new(
            ErrorCode::StateMachineAlreadyExists,
            format!("State Machine Already Exists: '{arn}'"),
        )
    }

    /// `InvalidArn` with a reason.
    pub fn invalid_arn(reason: impl fmt::Display) -> ApiError {
        ApiError::new(ErrorCode::InvalidArn, format!("Invalid Arn: '{reason}'"))
    }

    /// `InvalidName` for `name`.
    pub fn invalid_name(name: &str) -> ApiError {
        ApiError::new(ErrorCode::InvalidName, format!("Invalid Name: '{name}'"))
    }

    /// `InvalidToken` with a reason.
    pub fn invalid_token(reason: impl fmt::Display) -> ApiError {
        ApiError::new(
            ErrorCode::InvalidToken,
            format!("Invalid Token: '{reason}'"),
        )
    }

    /// `InvalidDefinition` from `(code, message, location)` diagnostics, joined as AWS does:
    /// `Invalid State Machine Definition: 'CODE: message at /location, ...'`.
    pub fn invalid_definition<'a>(
        diagnostics: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> ApiError {
        let parts: Vec<String> = diagnostics
            .into_iter()
            .map(|(code, message, location)| {
                if location.is_empty() {
                    format!("{code}: {message}")
                } else {
                    format!("{code}: {message} at {location}")
                }
            })
            .collect();
        ApiError::new(
            ErrorCode::InvalidDefinition,
            format!("Invalid State Machine Definition: '{}'", parts.join(", ")),
        )
    }

    /// `ValidationException` for a member that must not be null.
    pub fn missing_member(member: &str) -> ApiError {
        ApiError::new(
            ErrorCode::ValidationException,
            format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy \
                 constraint: Member must not be null"
            ),
        )
    }

    /// `ValidationException` for a member longer than its limit.
    pub fn too_long(member: &str, max: usize) -> ApiError {
        ApiError::new(
            ErrorCode::ValidationException,
            format!(
                "1 validation error detected: Value at '{member}' failed to satisfy constraint: \
                 Member must have length less than or equal to {max}"
            ),
        )
    }

    /// `ValidationException` for a member with a value outside its range or enum.
    pub fn invalid_member(member: &str, value: impl fmt::Display, constraint: &str) -> ApiError {
        ApiError::new(
            ErrorCode::ValidationException,
            format!(
                "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
                 constraint: {constraint}"
            ),
        )
    }

    /// `InternalFailure` for an engine fault (the detail is logged, not sent).
    pub fn internal() -> ApiError {
        ApiError::new(
            ErrorCode::InternalFailure,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_statuses() {
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.name()), Some(code));
            assert_eq!(ErrorCode::parse(&code.type_name()), Some(code));
            let expected = if code == ErrorCode::InternalFailure {
                500
            } else {
                400
            };
            assert_eq!(code.status(), expected, "{code}");
        }
        assert_eq!(ErrorCode::parse("NoSuchThing"), None);
    }

    #[test]
    fn body_shape() {
        let err = ApiError::execution_does_not_exist("arn:x");
        assert_eq!(
            err.body().to_string(),
            r##"{"__type":"com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist","message":"Execution Does Not Exist: 'arn:x'"}"##
        );
        assert_eq!(
            ErrorCode::ValidationException.type_name(),
            "com.amazon.coral.validate#ValidationException"
        );
    }

    #[test]
    fn invalid_definition_message() {
        let err = ApiError::invalid_definition([(
            "SCHEMA_VALIDATION_FAILED",
            "String does not match RFC3339 timestamp",
            "/States/WaitUntil/Timestamp",
        )]);
        assert_eq!(
            err.message,
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not match \
             RFC3339 timestamp at /States/WaitUntil/Timestamp'"
        );
    }
}
