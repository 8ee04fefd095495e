//! Runs every case folder under `tests/data/invoke/`: the folder (minus `case.json`) is zipped
//! and deployed with the case's runtime and handler, then each call's payload is invoked and
//! its result checked (`function_error`, `payload` as in `matching.rs`, `raw` for the exact
//! bytes, `raw_prefix` for their start, `payload_keys` for the key order of the error document,
//! `trace_contains` for a Node.js stack trace line).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::harness::{Harness, have};
use crate::matching::matches;

fn files_of(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_of(&path, root, out);
        } else if path.file_name().is_some_and(|n| n != "case.json") {
            let rel = path
                .strip_prefix(root)
                .expect("prefix")
                .display()
                .to_string();
            out.push((rel, std::fs::read_to_string(&path).expect("read")));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invoke");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("cases")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    let (python, node) = (have("python3"), have("node"));
    let mut harness = Harness::start().await;
    let endpoint = format!("http://{}", harness.addr);
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in dirs {
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).expect("case"))
                .expect("case json");
        let runtime = case["runtime"].as_str().expect("runtime");
        if (runtime.starts_with("python") || runtime.starts_with("provided")) && !python
            || runtime.starts_with("node") && !node
        {
            continue;
        }
        let mut files = Vec::new();
        files_of(&dir, &dir, &mut files);
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let mut extra = json!({});
        if let Some(env) = case.get("environment") {
            extra["Environment"] = json!({ "Variables": env });
        }
        harness
            .create(
                &name,
                runtime,
                case["handler"].as_str().expect("handler"),
                &files,
                extra,
            )
            .await;
        for (i, call) in case["calls"].as_array().expect("calls").iter().enumerate() {
            ran += 1;
            let reply = harness.invoke(&name, &call["payload"]).await;
            let expect = &call["expect"];
            let label = format!("{name} call {i}");
            if reply.status != 200 {
                failures.push(format!("{label}: status {} {}", reply.status, reply.text()));
                continue;
            }
            let function_error = reply.header("x-amz-function-error");
            if expect["function_error"].as_str() != function_error.as_deref() {
                failures.push(format!(
                    "{label}: function error {function_error:?}, payload {}",
                    reply.text()
                ));
                continue;
            }
            if let Some(raw) = expect.get("raw").and_then(Value::as_str)
                && reply.text() != raw
            {
                failures.push(format!(
                    "{label}: raw payload {:?}, expected {raw:?}",
                    reply.text()
                ));
            }
            if let Some(expected) = expect.get("payload")
                && let Err(diff) = matches(expected, &reply.json(), &endpoint)
            {
                failures.push(format!("{label}: {diff}"));
            }
            if let Some(prefix) = expect.get("raw_prefix").and_then(Value::as_str)
                && !reply.text().starts_with(prefix)
            {
                failures.push(format!(
                    "{label}: raw payload {:?} does not start with {prefix:?}",
                    reply.text()
                ));
            }
            if let Some(needle) = expect.get("trace_contains").and_then(Value::as_str)
                && !reply.json()["trace"].as_array().is_some_and(|t| {
                    t.iter()
                        .any(|l| l.as_str().is_some_and(|l| l.contains(needle)))
                })
            {
                failures.push(format!(
                    "{label}: no trace line contains {needle:?}: {}",
                    reply.text()
                ));
            }
            if let Some(keys) = expect.get("payload_keys").and_then(Value::as_array) {
                let got: Vec<Value> = reply
                    .json()
                    .as_object()
                    .map(|o| o.keys().map(|k| json!(k)).collect())
                    .unwrap_or_default();
                if &got != keys {
                    failures.push(format!("{label}: keys {got:?}, expected {keys:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} calls failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{ran} invocation cases passed");
}
