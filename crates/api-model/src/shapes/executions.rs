//! Execution actions: StartExecution, StartSyncExecution, DescribeExecution, ListExecutions,
//! StopExecution, GetExecutionHistory, RedriveExecution.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::DataDetails;
use crate::time::Timestamp;

/// `StartExecution` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionInput {
    /// `stateMachineArn` (may be a version or alias ARN).
    pub state_machine_arn: String,
    /// `name` (a UUID when absent).
    #[serde(default)]
    pub name: Option<String>,
    /// `input` (JSON text, `{}` when absent).
    #[serde(default)]
    pub input: Option<String>,
    /// `traceHeader`.
    #[serde(default)]
    pub trace_header: Option<String>,
}

/// `StartExecution` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartExecutionOutput {
    /// `executionArn`.
    pub execution_arn: String,
    /// `startDate`.
    pub start_date: Timestamp,
}

/// `StartSyncExecution` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSyncExecutionInput {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// `input`.
    #[serde(default)]
    pub input: Option<String>,
    /// `traceHeader`.
    #[serde(default)]
    pub trace_header: Option<String>,
    /// `includedData`.
    #[serde(default)]
    pub included_data: Option<String>,
}

/// `billingDetails` of `StartSyncExecution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingDetails {
    /// `billedMemoryUsedInMB`.
    #[serde(rename = "billedMemoryUsedInMB")]
    pub billed_memory_used_in_mb: u64,
    /// `billedDurationInMilliseconds`.
    pub billed_duration_in_milliseconds: u64,
}

/// `StartSyncExecution` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartSyncExecutionOutput {
    /// `executionArn`.
    pub execution_arn: String,
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `startDate`.
    pub start_date: Timestamp,
    /// `stopDate`.
    pub stop_date: Timestamp,
    /// `status`: SUCCEEDED, FAILED or TIMED_OUT.
    pub status: String,
    /// `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `cause`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// `input`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `inputDetails`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_details: Option<DataDetails>,
    /// `output`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// `outputDetails`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_details: Option<DataDetails>,
    /// `traceHeader`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    /// `billingDetails`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_details: Option<BillingDetails>,
}

/// `DescribeExecution` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionInput {
    /// `executionArn`.
    pub execution_arn: String,
    /// `includedData`.
    #[serde(default)]
    pub included_data: Option<String>,
}

/// `DescribeExecution` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeExecutionOutput {
    /// `executionArn`.
    pub execution_arn: String,
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `status`.
    pub status: String,
    /// `startDate`.
    pub start_date: Timestamp,
    /// `stopDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Timestamp>,
    /// `input`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `inputDetails`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_details: Option<DataDetails>,
    /// `output`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// `outputDetails`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_details: Option<DataDetails>,
    /// `traceHeader`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_header: Option<String>,
    /// `mapRunArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    /// `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `cause`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// `stateMachineVersionArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    /// `stateMachineAliasArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
    /// `redriveCount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_count: Option<u64>,
    /// `redriveDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<Timestamp>,
    /// `redriveStatus`: REDRIVABLE, NOT_REDRIVABLE, REDRIVABLE_BY_MAP_RUN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_status: Option<String>,
    /// `redriveStatusReason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_status_reason: Option<String>,
}

/// `ListExecutions` request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsInput {
    /// `stateMachineArn`.
    #[serde(default)]
    pub state_machine_arn: Option<String>,
    /// `statusFilter`.
    #[serde(default)]
    pub status_filter: Option<String>,
    /// `maxResults`.
    #[serde(default)]
    pub max_results: Option<i64>,
    /// `nextToken`.
    #[serde(default)]
    pub next_token: Option<String>,
    /// `mapRunArn`.
    #[serde(default)]
    pub map_run_arn: Option<String>,
    /// `redriveFilter`: REDRIVEN or NOT_REDRIVEN.
    #[serde(default)]
    pub redrive_filter: Option<String>,
}

/// One entry of `ListExecutions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionListItem {
    /// `executionArn`.
    pub execution_arn: String,
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `status`.
    pub status: String,
    /// `startDate`.
    pub start_date: Timestamp,
    /// `stopDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<Timestamp>,
    /// `mapRunArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    /// `itemCount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
    /// `stateMachineVersionArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    /// `stateMachineAliasArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
    /// `redriveCount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_count: Option<u64>,
    /// `redriveDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<Timestamp>,
}

/// `ListExecutions` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsOutput {
    /// `executions`.
    pub executions: Vec<ExecutionListItem>,
    /// `nextToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `StopExecution` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionInput {
    /// `executionArn`.
    pub execution_arn: String,
    /// `error`.
    #[serde(default)]
    pub error: Option<String>,
    /// `cause`.
    #[serde(default)]
    pub cause: Option<String>,
}

/// `StopExecution` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopExecutionOutput {
    /// `stopDate`.
    pub stop_date: Timestamp,
}

/// `GetExecutionHistory` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryInput {
    /// `executionArn`.
    pub execution_arn: String,
    /// `maxResults`.
    #[serde(default)]
    pub max_results: Option<i64>,
    /// `reverseOrder`.
    #[serde(default)]
    pub reverse_order: bool,
    /// `nextToken`.
    #[serde(default)]
    pub next_token: Option<String>,
    /// `includeExecutionData` (default true).
    #[serde(default)]
    pub include_execution_data: Option<bool>,
}

/// `GetExecutionHistory` response; events are rendered by [`crate::history::render`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetExecutionHistoryOutput {
    /// `events`.
    pub events: Vec<Value>,
    /// `nextToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `RedriveExecution` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedriveExecutionInput {
    /// `executionArn`.
    pub execution_arn: String,
    /// `clientToken`.
    #[serde(default)]
    pub client_token: Option<String>,
}

/// `RedriveExecution` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedriveExecutionOutput {
    /// `redriveDate`.
    pub redrive_date: Timestamp,
}
