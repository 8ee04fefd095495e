//! `baton-bench`: measures a running Step Functions endpoint (Baton, or any other) over plain
//! HTTP with hand-written AWS JSON requests, and prints one line of figures per workload.
//!
//! `baton-bench --endpoint http://127.0.0.1:8083 [--workload start,transitions,...] [--pid PID]`
//!
//! `--endpoint` may list several endpoints separated by commas (nodes sharing one database):
//! every workload then spreads its requests over them round-robin.
//!
//! Workloads: `start` (StartExecution per second, concurrent), `transitions` (state
//! transitions per second through Pass chains), `callback` (SendTaskSuccess to the next
//! state, p50/p99), `activity` (activity round trip p50/p99), `timer` (Wait lateness p50/p99),
//! `parked` (resident memory of the server, `--pid`, with 100,000 parked executions),
//! `xcallback` (callback latency across nodes, p50/p99: SendTaskSuccess on one endpoint to the
//! next activity task received on another; needs two endpoints or more). The default runs
//! all but `parked` and `xcallback`; `all` runs every one but `xcallback`. Each workload checks its results and
//! fails loudly rather than report figures for work that did not happen.

mod client;
mod stats;
mod workloads;

use std::time::Duration;

use clap::Parser;

/// Benchmarks a Step Functions endpoint over HTTP.
#[derive(Debug, Parser)]
#[command(name = "baton-bench")]
pub struct Args {
    /// The endpoint, plain HTTP; several separated by commas are used round-robin.
    #[arg(long, default_value = "http://127.0.0.1:8083")]
    endpoint: String,
    /// Comma-separated workloads: start, transitions, callback, activity, timer, parked,
    /// xcallback, all.
    #[arg(long, default_value = "start,transitions,callback,activity,timer")]
    workload: String,
    /// The server's process id, to read its resident memory from /proc (Linux).
    #[arg(long)]
    pid: Option<u32>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Scale factor for every workload's size (0.1 for a quick run).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Parked executions for `parked`.
    #[arg(long, default_value_t = 100_000)]
    parked: usize,
    /// What parked executions wait on: `activity` or `wait`.
    #[arg(long, default_value = "activity")]
    parked_on: String,
    /// Executions in flight at once for `xcallback`.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    in_flight: u16,
    /// Give up on a workload after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

impl Args {
    fn scaled(&self, n: usize) -> usize {
        ((n as f64 * self.scale).round() as usize).max(1)
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("baton-bench: cannot start tokio: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("baton-bench: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let sfn = client::Sfn::new(&args.endpoint)?;
    if sfn.endpoints() > 1 {
        println!("endpoints: {} (round-robin)", args.endpoint);
    }
    let mut names: Vec<&str> = args.workload.split(',').map(str::trim).collect();
    if names == ["all"] {
        names = vec![
            "start",
            "transitions",
            "callback",
            "activity",
            "timer",
            "parked",
        ];
    }
    let mut failed = false;
    for name in names {
        let bench = workloads::Bench {
            sfn: sfn.clone(),
            args: &args,
            tag: format!("bench-{}", std::process::id()),
        };
        let work = async {
            match name {
                "start" => bench.start().await,
                "transitions" => bench.transitions().await,
                "callback" => bench.callback().await,
                "activity" => bench.activity().await,
                "timer" => bench.timer().await,
                "parked" => bench.parked().await,
                "xcallback" => bench.xcallback().await,
                other => anyhow::bail!("unknown workload {other:?}"),
            }
        };
        match tokio::time::timeout(Duration::from_secs(args.timeout), work).await {
            Ok(Ok(line)) => println!("{name}: {line}"),
            Ok(Err(err)) => {
                println!("{name}: FAILED: {err:#}");
                failed = true;
            }
            Err(_) => {
                println!("{name}: FAILED: timed out after {} s", args.timeout);
                failed = true;
            }
        }
    }
    if failed {
        anyhow::bail!("some workloads failed");
    }
    Ok(())
}
