//! Invoke benchmark: cold start, warm latency (p50/p99) and throughput for trivial Python and
//! Node.js handlers through the REST API (`POST /2015-03-31/functions/{name}/invocations` on a
//! kept-alive connection), as a client of Baton sees them.
//!
//! `cargo bench -p baton-lambda --bench invoke` (optionally `BENCH_SECONDS`, `BENCH_CLIENTS`,
//! `BENCH_WARM`). Prints one line per runtime and measurement.

#[path = "../tests/it/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{Client, Harness, have, percentile};
use serde_json::json;

const HANDLERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "python",
        "python3",
        "python3.12",
        "app.handler",
        "def handler(event, context):\n    return event\n",
    ),
    (
        "node",
        "node",
        "nodejs20.x",
        "index.handler",
        "export const handler = async (event) => event;",
    ),
];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    runtime.block_on(run());
}

async fn run() {
    let seconds = env_or("BENCH_SECONDS", 3);
    let clients = env_or("BENCH_CLIENTS", 8);
    let warm = env_or("BENCH_WARM", 2000);
    println!(
        "baton-lambda invoke benchmark: {} cores, {warm} sequential warm calls, {clients} clients for {seconds} s",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    for (label, program, runtime, handler, code) in HANDLERS {
        if !have(program) {
            continue;
        }
        let file = if *label == "python" {
            "app.py"
        } else {
            "index.mjs"
        };
        let mut h = Harness::start().await;
        // Cold starts: a new function each time (the first also finds the interpreter).
        h.create("warmup", runtime, handler, &[(file, code)], json!({}))
            .await;
        h.invoke("warmup", &json!({})).await;
        let mut colds = Vec::new();
        for i in 0..5 {
            let name = format!("cold{i}");
            h.create(&name, runtime, handler, &[(file, code)], json!({}))
                .await;
            let started = Instant::now();
            let reply = h.invoke(&name, &json!({"i": i})).await;
            colds.push(started.elapsed().as_micros());
            assert_eq!(reply.status, 200);
        }
        colds.sort_unstable();
        println!(
            "{label}: cold start (first invoke of a new function) median {:.1} ms, min {:.1} ms",
            percentile(&colds, 50.0),
            percentile(&colds, 0.0)
        );

        // Warm latency, one client.
        h.create("bench", runtime, handler, &[(file, code)], json!({}))
            .await;
        h.invoke("bench", &json!({})).await;
        let mut micros = Vec::with_capacity(warm as usize);
        let body = br#"{"orderId":"ORDER-001","amount":99.99}"#;
        for _ in 0..warm {
            let started = Instant::now();
            let reply = h
                .client
                .send(
                    "POST",
                    "/2015-03-31/functions/bench/invocations",
                    &[],
                    body.to_vec(),
                )
                .await;
            micros.push(started.elapsed().as_micros());
            assert_eq!(reply.status, 200);
        }
        micros.sort_unstable();
        println!(
            "{label}: warm invoke p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} calls, one client)",
            percentile(&micros, 50.0),
            percentile(&micros, 99.0),
            percentile(&micros, 100.0),
            micros.len()
        );

        // Throughput, several clients.
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let addr = h.addr;
            tasks.push(tokio::spawn(async move {
                let mut client = Client::new(addr);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let reply = client
                        .send(
                            "POST",
                            "/2015-03-31/functions/bench/invocations",
                            &[],
                            body.to_vec(),
                        )
                        .await;
                    assert_eq!(reply.status, 200);
                    n += 1;
                }
                n
            }));
        }
        let started = Instant::now();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("client");
        }
        let rate = total as f64 / started.elapsed().as_secs_f64();
        println!(
            "{label}: throughput {rate:.0} invocations/s ({clients} clients, {} workers max)",
            baton_lambda::Config::default().max_workers_per_function
        );
    }
}
