//! State machine actions: Create/Describe/Update/Delete/List, ValidateStateMachineDefinition,
//! DescribeStateMachineForExecution.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Tag;
use crate::time::Timestamp;

/// `loggingConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfiguration {
    /// `level`: ALL, ERROR, FATAL, OFF.
    #[serde(default = "off")]
    pub level: String,
    /// `includeExecutionData`.
    #[serde(default)]
    pub include_execution_data: bool,
    /// `destinations` (kept as sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<Value>,
}

fn off() -> String {
    "OFF".into()
}

impl Default for LoggingConfiguration {
    fn default() -> Self {
        LoggingConfiguration {
            level: off(),
            include_execution_data: false,
            destinations: Vec::new(),
        }
    }
}

/// `tracingConfiguration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TracingConfiguration {
    /// `enabled`.
    #[serde(default)]
    pub enabled: bool,
}

/// `CreateStateMachine` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineInput {
    /// `name`.
    pub name: String,
    /// `definition` (ASL text).
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `type`: STANDARD (default) or EXPRESS.
    #[serde(default)]
    pub r#type: Option<String>,
    /// `loggingConfiguration`.
    #[serde(default)]
    pub logging_configuration: Option<LoggingConfiguration>,
    /// `tracingConfiguration`.
    #[serde(default)]
    pub tracing_configuration: Option<TracingConfiguration>,
    /// `tags`.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// `publish`: also publish version 1.
    #[serde(default)]
    pub publish: bool,
    /// `versionDescription`.
    #[serde(default)]
    pub version_description: Option<String>,
    /// `encryptionConfiguration` (kept as sent).
    #[serde(default)]
    pub encryption_configuration: Option<Value>,
}

/// `CreateStateMachine` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineOutput {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
    /// `stateMachineVersionArn`, when `publish` was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// `DescribeStateMachine` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineInput {
    /// `stateMachineArn` (may be a version or alias ARN).
    pub state_machine_arn: String,
    /// `includedData`: ALL_DATA or METADATA_ONLY.
    #[serde(default)]
    pub included_data: Option<String>,
}

/// `DescribeStateMachine` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineOutput {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `status`: ACTIVE or DELETING.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `definition`.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `type`.
    pub r#type: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
    /// `loggingConfiguration`.
    pub logging_configuration: LoggingConfiguration,
    /// `tracingConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
    /// `label`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `revisionId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// `description` (of a version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `encryptionConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<Value>,
}

/// `UpdateStateMachine` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineInput {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `definition`.
    #[serde(default)]
    pub definition: Option<String>,
    /// `roleArn`.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// `loggingConfiguration`.
    #[serde(default)]
    pub logging_configuration: Option<LoggingConfiguration>,
    /// `tracingConfiguration`.
    #[serde(default)]
    pub tracing_configuration: Option<TracingConfiguration>,
    /// `publish`.
    #[serde(default)]
    pub publish: bool,
    /// `versionDescription`.
    #[serde(default)]
    pub version_description: Option<String>,
    /// `encryptionConfiguration`.
    #[serde(default)]
    pub encryption_configuration: Option<Value>,
}

/// `UpdateStateMachine` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineOutput {
    /// `updateDate`.
    pub update_date: Timestamp,
    /// `revisionId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
    /// `stateMachineVersionArn`, when `publish` was set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
}

/// `DeleteStateMachine` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineInput {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
}

/// `ListStateMachines` request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesInput {
    /// `maxResults`.
    #[serde(default)]
    pub max_results: Option<i64>,
    /// `nextToken`.
    #[serde(default)]
    pub next_token: Option<String>,
}

/// One entry of `ListStateMachines`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineListItem {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `type`.
    pub r#type: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
}

/// `ListStateMachines` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachinesOutput {
    /// `stateMachines`.
    pub state_machines: Vec<StateMachineListItem>,
    /// `nextToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `ValidateStateMachineDefinition` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateStateMachineDefinitionInput {
    /// `definition`.
    pub definition: String,
    /// `type`.
    #[serde(default)]
    pub r#type: Option<String>,
    /// `severity`: ERROR (default) or WARNING: the lowest severity reported.
    #[serde(default)]
    pub severity: Option<String>,
    /// `maxResults` (diagnostics returned, default 100).
    #[serde(default)]
    pub max_results: Option<i64>,
}

/// One diagnostic of `ValidateStateMachineDefinition`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationDiagnostic {
    /// `severity`: ERROR or WARNING.
    pub severity: String,
    /// `code`.
    pub code: String,
    /// `message`.
    pub message: String,
    /// `location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// `ValidateStateMachineDefinition` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateStateMachineDefinitionOutput {
    /// `result`: OK or FAIL.
    pub result: String,
    /// `diagnostics`.
    pub diagnostics: Vec<ValidationDiagnostic>,
    /// `truncated`.
    pub truncated: bool,
}

/// `DescribeStateMachineForExecution` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineForExecutionInput {
    /// `executionArn`.
    pub execution_arn: String,
    /// `includedData`.
    #[serde(default)]
    pub included_data: Option<String>,
}

/// `DescribeStateMachineForExecution` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineForExecutionOutput {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `name`.
    pub name: String,
    /// `definition`.
    pub definition: String,
    /// `roleArn`.
    pub role_arn: String,
    /// `updateDate`.
    pub update_date: Timestamp,
    /// `loggingConfiguration`.
    pub logging_configuration: LoggingConfiguration,
    /// `tracingConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_configuration: Option<TracingConfiguration>,
    /// `mapRunArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_run_arn: Option<String>,
    /// `label`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `revisionId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}
