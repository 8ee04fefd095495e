//! Worker pools and the Lambda Runtime API.
//!
//! Each function has a [`Pool`]: a queue of invocations and up to N worker processes. A worker
//! is a long-lived process (Baton's Python or Node.js bootstrap, or the function's own
//! `bootstrap` for `provided` runtimes) that loops on the Runtime API served by Baton on its
//! own loopback port: `GET /2018-06-01/runtime/invocation/next` blocks until an invocation is
//! queued, `POST .../invocation/{id}/response` or `.../error` returns the result, and
//! `POST /2018-06-01/runtime/init/error` reports a handler that cannot be loaded. A worker
//! serves one invocation at a time (as a Lambda sandbox does); a second one starts when
//! invocations queue up and the pool is below its size.
//!
//! A watchdog per invocation kills a worker that exceeds the function's `Timeout`; the
//! invocation then fails with `Sandbox.Timedout`. A worker that dies fails its invocation with
//! `Runtime.ExitError`; one that dies before asking for work fails the queued invocations with
//! its init error, so a broken handler does not start workers in a loop. Worker stdout and
//! stderr go through one pipe into the function's log file and, per invocation, into the
//! `LogResult` tail.

use std::collections::VecDeque;
use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::net::unix::pipe;
use tokio::sync::{Notify, oneshot};

use crate::model::RuntimeKind;
use crate::registry::Function;
use crate::{Error, Lambda, util};

/// The largest synchronous request or response payload (AWS: 6 MB).
pub(crate) const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// The largest asynchronous (`Event`) payload (AWS: 256 KB).
pub(crate) const MAX_ASYNC_PAYLOAD: usize = 256 * 1024;
/// How much of the log the `LogResult` tail keeps (AWS: the last 4 KB).
const LOG_TAIL_BYTES: usize = 4096;
/// How much log one invocation keeps in memory for the tail.
const LOG_BUFFER_BYTES: usize = 64 * 1024;

const PYTHON_BOOTSTRAP: &str = include_str!("../runtimes/python/bootstrap.py");
const NODE_BOOTSTRAP: &str = include_str!("../runtimes/node/bootstrap.mjs");

/// How an invocation is made (`X-Amz-Invocation-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvocationType {
    /// Wait for the result.
    #[default]
    RequestResponse,
    /// Queue it and answer 202 at once.
    Event,
    /// Check the parameters only; answer 204.
    DryRun,
}

/// Options of an invocation.
#[derive(Debug, Clone, Default)]
pub struct InvokeOptions {
    /// `X-Amz-Invocation-Type`.
    pub invocation_type: InvocationType,
    /// `X-Amz-Log-Type: Tail`: return the last 4 KB of the log.
    pub log_tail: bool,
    /// `X-Amz-Client-Context` (base64 JSON), passed to the function.
    pub client_context: Option<String>,
}

/// What an invocation gave.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokeResult {
    /// The request id (`x-amzn-RequestId`).
    pub request_id: String,
    /// 200, 202 (`Event`) or 204 (`DryRun`).
    pub status: u16,
    /// The response payload (the error document when `function_error` is set).
    pub payload: Vec<u8>,
    /// `X-Amz-Function-Error`: `Unhandled` when the function failed.
    pub function_error: Option<String>,
    /// `X-Amz-Log-Result`: base64 of the log tail, when asked for.
    pub log_result: Option<String>,
    /// `X-Amz-Executed-Version`.
    pub executed_version: String,
}

impl InvocationType {
    pub(crate) fn parse(text: Option<&str>) -> Result<InvocationType, Error> {
        match text {
            None | Some("RequestResponse") => Ok(InvocationType::RequestResponse),
            Some("Event") => Ok(InvocationType::Event),
            Some("DryRun") => Ok(InvocationType::DryRun),
            Some(other) => Err(Error::InvalidParameterValue(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy \
                 constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            ))),
        }
    }
}

/// Writes the embedded runtime scripts under `dir`.
pub(crate) fn write_runtime_scripts(dir: &Path) -> Result<(), Error> {
    for (sub, file, text) in [
        ("python", "bootstrap.py", PYTHON_BOOTSTRAP),
        ("node", "bootstrap.mjs", NODE_BOOTSTRAP),
    ] {
        let folder = dir.join(sub);
        std::fs::create_dir_all(&folder)
            .map_err(|err| Error::io("creating the runtimes folder", err))?;
        let path = folder.join(file);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text)
                .map_err(|err| Error::io("writing a runtime script", err))?;
        }
    }
    Ok(())
}

