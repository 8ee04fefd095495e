//! `baton serve`: opens the SQLite store and the local Lambda in the data directory, starts
//! the runtime and serves the Step Functions API with Lambda in front of it (REST API, IAM
//! query actions, function URLs; see `baton_lambda`) on one port until SIGTERM or SIGINT.
//!
//! Task states that name a Lambda function (`arn:aws:lambda:...:function:NAME` or
//! `arn:aws:states:::lambda:invoke`) run it through Lambda's dispatcher. Handlers reach Baton at
//! the bound address (`AWS_ENDPOINT_URL`), or at `--endpoint-url` when given.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use tokio::net::TcpListener;

/// The database file inside the data directory.
const DATABASE: &str = "baton.db";

/// Flags of `baton serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address and port to listen on.
    #[arg(long, env = "BATON_LISTEN", default_value = "127.0.0.1:8083")]
    listen: String,
    /// Directory holding the database (created if missing).
    #[arg(long, env = "BATON_DATA_DIR", default_value = "./baton-data")]
    data_dir: PathBuf,
    /// Keep executions in PostgreSQL instead of SQLite in the data directory, e.g.
    /// `postgres://postgres@127.0.0.1:5432/baton`. Lambda code and logs stay in the data
    /// directory. Several nodes may share one database: they share executions, timers,
    /// callbacks and activity tasks, and any node answers any call.
    #[arg(long, env = "BATON_DATABASE")]
    database: Option<String>,
    /// With --database: this node's label (its id is the label and a random suffix).
    #[arg(long, env = "BATON_NODE_ID", default_value = "baton")]
    node_id: String,
    /// With --database: the node's lease in milliseconds. A node that dies is taken over by
    /// the others after at most this long; a node that stops cleanly, at once.
    #[arg(long, env = "BATON_LEASE_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(300..=3_600_000))]
    lease_ms: u64,
    /// Region in ARNs for requests whose signature names none.
    #[arg(long, env = "BATON_REGION", default_value = "us-east-1")]
    region: String,
    /// Account id in ARNs.
    #[arg(long, env = "BATON_ACCOUNT", default_value = "000000000000")]
    account: String,
    /// The address Lambda handlers and function URLs use to reach Baton (default: the bound
    /// address, with `127.0.0.1` for an unspecified host such as `0.0.0.0`).
    #[arg(long, env = "BATON_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// The Python interpreter for `python3.x` Lambda runtimes.
    #[arg(long, env = "BATON_PYTHON", default_value = "python3")]
    python: String,
    /// The Node.js binary for `nodejs*` Lambda runtimes.
    #[arg(long, env = "BATON_NODE", default_value = "node")]
    node: String,
    /// Worker processes per Lambda function at most.
    #[arg(long, env = "BATON_LAMBDA_WORKERS", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..))]
    lambda_workers: u16,
}

pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    init_logging();
    check(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn check(args: &Args) -> anyhow::Result<()> {
    if let Some(url) = &args.database
        && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        bail!(
            "--database must be a postgres:// URL, got {:?}",
            redact(url)
        );
    }
    if args.account.len() != 12 || !args.account.bytes().all(|b| b.is_ascii_digit()) {
        bail!("--account must be 12 digits, got {:?}", args.account);
    }
    let region_ok = !args.region.is_empty()
        && args
            .region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        bail!("--region must look like us-east-1, got {:?}", args.region);
    }
    if let Some(url) = &args.endpoint_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        bail!("--endpoint-url must start with http:// or https://, got {url:?}");
    }
    Ok(())
}

async fn serve(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let (store, cluster): (Arc<dyn baton_store::Store>, _) = match &args.database {
        Some(url) => {
            let store = Arc::new(
                baton_store_postgres::PgStore::connect(url)
                    .await
                    .with_context(|| format!("cannot open the database {}", redact(url)))?,
            );
            let mut cluster = baton_runtime::ClusterConfig::new(store.clone(), &args.node_id);
            cluster.lease = std::time::Duration::from_millis(args.lease_ms);
            (store as Arc<dyn baton_store::Store>, Some(cluster))
        }
        None => {
            let path = args.data_dir.join(DATABASE);
            let store = baton_store_sqlite::SqliteStore::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            (Arc::new(store) as Arc<dyn baton_store::Store>, None)
        }
    };
    let lambda = baton_lambda::Lambda::open(
        &args.data_dir,
        baton_lambda::Config {
            region: args.region.clone(),
            account: args.account.clone(),
            endpoint_url: None,
            max_workers_per_function: usize::from(args.lambda_workers),
            python: args.python.clone(),
            node: args.node.clone(),
        },
    )
    .with_context(|| format!("cannot open Lambda in {}", args.data_dir.display()))?;
    let config = baton_runtime::Config {
        region: args.region.clone(),
        account: args.account.clone(),
        dispatcher: Arc::new(lambda.dispatcher()),
        cluster,
        ..Default::default()
    };
    let runtime = baton_runtime::Runtime::open(store, config)
        .await
        .context("cannot start the runtime")?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let endpoint = args
        .endpoint_url
        .clone()
        .unwrap_or_else(|| endpoint_for(address));
    lambda.set_endpoint_url(&endpoint);
    let functions = lambda.functions().len();
    tracing::info!(
        %address, %endpoint, data = %args.data_dir.display(), region = %args.region, functions,
        node = runtime.node_id().unwrap_or("-"), "baton is listening"
    );
    let server_config = baton_server::Config {
        region: args.region,
        account: args.account,
    };
    let (stopping_tx, stopping_rx) = tokio::sync::watch::channel(false);
    let app = lambda.wrap(baton_server::app(
        runtime.clone(),
        server_config,
        stopping_rx,
    ));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Pending long polls answer at once; in-flight requests finish.
            stopping_tx.send_replace(true);
        })
        .await;
    if let Err(error) = runtime.close().await {
        tracing::warn!(%error, "could not hand this node's executions over");
    }
    // Idle workers exit now; any still running are killed when the async runtime drops
    // their tasks as `baton` exits.
    lambda.shutdown();
    served.context("the server failed")?;
    tracing::info!("baton stopped");
    Ok(())
}

/// The URL clients on this machine reach `address` at: an unspecified host (`0.0.0.0`, `::`)
/// becomes the loopback address of its family.
fn endpoint_for(address: SocketAddr) -> String {
    let ip = match address.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

/// Completes on the first SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!("cannot watch SIGTERM ({err}); stopping on SIGINT only");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down");
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr so that stdout stays free for scripts.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::endpoint_for;

    #[test]
    fn endpoints_name_a_reachable_host() {
        let cases = [
            ("127.0.0.1:8083", "http://127.0.0.1:8083"),
            ("0.0.0.0:4566", "http://127.0.0.1:4566"),
            ("[::]:9000", "http://[::1]:9000"),
            ("[::1]:9000", "http://[::1]:9000"),
            ("192.168.1.20:80", "http://192.168.1.20:80"),
        ];
        for (address, want) in cases {
            let address = address.parse().expect("a socket address");
            assert_eq!(endpoint_for(address), want, "{address}");
        }
    }
}
