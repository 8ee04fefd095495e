//! Tagging actions: TagResource, UntagResource, ListTagsForResource.

use serde::{Deserialize, Serialize};

use super::Tag;

/// `TagResource` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceInput {
    /// `resourceArn`.
    pub resource_arn: String,
    /// `tags`.
    pub tags: Vec<Tag>,
}

/// `UntagResource` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceInput {
    /// `resourceArn`.
    pub resource_arn: String,
    /// `tagKeys`.
    pub tag_keys: Vec<String>,
}

/// `ListTagsForResource` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceInput {
    /// `resourceArn`.
    pub resource_arn: String,
}

/// `ListTagsForResource` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceOutput {
    /// `tags`.
    pub tags: Vec<Tag>,
}
