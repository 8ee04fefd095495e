//! A minimal AWS JSON 1.0 client for Step Functions over plain HTTP: one pooled hyper client,
//! hand-written request bodies, `__type` errors. Baton accepts any credentials, so requests
//! carry a fixed, unsigned `Authorization` header naming the region.
//!
//! Several endpoints (nodes sharing one database) may be given: [`Sfn::call`] spreads requests
//! over them round-robin, [`Sfn::call_at`] sends to a chosen one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// One or more Step Functions endpoints; clones share the round-robin position.
#[derive(Clone)]
pub struct Sfn {
    http: HyperClient<HttpConnector, Full<Bytes>>,
    endpoints: Arc<[hyper::Uri]>,
    next: Arc<AtomicUsize>,
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
    /// `endpoints`: one URL or several separated by commas.
    pub fn new(endpoints: &str) -> anyhow::Result<Sfn> {
        let mut parsed = Vec::new();
        for endpoint in endpoints.split(',').map(str::trim) {
            let uri: hyper::Uri = endpoint
                .parse()
                .with_context(|| format!("--endpoint {endpoint:?} is not a URL"))?;
            if uri.scheme_str() != Some("http") {
                bail!(
                    "--endpoint must be http://HOST:PORT[,http://HOST:PORT...], got {endpoint:?}"
                );
            }
            parsed.push(uri);
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .build(connector);
        Ok(Sfn {
            http,
            endpoints: parsed.into(),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// How many endpoints (repeats included).
    pub fn endpoints(&self) -> usize {
        self.endpoints.len()
    }

    /// Calls `action` with `body` on the next endpoint, round-robin; a `__type` error comes
    /// back as [`ServiceError`].
    pub async fn call(&self, action: &str, body: &Value) -> anyhow::Result<Value> {
        let at = self.next.fetch_add(1, Ordering::Relaxed);
        self.call_at(at, action, body).await
    }

    /// Calls `action` with `body` on endpoint `at` (modulo the number of endpoints).
    pub async fn call_at(&self, at: usize, action: &str, body: &Value) -> anyhow::Result<Value> {
        let endpoint = &self.endpoints[at % self.endpoints.len()];
        let request = hyper::Request::post(endpoint.clone())
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/states/aws4_request, \
                 SignedHeaders=host, Signature=0",
            )
            .body(Full::new(Bytes::from(body.to_string())))?;
        let response = self.http.request(request).await.with_context(|| {
            if self.endpoints.len() > 1 {
                format!("{action} to {endpoint}: request failed")
            } else {
                format!("{action}: request failed")
            }
        })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_lists() {
        assert_eq!(Sfn::new("http://127.0.0.1:1").unwrap().endpoints(), 1);
        let sfn = Sfn::new("http://127.0.0.1:1, http://127.0.0.1:2,http://127.0.0.1:1").unwrap();
        assert_eq!(sfn.endpoints(), 3);
        assert!(Sfn::new("http://127.0.0.1:1,").is_err());
        assert!(Sfn::new("http://127.0.0.1:1,https://127.0.0.1:2").is_err());
    }
}
