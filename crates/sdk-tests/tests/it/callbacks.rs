//! `.waitForTaskToken` through a service integration: a Python function, created through the
//! Lambda REST API that `baton serve` mounts on the same port, receives `$$.Task.Token` and
//! writes it to a file; the test answers with SendTaskSuccess or SendTaskFailure through the
//! SDK, as a real callback would.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};

use crate::harness::{Baton, create_machine, history_types, unique, wait_done};

const HANDLER: &str = r#"def handler(event, context):
    with open(event["path"], "w") as out:
        out.write(event["token"])
    return {"written": event["path"]}
"#;

/// One HTTP/1.0 request (the answer ends with the connection): status and body.
fn http(address: &str, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("incomplete HTTP response"))?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head}")))?;
    Ok((status, response[split + 4..].to_vec()))
}

fn zip_of(name: &str, text: &str) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    writer.start_file(name, options).expect("zip entry");
    writer.write_all(text.as_bytes()).expect("zip write");
    writer.finish().expect("zip finish").into_inner()
}

fn have_python() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Waits (at most 60 s: the first call starts a Python worker) for `path` to hold a token.
async fn token_from(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(token) = std::fs::read_to_string(path)
            && !token.is_empty()
        {
            return token;
        }
        assert!(
            Instant::now() < deadline,
            "the function never wrote {}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_for_task_token_through_lambda() {
    let Some(baton) = Baton::start("callbacks::wait_for_task_token_through_lambda") else {
        return;
    };
    if !have_python() {
        eprintln!("skipping callbacks: python3 is not installed");
        return;
    }
    let client = &baton.client;
    use base64::Engine as _;
    let create = json!({
        "FunctionName": "hand-off",
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::000000000000:role/lambda-role",
        "Handler": "app.handler",
        "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(zip_of("app.py", HANDLER))},
    });
    let (status, created) = http(
        &baton.address,
        "POST",
        "/2015-03-31/functions",
        create.to_string().as_bytes(),
    )
    .expect("CreateFunction");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&created));

    let definition = json!({"StartAt": "HandOff", "States": {
        "HandOff": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "hand-off",
                "Payload": {"token.$": "$$.Task.Token", "path.$": "$.path"}
            },
            "TimeoutSeconds": 120,
            "Next": "After"
        },
        "After": {"Type": "Pass", "End": true}
    }});
    let machine = create_machine(client, &unique("callback"), &definition).await;
    let dir = tempfile::tempdir().expect("temp dir");

    // (answer with success?, expected status, expected output or error)
    let cases = [
        (true, ExecutionStatus::Succeeded, json!({"approved": true})),
        (false, ExecutionStatus::Failed, json!("Review.Rejected")),
    ];
    for (k, (succeed, status, expected)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("token-{k}"));
        let input = json!({"path": path.to_string_lossy()});
        let execution = client
            .start_execution()
            .state_machine_arn(&machine)
            .input(input.to_string())
            .send()
            .await
            .expect("StartExecution")
            .execution_arn;
        let token = token_from(&path).await;
        // Parked on its token: still RUNNING, with the task submitted.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let types: Vec<String> = history_types(client, &execution, 100, false)
            .await
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "TaskStateEntered",
                "TaskScheduled",
                "TaskStarted",
                "TaskSubmitted"
            ],
            "case {k}"
        );
        client
            .send_task_heartbeat()
            .task_token(&token)
            .send()
            .await
            .expect("SendTaskHeartbeat");
        if succeed {
            client
                .send_task_success()
                .task_token(&token)
                .output(expected.to_string())
                .send()
                .await
                .expect("SendTaskSuccess");
        } else {
            client
                .send_task_failure()
                .task_token(&token)
                .error(expected.as_str().unwrap_or_default())
                .cause("not this time")
                .send()
                .await
                .expect("SendTaskFailure");
        }
        let done = wait_done(client, &execution).await;
        assert_eq!(done.status, status, "case {k}");
        if succeed {
            let output: Value = serde_json::from_str(done.output().unwrap_or("null")).unwrap();
            assert_eq!(output, expected);
        } else {
            assert_eq!(done.error(), expected.as_str());
            assert_eq!(done.cause(), Some("not this time"));
        }
        // The token is spent.
        let late = client
            .send_task_success()
            .task_token(&token)
            .output("{}")
            .send()
            .await
            .expect_err("a second answer");
        assert!(late.into_service_error().is_task_timed_out(), "case {k}");
    }
}
