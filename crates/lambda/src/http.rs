//! The Lambda REST API (the subset tools use) and the router that puts Lambda, IAM and function
//! URLs in front of another service.
//!
//! Wire rules as AWS's `rest-json` Lambda API: JSON bodies, errors as
//! `x-amzn-ErrorType: <Code>` plus `{"Type": "User", "Message": ...}`, function names in the
//! path as a name or an ARN.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::model::{self, CodeSource, FunctionRecord, RuntimeKind, UrlRecord};
use crate::pool::{InvocationType, InvokeOptions, MAX_SYNC_PAYLOAD};
use crate::registry::{self, CodeInput};
use crate::{Error, Lambda, iam, url, util};

/// The largest request body the Lambda routes accept: a 50 MB zip, base64 in JSON.
const MAX_BODY: usize = 70 * 1024 * 1024;

impl Lambda {
    /// The path-routed part: the Lambda REST API and `/lambda-url/{name}/...`. IAM and the
    /// host form of function URLs need [`Lambda::wrap`].
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/2015-03-31/functions",
                post(create_function).get(list_functions),
            )
            .route(
                "/2015-03-31/functions/",
                post(create_function).get(list_functions),
            )
            .route(
                "/2015-03-31/functions/{name}",
                get(get_function).delete(delete_function),
            )
            .route(
                "/2015-03-31/functions/{name}/configuration",
                get(get_configuration).put(update_configuration),
            )
            .route(
                "/2015-03-31/functions/{name}/code",
                axum::routing::put(update_code),
            )
            .route("/2015-03-31/functions/{name}/invocations", post(invoke))
            .route(
                "/2017-10-31/functions/{name}/concurrency",
                axum::routing::put(put_concurrency).delete(delete_concurrency),
            )
            .route(
                "/2015-03-31/functions/{name}/policy",
                post(add_permission).get(get_policy),
            )
            .route(
                "/2015-03-31/functions/{name}/policy/{sid}",
                axum::routing::delete(remove_permission),
            )
            .route(
                "/2017-03-31/tags/{arn}",
                get(list_tags).post(tag_resource).delete(untag_resource),
            )
            .route(
                "/2019-09-30/functions/{name}/concurrency",
                get(get_concurrency),
            )
            .route("/2021-10-31/functions/{name}/urls", get(list_urls))
            .route(
                "/2021-10-31/functions/{name}/url",
                post(create_url)
                    .get(get_url)
                    .put(update_url)
                    .delete(delete_url),
            )
            .route("/_baton/lambda/code/{name}", get(download_code))
            .route("/lambda-url/{name}", any(url::serve_path))
            .route("/lambda-url/{name}/", any(url::serve_path))
            .route("/lambda-url/{name}/{*rest}", any(url::serve_path))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self.clone())
    }

    /// `inner` (the Step Functions API) with Lambda in front: the REST routes, `POST /` IAM
    /// query requests (a form body whose `Action` is an IAM action Baton records, and no
    /// `X-Amz-Target`), and function URLs by path or by host (`<url-id>.lambda-url.<region>.localhost`).
    /// Every other request reaches `inner` unchanged.
    pub fn wrap(&self, inner: Router) -> Router {
        self.router()
            .merge(inner)
            .layer(axum::middleware::from_fn_with_state(self.clone(), front))
    }
}

/// Routes IAM query requests and host-form function URLs before path routing.
async fn front(State(lambda): State<Lambda>, request: Request, next: Next) -> Response {
    if let Some(url_id) = url::url_id_from_host(request.headers()) {
        return url::serve_host(lambda, url_id, request).await;
    }
    let is_query = request.method() == Method::POST
        && request.uri().path() == "/"
        && !request.headers().contains_key("x-amz-target")
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_query {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let form = util::parse_form(&String::from_utf8_lossy(&bytes));
    let action = form
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if iam::handles(action) {
        return iam::handle(&lambda, &form);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// An API error as AWS's Lambda REST API sends it.
pub(crate) fn error_response(err: &Error) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = if err.status() >= 500 {
        "Service"
    } else {
        "User"
    };
    let mut response = (
        status,
        axum::Json(json!({"Type": kind, "Message": err.to_string(), "message": err.to_string()})),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(err.code()) {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    response
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&util::uuid4()) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::InvalidRequestContent(
            "The request body must be a JSON object".into(),
        )),
        Err(err) => Err(Error::InvalidRequestContent(format!(
            "Could not parse request body into json: {err}"
        ))),
    }
}

fn string_field(body: &Map<String, Value>, key: &str) -> Result<Option<String>, Error> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::InvalidParameterValue(format!(
            "{key} must be a string"
        ))),
    }
}

