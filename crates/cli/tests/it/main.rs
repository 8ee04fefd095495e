//! Runs the `baton` binary: startup time, flags from the environment, a request over plain
//! HTTP, clean SIGTERM shutdown, and data surviving a restart; Lambda served on the same port
//! (`lambda.rs`) and the seed scripts against it (`seeds.rs`).

mod lambda;
mod seeds;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Baton {
    child: Child,
    address: String,
}

/// Starts `baton serve` on an ephemeral port and waits for its "listening" line.
fn start(data_dir: &std::path::Path, envs: &[(&str, &str)]) -> (Baton, Duration) {
    let began = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("BATON_DATA_DIR", data_dir)
        .env("RUST_LOG", "info")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn baton");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("baton exited before listening")
            .unwrap();
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let elapsed = began.elapsed();
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Baton { child, address }, elapsed)
}

impl Baton {
    fn call(&self, action: &str, body: &str) -> String {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: AWSStepFunctions.{action}\r\n\
             Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    /// Sends SIGTERM and returns the exit status and how long the exit took.
    fn terminate(mut self) -> (std::process::ExitStatus, Duration) {
        let began = Instant::now();
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, began.elapsed());
            }
            assert!(
                began.elapsed() < Duration::from_secs(10),
                "baton ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Baton {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_restart_and_terminate() {
    let dir = tempfile::tempdir().unwrap();
    let (baton, startup) = start(dir.path(), &[("BATON_REGION", "eu-central-1")]);
    assert!(startup < Duration::from_secs(2), "startup took {startup:?}");
    let definition = r#"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"#;
    let created = baton.call(
        "CreateStateMachine",
        &format!(r#"{{"name":"kept","definition":"{definition}","roleArn":"arn:aws:iam::000000000000:role/r"}}"#),
    );
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    assert!(
        created.contains("arn:aws:states:eu-central-1:000000000000:stateMachine:kept"),
        "{created}"
    );
    let (status, took) = baton.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    assert!(dir.path().join("baton.db").exists());

    // Restarted on the same data directory, the state machine is still there (lists are
    // regional, so the restart keeps the region).
    let (baton, _) = start(dir.path(), &[("BATON_REGION", "eu-central-1")]);
    let listed = baton.call("ListStateMachines", "{}");
    assert!(listed.starts_with("HTTP/1.1 200"), "{listed}");
    assert!(listed.contains(r#""name":"kept""#), "{listed}");
    let (status, _) = baton.terminate();
    assert!(status.success());
}

#[test]
fn rejects_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let rows: [(&[&str], &str); 4] = [
        (&["--account", "12"], "--account must be 12 digits"),
        (
            &["--region", "US East"],
            "--region must look like us-east-1",
        ),
        (
            &["--endpoint-url", "127.0.0.1:8083"],
            "--endpoint-url must start with http:// or https://",
        ),
        (&["--lambda-workers", "0"], "--lambda-workers"),
    ];
    for (flags, message) in rows {
        let output = Command::new(env!("CARGO_BIN_EXE_baton"))
            .arg("serve")
            .args(flags)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{flags:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
    }
}

/// The JSON body of a `HTTP/1.1 200` response.
fn body(response: &str) -> serde_json::Value {
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let text = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {response}"))
}

#[test]
fn parked_executions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (baton, _) = start(dir.path(), &[]);
    let activity = body(&baton.call("CreateActivity", r#"{"name":"approve"}"#));
    let activity_arn = activity["activityArn"].as_str().unwrap().to_string();
    let definition = serde_json::json!({
        "StartAt": "Approve",
        "States": {
            "Approve": {"Type": "Task", "Resource": activity_arn, "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 1, "End": true}
        }
    })
    .to_string();
    let create = serde_json::json!({
        "name": "approval",
        "definition": definition,
        "roleArn": "arn:aws:iam::000000000000:role/r"
    });
    let machine = body(&baton.call("CreateStateMachine", &create.to_string()));
    let start_request = serde_json::json!({
        "stateMachineArn": machine["stateMachineArn"],
        "name": "parked",
        "input": "{\"order\": 1}"
    });
    let execution = body(&baton.call("StartExecution", &start_request.to_string()));
    let execution_arn = execution["executionArn"].as_str().unwrap().to_string();
    let poll = serde_json::json!({"activityArn": activity_arn}).to_string();
    let task = body(&baton.call("GetActivityTask", &poll));
    let token = task["taskToken"].as_str().expect("a task").to_string();
    let (status, _) = baton.terminate();
    assert!(status.success());

    // After the restart the token still works and the Wait after it still fires.
    let (baton, _) = start(dir.path(), &[]);
    let success = serde_json::json!({"taskToken": token, "output": "{\"approved\": true}"});
    body(&baton.call("SendTaskSuccess", &success.to_string()));
    let describe = serde_json::json!({"executionArn": execution_arn}).to_string();
    let began = Instant::now();
    let done = loop {
        let described = body(&baton.call("DescribeExecution", &describe));
        if described["status"] != "RUNNING" {
            break described;
        }
        assert!(
            began.elapsed() < Duration::from_secs(15),
            "still running: {described}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], r#"{"approved":true}"#);
    let history = body(&baton.call("GetExecutionHistory", &describe));
    let types: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "WaitStateEntered",
            "WaitStateExited",
            "ExecutionSucceeded"
        ]
    );
    let (status, _) = baton.terminate();
    assert!(status.success());
}

/// Runs `baton ARGS` with `stdin` and returns (success, stdout, stderr).
fn baton(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn run_and_validate_locally() {
    // (arguments after the definition, definition, success, stdout, start of stderr)
    let rows: [(&[&str], &str, bool, &str, &str); 6] = [
        (
            &["--input", r#"{"a":1}"#],
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":2,"ResultPath":"$.b","End":true}}}"#,
            true,
            "{\"a\":1,\"b\":2}\n",
            "",
        ),
        (
            &[],
            r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"S"},"S":{"Type":"Succeed"}}}"#,
            true,
            "{}\n",
            "",
        ),
        (
            &[],
            r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Nope","Cause":"because"}}}"#,
            false,
            "",
            "FAILED: error=Nope cause=because",
        ),
        (
            &[],
            r#"{"StartAt":"Missing","States":{}}"#,
            false,
            "",
            "baton: Invalid State Machine Definition",
        ),
        (
            &["--input", "{oops"],
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
            false,
            "",
            "baton: ",
        ),
        (
            &["--history"],
            r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
            true,
            "",
            "",
        ),
    ];
    for (extra, definition, success, stdout, stderr) in rows {
        let mut args = vec!["run", "-"];
        args.extend_from_slice(extra);
        let (ok, out, err) = baton(&args, definition);
        assert_eq!(ok, success, "{args:?} {definition}: {out} {err}");
        if extra == ["--history"] {
            let lines: Vec<serde_json::Value> = out
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let types: Vec<&str> = lines
                .iter()
                .map(|l| l["type"].as_str().unwrap_or("output"))
                .collect();
            assert_eq!(
                types,
                [
                    "ExecutionStarted",
                    "PassStateEntered",
                    "PassStateExited",
                    "ExecutionSucceeded",
                    "output"
                ]
            );
            continue;
        }
        assert_eq!(out, stdout, "{args:?} {definition}");
        assert!(err.starts_with(stderr), "{args:?} {definition}: {err}");
    }

    let (ok, out, _) = baton(
        &["validate", "-"],
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#,
    );
    assert!(ok);
    assert_eq!(out, "OK\n");
    let (ok, out, _) = baton(
        &["validate", "-"],
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Q"}}}"#,
    );
    assert!(!ok);
    assert!(
        out.starts_with("ERROR MISSING_TRANSITION_TARGET at /States/P/Next: "),
        "{out}"
    );
    let activity = r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:a","End":true}}}"#;
    assert!(baton(&["validate", "-"], activity).0);
    assert!(!baton(&["validate", "--express", "-"], activity).0);
}

/// `baton serve --database postgres://...`: state machines and executions live in PostgreSQL
/// and survive a restart. Runs when `BATON_TEST_POSTGRES` names a database (CI sets it).
#[test]
fn serve_on_postgres() {
    let Some(url) = std::env::var_os("BATON_TEST_POSTGRES") else {
        eprintln!("skipping serve_on_postgres: BATON_TEST_POSTGRES is not set");
        return;
    };
    let url = url.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let name = format!("pg{}", std::process::id());
    let env = [("BATON_DATABASE", url.as_str())];
    let (baton, _) = start(dir.path(), &env);
    let definition =
        r#"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Result\":42,\"End\":true}}}"#;
    let created = baton.call(
        "CreateStateMachine",
        &format!(r#"{{"name":"{name}","definition":"{definition}","roleArn":"arn:aws:iam::000000000000:role/r"}}"#),
    );
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    let arn = format!("arn:aws:states:us-east-1:000000000000:stateMachine:{name}");
    let started = baton.call(
        "StartExecution",
        &format!(r#"{{"stateMachineArn":"{arn}","name":"run"}}"#),
    );
    assert!(started.starts_with("HTTP/1.1 200"), "{started}");
    let (status, _) = baton.terminate();
    assert!(status.success());
    assert!(
        !dir.path().join("baton.db").exists(),
        "SQLite must not be used"
    );

    let (baton, _) = start(dir.path(), &env);
    let execution = format!("arn:aws:states:us-east-1:000000000000:execution:{name}:run");
    let described = baton.call(
        "DescribeExecution",
        &format!(r#"{{"executionArn":"{execution}"}}"#),
    );
    assert!(described.contains(r#""status":"SUCCEEDED""#), "{described}");
    assert!(described.contains(r#""output":"42""#), "{described}");
    let deleted = baton.call(
        "DeleteStateMachine",
        &format!(r#"{{"stateMachineArn":"{arn}"}}"#),
    );
    assert!(deleted.starts_with("HTTP/1.1 200"), "{deleted}");
    let (status, _) = baton.terminate();
    assert!(status.success());
}
