//! Test harness: a local Lambda served on `127.0.0.1:0` (in front of a stand-in Step Functions
//! router), a small keep-alive HTTP client, and zips built in memory. Shared with the
//! benchmark (`benches/invoke.rs`). Lambda in front of the real Step Functions API is tested
//! through `baton serve` in `crates/cli/tests/it` (its `lambda` and `seeds` modules).

#![allow(dead_code)] // Each user (tests, bench) needs a different part.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Request};
use axum::routing::post;
use baton_lambda::{Config, Lambda};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

/// A running local Lambda.
pub struct Harness {
    pub lambda: Lambda,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub client: Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.lambda.shutdown();
        self.server.abort();
    }
}

/// Whether `program --version` runs (tests that need it are skipped, loudly, when not).
pub fn have(program: &str) -> bool {
    let ok = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: {program} is not installed");
    }
    ok
}

impl Harness {
    pub async fn start() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        Harness::start_in(dir).await
    }

    /// Starts on an existing data directory (to test reloading).
    pub async fn start_in(dir: tempfile::TempDir) -> Harness {
        // A stand-in for the Step Functions API, to check that requests are told apart.
        let sfn = Router::new().route("/", post(|| async { "sfn" }));
        Harness::serve(dir, |_| async move { sfn }).await
    }

    async fn serve<F, Fut>(dir: tempfile::TempDir, inner: F) -> Harness
    where
        F: FnOnce(Lambda) -> Fut,
        Fut: std::future::Future<Output = Router>,
    {
        let lambda = Lambda::open(dir.path(), Config::default()).expect("open");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        lambda.set_endpoint_url(&format!("http://{addr}"));
        let app = lambda.wrap(inner(lambda.clone()).await);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Harness {
            lambda,
            addr,
            dir,
            client: Client::new(addr),
            server,
        }
    }

    /// Stops the server and the workers, keeping the data directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.lambda.shutdown();
        self.server.abort();
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }

    pub async fn request(&mut self, method: &str, path: &str, body: Value) -> Reply {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&body).expect("json")
        };
        self.client.send(method, path, &[], bytes).await
    }

    /// CreateFunction from `files` zipped, with `extra` fields merged into the request.
    pub async fn create(
        &mut self,
        name: &str,
        runtime: &str,
        handler: &str,
        files: &[(&str, &str)],
        extra: Value,
    ) -> Reply {
        let mut body = json!({
            "FunctionName": name,
            "Runtime": runtime,
            "Role": "arn:aws:iam::000000000000:role/lambda-role",
            "Handler": handler,
            "Code": {"ZipFile": base64(&zip_of(files))},
        });
        if let (Some(obj), Some(more)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in more {
                obj.insert(k.clone(), v.clone());
            }
        }
        let reply = self.request("POST", "/2015-03-31/functions", body).await;
        assert_eq!(reply.status, 201, "create {name}: {}", reply.text());
        reply
    }

    /// Invoke with a JSON payload; returns the reply (status, headers, payload).
    pub async fn invoke(&mut self, name: &str, payload: &Value) -> Reply {
        self.invoke_with(name, payload, &[]).await
    }

    pub async fn invoke_with(
        &mut self,
        name: &str,
        payload: &Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let path = format!("/2015-03-31/functions/{name}/invocations");
        self.client
            .send(
                "POST",
                &path,
                headers,
                serde_json::to_vec(payload).expect("json"),
            )
            .await
    }
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// An HTTP/1.1 client on one kept-alive connection (reconnecting when it closes).
pub struct Client {
    addr: SocketAddr,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client { addr, sender: None }
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(self.addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (sender, conn) = http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("sender");
        sender.ready().await.expect("ready");
        let mut builder = Request::builder().method(method).uri(path);
        let mut has_host = false;
        for (k, v) in headers {
            has_host |= k.eq_ignore_ascii_case("host");
            builder = builder.header(*k, *v);
        }
        if !has_host {
            builder = builder.header("host", self.addr.to_string());
        }
        let request = builder.body(Full::new(Bytes::from(body))).expect("request");
        let response = sender.send_request(request).await.expect("send");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// A deflated zip of `files` (path, contents); a file named `bootstrap` is made executable.
pub fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in files {
        let mode = if Path::new(name)
            .file_name()
            .is_some_and(|n| n == "bootstrap")
        {
            0o755
        } else {
            0o644
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode);
        writer.start_file(*name, options).expect("start file");
        writer.write_all(text.as_bytes()).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unbase64(text: &str) -> String {
    use base64::Engine as _;
    String::from_utf8_lossy(
        &base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64"),
    )
    .into_owned()
}

/// Milliseconds of `durations` at percentile `p` (0..=100).
pub fn percentile(sorted_micros: &[u128], p: f64) -> f64 {
    if sorted_micros.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted_micros.len() - 1) as f64).round() as usize;
    sorted_micros[rank.min(sorted_micros.len() - 1)] as f64 / 1000.0
}
