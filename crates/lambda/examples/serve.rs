//! Serves the local Lambda alone (REST API, IAM, function URLs), for trying the seed scripts'
//! Lambda and IAM steps before `baton serve` mounts it:
//! `cargo run -p baton-lambda --example serve -- [PORT] [DATA_DIR]` (defaults 4566, a temp dir).
//! Step Functions requests answer 501.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;

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
        Err(err) => {
            eprintln!("cannot open {}: {err}", data.display());
            std::process::exit(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {port}: {err}");
            std::process::exit(1);
        }
    };
    lambda.set_endpoint_url(&format!("http://127.0.0.1:{port}"));
    let sfn = Router::new().route(
        "/",
        post(|| async {
            (
                StatusCode::NOT_IMPLEMENTED,
                "Step Functions is not served by this example",
            )
        }),
    );
    println!(
        "local Lambda on http://127.0.0.1:{port}, data in {}",
        data.display()
    );
    if let Err(err) = axum::serve(listener, lambda.wrap(sfn)).await {
        eprintln!("server: {err}");
    }
}
