//! StartExecution, StartSyncExecution, DescribeExecution, ListExecutions, StopExecution,
//! GetExecutionHistory, RedriveExecution.

use std::time::Duration;

use baton_api_model::arn::{Arn, Kind};
use baton_api_model::enums::{ExecutionStatus as WireStatus, IncludedData, RedriveFilter};
use baton_api_model::error::ErrorCode;
use baton_api_model::shapes::*;
use baton_api_model::validate::{check_length, check_name, parse_input};
use baton_api_model::{ApiError, Timestamp, history};
use baton_store::{ExecutionRecord, ExecutionStatus, MachineType};

use super::{Ctx, OrApi, page_args};

/// Express executions run for at most five minutes.
const EXPRESS_LIMIT: Duration = Duration::from_secs(300);

/// The longest `error` and `cause` AWS accepts.
const MAX_ERROR_CHARS: usize = 256;
const MAX_CAUSE_CHARS: usize = 32_768;

fn status(status: ExecutionStatus) -> String {
    status.as_str().to_string()
}

fn store_status(status: WireStatus) -> ExecutionStatus {
    match status {
        WireStatus::Running => ExecutionStatus::Running,
        WireStatus::Succeeded => ExecutionStatus::Succeeded,
        WireStatus::Failed => ExecutionStatus::Failed,
        WireStatus::TimedOut => ExecutionStatus::TimedOut,
        WireStatus::Aborted => ExecutionStatus::Aborted,
        WireStatus::PendingRedrive => ExecutionStatus::PendingRedrive,
    }
}

/// Checks the name and input before anything is looked up, as AWS does.
fn check_start(arn: &str, name: Option<&str>, input: Option<&str>) -> Result<(), ApiError> {
    Arn::parse_kind(arn, Kind::StateMachine)?;
    if let Some(name) = name {
        check_name(name)?;
    }
    parse_input(input)?;
    Ok(())
}

pub(crate) async fn start(
    ctx: &Ctx<'_>,
    input: StartExecutionInput,
) -> Result<StartExecutionOutput, ApiError> {
    check_start(
        &input.state_machine_arn,
        input.name.as_deref(),
        input.input.as_deref(),
    )?;
    let execution = ctx
        .runtime
        .start_execution(baton_runtime::StartExecution {
            state_machine_arn: input.state_machine_arn,
            name: input.name,
            input: input.input,
        })
        .await
        .or_api()?;
    Ok(StartExecutionOutput {
        execution_arn: execution.arn,
        start_date: Timestamp(execution.start_ms),
    })
}

pub(crate) async fn start_sync(
    ctx: &Ctx<'_>,
    input: StartSyncExecutionInput,
) -> Result<StartSyncExecutionOutput, ApiError> {
    check_start(
        &input.state_machine_arn,
        input.name.as_deref(),
        input.input.as_deref(),
    )?;
    let metadata_only = IncludedData::parse_opt(input.included_data.as_deref())?
        == Some(IncludedData::MetadataOnly);
    let unqualified = unqualified(&input.state_machine_arn);
    let machine = ctx
        .runtime
        .describe_state_machine(&unqualified)
        .await
        .or_api()?;
    if machine.kind != MachineType::Express {
        return Err(ApiError::new(
            ErrorCode::StateMachineTypeNotSupported,
            "This operation is not supported by this type of state machine",
        ));
    }
    let started = ctx
        .runtime
        .start_execution(baton_runtime::StartExecution {
            state_machine_arn: input.state_machine_arn,
            name: input.name,
            input: input.input,
        })
        .await
        .or_api()?;
    let execution = ctx
        .runtime
        .wait_for_execution(&started.arn, EXPRESS_LIMIT)
        .await
        .or_api()?;
    let (status, error, stop_ms) = if execution.status == ExecutionStatus::Running {
        // The five minutes of an Express execution are over.
        let stopped = ctx
            .runtime
            .stop_execution(&execution.arn, Some("States.Timeout".into()), None)
            .await
            .or_api()?;
        (
            "TIMED_OUT".to_string(),
            Some("States.Timeout".to_string()),
            stopped.stop_ms,
        )
    } else {
        (
            status(execution.status),
            execution.error.clone(),
            execution.stop_ms,
        )
    };
    let stop_ms = stop_ms.unwrap_or(execution.start_ms);
    let duration = u64::try_from(stop_ms.saturating_sub(execution.start_ms)).unwrap_or(0);
    let data = !metadata_only;
    Ok(StartSyncExecutionOutput {
        execution_arn: execution.arn,
        state_machine_arn: execution.state_machine_arn,
        name: execution.name,
        start_date: Timestamp(execution.start_ms),
        stop_date: Timestamp(stop_ms),
        status,
        error,
        cause: execution.cause,
        input: data.then_some(execution.input),
        input_details: Some(DataDetails { included: data }),
        output: if data { execution.output } else { None },
        output_details: Some(DataDetails { included: data }),
        trace_header: None,
        billing_details: Some(BillingDetails {
            billed_memory_used_in_mb: 64,
            // Billed in 100 ms increments, at least 100 ms.
            billed_duration_in_milliseconds: duration.div_ceil(100).max(1) * 100,
        }),
    })
}

