//! Request and response bodies of every action, with AWS's member names.
//!
//! Requests ignore members they do not know (as AWS does for members added in newer API
//! versions) and keep enum-valued members as strings so that a bad value is reported as AWS's
//! `ValidationException` naming the member (see [`crate::enums`]), not as a serde error.
//! Responses skip absent optional members rather than sending `null`.

mod activities;
mod executions;
mod state_machines;
mod tags;
mod test_state;
mod versions;

pub use activities::*;
pub use executions::*;
pub use state_machines::*;
pub use tags::*;
pub use test_state::*;
pub use versions::*;

use serde::{Deserialize, Serialize};

/// The body of actions that answer `{}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// `key`.
    pub key: String,
    /// `value`.
    #[serde(default)]
    pub value: String,
}

/// `inputDetails`/`outputDetails` of executions: whether the data was included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataDetails {
    /// `included`.
    pub included: bool,
}
