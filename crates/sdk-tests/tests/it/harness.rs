//! The harness: a `baton serve` child process on a free loopback port with a fresh data
//! directory, and an `aws-sdk-sfn` client pointed at it.
//!
//! The tests run only with `BATON_SDK_TESTS=1`; otherwise [`Baton::start`] prints a note and
//! returns `None`. The binary is `$BATON_BIN` if set, else it is built once with `cargo build
//! -p baton-cli` into the target directory these tests were built in.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_sfn::error::BoxError;
use aws_sdk_sfn::types::ExecutionStatus;

/// The role every machine is created with (Baton checks only its shape).
pub const ROLE: &str = "arn:aws:iam::000000000000:role/baton-sdk-tests";
/// The ARN prefix of this server's state machines.
pub const MACHINE_PREFIX: &str = "arn:aws:states:us-east-1:000000000000:stateMachine:";

/// A running `baton serve`; killed when dropped.
pub struct Baton {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// An SDK client for it.
    pub client: Client,
    _data: tempfile::TempDir,
}

impl Baton {
    /// Starts a server, or returns `None` (after printing why) when the tests are not enabled.
    pub fn start(test: &str) -> Option<Baton> {
        if std::env::var("BATON_SDK_TESTS").as_deref() != Ok("1") {
            // Once per run, and past libtest's output capture so that it is seen.
            static NOTED: std::sync::Once = std::sync::Once::new();
            NOTED.call_once(|| {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "baton-sdk-tests: skipped ({test} and the rest); set BATON_SDK_TESTS=1 to run them"
                );
            });
            return None;
        }
        let binary = match binary() {
            Ok(path) => path,
            Err(message) => panic!("cannot get the baton binary: {message}"),
        };
        let data = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn baton serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut log = Vec::new();
        let address = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("baton exited before listening:\n{}", log.join("\n"));
            };
            let plain = strip_ansi(&line);
            if let Some(at) = plain.find("address=") {
                let rest = &plain[at + "address=".len()..];
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            log.push(plain);
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        let endpoint = format!("http://{address}");
        let client = client(&endpoint);
        Some(Baton {
            child,
            address,
            client,
            _data: data,
        })
    }
}

impl Drop for Baton {
    /// SIGTERM (so that Lambda workers stop with the server), then SIGKILL after 10 s.
    fn drop(&mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if terminated {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SDK client for `endpoint` with dummy credentials (Baton accepts any signature).
pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "baton-sdk-tests",
        ))
        .interceptor(NoHostPrefix)
        .build();
    Client::from_conf(config)
}

/// Undoes the `sync-` host prefix the SDK adds for StartSyncExecution and TestState: a name
/// such as `sync-127.0.0.1` does not resolve (the Rust SDK has no setting to turn it off).
#[derive(Debug)]
struct NoHostPrefix;

impl Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let uri = request.uri().to_owned();
        if let Some(rest) = uri.strip_prefix("http://sync-") {
            request.set_uri(format!("http://{rest}"))?;
        }
        Ok(())
    }
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn binary() -> Result<PathBuf, String> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY.get_or_init(find_or_build).clone()
}

fn find_or_build() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("BATON_BIN") {
        return Ok(PathBuf::from(path));
    }
    // This test binary is <target>/<profile>/deps/it-<hash>.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("unexpected test binary location")?;
    let target_dir = profile_dir.parent().ok_or("unexpected target layout")?;
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build
        .current_dir(&workspace)
        .args([
            "build",
            "-q",
            "-p",
            "baton-cli",
            "--bin",
            "baton",
            "--target-dir",
        ])
        .arg(target_dir);
    if profile_dir
        .file_name()
        .is_some_and(|name| name == "release")
    {
        build.arg("--release");
    }
    let status = build
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build -p baton-cli failed: {status}"));
    }
    let path = profile_dir.join("baton");
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} missing after the build", path.display()))
    }
}

/// A name unique within this test process.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Creates a STANDARD state machine and returns its ARN.
pub async fn create_machine(client: &Client, name: &str, definition: &serde_json::Value) -> String {
    client
        .create_state_machine()
        .name(name)
        .definition(definition.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateStateMachine")
        .state_machine_arn
}

/// Polls DescribeExecution until the execution leaves RUNNING (at most 30 s).
pub async fn wait_done(
    client: &Client,
    execution_arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let described = client
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .expect("DescribeExecution");
        if described.status != ExecutionStatus::Running {
            return described;
        }
        assert!(
            Instant::now() < deadline,
            "{execution_arn} still running after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every history event type of an execution, in order, read in pages of `page`.
pub async fn history_types(
    client: &Client,
    execution_arn: &str,
    page: i32,
    reverse: bool,
) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let output = client
            .get_execution_history()
            .execution_arn(execution_arn)
            .max_results(page)
            .reverse_order(reverse)
            .set_next_token(token)
            .send()
            .await
            .expect("GetExecutionHistory");
        out.extend(
            output
                .events
                .iter()
                .map(|e| (e.id, e.r#type.as_str().to_owned())),
        );
        token = output.next_token;
        if token.is_none() {
            return out;
        }
    }
}