fn u64_field(
    body: &Map<String, Value>,
    key: &str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, Error> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Error::InvalidParameterValue(format!(
                "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: \
                 Member must have value between {min} and {max}",
                lower_first(key)
            ))),
        },
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

fn environment(
    body: &Map<String, Value>,
) -> Result<Option<std::collections::BTreeMap<String, String>>, Error> {
    let Some(env) = body.get("Environment") else {
        return Ok(None);
    };
    let variables = env.get("Variables").and_then(Value::as_object);
    let mut out = std::collections::BTreeMap::new();
    for (key, value) in variables.into_iter().flatten() {
        let Some(text) = value.as_str() else {
            return Err(Error::InvalidParameterValue(format!(
                "Environment variable {key} must be a string"
            )));
        };
        out.insert(key.clone(), text.to_owned());
    }
    Ok(Some(out))
}

/// The `Code` (CreateFunction) or the body (UpdateFunctionCode): `ZipFile` as base64, or a
/// local directory (`BatonDirectory`, or `S3Bucket: "hot-reload"` with the path as `S3Key`).
fn code_input(code: &Map<String, Value>) -> Result<CodeInput, Error> {
    if let Some(zip) = string_field(code, "ZipFile")? {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(zip.trim())
            .map_err(|err| {
                Error::InvalidParameterValue(format!("ZipFile is not valid base64: {err}"))
            })?;
        return Ok(CodeInput::Zip(bytes));
    }
    if let Some(dir) = string_field(code, "BatonDirectory")? {
        return Ok(CodeInput::Directory(dir.into()));
    }
    if string_field(code, "S3Bucket")?.as_deref() == Some("hot-reload")
        && let Some(key) = string_field(code, "S3Key")?
    {
        return Ok(CodeInput::Directory(key.into()));
    }
    if code.contains_key("S3Bucket") || code.contains_key("ImageUri") {
        return Err(Error::InvalidParameterValue(
            "Baton takes code as ZipFile bytes or a local directory (Code.BatonDirectory, or \
             S3Bucket \"hot-reload\" with the directory as S3Key)"
                .into(),
        ));
    }
    Err(Error::InvalidParameterValue(
        "Please provide a source for function code.".into(),
    ))
}

fn name_in_path(given: &str) -> Result<String, Error> {
    model::function_name(given)
}

fn configuration(lambda: &Lambda, record: &FunctionRecord) -> Value {
    record.configuration(lambda.region(), lambda.account())
}

async fn create_function(State(lambda): State<Lambda>, body: Bytes) -> Response {
    match create_function_inner(&lambda, &body) {
        Ok(record) => json_response(StatusCode::CREATED, configuration(&lambda, &record)),
        Err(err) => error_response(&err),
    }
}

fn create_function_inner(lambda: &Lambda, body: &[u8]) -> Result<FunctionRecord, Error> {
    let body = parse_body(body)?;
    let name = string_field(&body, "FunctionName")?
        .ok_or_else(|| Error::InvalidParameterValue("FunctionName is required".into()))?;
    let name = model::function_name(&name)?;
    if string_field(&body, "PackageType")?.as_deref() == Some("Image") {
        return Err(Error::InvalidParameterValue(
            "Baton does not run container images".into(),
        ));
    }
    let runtime = string_field(&body, "Runtime")?.ok_or_else(|| {
        Error::InvalidParameterValue("Runtime is required for .zip deployment packages".into())
    })?;
    let kind = RuntimeKind::parse(&runtime)?;
    let handler = string_field(&body, "Handler")?;
    let handler = match (handler, kind) {
        (Some(h), _) => h,
        (None, RuntimeKind::Provided) => "bootstrap".into(),
        (None, _) => {
            return Err(Error::InvalidParameterValue(
                "Handler is required for .zip deployment packages".into(),
            ));
        }
    };
    let role = string_field(&body, "Role")?.unwrap_or_default();
    let code = body
        .get("Code")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::InvalidParameterValue("Code is required".into()))?;
    let code = code_input(code)?;
    let mut record = registry::new_record(name, runtime, handler, role);
    apply_configuration(&mut record, &body)?;
    if let Some(tags) = body.get("Tags").and_then(Value::as_object) {
        record.tags = tags
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect();
    }
    if let Some(arch) = body.get("Architectures").and_then(Value::as_array) {
        record.architectures = arch
            .iter()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect();
    }
    lambda.inner.registry.create(record, code)
}

