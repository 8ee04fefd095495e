//! `baton serve`: opens the SQLite store in the data directory, starts the runtime and serves
//! the API until SIGTERM or SIGINT.

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
    /// Region in ARNs for requests whose signature names none.
    #[arg(long, env = "BATON_REGION", default_value = "us-east-1")]
    region: String,
    /// Account id in ARNs.
    #[arg(long, env = "BATON_ACCOUNT", default_value = "000000000000")]
    account: String,
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

fn check(args: &Args) -> anyhow::Result<()> {
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
    Ok(())
}

async fn serve(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let path = args.data_dir.join(DATABASE);
    let store = baton_store_sqlite::SqliteStore::open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let config = baton_runtime::Config {
        region: args.region.clone(),
        account: args.account.clone(),
        ..Default::default()
    };
    let runtime = baton_runtime::Runtime::open(Arc::new(store), config)
        .await
        .context("cannot start the runtime")?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener
        .local_addr()
        .context("cannot read the bound address")?;
    tracing::info!(%address, data = %path.display(), region = %args.region, "baton is listening");
    let server_config = baton_server::Config {
        region: args.region,
        account: args.account,
    };
    baton_server::run(listener, runtime.clone(), server_config, shutdown_signal())
        .await
        .context("the server failed")?;
    runtime.shutdown();
    tracing::info!("baton stopped");
    Ok(())
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
