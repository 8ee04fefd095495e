//! The stored function record, its AWS wire form (`FunctionConfiguration`), and the parsing of
//! function names, ARNs and runtimes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{Error, util};

/// A function as Baton keeps it (`function.json` in the function's folder). Versioned by
/// `format` so later releases can read older records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionRecord {
    /// Record format version.
    pub format: u32,
    /// `FunctionName`.
    pub name: String,
    /// `Runtime`, e.g. `python3.12`, `nodejs20.x`, `provided.al2023`.
    pub runtime: String,
    /// `Handler`, e.g. `app.handler`.
    pub handler: String,
    /// `Role` (recorded, not enforced).
    pub role: String,
    /// `Description`.
    pub description: String,
    /// `Timeout` in seconds.
    pub timeout: u64,
    /// `MemorySize` in MB (reported to the function, not enforced).
    pub memory_size: u64,
    /// `Environment.Variables`.
    pub environment: BTreeMap<String, String>,
    /// Where the code is.
    pub code: CodeSource,
    /// `CodeSize` in bytes (the zip's size, or 0 for a directory).
    pub code_size: u64,
    /// `CodeSha256` (base64 of the zip's SHA-256).
    pub code_sha256: String,
    /// `LastModified`, ms since the epoch.
    pub last_modified_ms: u64,
    /// `RevisionId`.
    pub revision_id: String,
    /// `Architectures`.
    pub architectures: Vec<String>,
    /// `Tags`.
    pub tags: BTreeMap<String, String>,
    /// `ReservedConcurrentExecutions`, which also caps the worker pool.
    pub reserved_concurrency: Option<u32>,
    /// The function URL, if configured.
    pub url: Option<UrlRecord>,
    /// Resource-based policy statements (`AddPermission`), recorded, not enforced.
    #[serde(default)]
    pub policy: Vec<Value>,
}

/// Where a function's code lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum CodeSource {
    /// Unzipped into `folder`, relative to the function's own folder; the zip is kept next to
    /// it as `<folder>.zip`.
    Zip {
        /// Folder name.
        folder: String,
    },
    /// A local directory used in place (Baton extension: `Code.BatonDirectory`, or
    /// LocalStack's convention `S3Bucket: "hot-reload"` with `S3Key` the path). Workers
    /// restart on the next invocation after a file in it changes.
    Directory {
        /// Absolute path.
        path: String,
    },
}

/// A function URL configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlRecord {
    /// The 32-character id in the host name.
    pub url_id: String,
    /// `AuthType`: `NONE` or `AWS_IAM`.
    pub auth_type: String,
    /// `Cors`, as given.
    pub cors: Option<Value>,
    /// `InvokeMode`: `BUFFERED` or `RESPONSE_STREAM` (answered buffered either way).
    pub invoke_mode: String,
    /// `CreationTime`, ms since the epoch.
    pub created_ms: u64,
    /// `LastModifiedTime`, ms since the epoch.
    pub modified_ms: u64,
}

/// What kind of worker runs a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuntimeKind {
    Python,
    Node,
    Provided,
}

impl RuntimeKind {
    pub(crate) fn parse(runtime: &str) -> Result<RuntimeKind, Error> {
        if runtime.starts_with("python3") {
            Ok(RuntimeKind::Python)
        } else if runtime.starts_with("nodejs") {
            Ok(RuntimeKind::Node)
        } else if runtime.starts_with("provided") {
            Ok(RuntimeKind::Provided)
        } else {
            Err(Error::InvalidParameterValue(format!(
                "Value {runtime} at 'runtime' failed to satisfy constraint: Baton runs python3.x, \
                 nodejs* and provided* runtimes"
            )))
        }
    }
}

impl FunctionRecord {
    /// The wire `FunctionConfiguration`.
    pub(crate) fn configuration(&self, region: &str, account: &str) -> Value {
        let arn = format!("arn:aws:lambda:{region}:{account}:function:{}", self.name);
        let variables: Map<String, Value> = self
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut config = json!({
            "FunctionName": self.name,
            "FunctionArn": arn,
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": self.code_size,
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": util::lambda_timestamp(self.last_modified_ms),
            "CodeSha256": self.code_sha256,
            "Version": "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": self.architectures,
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "RuntimeVersionConfig": {"RuntimeVersionArn": format!("arn:aws:lambda:{region}::runtime:baton")},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": format!("/aws/lambda/{}", self.name)},
        });
        if !variables.is_empty()
            && let Some(obj) = config.as_object_mut()
        {
            obj.insert("Environment".into(), json!({ "Variables": variables }));
        }
        config
    }
}

/// The function name inside a `FunctionName` parameter: a name, a full or partial ARN, each
/// optionally qualified (`:$LATEST`, a version or an alias; Baton only has `$LATEST`).
pub(crate) fn function_name(given: &str) -> Result<String, Error> {
    let parts: Vec<&str> = given.split(':').collect();
    let name = match parts.as_slice() {
        [name] | [name, _] => *name,
        [
            "arn",
            _partition,
            "lambda",
            _region,
            _account,
            "function",
            name,
        ]
        | [
            "arn",
            _partition,
            "lambda",
            _region,
            _account,
            "function",
            name,
            _,
        ] => *name,
        [_account, "function", name] | [_account, "function", name, _] => *name,
        _ => "",
    };
    if name.is_empty()
        || name.len() > 140
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::InvalidParameterValue(format!(
            "1 validation error detected: Value '{given}' at 'functionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: \
             (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?\
             (function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )));
    }
    Ok(name.to_owned())
}

/// The qualifier inside a `FunctionName`, if any.
pub(crate) fn qualifier(given: &str) -> Option<&str> {
    let parts: Vec<&str> = given.split(':').collect();
    match parts.as_slice() {
        [_, q] | [_, "function", _, q] | [.., "function", _, q] => Some(q),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
