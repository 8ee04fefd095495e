//! DescribeMapRun, ListMapRuns, UpdateMapRun. Baton does not start Map Runs (distributed Map)
//! yet, so no Map Run exists: describing or updating one is `ResourceNotFound` and an
//! execution's list is empty, which is what AWS answers for such resources.

use baton_api_model::ApiError;
use baton_api_model::arn::{Arn, Kind};
use baton_api_model::error::ErrorCode;
use serde::{Deserialize, Serialize};

use super::{Ctx, OrApi};

/// `DescribeMapRun` and `UpdateMapRun` request (the update members are accepted and unused).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MapRunArnInput {
    map_run_arn: String,
}

/// `ListMapRuns` request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMapRunsInput {
    execution_arn: String,
    #[serde(default)]
    max_results: Option<i64>,
}

/// `ListMapRuns` response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMapRunsOutput {
    map_runs: Vec<serde_json::Value>,
}

fn not_found(arn: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFound,
        format!("Resource not found: '{arn}'"),
    )
}

pub(crate) async fn describe(
    _ctx: &Ctx<'_>,
    input: MapRunArnInput,
) -> Result<baton_api_model::shapes::Empty, ApiError> {
    Arn::parse_kind(&input.map_run_arn, Kind::MapRun)?;
    Err(not_found(&input.map_run_arn))
}

pub(crate) async fn update(
    _ctx: &Ctx<'_>,
    input: MapRunArnInput,
) -> Result<baton_api_model::shapes::Empty, ApiError> {
    Arn::parse_kind(&input.map_run_arn, Kind::MapRun)?;
    Err(not_found(&input.map_run_arn))
}

pub(crate) async fn list(
    ctx: &Ctx<'_>,
    input: ListMapRunsInput,
) -> Result<ListMapRunsOutput, ApiError> {
    baton_api_model::validate::page_size(input.max_results)?;
    Arn::parse_kind(&input.execution_arn, Kind::Execution)?;
    ctx.runtime
        .describe_execution(&input.execution_arn)
        .await
        .or_api()?;
    Ok(ListMapRunsOutput {
        map_runs: Vec::new(),
    })
}