/// The settable configuration fields shared by CreateFunction and UpdateFunctionConfiguration.
fn apply_configuration(
    record: &mut FunctionRecord,
    body: &Map<String, Value>,
) -> Result<(), Error> {
    if let Some(runtime) = string_field(body, "Runtime")? {
        RuntimeKind::parse(&runtime)?;
        record.runtime = runtime;
    }
    if let Some(handler) = string_field(body, "Handler")? {
        record.handler = handler;
    }
    if let Some(role) = string_field(body, "Role")? {
        record.role = role;
    }
    if let Some(description) = string_field(body, "Description")? {
        record.description = description;
    }
    if let Some(timeout) = u64_field(body, "Timeout", 1, 900)? {
        record.timeout = timeout;
    }
    if let Some(memory) = u64_field(body, "MemorySize", 128, 10_240)? {
        record.memory_size = memory;
    }
    if let Some(env) = environment(body)? {
        record.environment = env;
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct ListParams {
    #[serde(rename = "Marker")]
    marker: Option<String>,
    #[serde(rename = "MaxItems")]
    max_items: Option<usize>,
}

async fn list_functions(
    State(lambda): State<Lambda>,
    Query(params): Query<ListParams>,
) -> Response {
    let max = params.max_items.unwrap_or(50).clamp(1, 10_000);
    let all = lambda.functions();
    let start = params.marker.as_deref().map_or(0, |marker| {
        all.iter()
            .position(|f| f.name.as_str() > marker)
            .unwrap_or(all.len())
    });
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(max)
        .map(|f| configuration(&lambda, f))
        .collect();
    let mut body = json!({ "Functions": page });
    if start + max < all.len()
        && let Some(last) = all.get(start + max - 1)
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert("NextMarker".into(), Value::String(last.name.clone()));
    }
    json_response(StatusCode::OK, body)
}

fn lookup(lambda: &Lambda, given: &str) -> Result<FunctionRecord, Error> {
    let name = name_in_path(given)?;
    lambda
        .inner
        .registry
        .get(&name)
        .map(|f| f.record.clone())
        .map_err(|_| {
            Error::ResourceNotFound(format!(
                "Function not found: {}",
                lambda.function_arn(&name)
            ))
        })
}

async fn get_function(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    match lookup(&lambda, &name) {
        Ok(record) => {
            let location = format!(
                "{}/_baton/lambda/code/{}",
                lambda.endpoint_or_default(),
                record.name
            );
            let mut body = json!({
                "Configuration": configuration(&lambda, &record),
                "Code": {"RepositoryType": "S3", "Location": location},
            });
            if let Some(obj) = body.as_object_mut() {
                if !record.tags.is_empty() {
                    obj.insert("Tags".into(), json!(record.tags));
                }
                if let Some(n) = record.reserved_concurrency {
                    obj.insert(
                        "Concurrency".into(),
                        json!({"ReservedConcurrentExecutions": n}),
                    );
                }
            }
            json_response(StatusCode::OK, body)
        }
        Err(err) => error_response(&err),
    }
}

async fn get_configuration(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    match lookup(&lambda, &name) {
        Ok(record) => json_response(StatusCode::OK, configuration(&lambda, &record)),
        Err(err) => error_response(&err),
    }
}

async fn download_code(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    let record = match lookup(&lambda, &name) {
        Ok(record) => record,
        Err(err) => return error_response(&err),
    };
    let Some(path) = lambda.inner.registry.zip_path(&record) else {
        let CodeSource::Directory { path } = &record.code else {
            return StatusCode::NOT_FOUND.into_response();
        };
        return (
            StatusCode::NOT_FOUND,
            format!("the code is the local directory {path}"),
        )
            .into_response();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/zip")], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn update_configuration(
    State(lambda): State<Lambda>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let result = parse_body(&body).and_then(|body| {
        let name = lookup(&lambda, &name)?.name;
        lambda
            .inner
            .registry
            .update(&name, |record| apply_configuration(record, &body))
    });
    match result {
        Ok(record) => json_response(StatusCode::OK, configuration(&lambda, &record)),
        Err(err) => error_response(&err),
    }
}

async fn update_code(
    State(lambda): State<Lambda>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let result = parse_body(&body).and_then(|body| {
        let name = lookup(&lambda, &name)?.name;
        let code = code_input(&body)?;
        lambda.inner.registry.update_code(&name, code)
    });
    match result {
        Ok(record) => json_response(StatusCode::OK, configuration(&lambda, &record)),
        Err(err) => error_response(&err),
    }
}

async fn delete_function(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    let result =
        lookup(&lambda, &name).and_then(|record| lambda.inner.registry.delete(&record.name));
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => error_response(&err),
    }
}

async fn put_concurrency(
    State(lambda): State<Lambda>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let result = parse_body(&body).and_then(|body| {
        let name = lookup(&lambda, &name)?.name;
        let n = u64_field(&body, "ReservedConcurrentExecutions", 0, 1000)?.ok_or_else(|| {
            Error::InvalidParameterValue("ReservedConcurrentExecutions is required".into())
        })?;
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        lambda.inner.registry.update(&name, |record| {
            record.reserved_concurrency = Some(n);
            Ok(())
        })
    });
    match result {
        Ok(record) => json_response(
            StatusCode::OK,
            json!({"ReservedConcurrentExecutions": record.reserved_concurrency}),
        ),
        Err(err) => error_response(&err),
    }
}

async fn delete_concurrency(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    let result = lookup(&lambda, &name).and_then(|record| {
        lambda.inner.registry.update(&record.name, |record| {
            record.reserved_concurrency = None;
            Ok(())
        })
    });
    match result {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => error_response(&err),
    }
}

async fn invoke(
    State(lambda): State<Lambda>,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let invocation_type = match InvocationType::parse(header("x-amz-invocation-type")) {
        Ok(t) => t,
        Err(err) => return error_response(&err),
    };
    if let Some((_, qualifier)) = query.iter().find(|(k, _)| k == "Qualifier")
        && qualifier != "$LATEST"
    {
        return error_response(&Error::ResourceNotFound(format!(
            "Function not found: {}:{qualifier}",
            lambda.function_arn(&name)
        )));
    }
    let record = match lookup(&lambda, &name) {
        Ok(record) => record,
        Err(err) => return error_response(&err),
    };
    let options = InvokeOptions {
        invocation_type,
        log_tail: header("x-amz-log-type") == Some("Tail"),
        client_context: header("x-amz-client-context").map(str::to_owned),
    };
    if body.len() > MAX_SYNC_PAYLOAD {
        return error_response(&Error::RequestTooLarge(
            "Request must be smaller than 6291456 bytes for the InvokeFunction operation".into(),
        ));
    }
    match lambda.invoke(&record.name, body.to_vec(), options).await {
        Ok(result) => {
            let status = StatusCode::from_u16(result.status).unwrap_or(StatusCode::OK);
            let mut response = if result.status == 200 {
                ([(header::CONTENT_TYPE, "application/json")], result.payload).into_response()
            } else {
                Response::new(Body::empty())
            };
            *response.status_mut() = status;
            let headers = response.headers_mut();
            for (key, value) in [
                ("x-amzn-RequestId", Some(result.request_id)),
                ("X-Amz-Executed-Version", Some(result.executed_version)),
                ("X-Amz-Function-Error", result.function_error),
                ("X-Amz-Log-Result", result.log_result),
            ] {
                if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    headers.insert(key, value);
                }
            }
            response
        }
        Err(err) => error_response(&err),
    }
}

