//! Lambda on `baton serve`: a Python function created through the Lambda REST API, called by
//! Task states (the function ARN and `lambda:invoke`), its error caught by the state machine,
//! the function kept across a restart, and its worker processes stopped by SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Baton, body, start};

const HANDLER: &str = r#"import os


def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {
        "doubled": event["n"] * 2,
        "region": os.environ.get("AWS_REGION"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "label": os.environ.get("LABEL"),
    }
"#;

/// Sends one request (HTTP/1.0, so the answer ends with the connection) and returns the status
/// and the body.
fn http(address: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {head}"));
    (status, response[split + 4..].to_vec())
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in files {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        writer.start_file(*name, options).unwrap();
        writer.write_all(text.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn have_python() -> bool {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: python3 is not installed");
    }
    ok
}

/// Starts an execution of `machine` with `input` and waits for it to end.
fn execute(baton: &Baton, machine: &str, input: &Value) -> Value {
    let started = body(&baton.call(
        "StartExecution",
        &json!({"stateMachineArn": machine, "input": input.to_string()}).to_string(),
    ));
    let describe = json!({"executionArn": started["executionArn"]}).to_string();
    let began = Instant::now();
    loop {
        let described = body(&baton.call("DescribeExecution", &describe));
        if described["status"] != "RUNNING" {
            return described;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "still running: {described}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The output of a SUCCEEDED execution.
fn output(described: &Value) -> Value {
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    serde_json::from_str(described["output"].as_str().unwrap()).unwrap()
}

/// The processes whose parent is `pid`.
#[cfg(target_os = "linux")]
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, so read after the last ')'.
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

/// Whether process `pid` still runs (a zombie no longer does).
#[cfg(target_os = "linux")]
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next());
        !matches!(state, Some("Z" | "X"))
    })
}

#[test]
fn a_state_machine_calls_a_python_function_created_through_the_lambda_api() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (baton, _) = start(dir.path(), &[]);
    let address = baton.address.clone();

    use base64::Engine as _;
    let create = json!({
        "FunctionName": "double",
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::000000000000:role/lambda-role",
        "Handler": "app.handler",
        "Code": {"ZipFile": base64::engine::general_purpose::STANDARD
            .encode(zip_of(&[("app.py", HANDLER)]))},
        "Environment": {"Variables": {"LABEL": "from-the-api"}},
    });
    let (status, created) = http(
        &address,
        "POST",
        "/2015-03-31/functions",
        create.to_string().as_bytes(),
    );
    let created: Value = serde_json::from_slice(&created).unwrap();
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["FunctionArn"],
        "arn:aws:lambda:us-east-1:000000000000:function:double"
    );

    // The first Task names the function's ARN (the result is the handler's return value);
    // the second uses the optimized integration (the result wraps it in `Payload`).
    let definition = json!({
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:double",
                "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Caught"}],
                "Next": "Again"
            },
            "Again": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "double", "Payload": {"n.$": "$.doubled"}},
                "OutputPath": "$.Payload",
                "End": true
            },
            "Caught": {"Type": "Pass", "End": true}
        }
    });
    let machine = body(
        &baton.call(
            "CreateStateMachine",
            &json!({
                "name": "doubler",
                "definition": definition.to_string(),
                "roleArn": "arn:aws:iam::000000000000:role/r"
            })
            .to_string(),
        ),
    );
    let machine = machine["stateMachineArn"].as_str().unwrap().to_owned();

    let done = output(&execute(&baton, &machine, &json!({"n": 3})));
    assert_eq!(
        done,
        json!({
            "doubled": 12,
            "region": "us-east-1",
            "endpoint": format!("http://{address}"),
            "label": "from-the-api"
        })
    );
    let caught = output(&execute(&baton, &machine, &json!({"n": 1, "fail": true})));
    assert_eq!(caught["error"]["Error"], "ValueError", "{caught}");
    let cause: Value = serde_json::from_str(caught["error"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["errorMessage"], "asked to fail", "{cause}");
    assert_eq!(cause["errorType"], "ValueError", "{cause}");

    #[cfg(target_os = "linux")]
    let workers = children(baton.child.id());
    #[cfg(target_os = "linux")]
    assert!(!workers.is_empty(), "no worker process under baton");
    let (status, took) = baton.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    #[cfg(target_os = "linux")]
    {
        let began = Instant::now();
        while workers.iter().any(|&pid| alive(pid)) {
            assert!(
                began.elapsed() < Duration::from_secs(5),
                "workers still running after baton exited: {workers:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    // Restarted on the same data directory, the function is still there and still runs.
    let (baton, _) = start(dir.path(), &[]);
    let (status, listed) = http(&baton.address, "GET", "/2015-03-31/functions", b"");
    let listed: Value = serde_json::from_slice(&listed).unwrap();
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["Functions"][0]["FunctionName"], "double", "{listed}");
    let again = output(&execute(&baton, &machine, &json!({"n": 5})));
    assert_eq!(again["doubled"], 20, "{again}");
    assert_eq!(again["endpoint"], format!("http://{}", baton.address));
    let (status, _) = baton.terminate();
    assert!(status.success());
}
