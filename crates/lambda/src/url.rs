//! Function URLs: HTTP requests turned into payload format 2.0 events, and the handler's
//! answer turned into the HTTP response as AWS does.
//!
//! A URL is reached by path (`/lambda-url/<function-name>/<path>`, always available) or by
//! host (`http://<url-id>.lambda-url.<region>.localhost:<port>/<path>`, for clients that
//! resolve `*.localhost` to loopback). `FunctionUrl` in the API gives the path form, which
//! works with every client.
//!
//! Response mapping (AWS's rules): an object with a `statusCode` is a structured response
//! (`statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`); any other JSON is sent as
//! `200 application/json`, a JSON string as its text. A function error answers
//! `502 Internal Server Error`.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::pool::{InvokeOptions, MAX_SYNC_PAYLOAD};
use crate::registry::Function;
use crate::{Lambda, util};

/// The `FunctionUrl` Baton reports for function `name`.
pub(crate) fn function_url(lambda: &Lambda, name: &str) -> String {
    format!("{}/lambda-url/{name}/", lambda.endpoint_or_default())
}

/// The URL id when the `Host` is `<url-id>.lambda-url.<region>.localhost[:port]` (or any
/// domain after `lambda-url.<region>.`).
pub(crate) fn url_id_from_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let mut labels = host.split('.');
    let id = labels.next()?;
    (labels.next()? == "lambda-url" && !id.is_empty()).then(|| id.to_ascii_lowercase())
}

/// `/lambda-url/{name}/...`.
pub(crate) async fn serve_path(
    State(lambda): State<Lambda>,
    Path(params): Path<Vec<(String, String)>>,
    request: Request,
) -> Response {
    let name = params
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let function = match lambda.inner.registry.get(&name) {
        Ok(f) if f.record.url.is_some() => f,
        _ => return not_found(),
    };
    let prefix = format!("/lambda-url/{name}");
    let raw_path = request
        .uri()
        .path()
        .strip_prefix(&prefix)
        .unwrap_or("/")
        .to_owned();
    let raw_path = if raw_path.is_empty() {
        "/".to_owned()
    } else {
        raw_path
    };
    serve(lambda, function, raw_path, request).await
}

/// Host-form requests.
pub(crate) async fn serve_host(lambda: Lambda, url_id: String, request: Request) -> Response {
    let Some(function) = lambda.inner.registry.find_by_url_id(&url_id) else {
        return not_found();
    };
    let raw_path = request.uri().path().to_owned();
    serve(lambda, function, raw_path, request).await
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, axum::Json(json!({"Message": null}))).into_response()
}

async fn serve(
    lambda: Lambda,
    function: std::sync::Arc<Function>,
    raw_path: String,
    request: Request,
) -> Response {
    let Some(url) = function.record.url.clone() else {
        return not_found();
    };
    if url.auth_type == "AWS_IAM" && !request.headers().contains_key(header::AUTHORIZATION) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"Message": "Forbidden"})),
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_SYNC_PAYLOAD).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(json!({"Message": "Request Entity Too Large"})),
        )
            .into_response();
    };
    let event = event(
        &lambda,
        &url.url_id,
        &url.auth_type,
        &parts,
        &raw_path,
        &body,
    );
    let payload = serde_json::to_vec(&event).unwrap_or_default();
    let result = lambda
        .invoke(&function.record.name, payload, InvokeOptions::default())
        .await;
    match result {
        Ok(result) if result.function_error.is_none() => http_response(&result.payload),
        Ok(_) => (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({"Message": "Internal Server Error"})),
        )
            .into_response(),
        Err(err) => crate::http::error_response(&err),
    }
}

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return true;
    };
    let ct = ct.to_ascii_lowercase();
    ct.starts_with("text/")
        || [
            "json",
            "xml",
            "javascript",
            "x-www-form-urlencoded",
            "yaml",
            "csv",
        ]
        .iter()
        .any(|t| ct.contains(t))
}

/// The payload format 2.0 event.
fn event(
    lambda: &Lambda,
    url_id: &str,
    auth_type: &str,
    parts: &axum::http::request::Parts,
    raw_path: &str,
    body: &[u8],
) -> Value {
    let now = util::now_ms();
    let mut headers: Map<String, Value> = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == header::COOKIE {
            cookies.extend(value.split(';').map(|c| Value::String(c.trim().to_owned())));
            continue;
        }
        let key = name.as_str().to_ascii_lowercase();
        match headers.get_mut(&key) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(key, Value::String(value));
            }
        }
    }
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in util::parse_form(&raw_query) {
        query
            .entry(key)
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let host = headers
        .get("host")
        .and_then(Value::as_str)
        .unwrap_or("localhost")
        .to_owned();
    let domain = format!("{url_id}.lambda-url.{}.on.aws", lambda.region());
    let user_agent = headers.get("user-agent").cloned().unwrap_or(Value::Null);
    let mut request_context = json!({
        "accountId": if auth_type == "AWS_IAM" { lambda.account() } else { "anonymous" },
        "apiId": url_id,
        "domainName": if url_id_from_host(&parts.headers).is_some() { host } else { domain },
        "domainPrefix": url_id,
        "http": {
            "method": parts.method.as_str(),
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": user_agent,
        },
        "requestId": util::uuid4(),
        "routeKey": "$default",
        "stage": "$default",
        "time": util::clf_date(now),
        "timeEpoch": now,
    });
    if auth_type == "AWS_IAM"
        && let Some(obj) = request_context.as_object_mut()
    {
        obj.insert(
            "authorizer".into(),
            json!({"iam": {
                "accessKey": "test",
                "accountId": lambda.account(),
                "callerId": "AIDACKCEVSQ6C2EXAMPLE",
                "cognitoIdentity": null,
                "principalOrgId": null,
                "userArn": format!("arn:aws:iam::{}:user/baton", lambda.account()),
                "userId": "AIDACKCEVSQ6C2EXAMPLE",
            }}),
        );
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    });
    let Some(obj) = event.as_object_mut() else {
        return event;
    };
    if !cookies.is_empty() {
        obj.insert("cookies".into(), Value::Array(cookies));
    }
    obj.insert("headers".into(), Value::Object(headers));
    if !query.is_empty() {
        obj.insert("queryStringParameters".into(), json!(query));
    }
    obj.insert("requestContext".into(), request_context);
    let text = is_text(
        parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(s) if text => {
                obj.insert("body".into(), Value::String(s.to_owned()));
                obj.insert("isBase64Encoded".into(), Value::Bool(false));
            }
            _ => {
                obj.insert(
                    "body".into(),
                    Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
                );
                obj.insert("isBase64Encoded".into(), Value::Bool(true));
            }
        }
    } else {
        obj.insert("isBase64Encoded".into(), Value::Bool(false));
    }
    event
}

/// The HTTP response for a handler's result.
pub(crate) fn http_response(payload: &[u8]) -> Response {
    let value: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let structured = value.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(obj) = structured else {
        let body = match &value {
            Value::String(s) => s.clone().into_bytes(),
            _ => payload.to_vec(),
        };
        return ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    };
    let status = obj
        .get("statusCode")
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
        })
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body_text = match obj.get("body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let body = if obj.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(body_text.as_bytes())
            .unwrap_or_default()
    } else {
        body_text.into_bytes()
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (key, value) in obj
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            headers.insert(name, value);
        }
    }
    for cookie in obj
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(value) = cookie.as_str().and_then(|c| HeaderValue::from_str(c).ok()) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
}

#[cfg(test)]
mod tests;