fn url_body(
    lambda: &Lambda,
    record: &FunctionRecord,
    url: &UrlRecord,
    with_modified: bool,
) -> Value {
    let mut body = json!({
        "FunctionUrl": url::function_url(lambda, &record.name),
        "FunctionArn": lambda.function_arn(&record.name),
        "AuthType": url.auth_type,
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(cors) = &url.cors {
            obj.insert("Cors".into(), cors.clone());
        }
        obj.insert(
            "CreationTime".into(),
            Value::String(util::iso_timestamp(url.created_ms)),
        );
        if with_modified {
            obj.insert(
                "LastModifiedTime".into(),
                Value::String(util::iso_timestamp(url.modified_ms)),
            );
        }
        obj.insert("InvokeMode".into(), Value::String(url.invoke_mode.clone()));
    }
    body
}

fn auth_type(body: &Map<String, Value>) -> Result<Option<String>, Error> {
    match string_field(body, "AuthType")? {
        Some(t) if t == "NONE" || t == "AWS_IAM" => Ok(Some(t)),
        Some(t) => Err(Error::InvalidParameterValue(format!(
            "1 validation error detected: Value '{t}' at 'authType' failed to satisfy constraint: \
             Member must satisfy enum value set: [NONE, AWS_IAM]"
        ))),
        None => Ok(None),
    }
}

async fn create_url(
    State(lambda): State<Lambda>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| {
        let body = parse_body(&body)?;
        let record = lookup(&lambda, &name)?;
        if record.url.is_some() {
            return Err(Error::ResourceConflict(format!(
                "Failed to create function url config for [functionArn = {}]. Error message:  \
                 FunctionUrlConfig exists for this Lambda function",
                lambda.function_arn(&record.name)
            )));
        }
        let auth = auth_type(&body)?
            .ok_or_else(|| Error::InvalidParameterValue("AuthType is required".into()))?;
        let now = util::now_ms();
        let url = UrlRecord {
            url_id: util::random_alnum(32, false),
            auth_type: auth,
            cors: body.get("Cors").cloned(),
            invoke_mode: string_field(&body, "InvokeMode")?.unwrap_or_else(|| "BUFFERED".into()),
            created_ms: now,
            modified_ms: now,
        };
        let record = lambda
            .inner
            .registry
            .set_url(&record.name, Some(url.clone()))?;
        Ok(url_body(&lambda, &record, &url, false))
    })();
    match result {
        Ok(body) => json_response(StatusCode::CREATED, body),
        Err(err) => error_response(&err),
    }
}

