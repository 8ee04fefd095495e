//! Local AWS Lambda for Baton.
//!
//! Runs Python, Node.js and `provided` (custom `bootstrap`) functions without containers: each
//! function has a small pool of long-lived worker processes that speak the real Lambda Runtime
//! API (`/2018-06-01/runtime/invocation/next`, `.../response`, `.../error`, `/init/error`)
//! against a loopback HTTP server owned by Baton, so a warm invocation costs one local HTTP
//! round trip. The runtime scripts for Python and Node.js are embedded in the binary
//! (`runtimes/`) and written to the data directory at start.
//!
//! Integration is a few lines:
//! - [`Lambda::open`] loads the functions kept under `<data_dir>/lambda/` (code unzipped,
//!   configuration as JSON, logs per function);
//! - [`Lambda::wrap`] puts the Lambda REST API (`/2015-03-31/functions...`,
//!   `/2021-10-31/functions/{name}/url`), the IAM query API (`POST /` with a form body and an
//!   `Action` Baton knows, no `X-Amz-Target`) and function URLs (`/lambda-url/{name}/...` and
//!   the `<url-id>.lambda-url.<region>.localhost` host form) in front of another router, the
//!   Step Functions one; [`Lambda::router`] gives the path-routed part alone;
//! - [`Lambda::dispatcher`] is the [`baton_runtime::TaskDispatcher`] for
//!   `arn:aws:lambda:...:function:NAME` and `arn:aws:states:::lambda:invoke[.waitForTaskToken]`;
//! - [`Lambda::set_endpoint_url`] tells workers where Baton listens (`AWS_ENDPOINT_URL`), so
//!   boto3 or the AWS SDK for JavaScript inside a handler talk to Baton.

mod code;
mod dispatch;
mod http;
mod iam;
mod model;
mod pool;
mod registry;
mod url;
mod util;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub use dispatch::LambdaDispatcher;
pub use model::{CodeSource, FunctionRecord, UrlRecord};
pub use pool::{InvokeOptions, InvokeResult};

/// How the local Lambda is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Region in ARNs and in the workers' `AWS_REGION`.
    pub region: String,
    /// Account id in ARNs.
    pub account: String,
    /// Where Baton listens (`http://127.0.0.1:8083`), passed to workers as `AWS_ENDPOINT_URL`
    /// and used in function URLs. Can also be set later with [`Lambda::set_endpoint_url`].
    pub endpoint_url: Option<String>,
    /// Worker processes per function at most (a function's `ReservedConcurrentExecutions`
    /// lowers it).
    pub max_workers_per_function: usize,
    /// The Python interpreter for `python3.x` runtimes.
    pub python: String,
    /// The Node.js binary for `nodejs*` runtimes.
    pub node: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            region: "us-east-1".into(),
            account: "000000000000".into(),
            endpoint_url: None,
            max_workers_per_function: 4,
            python: "python3".into(),
            node: "node".into(),
        }
    }
}