/// Invokes `function`.
pub(crate) async fn invoke(
    lambda: &Lambda,
    function: &Arc<Function>,
    mut payload: Vec<u8>,
    options: InvokeOptions,
) -> Result<InvokeResult, Error> {
    let limit = match options.invocation_type {
        InvocationType::Event => MAX_ASYNC_PAYLOAD,
        _ => MAX_SYNC_PAYLOAD,
    };
    if payload.len() > limit {
        return Err(Error::RequestTooLarge(format!(
            "{} byte payload is too large for the {} invocation type (limit {limit} bytes)",
            payload.len(),
            match options.invocation_type {
                InvocationType::Event => "Event",
                _ => "RequestResponse",
            }
        )));
    }
    if payload.iter().all(u8::is_ascii_whitespace) {
        payload = b"{}".to_vec();
    } else if let Err(err) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        return Err(Error::InvalidRequestContent(format!(
            "Could not parse request body into json: Could not parse payload into json: {err}"
        )));
    }
    if function.record.reserved_concurrency == Some(0) {
        return Err(Error::TooManyRequests("Rate Exceeded.".into()));
    }
    let request_id = util::uuid4();
    let mut result = InvokeResult {
        request_id: request_id.clone(),
        status: 200,
        payload: Vec::new(),
        function_error: None,
        log_result: None,
        executed_version: "$LATEST".into(),
    };
    match options.invocation_type {
        InvocationType::DryRun => {
            result.status = 204;
            Ok(result)
        }
        InvocationType::Event => {
            let (job, reply) = Job::new(request_id, payload, &options);
            function.pool.submit(lambda, function, job);
            // The result is only logged, as AWS does without a destination.
            tokio::spawn(async move {
                let _ = reply.await;
            });
            result.status = 202;
            Ok(result)
        }
        InvocationType::RequestResponse => {
            let (job, reply) = Job::new(request_id.clone(), payload, &options);
            function.pool.submit(lambda, function, job);
            let outcome = reply.await.unwrap_or_else(|_| Outcome {
                payload: exit_error(&request_id, "Runtime exited without providing a reason"),
                error: true,
                logs: Vec::new(),
                duration: Duration::ZERO,
                init: None,
            });
            if options.log_tail {
                result.log_result =
                    Some(log_tail(&request_id, &outcome, function.record.memory_size));
            }
            if outcome.error {
                result.function_error = Some("Unhandled".into());
            }
            result.payload = outcome.payload;
            Ok(result)
        }
    }
}

/// A function's worker pool. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Pool {
    shared: Arc<Mutex<PoolState>>,
}

#[derive(Default)]
struct PoolState {
    closed: bool,
    /// Workers blocked in `next`, oldest first.
    idle: VecDeque<oneshot::Sender<Job>>,
    /// Invocations no worker has taken yet.
    pending: VecDeque<Job>,
    /// Workers alive, including those starting.
    workers: usize,
    /// Workers that have not called `next` yet.
    starting: usize,
    /// Kill switches of the live workers, to stop them on close.
    kills: Vec<Arc<Notify>>,
}

struct Job {
    request_id: String,
    payload: Vec<u8>,
    client_context: Option<String>,
    reply: oneshot::Sender<Outcome>,
}

impl Job {
    fn new(
        request_id: String,
        payload: Vec<u8>,
        options: &InvokeOptions,
    ) -> (Job, oneshot::Receiver<Outcome>) {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            request_id,
            payload,
            client_context: options.client_context.clone(),
            reply,
        };
        (job, rx)
    }

    fn fail(self, payload: Vec<u8>) {
        let _ = self.reply.send(Outcome {
            payload,
            error: true,
            logs: Vec::new(),
            duration: Duration::ZERO,
            init: None,
        });
    }
}

struct Outcome {
    payload: Vec<u8>,
    /// The function failed (`X-Amz-Function-Error: Unhandled`).
    error: bool,
    logs: Vec<u8>,
    duration: Duration,
    /// The worker's init duration, for its first invocation.
    init: Option<Duration>,
}

