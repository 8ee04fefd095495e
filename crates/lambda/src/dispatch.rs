//! The Step Functions Task integration: a [`TaskDispatcher`] for Lambda resources.
//!
//! - `arn:aws:lambda:<region>:<account>:function:<name>` (the legacy form): the effective
//!   input is the event, the function's JSON result the output. A function error fails the
//!   task with the error document's `errorType` as the error and the document, exactly as the
//!   function returned it, as the cause.
//! - `arn:aws:states:::lambda:invoke`: `Parameters` are the Invoke request (`FunctionName`,
//!   `Payload`, `InvocationType`, `Qualifier`, `ClientContext`, `LogType`); the output is the
//!   response envelope `{ExecutedVersion, [LogResult,] Payload, SdkHttpMetadata,
//!   SdkResponseMetadata, StatusCode}`. A function error fails with its `errorType` and the
//!   document re-encoded compactly, as AWS does for the optimized integration. Invoke errors
//!   are `Lambda.<Code>` with the Java-SDK-style cause AWS writes.
//! - `.waitForTaskToken` on either: the invocation's result is reported as submitted and the
//!   task waits for `SendTaskSuccess`/`SendTaskFailure` with its token.
//!
//! A result larger than 256 KiB fails with `States.DataLimitExceeded`. An error document
//! without an `errorType` gives `Lambda.Unknown`.

use std::sync::Arc;

use baton_runtime::{Completion, DispatchedTask, TaskDispatcher};
use serde_json::{Map, Value, json};

use crate::pool::{InvocationType, InvokeOptions, InvokeResult};
use crate::{Error, Lambda, model, util};

/// Step Functions' limit for a task result.
const MAX_RESULT_BYTES: usize = 256 * 1024;

/// Runs Lambda Task states; hands every other resource to its fallback.
#[derive(Clone)]
pub struct LambdaDispatcher {
    lambda: Lambda,
    fallback: Arc<dyn TaskDispatcher>,
}

impl std::fmt::Debug for LambdaDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaDispatcher").finish_non_exhaustive()
    }
}

/// Which Lambda integration a resource names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Integration {
    /// The legacy resource: the function named in the ARN.
    Function { name: String, wait_for_token: bool },
    /// `arn:aws:states:::lambda:invoke`.
    Invoke { wait_for_token: bool },
}

fn integration(resource: &str) -> Option<Integration> {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::lambda:invoke") {
        return match rest {
            "" => Some(Integration::Invoke {
                wait_for_token: false,
            }),
            ".waitForTaskToken" => Some(Integration::Invoke {
                wait_for_token: true,
            }),
            _ => None,
        };
    }
    let (base, wait_for_token) = match resource.strip_suffix(".waitForTaskToken") {
        Some(base) => (base, true),
        None => (resource, false),
    };
    let parts: Vec<&str> = base.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name]
        | ["arn", _, "lambda", _, _, "function", name, _] => Some(Integration::Function {
            name: (*name).to_owned(),
            wait_for_token,
        }),
        _ => None,
    }
}

impl LambdaDispatcher {
    pub(crate) fn new(lambda: Lambda, fallback: Arc<dyn TaskDispatcher>) -> LambdaDispatcher {
        LambdaDispatcher { lambda, fallback }
    }

    /// Whether this dispatcher runs `resource` itself.
    pub fn handles(resource: &str) -> bool {
        integration(resource).is_some()
    }
}

impl TaskDispatcher for LambdaDispatcher {
    fn dispatch(&self, task: DispatchedTask, completion: Completion) {
        let Some(integration) = integration(&task.resource) else {
            self.fallback.dispatch(task, completion);
            return;
        };
        let lambda = self.lambda.clone();
        tokio::spawn(async move {
            // The runtime records TaskStarted (LambdaFunctionStarted) when it dispatches, so
            // only the result is reported. Errors reporting it mean the execution moved on or
            // the runtime stops: nothing left to tell.
            let outcome = run(&lambda, &integration, &task.input).await;
            let wait_for_token = match integration {
                Integration::Function { wait_for_token, .. }
                | Integration::Invoke { wait_for_token } => wait_for_token,
            };
            let _ = match outcome {
                Ok(output) if wait_for_token => completion.submitted(output).await,
                Ok(output) => completion.succeeded(output).await,
                Err((error, cause)) => completion.failed(Some(error), Some(cause)).await,
            };
        });
    }

    fn cancel(&self, execution_arn: &str, task_id: u64) {
        self.fallback.cancel(execution_arn, task_id);
    }
}

type Failure = (String, String);

