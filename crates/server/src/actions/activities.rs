//! CreateActivity, DescribeActivity, ListActivities, DeleteActivity, GetActivityTask and the
//! task-token callbacks SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat.

use std::time::Duration;

use baton_api_model::arn::{Arn, Kind};
use baton_api_model::shapes::*;
use baton_api_model::validate::{check_length, check_name, parse_output};
use baton_api_model::{ApiError, Timestamp};

use super::{Ctx, OrApi, page_args};

/// AWS holds a `GetActivityTask` poll open for up to 60 seconds.
const LONG_POLL: Duration = Duration::from_secs(60);

/// The longest task token AWS accepts.
const MAX_TOKEN_CHARS: usize = 1024;

pub(crate) async fn create(
    ctx: &Ctx<'_>,
    input: CreateActivityInput,
) -> Result<CreateActivityOutput, ApiError> {
    check_name(&input.name)?;
    super::tags::check_tags(&input.tags)?;
    let activity = ctx
        .runtime
        .create_activity(baton_runtime::CreateActivity {
            name: input.name,
            tags: input
                .tags
                .into_iter()
                .map(|t| baton_store::Tag {
                    key: t.key,
                    value: t.value,
                })
                .collect(),
            region: Some(ctx.region.clone()),
        })
        .await
        .or_api()?;
    Ok(CreateActivityOutput {
        activity_arn: activity.arn,
        creation_date: Timestamp(activity.created_ms),
    })
}

pub(crate) async fn describe(
    ctx: &Ctx<'_>,
    input: ActivityArnInput,
) -> Result<DescribeActivityOutput, ApiError> {
    Arn::parse_kind(&input.activity_arn, Kind::Activity)?;
    let activity = ctx
        .runtime
        .describe_activity(&input.activity_arn)
        .await
        .or_api()?;
    Ok(DescribeActivityOutput {
        activity_arn: activity.arn,
        name: activity.name,
        creation_date: Timestamp(activity.created_ms),
        encryption_configuration: None,
    })
}

pub(crate) async fn list(
    ctx: &Ctx<'_>,
    input: ListActivitiesInput,
) -> Result<ListActivitiesOutput, ApiError> {
    let page = page_args(input.max_results, input.next_token)?;
    let listed = ctx.runtime.list_activities(page).await.or_api()?;
    Ok(ListActivitiesOutput {
        activities: listed
            .items
            .into_iter()
            .filter(|a| super::in_region(&a.arn, &ctx.region))
            .map(|a| ActivityListItem {
                activity_arn: a.arn,
                name: a.name,
                creation_date: Timestamp(a.created_ms),
            })
            .collect(),
        next_token: listed.next_token,
    })
}

pub(crate) async fn delete(ctx: &Ctx<'_>, input: ActivityArnInput) -> Result<Empty, ApiError> {
    Arn::parse_kind(&input.activity_arn, Kind::Activity)?;
    ctx.runtime
        .delete_activity(&input.activity_arn)
        .await
        .or_api()?;
    Ok(Empty {})
}

/// Long-polls for a task; answers `{}` when none arrives within the poll or when the server
/// shuts down meanwhile (the worker simply polls again, elsewhere).
pub(crate) async fn get_task(
    ctx: &Ctx<'_>,
    input: GetActivityTaskInput,
) -> Result<GetActivityTaskOutput, ApiError> {
    Arn::parse_kind(&input.activity_arn, Kind::Activity)?;
    check_length("workerName", input.worker_name.as_deref(), 80)?;
    let mut shutdown = ctx.shutdown.clone();
    if *shutdown.borrow() {
        return Ok(GetActivityTaskOutput::default());
    }
    let poll = ctx
        .runtime
        .get_activity_task(&input.activity_arn, input.worker_name, LONG_POLL);
    let task = tokio::select! {
        task = poll => task.or_api()?,
        _ = shutdown.wait_for(|stopping| *stopping) => None,
    };
    Ok(match task {
        Some(task) => GetActivityTaskOutput {
            task_token: Some(task.token),
            input: Some(task.input),
        },
        None => GetActivityTaskOutput::default(),
    })
}

fn check_token(token: &str) -> Result<(), ApiError> {
    if token.is_empty() {
        return Err(ApiError::invalid_member(
            "taskToken",
            token,
            "Member must have length greater than or equal to 1",
        ));
    }
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(ApiError::too_long("taskToken", MAX_TOKEN_CHARS));
    }
    Ok(())
}

pub(crate) async fn send_success(
    ctx: &Ctx<'_>,
    input: SendTaskSuccessInput,
) -> Result<Empty, ApiError> {
    check_token(&input.task_token)?;
    parse_output(&input.output)?;
    ctx.runtime
        .send_task_success(&input.task_token, &input.output)
        .await
        .or_api()?;
    Ok(Empty {})
}

pub(crate) async fn send_failure(
    ctx: &Ctx<'_>,
    input: SendTaskFailureInput,
) -> Result<Empty, ApiError> {
    check_token(&input.task_token)?;
    check_length("error", input.error.as_deref(), 256)?;
    check_length("cause", input.cause.as_deref(), 32_768)?;
    ctx.runtime
        .send_task_failure(&input.task_token, input.error, input.cause)
        .await
        .or_api()?;
    Ok(Empty {})
}

pub(crate) async fn send_heartbeat(
    ctx: &Ctx<'_>,
    input: SendTaskHeartbeatInput,
) -> Result<Empty, ApiError> {
    check_token(&input.task_token)?;
    ctx.runtime
        .send_task_heartbeat(&input.task_token)
        .await
        .or_api()?;
    Ok(Empty {})
}
