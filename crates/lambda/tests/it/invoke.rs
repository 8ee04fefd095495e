//! Invocation behaviour beyond single results: timeouts kill stuck workers, a crashed worker
//! is replaced, concurrency per function, the log tail, `Event` and `DryRun`, bad payloads,
//! and warm latency.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Harness, have, percentile, unbase64};

const SLEEPY_PY: &str = "import time, os\n\
def handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    if event.get('exit'):\n        os._exit(3)\n    print('slept', event.get('sleep', 0))\n    return {'pid': os.getpid()}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_kill_the_worker_and_the_next_call_gets_a_fresh_one() {
    if !have("python3") {
        return;
    }
    let mut h = Harness::start().await;
    h.create(
        "sleepy",
        "python3.12",
        "app.handler",
        &[("app.py", SLEEPY_PY)],
        json!({"Timeout": 1}),
    )
    .await;
    let first = h.invoke("sleepy", &json!({})).await.json()["pid"].clone();
    let started = Instant::now();
    let reply = h
        .invoke_with(
            "sleepy",
            &json!({"sleep": 30}),
            &[("x-amz-log-type", "Tail")],
        )
        .await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    assert_eq!(
        reply.header("x-amz-function-error").as_deref(),
        Some("Unhandled")
    );
    let body = reply.json();
    assert_eq!(body["errorType"], json!("Sandbox.Timedout"));
    let message = body["errorMessage"].as_str().expect("message");
    assert!(
        message.ends_with("Error: Task timed out after 1.00 seconds"),
        "{message}"
    );
    let tail = unbase64(&reply.header("x-amz-log-result").expect("tail"));
    assert!(tail.contains("REPORT RequestId:"), "{tail}");
    // The stuck worker was killed; the next invocation runs on a new process.
    let after = h.invoke("sleepy", &json!({})).await.json()["pid"].clone();
    assert_ne!(after, first);
    // A worker that dies mid-invocation fails it with Runtime.ExitError and is replaced.
    let crashed = h.invoke("sleepy", &json!({"exit": true})).await;
    assert_eq!(crashed.json()["errorType"], json!("Runtime.ExitError"));
    assert!(h.invoke("sleepy", &json!({})).await.json()["pid"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_run_concurrently_up_to_the_pool_size() {
    if !have("python3") {
        return;
    }
    let mut h = Harness::start().await;
    h.create(
        "par",
        "python3.12",
        "app.handler",
        &[("app.py", SLEEPY_PY)],
        json!({"Timeout": 10}),
    )
    .await;
    h.invoke("par", &json!({})).await;
    let addr = h.addr;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        tasks.push(tokio::spawn(async move {
            let mut client = crate::harness::Client::new(addr);
            let reply = client
                .send(
                    "POST",
                    "/2015-03-31/functions/par/invocations",
                    &[],
                    br#"{"sleep": 1.0}"#.to_vec(),
                )
                .await;
            serde_json::from_slice::<Value>(&reply.body).expect("json")["pid"].clone()
        }));
    }
    let mut pids = Vec::new();
    for task in tasks {
        pids.push(task.await.expect("task"));
    }
    let took = started.elapsed();
    pids.sort_by_key(|p| p.as_u64());
    pids.dedup();
    // Four at once on the default pool of four: about one sleep plus cold starts, not four
    // sleeps.
    assert!(took < Duration::from_millis(3000), "took {took:?}");
    assert!(pids.len() >= 2, "{pids:?}");

    // Reserved concurrency 1: one worker, so the calls queue.
    let put = h
        .request(
            "PUT",
            "/2017-10-31/functions/par/concurrency",
            json!({"ReservedConcurrentExecutions": 1}),
        )
        .await;
    assert_eq!(put.json(), json!({"ReservedConcurrentExecutions": 1}));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        tasks.push(tokio::spawn(async move {
            let mut client = crate::harness::Client::new(addr);
            client
                .send(
                    "POST",
                    "/2015-03-31/functions/par/invocations",
                    &[],
                    br#"{"sleep": 0.3}"#.to_vec(),
                )
                .await
                .status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), 200);
    }
    assert!(
        started.elapsed() >= Duration::from_millis(850),
        "took {:?}",
        started.elapsed()
    );
    let zero = h
        .request(
            "PUT",
            "/2017-10-31/functions/par/concurrency",
            json!({"ReservedConcurrentExecutions": 0}),
        )
        .await;
    assert_eq!(zero.status, 200);
    let throttled = h.invoke("par", &json!({})).await;
    assert_eq!(
        (
            throttled.status,
            throttled.header("x-amzn-errortype").as_deref()
        ),
        (429, Some("TooManyRequestsException"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_tail_event_dry_run_and_bad_payloads() {
    if !have("node") {
        return;
    }
    let mut h = Harness::start().await;
    let code = "exports.handler = async (event, context) => { console.log('hello from', event.who); \
                if (event.ctx) return context.clientContext; return 'ok'; };";
    h.create(
        "tail",
        "nodejs20.x",
        "index.handler",
        &[("index.js", code)],
        json!({}),
    )
    .await;
    let reply = h
        .invoke_with(
            "tail",
            &json!({"who": "tests"}),
            &[("x-amz-log-type", "Tail")],
        )
        .await;
    assert_eq!(reply.json(), json!("ok"));
    assert_eq!(
        reply.header("x-amz-executed-version").as_deref(),
        Some("$LATEST")
    );
    let request_id = reply.header("x-amzn-requestid").expect("request id");
    let tail = unbase64(&reply.header("x-amz-log-result").expect("log result"));
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("START RequestId: {request_id} Version: $LATEST").as_str()),
        "{tail}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!("\t{request_id}\tINFO\thello from tests"))),
        "{tail}"
    );
    assert!(
        lines
            .iter()
            .any(|l| *l == format!("END RequestId: {request_id}")),
        "{tail}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with(&format!("REPORT RequestId: {request_id}\tDuration: "))),
        "{tail}"
    );
    // The function's log file in the data directory has the same lines.
    let log = std::fs::read_to_string(h.dir.path().join("lambda/logs/tail.log")).expect("log file");
    assert!(log.contains("hello from tests"), "{log}");

    // Client context reaches the handler.
    let context = crate::harness::base64(br#"{"custom": {"k": "v"}}"#);
    let reply = h
        .invoke_with(
            "tail",
            &json!({"ctx": true}),
            &[("x-amz-client-context", &context)],
        )
        .await;
    assert_eq!(reply.json(), json!({"custom": {"k": "v"}}));

    let event = h
        .invoke_with(
            "tail",
            &json!({"who": "event"}),
            &[("x-amz-invocation-type", "Event")],
        )
        .await;
    assert_eq!((event.status, event.body.len()), (202, 0));
    let dry = h
        .invoke_with("tail", &json!({}), &[("x-amz-invocation-type", "DryRun")])
        .await;
    assert_eq!(dry.status, 204);
    let bad_type = h
        .invoke_with("tail", &json!({}), &[("x-amz-invocation-type", "Later")])
        .await;
    assert_eq!(bad_type.status, 400);
    let bad = h
        .client
        .send(
            "POST",
            "/2015-03-31/functions/tail/invocations",
            &[],
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(
        (bad.status, bad.header("x-amzn-errortype").as_deref()),
        (400, Some("InvalidRequestContentException"))
    );
    let empty = h
        .client
        .send(
            "POST",
            "/2015-03-31/functions/tail/invocations",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(empty.json(), json!("ok"));
    // The Event invocation ran meanwhile.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = std::fs::read_to_string(h.dir.path().join("lambda/logs/tail.log")).expect("log file");
    assert!(log.contains("hello from event"), "{log}");
}

/// Warm invocations through the REST API answer in a few milliseconds even in a debug build
/// (the release figures are in `benches/invoke.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_invocations_are_fast() {
    for (runtime, handler, file, code) in [
        (
            "python3.12",
            "app.handler",
            "app.py",
            "def handler(event, context):\n    return event\n",
        ),
        (
            "nodejs20.x",
            "index.handler",
            "index.mjs",
            "export const handler = async (event) => event;",
        ),
    ] {
        if !have(if runtime.starts_with("python") {
            "python3"
        } else {
            "node"
        }) {
            continue;
        }
        let mut h = Harness::start().await;
        h.create("warm", runtime, handler, &[(file, code)], json!({}))
            .await;
        let cold = Instant::now();
        h.invoke("warm", &json!({"i": -1})).await;
        let cold = cold.elapsed();
        let mut micros = Vec::new();
        for i in 0..200 {
            let started = Instant::now();
            let reply = h.invoke("warm", &json!({"i": i})).await;
            micros.push(started.elapsed().as_micros());
            assert_eq!(reply.json(), json!({"i": i}));
        }
        micros.sort_unstable();
        let (p50, p99) = (percentile(&micros, 50.0), percentile(&micros, 99.0));
        eprintln!(
            "{runtime}: cold {:.1} ms, warm p50 {p50:.3} ms, p99 {p99:.3} ms (debug build)",
            cold.as_secs_f64() * 1000.0
        );
        assert!(p50 < 20.0, "{runtime} warm p50 {p50} ms");
    }
}

/// Many concurrent invocations while workers fail and die: every invocation gets its own
/// answer (queued ones move to replacement workers; none hangs or is lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_invocation_is_lost_while_workers_die() {
    if !have("python3") {
        return;
    }
    let mut h = Harness::start().await;
    let code = "import os\ndef handler(event, context):\n    if event['mode'] == 'exit':\n        os._exit(1)\n    \
                if event['mode'] == 'error':\n        raise ValueError(str(event['i']))\n    return event['i']\n";
    h.create(
        "chaos",
        "python3.12",
        "app.handler",
        &[("app.py", code)],
        json!({"Timeout": 10}),
    )
    .await;
    let addr = h.addr;
    let mode = |i: u64| match i % 7 {
        0 => "exit",
        3 | 5 => "error",
        _ => "ok",
    };
    let mut tasks = Vec::new();
    for client in 0..6u64 {
        tasks.push(tokio::spawn(async move {
            let mut http = crate::harness::Client::new(addr);
            let mut wrong = Vec::new();
            for k in 0..10u64 {
                let i = client * 10 + k;
                let body = serde_json::to_vec(&json!({"i": i, "mode": mode(i)})).expect("json");
                let reply = http
                    .send("POST", "/2015-03-31/functions/chaos/invocations", &[], body)
                    .await;
                let got: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
                let ok = match mode(i) {
                    "ok" => got == json!(i) && reply.header("x-amz-function-error").is_none(),
                    "error" => {
                        got["errorType"] == json!("ValueError")
                            && got["errorMessage"] == json!(i.to_string())
                    }
                    _ => got["errorType"] == json!("Runtime.ExitError"),
                };
                if !ok {
                    wrong.push(format!("#{i} ({}): {got}", mode(i)));
                }
            }
            wrong
        }));
    }
    let all = tokio::time::timeout(Duration::from_secs(60), async {
        let mut wrong = Vec::new();
        for task in tasks {
            wrong.extend(task.await.expect("client"));
        }
        wrong
    })
    .await
    .expect("an invocation hung");
    assert!(all.is_empty(), "{}", all.join("\n"));
}
