//! The actions of the `AWSStepFunctions` service, named by the `X-Amz-Target` header.

use crate::error::{ApiError, ErrorCode};

/// The `X-Amz-Target` prefix of every action.
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";

macro_rules! actions {
    ($($name:ident,)*) => {
        /// A Step Functions API action.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)] // AWS's names.
        pub enum Action { $($name,)* }

        impl Action {
            /// Every action.
            pub const ALL: &'static [Action] = &[$(Action::$name,)*];

            /// The action's name.
            pub fn name(self) -> &'static str {
                match self { $(Action::$name => stringify!($name),)* }
            }

            fn from_name(name: &str) -> Option<Action> {
                match name { $(stringify!($name) => Some(Action::$name),)* _ => None }
            }
        }
    };
}

actions! {
    CreateActivity,
    CreateStateMachine,
    CreateStateMachineAlias,
    DeleteActivity,
    DeleteStateMachine,
    DeleteStateMachineAlias,
    DeleteStateMachineVersion,
    DescribeActivity,
    DescribeExecution,
    DescribeMapRun,
    DescribeStateMachine,
    DescribeStateMachineAlias,
    DescribeStateMachineForExecution,
    GetActivityTask,
    GetExecutionHistory,
    ListActivities,
    ListExecutions,
    ListMapRuns,
    ListStateMachineAliases,
    ListStateMachineVersions,
    ListStateMachines,
    ListTagsForResource,
    PublishStateMachineVersion,
    RedriveExecution,
    SendTaskFailure,
    SendTaskHeartbeat,
    SendTaskSuccess,
    StartExecution,
    StartSyncExecution,
    StopExecution,
    TagResource,
    TestState,
    UntagResource,
    UpdateMapRun,
    UpdateStateMachine,
    UpdateStateMachineAlias,
    ValidateStateMachineDefinition,
}

impl Action {
    /// Reads the `X-Amz-Target` header (`AWSStepFunctions.StartExecution`).
    pub fn from_target(target: Option<&str>) -> Result<Action, ApiError> {
        target
            .and_then(|target| target.strip_prefix(TARGET_PREFIX))
            .and_then(Action::from_name)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::UnknownOperationException,
                    match target {
                        Some(target) => format!("Unknown operation {target}"),
                        None => "Missing X-Amz-Target header".to_string(),
                    },
                )
            })
    }

    /// Whether AWS serves the action on the `sync-` endpoint (`sync-states.<region>...`).
    pub fn is_sync_endpoint(self) -> bool {
        matches!(self, Action::StartSyncExecution | Action::TestState)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        for &action in Action::ALL {
            let target = format!("{TARGET_PREFIX}{}", action.name());
            assert_eq!(Action::from_target(Some(&target)).unwrap(), action);
        }
        for bad in [
            None,
            Some("StartExecution"),
            Some("AWSStepFunctions.Nope"),
            Some(""),
        ] {
            let err = Action::from_target(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnknownOperationException);
        }
    }
}