impl Pool {
    pub(crate) fn new() -> Pool {
        Pool::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stops the pool: idle workers exit now, busy ones after their invocation; queued
    /// invocations fail.
    pub(crate) fn close(&self) {
        let (pending, kills) = {
            let mut state = self.lock();
            state.closed = true;
            state.idle.clear();
            (std::mem::take(&mut state.pending), state.kills.clone())
        };
        for job in pending {
            let id = job.request_id.clone();
            job.fail(exit_error(&id, "the function was updated or deleted"));
        }
        for kill in kills {
            kill.notify_one();
        }
    }

    fn submit(&self, lambda: &Lambda, function: &Arc<Function>, mut job: Job) {
        let mut state = self.lock();
        if state.closed {
            drop(state);
            let id = job.request_id.clone();
            job.fail(exit_error(&id, "the function was updated or deleted"));
            return;
        }
        while let Some(waiter) = state.idle.pop_front() {
            match waiter.send(job) {
                Ok(()) => return,
                Err(back) => job = back,
            }
        }
        state.pending.push_back(job);
        let max = function
            .record
            .reserved_concurrency
            .map_or(lambda.inner.config.max_workers_per_function, |r| {
                usize::try_from(r).unwrap_or(usize::MAX)
            })
            .clamp(1, lambda.inner.config.max_workers_per_function.max(1));
        if state.workers < max && state.starting < state.pending.len() {
            state.workers += 1;
            state.starting += 1;
            let kill = Arc::new(Notify::new());
            state.kills.push(kill.clone());
            drop(state);
            let spec = WorkerSpec::new(lambda, function);
            spawn_worker(spec, function.clone(), kill);
        }
    }

    /// The next job for a worker, waiting if none is queued; `None` when the pool closed.
    async fn next_job(&self) -> Option<Job> {
        let rx = {
            let mut state = self.lock();
            if state.closed {
                return None;
            }
            if let Some(job) = state.pending.pop_front() {
                return Some(job);
            }
            let (tx, rx) = oneshot::channel();
            state.idle.push_back(tx);
            rx
        };
        rx.await.ok()
    }

    fn worker_ready(&self) {
        let mut state = self.lock();
        state.starting = state.starting.saturating_sub(1);
    }

    /// A worker ended. Returns the queued jobs to fail (when it never became ready) and
    /// whether a replacement should start for queued work.
    fn worker_exited(&self, kill: &Arc<Notify>, was_ready: bool) -> (Vec<Job>, bool) {
        let mut state = self.lock();
        state.workers = state.workers.saturating_sub(1);
        state.kills.retain(|k| !Arc::ptr_eq(k, kill));
        if !was_ready {
            state.starting = state.starting.saturating_sub(1);
            // Leave the queue to workers still starting; fail it when none is.
            if state.starting == 0 {
                return (state.pending.drain(..).collect(), false);
            }
            return (Vec::new(), false);
        }
        let respawn =
            !state.closed && !state.pending.is_empty() && state.starting < state.pending.len();
        if respawn {
            state.workers += 1;
            state.starting += 1;
        }
        (Vec::new(), respawn)
    }

    fn add_kill(&self, kill: Arc<Notify>) {
        self.lock().kills.push(kill);
    }
}

/// Everything needed to start a worker process.
#[derive(Clone)]
struct WorkerSpec {
    kind: RuntimeKind,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    code_dir: PathBuf,
    log_path: PathBuf,
    function_arn: String,
    timeout: Duration,
    memory_size: u64,
    lambda: std::sync::Weak<crate::Inner>,
}

impl WorkerSpec {
    fn new(lambda: &Lambda, function: &Function) -> WorkerSpec {
        let config = &lambda.inner.config;
        let record = &function.record;
        let runtimes = &lambda.inner.runtimes_dir;
        let (program, args) = match function.kind {
            RuntimeKind::Python => (
                PathBuf::from(&config.python),
                vec![runtimes.join("python/bootstrap.py").display().to_string()],
            ),
            RuntimeKind::Node => (
                PathBuf::from(&config.node),
                vec![runtimes.join("node/bootstrap.mjs").display().to_string()],
            ),
            RuntimeKind::Provided => (function.code_dir.join("bootstrap"), Vec::new()),
        };
        let endpoint = lambda.endpoint_or_default();
        let task_root = function.code_dir.display().to_string();
        let mut env: Vec<(String, String)> = Vec::new();
        for key in [
            "PATH",
            "HOME",
            "LANG",
            "SYSTEMROOT",
            "TMPDIR",
            "PYENV_ROOT",
            "PYENV_VERSION",
        ] {
            if let Ok(value) = std::env::var(key) {
                env.push((key.into(), value));
            }
        }
        let stream = format!(
            "{}/[$LATEST]{}",
            util::iso_timestamp(util::now_ms())
                .get(..10)
                .unwrap_or("1970-01-01")
                .replace('-', "/"),
            util::random_alnum(32, false)
        );
        env.extend(
            [
                ("AWS_LAMBDA_FUNCTION_NAME", record.name.clone()),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
                (
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    record.memory_size.to_string(),
                ),
                (
                    "AWS_LAMBDA_LOG_GROUP_NAME",
                    format!("/aws/lambda/{}", record.name),
                ),
                ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
                ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
                ("AWS_REGION", config.region.clone()),
                ("AWS_DEFAULT_REGION", config.region.clone()),
                (
                    "AWS_EXECUTION_ENV",
                    format!("AWS_Lambda_{}", record.runtime),
                ),
                ("AWS_ACCESS_KEY_ID", "test".into()),
                ("AWS_SECRET_ACCESS_KEY", "test".into()),
                ("AWS_SESSION_TOKEN", "test".into()),
                ("AWS_ENDPOINT_URL", endpoint),
                ("_HANDLER", record.handler.clone()),
                ("LAMBDA_TASK_ROOT", task_root.clone()),
                ("LAMBDA_RUNTIME_DIR", runtimes.display().to_string()),
                ("TZ", ":UTC".into()),
                ("PYTHONUNBUFFERED", "1".into()),
                ("PYTHONDONTWRITEBYTECODE", "1".into()),
                ("NODE_PATH", format!("{task_root}/node_modules")),
                ("BATON", "1".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
        );
        // The function's own variables come last, so they win (as on AWS for the ones it
        // allows to be overridden).
        env.extend(
            record
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        WorkerSpec {
            kind: function.kind,
            program,
            args,
            env,
            code_dir: function.code_dir.clone(),
            log_path: function.log_path.clone(),
            function_arn: lambda.function_arn(&record.name),
            timeout: Duration::from_secs(record.timeout.max(1)),
            memory_size: record.memory_size,
            lambda: Arc::downgrade(&lambda.inner),
        }
    }
}

/// State shared by a worker's supervisor and its Runtime API handlers.
struct Worker {
    spec: WorkerSpec,
    function: Arc<Function>,
    kill: Arc<Notify>,
    /// The invocation being served.
    current: Mutex<Option<Current>>,
    ready: AtomicBool,
    started: Instant,
    /// Init duration in microseconds, reported with the first invocation.
    init_micros: AtomicU64,
    init_reported: AtomicBool,
    /// The init error document, if the handler could not be loaded.
    init_error: Mutex<Option<Vec<u8>>>,
    logs: Arc<Logs>,
}

struct Current {
    request_id: String,
    reply: oneshot::Sender<Outcome>,
    started: Instant,
    watchdog: Option<tokio::task::AbortHandle>,
}

impl Worker {
    fn take_current(&self, request_id: &str) -> Option<Current> {
        let mut guard = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_some_and(|c| c.request_id == request_id) {
            guard.take()
        } else {
            None
        }
    }

    fn finish(&self, current: Current, payload: Vec<u8>, error: bool) {
        if let Some(watchdog) = &current.watchdog {
            watchdog.abort();
        }
        let logs = self.logs.take();
        let init = if self.init_reported.swap(true, Ordering::AcqRel) {
            None
        } else {
            Some(Duration::from_micros(
                self.init_micros.load(Ordering::Acquire),
            ))
        };
        let duration = current.started.elapsed();
        self.logs
            .write_report(&current.request_id, duration, init, self.spec.memory_size);
        let _ = current.reply.send(Outcome {
            payload,
            error,
            logs,
            duration,
            init,
        });
    }
}

async fn run_worker(spec: WorkerSpec, function: Arc<Function>, kill: Arc<Notify>) {
    let started = Instant::now();
    let result = start_worker(&spec, &function, &kill, started).await;
    let (worker, server_stop) = match result {
        Ok(parts) => parts,
        Err(message) => {
            tracing::warn!(function = %function.record.name, %message, "a Lambda worker did not start");
            let (jobs, _) = function.pool.worker_exited(&kill, false);
            for job in jobs {
                let id = job.request_id.clone();
                job.fail(init_failure(&id, &message));
            }
            return;
        }
    };
    let _ = server_stop.send(());
    let was_ready = worker.ready.load(Ordering::Acquire);
    let current = worker
        .current
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let logs = worker.logs.take();
    if let Some(current) = current {
        if let Some(watchdog) = &current.watchdog {
            watchdog.abort();
        }
        let id = current.request_id.clone();
        let _ = current.reply.send(Outcome {
            payload: exit_error(&id, "Runtime exited with an error"),
            error: true,
            logs,
            duration: current.started.elapsed(),
            init: None,
        });
    }
    let (jobs, respawn) = function.pool.worker_exited(&kill, was_ready);
    if !jobs.is_empty() {
        let init_error = worker
            .init_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for job in jobs {
            let id = job.request_id.clone();
            job.fail(
                init_error
                    .clone()
                    .unwrap_or_else(|| exit_error(&id, "Runtime exited before it was ready")),
            );
        }
    }
    if respawn && let Some(inner) = spec.lambda.upgrade() {
        let lambda = Lambda { inner };
        let kill = Arc::new(Notify::new());
        function.pool.add_kill(kill.clone());
        let spec = WorkerSpec::new(&lambda, &function);
        spawn_worker(spec, function.clone(), kill);
    }
}

/// Starts a worker's supervisor task. A plain function, so `run_worker` can start its own
/// replacement without a recursive future type.
fn spawn_worker(spec: WorkerSpec, function: Arc<Function>, kill: Arc<Notify>) {
    tokio::spawn(run_worker(spec, function, kill));
}

/// Starts the process and its Runtime API, then waits for it to end. Returns the worker
/// state and the server's stop switch, or why it could not start.
async fn start_worker(
    spec: &WorkerSpec,
    function: &Arc<Function>,
    kill: &Arc<Notify>,
    started: Instant,
) -> Result<(Arc<Worker>, oneshot::Sender<()>), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|err| format!("binding the Runtime API: {err}"))?;
    let port = listener
        .local_addr()
        .map_err(|err| format!("binding the Runtime API: {err}"))?
        .port();
    let (reader, writer) =
        std::io::pipe().map_err(|err| format!("creating the log pipe: {err}"))?;
    let receiver = pipe::Receiver::from_owned_fd(OwnedFd::from(reader))
        .map_err(|err| format!("creating the log pipe: {err}"))?;
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log_path)
        .ok();
    let logs = Arc::new(Logs {
        receiver,
        buffer: Mutex::new(Vec::new()),
        file: Mutex::new(log_file),
    });
    let worker = Arc::new(Worker {
        spec: spec.clone(),
        function: function.clone(),
        kill: kill.clone(),
        current: Mutex::new(None),
        ready: AtomicBool::new(false),
        started,
        init_micros: AtomicU64::new(0),
        init_reported: AtomicBool::new(false),
        init_error: Mutex::new(None),
        logs: logs.clone(),
    });

