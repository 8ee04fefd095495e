//! `baton run` and `baton validate`: a definition on the command line, no server.
//!
//! `run` executes the definition in-process on an in-memory runtime (the same engine as
//! `serve`, Wait states included) and prints the output JSON on stdout; with `--history` it
//! first prints every history event as one JSON line, shaped as `GetExecutionHistory` returns
//! it. A failed execution exits with status 1 and prints its error and cause on stderr.
//! `validate` prints each diagnostic as `SEVERITY CODE at LOCATION: message` and exits with 1
//! when there is an error.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

/// Flags of `baton run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// The ASL definition file (`-` for standard input).
    definition: PathBuf,
    /// The execution input as JSON text.
    #[arg(long, default_value = "{}", conflicts_with = "input_file")]
    input: String,
    /// Read the execution input from this file instead.
    #[arg(long)]
    input_file: Option<PathBuf>,
    /// Also print the history, one event per line, before the output.
    #[arg(long)]
    history: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// Flags of `baton validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// The ASL definition file (`-` for standard input).
    definition: PathBuf,
    /// Check the rules of Express state machines too.
    #[arg(long)]
    express: bool,
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

pub(crate) fn validate(args: ValidateArgs) -> anyhow::Result<bool> {
    let text = read(&args.definition)?;
    let options = baton_asl::validate::Options {
        machine_type: if args.express {
            baton_asl::validate::MachineType::Express
        } else {
            baton_asl::validate::MachineType::Standard
        },
    };
    let diagnostics = baton_asl::validate::check_text(&text, &options);
    let mut stdout = std::io::stdout().lock();
    for d in &diagnostics {
        let location = if d.location.is_empty() {
            "-"
        } else {
            d.location.as_str()
        };
        writeln!(
            stdout,
            "{} {} at {}: {}",
            d.severity.as_str(),
            d.code,
            location,
            d.message
        )?;
    }
    let ok = !diagnostics
        .iter()
        .any(|d| d.severity == baton_asl::Severity::Error);
    if ok {
        writeln!(stdout, "OK")?;
    }
    Ok(ok)
}

pub(crate) fn run(args: RunArgs) -> anyhow::Result<bool> {
    let definition = read(&args.definition)?;
    let input = match &args.input_file {
        Some(path) => read(path)?,
        None => args.input.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(execute(definition, input, &args))
}

async fn execute(definition: String, input: String, args: &RunArgs) -> anyhow::Result<bool> {
    let runtime = baton_runtime::Runtime::open(
        Arc::new(baton_store::MemoryStore::new()),
        baton_runtime::Config::default(),
    )
    .await
    .context("cannot start the runtime")?;
    let machine = runtime
        .create_state_machine(baton_runtime::CreateStateMachine {
            name: "local".into(),
            definition,
            role_arn: "arn:aws:iam::000000000000:role/local".into(),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = runtime
        .start_execution(baton_runtime::StartExecution {
            state_machine_arn: machine.machine.arn,
            name: Some("local".into()),
            input: Some(input),
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let execution = runtime
        .wait_for_execution(&started.arn, Duration::from_secs(args.timeout))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut stdout = std::io::stdout().lock();
    if args.history {
        let mut page = baton_runtime::PageArgs {
            max_results: Some(1000),
            next_token: None,
        };
        loop {
            let listed = runtime
                .get_execution_history(baton_runtime::GetHistory {
                    execution_arn: started.arn.clone(),
                    reverse: false,
                    page: page.clone(),
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for e in &listed.items {
                let event = baton_api_model::history::render_stored(
                    e.id,
                    e.previous_event_id,
                    e.timestamp_ms,
                    &e.event_type,
                    &e.details,
                    true,
                );
                writeln!(stdout, "{event}")?;
            }
            match listed.next_token {
                Some(token) => page.next_token = Some(token),
                None => break,
            }
        }
    }
    runtime.shutdown();
    match execution.status {
        baton_store::ExecutionStatus::Succeeded => {
            writeln!(
                stdout,
                "{}",
                execution.output.unwrap_or_else(|| "null".into())
            )?;
            Ok(true)
        }
        baton_store::ExecutionStatus::Running => bail!("still running after {} s", args.timeout),
        status => {
            eprintln!(
                "{}: error={} cause={}",
                status.as_str(),
                execution.error.as_deref().unwrap_or("-"),
                execution.cause.as_deref().unwrap_or("-")
            );
            Ok(false)
        }
    }
}
