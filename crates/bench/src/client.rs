//! A minimal AWS JSON 1.0 client for Step Functions over plain HTTP: one pooled hyper client,
//! hand-written request bodies, `__type` errors. Baton accepts any credentials, so requests
//! carry a fixed, unsigned `Authorization` header naming the region.

use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A Step Functions endpoint.
#[derive(Clone)]
pub struct Sfn {
    http: HyperClient<HttpConnector, Full<Bytes>>,
    endpoint: hyper::Uri,
}

/// A service error (`__type`), kept apart from transport errors.
#[derive(Debug)]
pub struct ServiceError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ServiceError {}

impl Sfn {
    pub fn new(endpoint: &str) -> anyhow::Result<Sfn> {
        let endpoint: hyper::Uri = endpoint.parse().context("--endpoint is not a URL")?;
        if endpoint.scheme_str() != Some("http") {
            bail!("--endpoint must be http://HOST:PORT");
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .build(connector);
        Ok(Sfn { http, endpoint })
    }

    /// Calls `action` with `body`; a `__type` error comes back as [`ServiceError`].
    pub async fn call(&self, action: &str, body: &Value) -> anyhow::Result<Value> {
        let request = hyper::Request::post(self.endpoint.clone())
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/states/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .body(Full::new(Bytes::from(body.to_string())))?;
        let response = self
            .http
            .request(request)
            .await
            .with_context(|| format!("{action}: request failed"))?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{action}: response is not JSON ({status})"))?
        };
        if status != 200 {
            let code = value["__type"].as_str().unwrap_or("?");
            let code = code.rsplit('#').next().unwrap_or(code).to_owned();
            let message = value["message"]
                .as_str()
                .or(value["Message"].as_str())
                .unwrap_or_default()
                .to_owned();
            return Err(ServiceError {
                status,
                code,
                message,
            }
            .into());
        }
        Ok(value)
    }

    /// Calls and returns the string field `field` of the response.
    pub async fn call_for(
        &self,
        action: &str,
        body: &Value,
        field: &str,
    ) -> anyhow::Result<String> {
        let response = self.call(action, body).await?;
        match response[field].as_str() {
            Some(value) => Ok(value.to_owned()),
            None => bail!("{action}: no {field} in {response}"),
        }
    }
}
