//! The seed scripts (`examples/seed-00*/test_seed_*.py`, AWS CLI flows) against the real
//! `baton serve`: seed 001 (Node.js handlers, the seed's definition verbatim), seed 002 (the
//! whole AWS CLI script with three Python handlers) and seed 004 (a function URL whose handler
//! resumes the execution through the AWS SDK for JavaScript). Slow (about a minute, mostly the
//! AWS CLI's start-up and seed 002's retry back-off), so they run only when
//! `BATON_SEED_TESTS=1` (CI sets it); then the AWS CLI, Python, Node.js and npm must be
//! installed, and a missing one fails the test rather than skipping it.

use std::path::Path;
use std::process::Command;

use crate::start;

/// Whether the seed scripts were asked for; then checks that `programs` run.
fn enabled(programs: &[&str]) -> bool {
    if std::env::var_os("BATON_SEED_TESTS").is_none() {
        eprintln!("skipping the seed scripts: set BATON_SEED_TESTS=1 to run them");
        return false;
    }
    for program in programs {
        let ok = Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "BATON_SEED_TESTS is set but {program} is not installed");
    }
    true
}

/// Runs `script` against a fresh `baton serve` and checks it ends with `N passed, 0 failed`.
fn run_script(script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (baton, _) = start(dir.path(), &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(script);
    let output = Command::new("python3")
        .arg(&script)
        .args(["--endpoint", &format!("http://{}", baton.address)])
        .output()
        .expect("run the script");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    assert!(
        output.status.success() && last.ends_with(" 0 failed"),
        "{}: {last}\n{stdout}\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{}: {last}", script.display());
    let (status, _) = baton.terminate();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn seed_001_node_handlers() {
    if enabled(&["aws", "python3", "node"]) {
        run_script("examples/seed-001/test_seed_001.py");
    }
}

#[test]
fn seed_002_aws_cli_flow() {
    if enabled(&["aws", "python3"]) {
        run_script("examples/seed-002/test_seed_002.py");
    }
}

#[test]
fn seed_004_function_url_resumes_an_execution_through_the_sdk() {
    if enabled(&["aws", "python3", "node", "npm"]) {
        run_script("examples/seed-004/test_seed_004.py");
    }
}