    let program = match (spec.kind, spec.lambda.upgrade()) {
        (RuntimeKind::Python, Some(inner)) => inner
            .python_path
            .get_or_init(|| resolve_python(spec.program.clone()))
            .await
            .clone(),
        _ => spec.program.clone(),
    };
    let mut command = tokio::process::Command::new(&program);
    command
        .args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .current_dir(&spec.code_dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let stderr_writer = writer
        .try_clone()
        .map_err(|err| format!("creating the log pipe: {err}"))?;
    command.stdout(writer).stderr(stderr_writer);
    let spawned = command.spawn();
    // Drop our copies of the pipe's write end so the reader sees EOF when the worker exits.
    drop(command);
    let mut child = spawned.map_err(|err| format!("starting {}: {err}", program.display()))?;

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(DefaultBodyLimit::max(MAX_SYNC_PAYLOAD * 2))
        .with_state(worker.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await;
    });
    tokio::spawn(logs.clone().pump());

    tokio::select! {
        status = child.wait() => {
            tracing::debug!(function = %function.record.name, ?status, "a Lambda worker exited");
        }
        () = kill.notified() => {
            let _ = child.kill().await;
        }
    }
    Ok((worker, stop_tx))
}

/// The interpreter behind `python` (`sys.executable`), or `python` itself if that fails.
async fn resolve_python(python: PathBuf) -> PathBuf {
    let output = tokio::process::Command::new(&python)
        .args(["-c", "import sys; print(sys.executable)"])
        .stdin(std::process::Stdio::null())
        .output()
        .await;
    match output {
        Ok(out) if out.status.success() => {
            let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if path.is_file() { path } else { python }
        }
        _ => python,
    }
}

fn runtime_headers(job: &Job, spec: &WorkerSpec) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let deadline = util::now_ms() + u64::try_from(spec.timeout.as_millis()).unwrap_or(u64::MAX);
    let trace = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        util::now_ms() / 1000,
        util::random_alnum(24, false),
        util::random_alnum(16, false)
    );
    for (name, value) in [
        ("lambda-runtime-aws-request-id", job.request_id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            spec.function_arn.clone(),
        ),
        ("lambda-runtime-trace-id", trace),
        ("content-type", "application/json".into()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    if let Some(context) = &job.client_context {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(context)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        if let Some(value) = decoded.and_then(|text| HeaderValue::from_str(&text).ok()) {
            headers.insert("lambda-runtime-client-context", value);
        }
    }
    headers
}

async fn next(State(worker): State<Arc<Worker>>) -> Response {
    if !worker.ready.swap(true, Ordering::AcqRel) {
        let micros = u64::try_from(worker.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        worker.init_micros.store(micros, Ordering::Release);
        worker.function.pool.worker_ready();
    }
    // A runtime that asks again without answering abandons its invocation.
    let abandoned = worker
        .current
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(current) = abandoned {
        let id = current.request_id.clone();
        worker.finish(
            current,
            exit_error(&id, "Runtime asked for a new invocation without answering"),
            true,
        );
    }
    let Some(job) = worker.function.pool.next_job().await else {
        worker.kill.notify_one();
        return (StatusCode::GONE, "the function was updated or deleted").into_response();
    };
    // Output between invocations belongs to no invocation's tail.
    let _ = worker.logs.take();
    worker.logs.write_line(&format!(
        "START RequestId: {} Version: $LATEST\n",
        job.request_id
    ));
    let headers = runtime_headers(&job, &worker.spec);
    let Job {
        request_id,
        payload,
        reply,
        ..
    } = job;
    *worker.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(Current {
        request_id: request_id.clone(),
        reply,
        started: Instant::now(),
        watchdog: None,
    });
    let watchdog = tokio::spawn(watchdog(worker.clone(), request_id.clone())).abort_handle();
    if let Some(current) = worker
        .current
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_mut()
        && current.request_id == request_id
    {
        current.watchdog = Some(watchdog);
    }
    (StatusCode::OK, headers, payload).into_response()
}

/// Kills the worker if invocation `request_id` is still running after the function's timeout.
async fn watchdog(worker: Arc<Worker>, request_id: String) {
    tokio::time::sleep(worker.spec.timeout).await;
    let Some(current) = worker.take_current(&request_id) else {
        return;
    };
    let seconds = worker.spec.timeout.as_secs_f64();
    worker.logs.write_line(&format!(
        "{} {request_id} Task timed out after {seconds:.2} seconds\n",
        util::iso_timestamp(util::now_ms())
    ));
    let payload = serde_json::to_vec(&json!({
        "errorType": "Sandbox.Timedout",
        "errorMessage": format!("RequestId: {request_id} Error: Task timed out after {seconds:.2} seconds"),
    }))
    .unwrap_or_default();
    worker.finish(current, payload, true);
    worker.kill.notify_one();
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

fn invalid_request_id() -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})),
    )
        .into_response()
}

