//! Versions and aliases: PublishStateMachineVersion, ListStateMachineVersions,
//! DeleteStateMachineVersion, Create/Describe/Update/Delete/ListStateMachineAlias(es).

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// `PublishStateMachineVersion` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishStateMachineVersionInput {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `revisionId`: publish only if the current revision is this one.
    #[serde(default)]
    pub revision_id: Option<String>,
    /// `description`.
    #[serde(default)]
    pub description: Option<String>,
}

/// `PublishStateMachineVersion` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishStateMachineVersionOutput {
    /// `creationDate`.
    pub creation_date: Timestamp,
    /// `stateMachineVersionArn`.
    pub state_machine_version_arn: String,
}

/// `ListStateMachineVersions` and `ListStateMachineAliases` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListByStateMachineInput {
    /// `stateMachineArn`.
    pub state_machine_arn: String,
    /// `nextToken`.
    #[serde(default)]
    pub next_token: Option<String>,
    /// `maxResults`.
    #[serde(default)]
    pub max_results: Option<i64>,
}

/// One entry of `ListStateMachineVersions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineVersionListItem {
    /// `stateMachineVersionArn`.
    pub state_machine_version_arn: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
}

/// `ListStateMachineVersions` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachineVersionsOutput {
    /// `stateMachineVersions`.
    pub state_machine_versions: Vec<StateMachineVersionListItem>,
    /// `nextToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `DeleteStateMachineVersion` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteStateMachineVersionInput {
    /// `stateMachineVersionArn`.
    pub state_machine_version_arn: String,
}

/// One route of an alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingConfigurationListItem {
    /// `stateMachineVersionArn`.
    pub state_machine_version_arn: String,
    /// `weight` (percent).
    pub weight: u32,
}

/// `CreateStateMachineAlias` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineAliasInput {
    /// `description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `name`.
    pub name: String,
    /// `routingConfiguration`.
    pub routing_configuration: Vec<RoutingConfigurationListItem>,
}

/// `CreateStateMachineAlias` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineAliasOutput {
    /// `stateMachineAliasArn`.
    pub state_machine_alias_arn: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
}

/// `DescribeStateMachineAlias` and `DeleteStateMachineAlias` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineAliasArnInput {
    /// `stateMachineAliasArn`.
    pub state_machine_alias_arn: String,
}

/// `DescribeStateMachineAlias` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStateMachineAliasOutput {
    /// `stateMachineAliasArn`.
    pub state_machine_alias_arn: String,
    /// `name`.
    pub name: String,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `routingConfiguration`.
    pub routing_configuration: Vec<RoutingConfigurationListItem>,
    /// `creationDate`.
    pub creation_date: Timestamp,
    /// `updateDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_date: Option<Timestamp>,
}

/// `UpdateStateMachineAlias` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineAliasInput {
    /// `stateMachineAliasArn`.
    pub state_machine_alias_arn: String,
    /// `description`.
    #[serde(default)]
    pub description: Option<String>,
    /// `routingConfiguration`.
    #[serde(default)]
    pub routing_configuration: Option<Vec<RoutingConfigurationListItem>>,
}

/// `UpdateStateMachineAlias` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineAliasOutput {
    /// `updateDate`.
    pub update_date: Timestamp,
}

/// One entry of `ListStateMachineAliases`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineAliasListItem {
    /// `stateMachineAliasArn`.
    pub state_machine_alias_arn: String,
    /// `creationDate`.
    pub creation_date: Timestamp,
}

/// `ListStateMachineAliases` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListStateMachineAliasesOutput {
    /// `stateMachineAliases`.
    pub state_machine_aliases: Vec<StateMachineAliasListItem>,
    /// `nextToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}
