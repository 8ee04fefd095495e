//! The TestState action.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `TestState` request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateInput {
    /// `definition`: one state, or a whole machine with `stateName`.
    pub definition: String,
    /// `roleArn`.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// `input` (JSON text).
    #[serde(default)]
    pub input: Option<String>,
    /// `inspectionLevel`: INFO (default), DEBUG, TRACE.
    #[serde(default)]
    pub inspection_level: Option<String>,
    /// `revealSecrets`.
    #[serde(default)]
    pub reveal_secrets: bool,
    /// `variables` (JSON text of an object).
    #[serde(default)]
    pub variables: Option<String>,
    /// `stateName`: the state to test within a whole machine definition.
    #[serde(default)]
    pub state_name: Option<String>,
    /// `mock`: `{result}` or `{errorOutput: {error, cause}}`, plus `fieldValidationMode`.
    #[serde(default)]
    pub mock: Option<Value>,
    /// `context` (JSON text of the context object).
    #[serde(default)]
    pub context: Option<String>,
}

/// `TestState` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateOutput {
    /// `output` (JSON text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `cause`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// `inspectionData` (afterInputPath, afterParameters, result, variables, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_data: Option<Value>,
    /// `nextState`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_state: Option<String>,
    /// `status`: SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR.
    pub status: String,
}