/// The state machine ARN without a version or alias qualifier.
fn unqualified(arn: &str) -> String {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() > 7 {
        parts[..7].join(":")
    } else {
        arn.to_string()
    }
}

fn redrive_status(execution: &ExecutionRecord) -> (Option<String>, Option<String>) {
    if execution.kind == MachineType::Express {
        return (None, None);
    }
    match execution.status {
        ExecutionStatus::Running | ExecutionStatus::Succeeded | ExecutionStatus::PendingRedrive => {
            (
                Some("NOT_REDRIVABLE".into()),
                Some(format!(
                    "Execution is {} and cannot be redriven",
                    execution.status.as_str()
                )),
            )
        }
        _ => (Some("REDRIVABLE".into()), None),
    }
}

pub(crate) async fn describe(
    ctx: &Ctx<'_>,
    input: DescribeExecutionInput,
) -> Result<DescribeExecutionOutput, ApiError> {
    let metadata_only = IncludedData::parse_opt(input.included_data.as_deref())?
        == Some(IncludedData::MetadataOnly);
    Arn::parse_kind(&input.execution_arn, Kind::Execution)?;
    let execution = ctx
        .runtime
        .describe_execution(&input.execution_arn)
        .await
        .or_api()?;
    let data = !metadata_only;
    let (redrive_status, redrive_status_reason) = redrive_status(&execution);
    let succeeded = execution.status == ExecutionStatus::Succeeded;
    Ok(DescribeExecutionOutput {
        execution_arn: execution.arn,
        state_machine_arn: execution.state_machine_arn,
        name: execution.name,
        status: status(execution.status),
        start_date: Timestamp(execution.start_ms),
        stop_date: execution.stop_ms.map(Timestamp),
        input: data.then_some(execution.input),
        input_details: Some(DataDetails { included: data }),
        output: if data && succeeded {
            execution.output
        } else {
            None
        },
        output_details: succeeded.then_some(DataDetails { included: data }),
        trace_header: None,
        map_run_arn: None,
        error: execution.error,
        cause: execution.cause,
        state_machine_version_arn: execution.version_arn,
        state_machine_alias_arn: execution.alias_arn,
        redrive_count: (execution.kind == MachineType::Standard).then_some(execution.redrive_count),
        redrive_date: execution.redrive_ms.map(Timestamp),
        redrive_status,
        redrive_status_reason,
    })
}