async fn response(
    State(worker): State<Arc<Worker>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let Some(current) = worker.take_current(&id) else {
        return invalid_request_id();
    };
    if body.len() > MAX_SYNC_PAYLOAD {
        let payload = serde_json::to_vec(&json!({
            "errorMessage": format!("Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_SYNC_PAYLOAD} bytes).", body.len()),
            "errorType": "Function.ResponseSizeTooLarge",
        }))
        .unwrap_or_default();
        worker.finish(current, payload, true);
    } else {
        worker.finish(current, body.to_vec(), false);
    }
    accepted()
}

async fn error(
    State(worker): State<Arc<Worker>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(current) = worker.take_current(&id) else {
        return invalid_request_id();
    };
    worker.finish(current, error_document(&headers, &body), true);
    accepted()
}

async fn init_error(
    State(worker): State<Arc<Worker>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let document = error_document(&headers, &body);
    worker.logs.write_line(&format!(
        "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {}\n",
        worker.started.elapsed().as_secs_f64() * 1000.0,
        serde_json::from_slice::<serde_json::Value>(&document)
            .ok()
            .and_then(|v| v
                .get("errorType")
                .and_then(|t| t.as_str().map(str::to_owned)))
            .unwrap_or_default()
    ));
    *worker.init_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(document);
    // Not ready yet: the supervisor fails the queued invocations with this error.
    worker.ready.store(false, Ordering::Release);
    worker.kill.notify_one();
    accepted()
}