fn url_of(lambda: &Lambda, name: &str) -> Result<(FunctionRecord, UrlRecord), Error> {
    let record = lookup(lambda, name)?;
    let url = record.url.clone().ok_or_else(|| {
        Error::ResourceNotFound("The resource you requested does not exist.".into())
    })?;
    Ok((record, url))
}

async fn get_url(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    match url_of(&lambda, &name) {
        Ok((record, url)) => json_response(StatusCode::OK, url_body(&lambda, &record, &url, true)),
        Err(err) => error_response(&err),
    }
}

async fn update_url(
    State(lambda): State<Lambda>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let result = (|| {
        let body = parse_body(&body)?;
        let (record, mut url) = url_of(&lambda, &name)?;
        if let Some(auth) = auth_type(&body)? {
            url.auth_type = auth;
        }
        if let Some(cors) = body.get("Cors") {
            url.cors = Some(cors.clone());
        }
        if let Some(mode) = string_field(&body, "InvokeMode")? {
            url.invoke_mode = mode;
        }
        url.modified_ms = util::now_ms();
        let record = lambda
            .inner
            .registry
            .set_url(&record.name, Some(url.clone()))?;
        Ok(url_body(&lambda, &record, &url, true))
    })();
    match result {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(err) => error_response(&err),
    }
}

async fn delete_url(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    let result = url_of(&lambda, &name)
        .and_then(|(record, _)| lambda.inner.registry.set_url(&record.name, None));
    match result {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => error_response(&err),
    }
}

