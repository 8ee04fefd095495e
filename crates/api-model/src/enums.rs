//! Enum-valued request members, parsed with AWS's `ValidationException` for unknown values.

use crate::error::ApiError;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $member:expr, { $($variant:ident => $text:expr,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)] // AWS's values.
        pub enum $name { $($variant,)* }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The value as AWS spells it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// Parses AWS's spelling; anything else is a `ValidationException` on the member.
            pub fn parse(value: &str) -> Result<$name, ApiError> {
                match value {
                    $($text => Ok($name::$variant),)*
                    _ => {
                        let allowed: Vec<&str> = vec![$($text,)*];
                        Err(ApiError::invalid_member(
                            $member,
                            value,
                            &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
                        ))
                    }
                }
            }

            /// Parses an optional member.
            pub fn parse_opt(value: Option<&str>) -> Result<Option<$name>, ApiError> {
                value.map($name::parse).transpose()
            }
        }
    };
}

wire_enum!(
    /// `type` of a state machine.
    StateMachineType, "type", {
        Standard => "STANDARD",
        Express => "EXPRESS",
    }
);

wire_enum!(
    /// `status` of an execution (also `statusFilter`).
    ExecutionStatus, "statusFilter", {
        Running => "RUNNING",
        Succeeded => "SUCCEEDED",
        Failed => "FAILED",
        TimedOut => "TIMED_OUT",
        Aborted => "ABORTED",
        PendingRedrive => "PENDING_REDRIVE",
    }
);

wire_enum!(
    /// `includedData` of DescribeExecution, DescribeStateMachine, StartSyncExecution.
    IncludedData, "includedData", {
        AllData => "ALL_DATA",
        MetadataOnly => "METADATA_ONLY",
    }
);

wire_enum!(
    /// `inspectionLevel` of TestState.
    InspectionLevel, "inspectionLevel", {
        Info => "INFO",
        Debug => "DEBUG",
        Trace => "TRACE",
    }
);

wire_enum!(
    /// `severity` of ValidateStateMachineDefinition.
    DiagnosticSeverity, "severity", {
        Error => "ERROR",
        Warning => "WARNING",
    }
);

wire_enum!(
    /// `redriveFilter` of ListExecutions.
    RedriveFilter, "redriveFilter", {
        Redriven => "REDRIVEN",
        NotRedriven => "NOT_REDRIVEN",
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn parse_and_reject() {
        for &value in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::parse(value.as_str()).unwrap(), value);
        }
        let err = StateMachineType::parse("standard").unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationException);
        assert_eq!(
            err.message,
            "1 validation error detected: Value 'standard' at 'type' failed to satisfy \
             constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        );
        assert_eq!(StateMachineType::parse_opt(None).unwrap(), None);
    }
}