/// A Lambda API error, named as AWS names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `ResourceNotFoundException` (404).
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceConflictException` (409).
    #[error("{0}")]
    ResourceConflict(String),
    /// `InvalidParameterValueException` (400).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `InvalidRequestContentException` (400): the body is not the JSON expected.
    #[error("{0}")]
    InvalidRequestContent(String),
    /// `RequestTooLargeException` (413).
    #[error("{0}")]
    RequestTooLarge(String),
    /// `TooManyRequestsException` (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// `ServiceException` (500): Baton failed (disk, process start).
    #[error("{0}")]
    Service(String),
}

impl Error {
    /// AWS's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ResourceNotFound(_) => "ResourceNotFoundException",
            Error::ResourceConflict(_) => "ResourceConflictException",
            Error::InvalidParameterValue(_) => "InvalidParameterValueException",
            Error::InvalidRequestContent(_) => "InvalidRequestContentException",
            Error::RequestTooLarge(_) => "RequestTooLargeException",
            Error::TooManyRequests(_) => "TooManyRequestsException",
            Error::Service(_) => "ServiceException",
        }
    }

    /// The HTTP status AWS answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::ResourceNotFound(_) => 404,
            Error::ResourceConflict(_) => 409,
            Error::InvalidParameterValue(_) | Error::InvalidRequestContent(_) => 400,
            Error::RequestTooLarge(_) => 413,
            Error::TooManyRequests(_) => 429,
            Error::Service(_) => 500,
        }
    }

    pub(crate) fn io(what: &str, err: impl std::fmt::Display) -> Error {
        Error::Service(format!("{what}: {err}"))
    }
}

/// The local Lambda service. Cheap to clone.
#[derive(Clone)]
pub struct Lambda {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) endpoint_url: RwLock<Option<String>>,
    pub(crate) registry: registry::Registry,
    pub(crate) iam: iam::Iam,
    /// Where the embedded runtime scripts were written.
    pub(crate) runtimes_dir: PathBuf,
    /// The Python interpreter's real path (`sys.executable`), found once: `python3` is often a
    /// shim (pyenv, asdf) that costs hundreds of milliseconds per start.
    pub(crate) python_path: tokio::sync::OnceCell<PathBuf>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Idle workers exit now; busy ones after their invocation (or their timeout).
        self.registry.shutdown();
    }
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Lambda {
    /// Opens (creating if needed) the Lambda state under `<data_dir>/lambda/`: functions and
    /// their code, IAM roles, and the runtime scripts. Worker processes start on the first
    /// invocation of each function, inside the caller's tokio runtime.
    pub fn open(data_dir: &Path, config: Config) -> Result<Lambda, Error> {
        let root = data_dir.join("lambda");
        let runtimes_dir = root.join("runtimes");
        pool::write_runtime_scripts(&runtimes_dir)?;
        let registry = registry::Registry::open(&root.join("functions"), &root.join("logs"))?;
        let iam = iam::Iam::open(&root.join("iam.json"))?;
        Ok(Lambda {
            inner: Arc::new(Inner {
                endpoint_url: RwLock::new(config.endpoint_url.clone()),
                config,
                registry,
                iam,
                runtimes_dir,
                python_path: tokio::sync::OnceCell::new(),
            }),
        })
    }

    /// Sets the address workers reach Baton at (`AWS_ENDPOINT_URL`), for instance once the
    /// listener is bound. Workers started before keep the old value.
    pub fn set_endpoint_url(&self, url: &str) {
        let url = url.trim_end_matches('/').to_owned();
        if let Ok(mut guard) = self.inner.endpoint_url.write() {
            *guard = Some(url);
        }
    }

    /// The address workers reach Baton at, if known.
    pub fn endpoint_url(&self) -> Option<String> {
        self.inner.endpoint_url.read().ok().and_then(|g| g.clone())
    }

    /// The region in ARNs.
    pub fn region(&self) -> &str {
        &self.inner.config.region
    }

    /// The account id in ARNs.
    pub fn account(&self) -> &str {
        &self.inner.config.account
    }

    /// The ARN of function `name` (unqualified).
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.inner.config.region, self.inner.config.account
        )
    }

    /// The dispatcher for Lambda Task states; other resources go to `fallback`.
    pub fn dispatcher_with_fallback(
        &self,
        fallback: Arc<dyn baton_runtime::TaskDispatcher>,
    ) -> LambdaDispatcher {
        LambdaDispatcher::new(self.clone(), fallback)
    }

    /// The dispatcher for Lambda Task states; other resources fail as unsupported.
    pub fn dispatcher(&self) -> LambdaDispatcher {
        self.dispatcher_with_fallback(Arc::new(baton_runtime::UnsupportedDispatcher))
    }

    /// Invokes function `name` (a name, an ARN or a partial ARN, optionally qualified).
    pub async fn invoke(
        &self,
        name: &str,
        payload: Vec<u8>,
        options: InvokeOptions,
    ) -> Result<InvokeResult, Error> {
        let function = self
            .inner
            .registry
            .get_current(&model::function_name(name)?)?;
        pool::invoke(self, &function, payload, options).await
    }

    /// The functions, sorted by name.
    pub fn functions(&self) -> Vec<FunctionRecord> {
        self.inner.registry.list()
    }

    /// Stops every worker process (they also stop when the `Lambda` is dropped).
    pub fn shutdown(&self) {
        self.inner.registry.shutdown();
    }

    pub(crate) fn endpoint_or_default(&self) -> String {
        self.endpoint_url()
            .unwrap_or_else(|| "http://127.0.0.1:8083".to_owned())
    }
}
