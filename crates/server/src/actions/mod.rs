//! One function per API action, grouped by resource: each takes the action's input shape and
//! returns its output shape, converting explicitly between the wire (`baton_api_model`) and
//! the runtime's records.

mod activities;
mod executions;
mod map_runs;
mod state_machines;
mod tags;
mod test_state;
mod versions;

use baton_api_model::error::ErrorCode;
use baton_api_model::{Action, ApiError, request};
use baton_runtime::Runtime;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

/// What every action gets besides its input.
pub(crate) struct Ctx<'a> {
    pub(crate) runtime: &'a Runtime,
    /// The request's region (from its signature, else the server's default).
    pub(crate) region: String,
    /// The account id in ARNs the server mints itself (TestState's context).
    pub(crate) account: String,
    /// Becomes `true` when the server shuts down.
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Decodes the body for `action`, runs it and encodes its output.
pub(crate) async fn dispatch(
    ctx: &Ctx<'_>,
    action: Action,
    body: &[u8],
) -> Result<Value, ApiError> {
    macro_rules! run {
        ($handler:path) => {{
            let input = request::decode(body)?;
            encode(&$handler(ctx, input).await?)
        }};
    }
    match action {
        Action::CreateStateMachine => run!(state_machines::create),
        Action::DescribeStateMachine => run!(state_machines::describe),
        Action::UpdateStateMachine => run!(state_machines::update),
        Action::DeleteStateMachine => run!(state_machines::delete),
        Action::ListStateMachines => run!(state_machines::list),
        Action::ValidateStateMachineDefinition => run!(state_machines::validate_definition),
        Action::DescribeStateMachineForExecution => run!(state_machines::describe_for_execution),
        Action::StartExecution => run!(executions::start),
        Action::StartSyncExecution => run!(executions::start_sync),
        Action::DescribeExecution => run!(executions::describe),
        Action::ListExecutions => run!(executions::list),
        Action::StopExecution => run!(executions::stop),
        Action::GetExecutionHistory => run!(executions::history),
        Action::RedriveExecution => run!(executions::redrive),
        Action::CreateActivity => run!(activities::create),
        Action::DescribeActivity => run!(activities::describe),
        Action::ListActivities => run!(activities::list),
        Action::DeleteActivity => run!(activities::delete),
        Action::GetActivityTask => run!(activities::get_task),
        Action::SendTaskSuccess => run!(activities::send_success),
        Action::SendTaskFailure => run!(activities::send_failure),
        Action::SendTaskHeartbeat => run!(activities::send_heartbeat),
        Action::TagResource => run!(tags::tag),
        Action::UntagResource => run!(tags::untag),
        Action::ListTagsForResource => run!(tags::list),
        Action::PublishStateMachineVersion => run!(versions::publish),
        Action::ListStateMachineVersions => run!(versions::list_versions),
        Action::DeleteStateMachineVersion => run!(versions::delete_version),
        Action::CreateStateMachineAlias => run!(versions::create_alias),
        Action::DescribeStateMachineAlias => run!(versions::describe_alias),
        Action::UpdateStateMachineAlias => run!(versions::update_alias),
        Action::DeleteStateMachineAlias => run!(versions::delete_alias),
        Action::ListStateMachineAliases => run!(versions::list_aliases),
        Action::DescribeMapRun => run!(map_runs::describe),
        Action::ListMapRuns => run!(map_runs::list),
        Action::UpdateMapRun => run!(map_runs::update),
        Action::TestState => run!(test_state::run),
    }
}

fn encode(output: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(output).map_err(|err| {
        tracing::error!("cannot encode a response: {err}");
        ApiError::internal()
    })
}

/// Maps a runtime error to its API error; the runtime already words messages as AWS does.
/// Engine faults are logged and answered with `InternalFailure`.
pub(crate) fn api_error(err: baton_runtime::Error) -> ApiError {
    use baton_runtime::Error as E;
    let (code, message) = match err {
        E::InvalidArn(m) => (ErrorCode::InvalidArn, m),
        E::InvalidName(m) => (ErrorCode::InvalidName, m),
        E::InvalidDefinition(m) => (ErrorCode::InvalidDefinition, m),
        E::InvalidExecutionInput(m) => (ErrorCode::InvalidExecutionInput, m),
        E::InvalidOutput(m) => (ErrorCode::InvalidOutput, m),
        E::InvalidToken(m) => (ErrorCode::InvalidToken, m),
        E::ValidationException(m) => (ErrorCode::ValidationException, m),
        E::StateMachineDoesNotExist(m) => (ErrorCode::StateMachineDoesNotExist, m),
        E::StateMachineAlreadyExists(m) => (ErrorCode::StateMachineAlreadyExists, m),
        E::ExecutionDoesNotExist(m) => (ErrorCode::ExecutionDoesNotExist, m),
        E::ExecutionAlreadyExists(m) => (ErrorCode::ExecutionAlreadyExists, m),
        E::ActivityDoesNotExist(m) => (ErrorCode::ActivityDoesNotExist, m),
        E::TaskDoesNotExist(m) => (ErrorCode::TaskDoesNotExist, m),
        E::TaskTimedOut(m) => (ErrorCode::TaskTimedOut, m),
        E::ResourceNotFound(m) => (ErrorCode::ResourceNotFound, m),
        E::ConflictException(m) => (ErrorCode::ConflictException, m),
        E::ExecutionNotRedrivable(m) => (ErrorCode::ExecutionNotRedrivable, m),
        E::StateMachineTypeNotSupported(m) => (ErrorCode::StateMachineTypeNotSupported, m),
        other => {
            tracing::error!("engine fault: {other}");
            return ApiError::internal();
        }
    };
    ApiError::new(code, message)
}

/// `?` on runtime results inside actions.
pub(crate) trait OrApi<T> {
    fn or_api(self) -> Result<T, ApiError>;
}

impl<T> OrApi<T> for Result<T, baton_runtime::Error> {
    fn or_api(self) -> Result<T, ApiError> {
        self.map_err(api_error)
    }
}

/// Current wall-clock time in milliseconds, for dates the runtime does not record (update
/// dates).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Converts the wire's `maxResults` and `nextToken` into the runtime's paging arguments,
/// checking the range as AWS does.
pub(crate) fn page_args(
    max_results: Option<i64>,
    next_token: Option<String>,
) -> Result<baton_runtime::PageArgs, ApiError> {
    let size = baton_api_model::validate::page_size(max_results)?;
    if let Some(token) = &next_token
        && token.chars().count() > baton_api_model::page::MAX_TOKEN_CHARS
    {
        return Err(ApiError::too_long(
            "nextToken",
            baton_api_model::page::MAX_TOKEN_CHARS,
        ));
    }
    Ok(baton_runtime::PageArgs {
        max_results: Some(size),
        next_token,
    })
}

/// Whether a resource ARN belongs to `region`. Step Functions is regional: a client sees only
/// the resources of the region its requests are signed for. Lists filter their pages with it,
/// so a page may hold fewer items than asked for (still with a `nextToken`), as AWS allows.
pub(crate) fn in_region(arn: &str, region: &str) -> bool {
    arn.split(':').nth(3) == Some(region)
}
