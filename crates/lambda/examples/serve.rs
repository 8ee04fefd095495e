//! Serves the local Lambda (REST API, IAM, function URLs) together with the Step Functions
//! API of `baton-server` (in-memory store) on one port, the way `baton serve` is meant to
//! combine them, so the seed scripts run end to end before the CLI mounts Lambda:
//! `cargo run -p baton-lambda --example serve -- [PORT] [DATA_DIR]` (defaults 4566, a temp dir).
//!
//! Step Functions requests are forwarded to `baton_server::run` on a private loopback port,
//! because that function builds its own router; a real integration calls `Lambda::wrap` on it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(4566);
    let data = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("baton-lambda-{port}")));
    let lambda = match baton_lambda::Lambda::open(&data, baton_lambda::Config::default()) {
        Ok(lambda) => lambda,
        Err(err) => fail(&format!("cannot open {}: {err}", data.display())),
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(err) => fail(&format!("cannot listen on {port}: {err}")),
    };
    lambda.set_endpoint_url(&format!("http://127.0.0.1:{port}"));

    let config = baton_runtime::Config {
        dispatcher: Arc::new(lambda.dispatcher()),
        ..baton_runtime::Config::default()
    };
    let runtime =
        match baton_runtime::Runtime::open(Arc::new(baton_store::MemoryStore::new()), config).await
        {
            Ok(runtime) => runtime,
            Err(err) => fail(&format!("cannot start the runtime: {err}")),
        };
    let sfn_listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(err) => fail(&format!("cannot listen: {err}")),
    };
    let sfn_addr = sfn_listener
        .local_addr()
        .unwrap_or_else(|err| fail(&err.to_string()));
    tokio::spawn(baton_server::run(
        sfn_listener,
        runtime,
        baton_server::Config::default(),
        std::future::pending(),
    ));
    let forward = Router::new().fallback(forward).with_state(sfn_addr);
    println!(
        "Baton (Step Functions + Lambda) on http://127.0.0.1:{port}, Lambda data in {}",
        data.display()
    );
    if let Err(err) = axum::serve(listener, lambda.wrap(forward)).await {
        eprintln!("server: {err}");
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}

/// Forwards a request to the Step Functions server.
async fn forward(State(addr): State<SocketAddr>, request: Request) -> Response {
    match try_forward(addr, request).await {
        Ok(response) => response,
        Err(err) => (StatusCode::BAD_GATEWAY, err).into_response(),
    }
}

async fn try_forward(addr: SocketAddr, request: Request) -> Result<Response, String> {
    let (parts, body) = request.into_parts();
    let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let mut outbound = hyper::Request::builder()
        .method(parts.method)
        .uri(parts.uri);
    for (name, value) in &parts.headers {
        outbound = outbound.header(name, value);
    }
    let outbound = outbound
        .body(http_body_util::Full::new(bytes))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(outbound)
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Response::from_parts(parts, Body::from(bytes)))
}
