//! `baton-conformance CASES_DIR [--only SUBSTR] [--strict-events] [--strict-messages]
//! [--json REPORT] [-v]`:
//! scores the interpreter on the recorded-on-AWS conformance cases, in process.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use baton_conformance::harness::{self, Options};

const USAGE: &str = "usage: baton-conformance CASES_DIR [--only SUBSTR] [--strict-events] \
                     [--strict-messages] [--json REPORT] [-v]";

fn main() -> ExitCode {
    let mut options = Options::default();
    let mut root: Option<PathBuf> = None;
    let mut json_path: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--only" => match args.next() {
                Some(only) => options.only = Some(only),
                None => return usage("--only needs a value"),
            },
            "--strict-events" => options.strict_events = true,
            "--strict-messages" => options.strict_messages = true,
            "-v" | "--verbose" => options.verbose = true,
            "--json" => match args.next() {
                Some(path) => json_path = Some(PathBuf::from(path)),
                None => return usage("--json needs a path"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other if other.starts_with('-') => return usage(&format!("unknown option {other}")),
            other if root.is_none() => root = Some(PathBuf::from(other)),
            other => return usage(&format!("unexpected argument {other}")),
        }
    }
    let Some(root) = root else {
        return usage("missing CASES_DIR");
    };
    // Engine panics are reported per case; the default hook would also print each one.
    std::panic::set_hook(Box::new(|_| {}));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let report = match harness::run(&root, &options, &mut out) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("baton-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    if report
        .write_summary(&mut out)
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    if let Some(path) = json_path {
        let text = format!("{:#}\n", report.to_json());
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("baton-conformance: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    // A measuring tool, not a gate: failures do not change the exit code.
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("baton-conformance: {problem}\n{USAGE}");
    ExitCode::from(2)
}
