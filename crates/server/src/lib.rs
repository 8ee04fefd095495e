//! The Baton HTTP server: the AWS Step Functions API (AWS JSON 1.0) in front of a
//! [`baton_runtime::Runtime`].
//!
//! [`run`] serves a bound listener until the shutdown future completes, so tests bind
//! `127.0.0.1:0` and stop the server cleanly; [`app`] gives the same routes as a router, for a
//! binary that puts other services in front (`baton serve` mounts Lambda). Routes:
//! - `POST /`: every API action, named by `X-Amz-Target` (see [`protocol`](crate::protocol) for
//!   the wire rules and `actions/` for one module per group of actions);
//! - `GET /health`: `200 {"status":"ok"}` once the server accepts requests (in cluster mode
//!   with the node id and a check of the shared database, `503` while it does not answer).
//!
//! The server converts between the wire shapes of `baton_api_model` and the runtime's types
//! explicitly; it holds no state of its own besides the defaults below.

mod actions;
mod protocol;

use std::future::Future;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use baton_runtime::Runtime;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The largest request body accepted. AWS's largest members are the definition (1 MiB) and
/// payloads (256 KiB); JSON escaping can double them.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What the server needs besides the runtime.
#[derive(Debug, Clone)]
pub struct Config {
    /// Region for requests that carry no SigV4 credential scope.
    pub region: String,
    /// Account id in ARNs.
    pub account: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) runtime: Runtime,
    pub(crate) region: String,
    pub(crate) account: String,
    /// Flips to `true` when shutdown begins, so long polls return at once.
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Serves the API on `listener` until `shutdown` completes, then stops accepting connections,
/// ends pending long polls (they answer "no task", as when a poll times out) and waits for
/// in-flight requests to finish.
pub async fn run(
    listener: TcpListener,
    runtime: Runtime,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    axum::serve(listener, app(runtime, config, stop_rx))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop_tx.send_replace(true);
        })
        .await
}

/// The API's routes. Pending long polls (`GetActivityTask`) answer "no task" as soon as
/// `stopping` turns `true`: send it when graceful shutdown begins, as [`run`] does, or the
/// shutdown waits for them to time out.
pub fn app(runtime: Runtime, config: Config, stopping: watch::Receiver<bool>) -> Router {
    let state = AppState {
        runtime,
        region: config.region,
        account: config.account,
        shutdown: stopping,
    };
    Router::new()
        .route("/", post(protocol::handle))
        .route("/health", get(health))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// `GET /health`: `200 {"status":"ok"}`; with a shared database (cluster mode) also the node
/// id and the database check, and `503` with `"status":"unavailable"` while the database does
/// not answer.
async fn health(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut body = serde_json::json!({"status": "ok"});
    let mut code = axum::http::StatusCode::OK;
    if let Some(check) = state.runtime.cluster_health().await {
        if !check.ok {
            body["status"] = "unavailable".into();
            code = axum::http::StatusCode::SERVICE_UNAVAILABLE;
        }
        body["node"] = state.runtime.node_id().into();
        body["database"] = serde_json::json!({
            "ok": check.ok,
            "latencyMs": check.latency.as_secs_f64() * 1000.0,
            "schemaVersion": check.schema_version,
            "poolSize": check.pool_size,
            "poolAvailable": check.pool_available,
            "error": check.error,
        });
    }
    (
        code,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