/// The error document a runtime posted, or one built from its error-type header when the
/// body is not JSON.
fn error_document(headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    if serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.is_object()) {
        return body.to_vec();
    }
    let error_type = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Unhandled");
    serde_json::to_vec(&json!({
        "errorMessage": String::from_utf8_lossy(body),
        "errorType": error_type,
    }))
    .unwrap_or_default()
}

fn exit_error(request_id: &str, reason: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "errorType": "Runtime.ExitError",
        "errorMessage": format!("RequestId: {request_id} Error: {reason}"),
    }))
    .unwrap_or_default()
}

fn init_failure(request_id: &str, reason: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": format!("RequestId: {request_id} Error: {reason}"),
    }))
    .unwrap_or_default()
}

fn log_tail(request_id: &str, outcome: &Outcome, memory: u64) -> String {
    let mut text = format!("START RequestId: {request_id} Version: $LATEST\n").into_bytes();
    text.extend_from_slice(&outcome.logs);
    text.extend_from_slice(
        report_lines(request_id, outcome.duration, outcome.init, memory).as_bytes(),
    );
    let start = text.len().saturating_sub(LOG_TAIL_BYTES);
    base64::engine::general_purpose::STANDARD.encode(&text[start..])
}

fn report_lines(
    request_id: &str,
    duration: Duration,
    init: Option<Duration>,
    memory: u64,
) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    let billed = ms.ceil().max(1.0);
    let init = init
        .map(|d| format!("\tInit Duration: {:.2} ms", d.as_secs_f64() * 1000.0))
        .unwrap_or_default();
    format!(
        "END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {ms:.2} ms\t\
         Billed Duration: {billed:.0} ms\tMemory Size: {memory} MB\tMax Memory Used: {memory} MB{init}\t\n"
    )
}

