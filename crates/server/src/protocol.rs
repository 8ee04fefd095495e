//! The AWS JSON 1.0 protocol over HTTP: `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`,
//! an `application/x-amz-json-1.0` body, and the response as the action's output shape or
//! `{"__type", "message"}` with the error's HTTP status.
//!
//! Credentials are not checked. The region comes from the `Authorization` header's credential
//! scope (`Credential=<key>/<date>/<region>/states/aws4_request`), so a client configured for
//! another region gets ARNs in that region, as the real service at that region's endpoint would
//! give. Any `Host` is accepted, including the `sync-` prefix the SDKs add for
//! `StartSyncExecution` and `TestState`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baton_api_model::{Action, ApiError};
use serde_json::Value;

use crate::AppState;
use crate::actions::{self, Ctx};

/// The content type of every request and response body.
pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// `POST /`.
pub(crate) async fn handle(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = request_id();
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let result = match Action::from_target(target) {
        Ok(action) => {
            let ctx = Ctx {
                runtime: &state.runtime,
                region: region_of(&headers).unwrap_or_else(|| state.region.clone()),
                account: state.account.clone(),
                shutdown: state.shutdown.clone(),
            };
            let result = actions::dispatch(&ctx, action, &body).await;
            match &result {
                Ok(_) => tracing::debug!(action = action.name(), "ok"),
                Err(err) => tracing::debug!(
                    action = action.name(),
                    code = err.code.name(),
                    "{}",
                    err.message
                ),
            }
            result
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(value) => respond(StatusCode::OK, &value, &request_id),
        Err(err) => error_response(&err, &request_id),
    }
}

/// An error as AWS sends it.
pub(crate) fn error_response(err: &ApiError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(err.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = respond(status, &err.body(), request_id);
    // botocore and the smithy SDKs also read the error name from this header.
    if let Ok(value) = HeaderValue::from_str(err.code.name()) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

fn respond(status: StatusCode, value: &Value, request_id: &str) -> Response {
    let mut response = (status, value.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// The region of the SigV4 credential scope in `Authorization`, if any.
pub(crate) fn region_of(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = auth.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    let mut parts = scope.split('/');
    let (_key, _date, region) = (parts.next()?, parts.next()?, parts.next()?);
    let valid = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then(|| region.to_string())
}

/// A random request id in UUID form, for `x-amzn-RequestId`.
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return "00000000-0000-4000-8000-000000000000".into();
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_from_credential_scope() {
        let cases = [
            (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-3/states/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=abc",
                Some("eu-west-3"),
            ),
            (
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/states/aws4_request,SignedHeaders=host,Signature=0",
                Some("us-east-1"),
            ),
            ("AWS4-HMAC-SHA256 Credential=x/20260101", None),
            ("Bearer token", None),
            (
                "AWS4-HMAC-SHA256 Credential=x/2026/US EAST/states/aws4_request",
                None,
            ),
        ];
        for (auth, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
            assert_eq!(region_of(&headers).as_deref(), expected, "{auth}");
        }
        assert_eq!(region_of(&HeaderMap::new()), None);
    }

    #[test]
    fn request_ids_look_like_uuids() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(request_id(), id);
    }
}
