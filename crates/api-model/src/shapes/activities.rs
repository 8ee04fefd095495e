//! Activity and task-token actions: Create/Describe/List/DeleteActivity, GetActivityTask,
//! SendTaskSuccess/Failure/Heartbeat.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Tag;
use crate::time::Timestamp;

/// `CreateActivity` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateActivityInput {
    /// `name`.
    pub name: String,
    /// `tags`.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// `encryptionConfiguration`.
    #[serde(default)]
    pub encryption_configuration: Option<Value>,
}

/// `CreateActivity` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateActivityOutput {
    /// `activityArn`.
    pub activity_arn: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
}

/// Requests that name one activity: `DescribeActivity`, `DeleteActivity`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityArnInput {
    /// `activityArn`.
    pub activity_arn: String,
}

/// `DescribeActivity` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeActivityOutput {
    /// `activityArn`.
    pub activity_arn: String,
    /// `name`.
    pub name: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
    /// `encryptionConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<Value>,
}

/// `ListActivities` request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListActivitiesInput {
    /// `maxResults`.
    #[serde(default)]
    pub max_results: Option<i64>,
    /// `nextToken`.
    #[serde(default)]
    pub next_token: Option<String>,
}

/// One entry of `ListActivities`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityListItem {
    /// `activityArn`.
    pub activity_arn: String,
    /// `name`.
    pub name: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
}

/// `ListActivities` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListActivitiesOutput {
    /// `activities`.
    pub activities: Vec<ActivityListItem>,
    /// `nextToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `GetActivityTask` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetActivityTaskInput {
    /// `activityArn`.
    pub activity_arn: String,
    /// `workerName`.
    #[serde(default)]
    pub worker_name: Option<String>,
}

/// `GetActivityTask` response: both members absent when no task arrived within the poll.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetActivityTaskOutput {
    /// `taskToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_token: Option<String>,
    /// `input` (JSON text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// `SendTaskSuccess` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskSuccessInput {
    /// `taskToken`.
    pub task_token: String,
    /// `output` (JSON text).
    pub output: String,
}

/// `SendTaskFailure` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskFailureInput {
    /// `taskToken`.
    pub task_token: String,
    /// `error`.
    #[serde(default)]
    pub error: Option<String>,
    /// `cause`.
    #[serde(default)]
    pub cause: Option<String>,
}

/// `SendTaskHeartbeat` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTaskHeartbeatInput {
    /// `taskToken`.
    pub task_token: String,
}