async fn run(lambda: &Lambda, integration: &Integration, input: &Value) -> Result<Value, Failure> {
    match integration {
        Integration::Function { name, .. } => {
            let payload = serde_json::to_vec(input).unwrap_or_else(|_| b"{}".to_vec());
            let result = lambda
                .invoke(name, payload, InvokeOptions::default())
                .await
                .map_err(|err| invoke_failure(lambda, name, &err))?;
            if result.function_error.is_some() {
                return Err(function_failure(&result.payload, false));
            }
            check_size(&result.payload)?;
            Ok(parse_payload(&result.payload))
        }
        Integration::Invoke { .. } => {
            let params = input.as_object().cloned().unwrap_or_default();
            let given = params
                .get("FunctionName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let name = model::function_name(&given).map_err(|err| {
                (
                    "Lambda.InvalidParameterValueException".to_owned(),
                    sdk_cause(&err.to_string(), 400, "InvalidParameterValueException"),
                )
            })?;
            let options = invoke_options(&params).map_err(|err| {
                (
                    format!("Lambda.{}", err.code()),
                    sdk_cause(&err.to_string(), err.status(), err.code()),
                )
            })?;
            if let Some(qualifier) = params
                .get("Qualifier")
                .and_then(Value::as_str)
                .or_else(|| model::qualifier(&given))
                .filter(|q| *q != "$LATEST")
            {
                let err = Error::ResourceNotFound(format!(
                    "Function not found: {}:{qualifier}",
                    lambda.function_arn(&name)
                ));
                return Err(invoke_failure(lambda, &name, &err));
            }
            let payload = match params.get("Payload") {
                None | Some(Value::Null) => b"{}".to_vec(),
                Some(Value::String(text)) => text.clone().into_bytes(),
                Some(other) => serde_json::to_vec(other).unwrap_or_default(),
            };
            let result = lambda
                .invoke(&name, payload, options)
                .await
                .map_err(|err| invoke_failure(lambda, &name, &err))?;
            if result.function_error.is_some() {
                return Err(function_failure(&result.payload, true));
            }
            check_size(&result.payload)?;
            Ok(envelope(&result))
        }
    }
}

fn invoke_options(params: &Map<String, Value>) -> Result<InvokeOptions, Error> {
    let invocation_type =
        InvocationType::parse(params.get("InvocationType").and_then(Value::as_str))?;
    Ok(InvokeOptions {
        invocation_type,
        log_tail: params.get("LogType").and_then(Value::as_str) == Some("Tail"),
        client_context: params
            .get("ClientContext")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn check_size(payload: &[u8]) -> Result<(), Failure> {
    if payload.len() > MAX_RESULT_BYTES {
        return Err((
            "States.DataLimitExceeded".into(),
            "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit."
                .into(),
        ));
    }
    Ok(())
}

/// The function's result as JSON; a payload that is not JSON becomes a string.
fn parse_payload(payload: &[u8]) -> Value {
    if payload.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}

/// A function error: `(errorType or Lambda.Unknown, cause)`.
fn function_failure(payload: &[u8], compact: bool) -> Failure {
    let document: Option<Value> = serde_json::from_slice(payload).ok();
    let error = document
        .as_ref()
        .and_then(|d| d.get("errorType"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("Lambda.Unknown")
        .to_owned();
    let cause = match (&document, compact) {
        (Some(document), true) => document.to_string(),
        _ => String::from_utf8_lossy(payload).into_owned(),
    };
    (error, cause)
}

/// An Invoke API error as the Step Functions Lambda integration reports it.
fn invoke_failure(lambda: &Lambda, name: &str, err: &Error) -> Failure {
    let message = match err {
        // The registry names the bare function; AWS names the qualified ARN.
        Error::ResourceNotFound(text) if *text == format!("Function not found: {name}") => {
            format!("Function not found: {}:$LATEST", lambda.function_arn(name))
        }
        _ => err.to_string(),
    };
    (
        format!("Lambda.{}", err.code()),
        sdk_cause(&message, err.status(), err.code()),
    )
}

fn sdk_cause(message: &str, status: u16, code: &str) -> String {
    format!(
        "{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; Request ID: {}; Proxy: null)",
        util::uuid4()
    )
}

/// The `lambda:invoke` output: the Invoke response as the AWS Java SDK renders it.
fn envelope(result: &InvokeResult) -> Value {
    let date = util::http_date(util::now_ms());
    let length = result.payload.len().to_string();
    let trace = format!(
        "Root=1-{:08x}-{};Sampled=0",
        util::now_ms() / 1000,
        util::random_alnum(24, false)
    );
    let mut all = Map::new();
    let mut flat = Map::new();
    let mut add = |key: &str, value: String| {
        all.insert(key.to_owned(), json!([value.clone()]));
        flat.insert(key.to_owned(), Value::String(value));
    };
    if let Some(log) = &result.log_result {
        add("X-Amz-Log-Result", log.clone());
    }
    add("X-Amz-Executed-Version", result.executed_version.clone());
    add("x-amzn-Remapped-Content-Length", "0".into());
    add("Connection", "keep-alive".into());
    add("x-amzn-RequestId", result.request_id.clone());
    add("Content-Length", length);
    add("Date", date);
    add("X-Amzn-Trace-Id", trace);
    add("Content-Type", "application/json".into());
    // AWS lists the single-valued map in header-name order.
    let mut flat_sorted: Vec<(String, Value)> = flat.into_iter().collect();
    flat_sorted.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let mut out = Map::new();
    out.insert(
        "ExecutedVersion".into(),
        Value::String(result.executed_version.clone()),
    );
    if let Some(log) = &result.log_result {
        out.insert("LogResult".into(), Value::String(log.clone()));
    }
    // An `Event` invocation answers 202 with an empty body, which the SDK renders as "".
    let payload = if result.payload.is_empty() {
        Value::String(String::new())
    } else {
        parse_payload(&result.payload)
    };
    out.insert("Payload".into(), payload);
    out.insert(
        "SdkHttpMetadata".into(),
        json!({
            "AllHttpHeaders": all,
            "HttpHeaders": Value::Object(flat_sorted.into_iter().collect()),
            "HttpStatusCode": result.status,
        }),
    );
    out.insert(
        "SdkResponseMetadata".into(),
        json!({"RequestId": result.request_id}),
    );
    out.insert("StatusCode".into(), json!(result.status));
    Value::Object(out)
}

#[cfg(test)]
mod tests;
