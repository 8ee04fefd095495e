//! The seed scripts (`examples/seed-00*/test_seed_*.py`, AWS CLI flows) against Lambda in
//! front of the real Step Functions server. Slow (about two minutes, mostly the AWS CLI's
//! start-up and seed 002's retry back-off), so they run only when `BATON_SEED_TESTS=1`
//! (CI sets it) and the AWS CLI, Python and Node.js are installed; seed 004 also needs npm.

use std::path::Path;

use crate::harness::{Harness, have};

fn enabled() -> bool {
    if std::env::var_os("BATON_SEED_TESTS").is_none() {
        eprintln!("skipping the seed scripts: set BATON_SEED_TESTS=1 to run them");
        return false;
    }
    ["aws", "python3", "node"].into_iter().all(have)
}

async fn run_script(script: &str) {
    let harness = Harness::start_with_step_functions().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let endpoint = format!("http://{}", harness.addr);
    let script = root.join(script);
    let output = tokio::process::Command::new("python3")
        .arg(&script)
        .args(["--endpoint", &endpoint])
        .output()
        .await
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_002_aws_cli_flow() {
    if enabled() {
        run_script("examples/seed-002/test_seed_002.py").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_001_node_handlers() {
    if enabled() {
        run_script("examples/seed-001/test_seed_001.py").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_function_url_resumes_an_execution_through_the_sdk() {
    if enabled() && have_npm() {
        run_script("examples/seed-004/test_seed_004.py").await;
    }
}

fn have_npm() -> bool {
    let ok = std::process::Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping seed 004: npm is not installed");
    }
    ok
}