pub(crate) async fn list(
    ctx: &Ctx<'_>,
    input: ListExecutionsInput,
) -> Result<ListExecutionsOutput, ApiError> {
    let status_filter = WireStatus::parse_opt(input.status_filter.as_deref())?;
    let redrive_filter = RedriveFilter::parse_opt(input.redrive_filter.as_deref())?;
    let page = page_args(input.max_results, input.next_token)?;
    let state_machine_arn = match (input.state_machine_arn, input.map_run_arn) {
        (Some(arn), None) => arn,
        (None, Some(map_run)) => {
            // Baton starts no Map Runs yet, so every Map Run ARN names nothing.
            Arn::parse_kind(&map_run, Kind::MapRun)?;
            return Err(ApiError::new(
                ErrorCode::ResourceNotFound,
                format!("Resource not found: '{map_run}'"),
            ));
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::ValidationException,
                "Must provide a StateMachine ARN or MapRun ARN",
            ));
        }
    };
    Arn::parse_kind(&state_machine_arn, Kind::StateMachine)?;
    let listed = ctx
        .runtime
        .list_executions(baton_runtime::ListExecutions {
            state_machine_arn,
            status: status_filter.map(store_status),
            page,
        })
        .await
        .or_api()?;
    let executions = listed
        .items
        .into_iter()
        .filter(|e| match redrive_filter {
            None => true,
            Some(RedriveFilter::Redriven) => e.redrive_count > 0,
            Some(RedriveFilter::NotRedriven) => e.redrive_count == 0,
        })
        .map(|e| ExecutionListItem {
            redrive_count: (e.kind == MachineType::Standard).then_some(e.redrive_count),
            execution_arn: e.arn,
            state_machine_arn: e.state_machine_arn,
            name: e.name,
            status: status(e.status),
            start_date: Timestamp(e.start_ms),
            stop_date: e.stop_ms.map(Timestamp),
            map_run_arn: None,
            item_count: None,
            state_machine_version_arn: e.version_arn,
            state_machine_alias_arn: e.alias_arn,
            redrive_date: e.redrive_ms.map(Timestamp),
        })
        .collect();
    Ok(ListExecutionsOutput {
        executions,
        next_token: listed.next_token,
    })
}

pub(crate) async fn stop(
    ctx: &Ctx<'_>,
    input: StopExecutionInput,
) -> Result<StopExecutionOutput, ApiError> {
    Arn::parse_kind(&input.execution_arn, Kind::Execution)?;
    check_length("error", input.error.as_deref(), MAX_ERROR_CHARS)?;
    check_length("cause", input.cause.as_deref(), MAX_CAUSE_CHARS)?;
    let execution = ctx
        .runtime
        .stop_execution(&input.execution_arn, input.error, input.cause)
        .await
        .or_api()?;
    Ok(StopExecutionOutput {
        stop_date: Timestamp(execution.stop_ms.unwrap_or_else(super::now_ms)),
    })
}

pub(crate) async fn history(
    ctx: &Ctx<'_>,
    input: GetExecutionHistoryInput,
) -> Result<GetExecutionHistoryOutput, ApiError> {
    Arn::parse_kind(&input.execution_arn, Kind::Execution)?;
    let page = page_args(input.max_results, input.next_token)?;
    let include_data = input.include_execution_data.unwrap_or(true);
    let listed = ctx
        .runtime
        .get_execution_history(baton_runtime::GetHistory {
            execution_arn: input.execution_arn,
            reverse: input.reverse_order,
            page,
        })
        .await
        .or_api()?;
    Ok(GetExecutionHistoryOutput {
        events: listed
            .items
            .iter()
            .map(|e| {
                history::render_stored(
                    e.id,
                    e.previous_event_id,
                    e.timestamp_ms,
                    &e.event_type,
                    &e.details,
                    include_data,
                )
            })
            .collect(),
        next_token: listed.next_token,
    })
}

/// `RedriveExecution`: the runtime continues the execution; the answer is its `redriveDate`.
pub(crate) async fn redrive(
    ctx: &Ctx<'_>,
    input: RedriveExecutionInput,
) -> Result<RedriveExecutionOutput, ApiError> {
    Arn::parse_kind(&input.execution_arn, Kind::Execution)?;
    check_length("clientToken", input.client_token.as_deref(), 64)?;
    let redrive_ms = ctx
        .runtime
        .redrive_execution(&input.execution_arn, input.client_token.as_deref())
        .await
        .or_api()?;
    Ok(RedriveExecutionOutput {
        redrive_date: Timestamp(redrive_ms),
    })
}
