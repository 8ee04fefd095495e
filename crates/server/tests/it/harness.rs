//! Starts a server on an ephemeral port and talks to it with a minimal HTTP/1.1 client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ROLE: &str = "arn:aws:iam::000000000000:role/test";

pub const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"done":true},"ResultPath":"$.r","End":true}}}"#;

/// A running server; stops when dropped or on [`Server::stop`].
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _schema: Option<Schema>,
}

/// A response: status, headers of interest, JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    /// The error name in `__type`, after the `#`.
    pub fn error(&self) -> &str {
        self.body["__type"]
            .as_str()
            .and_then(|t| t.rsplit('#').next())
            .unwrap_or("")
    }
}

/// The store the tests run on: in memory, or with `BATON_TEST_STORE=postgres` a fresh schema
/// of the database `BATON_TEST_POSTGRES` names, with the runtime in cluster mode (one node).
async fn open_store() -> (
    Arc<dyn baton_store::Store>,
    Option<baton_runtime::ClusterConfig>,
    Option<Schema>,
) {
    if std::env::var("BATON_TEST_STORE").as_deref() != Ok("postgres") {
        return (Arc::new(baton_store::MemoryStore::new()), None, None);
    }
    let url = std::env::var("BATON_TEST_POSTGRES")
        .expect("BATON_TEST_STORE=postgres needs BATON_TEST_POSTGRES (a PostgreSQL URL)");
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("OS randomness");
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let schema = format!("baton_server_{name}");
    let options = baton_store_postgres::Options {
        schema: Some(schema.clone()),
        ..Default::default()
    };
    let store = Arc::new(
        baton_store_postgres::PgStore::connect_with(&url, options)
            .await
            .expect("connect to BATON_TEST_POSTGRES"),
    );
    let cluster = baton_runtime::ClusterConfig::new(store.clone(), "test");
    (store, Some(cluster), Some(Schema { url, name: schema }))
}

/// A PostgreSQL schema dropped when the server is.
struct Schema {
    url: String,
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        // On a thread of its own: this may run inside the test's async runtime.
        let (url, name) = (self.url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let Ok((client, connection)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                else {
                    return;
                };
                tokio::spawn(connection);
                let _ = client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await;
            });
        })
        .join();
    }
}

pub async fn start() -> Server {
    let (store, cluster, schema) = open_store().await;
    let config = baton_runtime::Config {
        // Keep "no task" long polls short in tests.
        max_activity_wait: Duration::from_millis(300),
        cluster,
        ..Default::default()
    };
    let runtime = baton_runtime::Runtime::open(store, config)
        .await
        .expect("runtime opens");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(baton_server::run(
        listener,
        runtime,
        baton_server::Config::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    Server {
        addr,
        stop: Some(stop),
        task: Some(task),
        _schema: schema,
    }
}

impl Server {
    /// Sends `POST /` with the given target and raw body and extra headers.
    pub async fn raw(&self, target: Option<&str>, body: &[u8], headers: &[(&str, &str)]) -> Reply {
        let stream = TcpStream::connect(self.addr).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        let mut request = Request::post("/")
            .header("content-type", "application/x-amz-json-1.0")
            .header("host", self.addr.to_string());
        if let Some(target) = target {
            request = request.header("x-amz-target", target);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap();
        let response = sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply {
            status,
            content_type,
            body,
        }
    }

    /// Calls an action with a JSON body.
    pub async fn call(&self, action: &str, body: Value) -> Reply {
        let target = format!("AWSStepFunctions.{action}");
        self.raw(Some(&target), body.to_string().as_bytes(), &[])
            .await
    }

    /// Calls an action that must succeed and returns its body.
    pub async fn ok(&self, action: &str, body: Value) -> Value {
        let reply = self.call(action, body).await;
        assert_eq!(reply.status, 200, "{action} failed: {}", reply.body);
        reply.body
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let stream = TcpStream::connect(self.addr).await.expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let request = Request::get(path)
            .header("host", self.addr.to_string())
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into())
    }

    /// Creates a state machine and returns its ARN.
    pub async fn machine(&self, name: &str, definition: &str) -> String {
        self.machine_of_type(name, definition, "STANDARD").await
    }

    pub async fn machine_of_type(&self, name: &str, definition: &str, kind: &str) -> String {
        let body = self
            .ok(
                "CreateStateMachine",
                serde_json::json!({"name": name, "definition": definition, "roleArn": ROLE, "type": kind}),
            )
            .await;
        body["stateMachineArn"].as_str().unwrap().to_string()
    }

    /// Polls DescribeExecution until the execution is no longer RUNNING (10 s at most).
    pub async fn wait(&self, execution_arn: &str) -> Value {
        for _ in 0..1000 {
            let body = self
                .ok(
                    "DescribeExecution",
                    serde_json::json!({"executionArn": execution_arn}),
                )
                .await;
            if body["status"] != "RUNNING" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{execution_arn} still running");
    }

    /// Stops the server and waits for `run` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("server stops within 5 s")
            .expect("server task")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Whether `value` is an epoch-seconds timestamp within a day of now.
pub fn is_recent_timestamp(value: &Value) -> bool {
    let Some(seconds) = value.as_f64() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    (now - seconds).abs() < 86_400.0
}