/// A worker's stdout and stderr: one pipe, copied to the function's log file and kept per
/// invocation for the tail.
struct Logs {
    receiver: pipe::Receiver,
    buffer: Mutex<Vec<u8>>,
    file: Mutex<Option<std::fs::File>>,
}

impl Logs {
    async fn pump(self: Arc<Self>) {
        loop {
            if self.receiver.readable().await.is_err() || self.drain() {
                break;
            }
        }
    }

    /// Reads what the pipe holds now. Returns `true` at end of file.
    fn drain(&self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match self.receiver.try_read(&mut chunk) {
                Ok(0) => return true,
                Ok(n) => {
                    buffer.extend_from_slice(&chunk[..n]);
                    if buffer.len() > LOG_BUFFER_BYTES {
                        let cut = buffer.len() - LOG_BUFFER_BYTES;
                        buffer.drain(..cut);
                    }
                    if let Some(file) = self.file.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
                    {
                        let _ = file.write_all(&chunk[..n]);
                    }
                }
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }

    /// Everything written since the last call. The runtimes flush their output before they
    /// answer, so this includes all of an invocation's output.
    fn take(&self) -> Vec<u8> {
        self.drain();
        std::mem::take(&mut *self.buffer.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn write_line(&self, line: &str) {
        if let Some(file) = self.file.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            let _ = file.write_all(line.as_bytes());
        }
    }

    fn write_report(
        &self,
        request_id: &str,
        duration: Duration,
        init: Option<Duration>,
        memory: u64,
    ) {
        self.write_line(&report_lines(request_id, duration, init, memory));
    }
}

#[cfg(test)]
mod tests;
