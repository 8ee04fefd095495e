//! `baton`: the command-line entry point. Parses flags and calls library functions; every
//! behaviour lives in the library crates.
//!
//! `baton run DEFINITION [--input JSON] [--history]` runs a definition in memory and prints its
//! output; `baton validate DEFINITION` prints its diagnostics.
//!
//! `baton serve` runs the Step Functions API on SQLite and a local Lambda (functions kept under
//! `DATA_DIR/lambda/`) on the same port:
//! `--listen ADDR:PORT` (`BATON_LISTEN`, default `127.0.0.1:8083`), `--data-dir DIR`
//! (`BATON_DATA_DIR`, default `./baton-data`), `--region` (`BATON_REGION`, default
//! `us-east-1`), `--account` (`BATON_ACCOUNT`, default `000000000000`), `--endpoint-url`
//! (`BATON_ENDPOINT_URL`, what handlers use to reach Baton; default the bound address),
//! `--python`/`--node` (`BATON_PYTHON`/`BATON_NODE`) and `--lambda-workers`
//! (`BATON_LAMBDA_WORKERS`, default 4 per function). SIGTERM or SIGINT stops it cleanly: no
//! new connections, pending long polls answered, in-flight requests finished, Lambda worker
//! processes stopped, the store closed.

mod local;
mod serve;

use clap::{Parser, Subcommand};

/// Baton: AWS Step Functions, anywhere.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Step Functions API (AWS JSON 1.0, SQLite) and a local Lambda on one port.
    Serve(serve::Args),
    /// Run a definition locally, in memory, and print its output.
    Run(local::RunArgs),
    /// Check a definition and print its diagnostics.
    Validate(local::ValidateArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).map(|()| true),
        Command::Run(args) => local::run(args),
        Command::Validate(args) => local::validate(args),
    };
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(err) => {
            eprintln!("baton: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