async fn add_permission(
    State(lambda): State<Lambda>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let result = parse_body(&body).and_then(|body| {
        let record = lookup(&lambda, &name)?;
        let sid = string_field(&body, "StatementId")?
            .ok_or_else(|| Error::InvalidParameterValue("StatementId is required".into()))?;
        let action = string_field(&body, "Action")?
            .ok_or_else(|| Error::InvalidParameterValue("Action is required".into()))?;
        let principal = string_field(&body, "Principal")?
            .ok_or_else(|| Error::InvalidParameterValue("Principal is required".into()))?;
        if record.policy.iter().any(|s| s["Sid"] == json!(sid)) {
            return Err(Error::ResourceConflict(format!(
                "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
            )));
        }
        let principal = if principal == "*" {
            json!("*")
        } else if principal.contains('.') {
            json!({"Service": principal})
        } else {
            json!({"AWS": principal})
        };
        let mut statement = json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal,
            "Action": action,
            "Resource": lambda.function_arn(&record.name),
        });
        let mut condition = Map::new();
        if let Some(arn) = string_field(&body, "SourceArn")? {
            condition.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
        }
        if let Some(auth) = string_field(&body, "FunctionUrlAuthType")? {
            condition.insert("StringEquals".into(), json!({"lambda:FunctionUrlAuthType": auth}));
        }
        if !condition.is_empty() {
            statement["Condition"] = Value::Object(condition);
        }
        let added = statement.clone();
        lambda.inner.registry.set_policy(&record.name, |policy| policy.push(statement))?;
        Ok(json!({ "Statement": added.to_string() }))
    });
    match result {
        Ok(body) => json_response(StatusCode::CREATED, body),
        Err(err) => error_response(&err),
    }
}

async fn get_policy(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    match lookup(&lambda, &name) {
        Ok(record) if !record.policy.is_empty() => {
            let policy =
                json!({"Version": "2012-10-17", "Id": "default", "Statement": record.policy});
            json_response(
                StatusCode::OK,
                json!({"Policy": policy.to_string(), "RevisionId": record.revision_id}),
            )
        }
        Ok(_) => error_response(&Error::ResourceNotFound(
            "The resource you requested does not exist.".into(),
        )),
        Err(err) => error_response(&err),
    }
}

async fn remove_permission(
    State(lambda): State<Lambda>,
    Path((name, sid)): Path<(String, String)>,
) -> Response {
    let result = lookup(&lambda, &name).and_then(|record| {
        if !record.policy.iter().any(|s| s["Sid"] == json!(sid)) {
            return Err(Error::ResourceNotFound(format!(
                "Statement {sid} is not found in resource policy."
            )));
        }
        lambda.inner.registry.set_policy(&record.name, |policy| {
            policy.retain(|s| s["Sid"] != json!(sid))
        })
    });
    match result {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => error_response(&err),
    }
}

async fn list_tags(State(lambda): State<Lambda>, Path(arn): Path<String>) -> Response {
    match lookup(&lambda, &arn) {
        Ok(record) => json_response(StatusCode::OK, json!({ "Tags": record.tags })),
        Err(err) => error_response(&err),
    }
}

async fn tag_resource(
    State(lambda): State<Lambda>,
    Path(arn): Path<String>,
    body: Bytes,
) -> Response {
    let result = parse_body(&body).and_then(|body| {
        let record = lookup(&lambda, &arn)?;
        let tags: Vec<(String, String)> = body
            .get("Tags")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect();
        lambda
            .inner
            .registry
            .set_tags(&record.name, |current| current.extend(tags))
    });
    match result {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => error_response(&err),
    }
}

async fn untag_resource(
    State(lambda): State<Lambda>,
    Path(arn): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let result = lookup(&lambda, &arn).and_then(|record| {
        let keys: Vec<String> = query
            .into_iter()
            .filter(|(k, _)| k == "tagKeys")
            .map(|(_, v)| v)
            .collect();
        lambda.inner.registry.set_tags(&record.name, |current| {
            current.retain(|k, _| !keys.contains(k))
        })
    });
    match result {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => error_response(&err),
    }
}

async fn get_concurrency(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    match lookup(&lambda, &name) {
        Ok(record) => {
            let body = match record.reserved_concurrency {
                Some(n) => json!({"ReservedConcurrentExecutions": n}),
                None => json!({}),
            };
            json_response(StatusCode::OK, body)
        }
        Err(err) => error_response(&err),
    }
}

async fn list_urls(State(lambda): State<Lambda>, Path(name): Path<String>) -> Response {
    match lookup(&lambda, &name) {
        Ok(record) => {
            let configs: Vec<Value> = record
                .url
                .iter()
                .map(|url| url_body(&lambda, &record, url, true))
                .collect();
            json_response(StatusCode::OK, json!({ "FunctionUrlConfigs": configs }))
        }
        Err(err) => error_response(&err),
    }
}
