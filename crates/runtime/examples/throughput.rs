//! In-process throughput of the runtime on SQLite (no HTTP): StartExecution per second,
//! durable steps per second through zero-second Wait timers, callback round trips, and memory
//! with parked executions. `cargo run --release -p baton-runtime --example throughput [N]`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_runtime::{
    Completion, Config, CreateActivity, CreateStateMachine, DispatchedTask, GetHistory, PageArgs,
    Runtime, StartExecution, TaskDispatcher,
};
use baton_store::ExecutionStatus;
use baton_store_sqlite::{Options, SqliteStore};

const ROLE: &str = "arn:aws:iam::000000000000:role/bench";

/// Answers every task at once with its input.
struct Echo;

impl TaskDispatcher for Echo {
    fn dispatch(&self, task: DispatchedTask, completion: Completion) {
        tokio::spawn(async move {
            let _ = completion.succeeded(task.input).await;
        });
    }
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

async fn machine(runtime: &Runtime, name: &str, definition: &str) -> String {
    let request = CreateStateMachine {
        name: name.into(),
        definition: definition.into(),
        role_arn: ROLE.into(),
        ..CreateStateMachine::default()
    };
    runtime
        .create_state_machine(request)
        .await
        .unwrap()
        .machine
        .arn
}

/// Starts `count` executions with at most `parallel` in flight; returns their ARNs.
async fn start_many(
    runtime: &Runtime,
    machine: &str,
    prefix: &str,
    count: usize,
    parallel: usize,
) -> Vec<String> {
    // Results come back through a channel so that each finished task is freed at once (a
    // JoinHandle kept until the end would keep every task's future allocated).
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallel));
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..count {
        let permit = Arc::clone(&semaphore).acquire_owned().await.unwrap();
        let runtime = runtime.clone();
        let sender = sender.clone();
        let request = StartExecution {
            state_machine_arn: machine.to_owned(),
            name: Some(format!("{prefix}-{n}")),
            input: Some(format!(r#"{{"n":{n}}}"#)),
        };
        tokio::spawn(async move {
            let record = runtime.start_execution(request).await.unwrap();
            drop(permit);
            let _ = sender.send((n, record.arn));
        });
    }
    drop(sender);
    let mut arns = vec![String::new(); count];
    while let Some((n, arn)) = receiver.recv().await {
        arns[n] = arn;
    }
    arns
}

async fn wait_all(runtime: &Runtime, arns: &[String]) {
    for arn in arns {
        let done = runtime
            .wait_for_execution(arn, Duration::from_secs(600))
            .await
            .unwrap();
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{arn}");
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let dir = tempfile::tempdir().unwrap();
    let page_size = std::env::var("PAGE_SIZE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(Options::default().page_size);
    let options = Options {
        page_size,
        ..Options::default()
    };
    let store = Arc::new(SqliteStore::open_with(&dir.path().join("bench.db"), options).unwrap());
    let cache_capacity = std::env::var("CACHE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(Config::default().cache_capacity);
    let config = Config {
        dispatcher: Arc::new(Echo),
        cache_capacity,
        ..Config::default()
    };
    let runtime = Runtime::open(Arc::clone(&store) as Arc<dyn baton_store::Store>, config)
        .await
        .unwrap();

    if std::env::args().nth(2).as_deref() == Some("parked-only") {
        parked_phase(&runtime, count).await;
        return;
    }

    // 1. StartExecution of a one-state machine (one commit each).
    let pass = machine(
        &runtime,
        "pass",
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#,
    )
    .await;
    let began = Instant::now();
    let arns = start_many(&runtime, &pass, "p", count, 256).await;
    let elapsed = began.elapsed().as_secs_f64();
    wait_all(&runtime, &arns).await;
    println!(
        "start_execution: {count} in {elapsed:.2}s = {:.0}/s",
        count as f64 / elapsed
    );

    // 2. Durable steps: a chain of 10 tasks whose dispatcher answers at once, so every step
    //    is a commit followed by an effect whose result is another commit.
    let mut states = String::new();
    for i in 0..10 {
        let next = if i == 9 {
            r#""End":true"#.to_owned()
        } else {
            format!(r#""Next":"T{}""#, i + 1)
        };
        let comma = if i == 0 { "" } else { "," };
        states.push_str(&format!(
            r#"{comma}"T{i}":{{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{{"i":{i}}},{next}}}"#
        ));
    }
    let tasks = machine(
        &runtime,
        "tasks",
        &format!(r#"{{"StartAt":"T0","States":{{{states}}}}}"#),
    )
    .await;
    let commits_before = runtime.stats().commits;
    let began = Instant::now();
    let arns = start_many(&runtime, &tasks, "e", count, 512).await;
    wait_all(&runtime, &arns).await;
    let elapsed = began.elapsed().as_secs_f64();
    let commits = runtime.stats().commits - commits_before;
    println!(
        "task steps: {commits} commits ({} task states) in {elapsed:.2}s = {:.0} commits/s",
        count * 10,
        commits as f64 / elapsed,
    );
    let (batches, writes) = store.write_stats();
    println!("group commit so far: {writes} writes in {batches} transactions");

    // 2b. Timer lateness: Wait 2 s in many executions started over about a second.
    let wait = machine(
        &runtime,
        "wait",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2,"End":true}}}"#,
    )
    .await;
    let timers = count.min(5_000);
    let arns = start_many(&runtime, &wait, "w", timers, 64).await;
    wait_all(&runtime, &arns).await;
    let mut lateness = Vec::with_capacity(timers);
    for arn in &arns {
        let history = runtime
            .get_execution_history(GetHistory {
                execution_arn: arn.clone(),
                reverse: false,
                page: PageArgs::default(),
            })
            .await
            .unwrap()
            .items;
        let entered = history
            .iter()
            .find(|e| e.event_type == "WaitStateEntered")
            .unwrap()
            .timestamp_ms;
        let exited = history
            .iter()
            .find(|e| e.event_type == "WaitStateExited")
            .unwrap()
            .timestamp_ms;
        lateness.push((exited - entered - 2_000) as f64);
    }
    lateness.sort_by(f64::total_cmp);
    println!(
        "timer lateness over {timers} waits: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&lateness, 0.5),
        percentile(&lateness, 0.99),
        lateness.last().copied().unwrap_or(0.0)
    );

    // 3. Activity round trips: poll, then SendTaskSuccess until the execution has moved on.
    let activity = runtime
        .create_activity(CreateActivity {
            name: "bench".into(),
            ..CreateActivity::default()
        })
        .await
        .unwrap()
        .arn;
    let task_machine = machine(
        &runtime,
        "task",
        &format!(r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"{activity}","End":true}}}}}}"#),
    )
    .await;
    let rounds = count.min(2_000);
    let arns = start_many(&runtime, &task_machine, "t", rounds, 256).await;
    let mut latencies = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let began = Instant::now();
        let task = runtime
            .get_activity_task(&activity, None, Duration::ZERO)
            .await
            .unwrap()
            .unwrap();
        runtime.send_task_success(&task.token, "{}").await.unwrap();
        latencies.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    wait_all(&runtime, &arns).await;
    latencies.sort_by(f64::total_cmp);
    println!(
        "activity round trip (poll + success): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    parked_phase(&runtime, count * 4).await;
}

/// Memory with `many` executions waiting on a long timer.
async fn parked_phase(runtime: &Runtime, many: usize) {
    let parked = machine(
        runtime,
        "parked",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}"#,
    )
    .await;
    let before = rss_mb();
    start_many(runtime, &parked, "z", many, 512).await;
    println!(
        "parked: {many} executions, RSS {:.0} MB (was {before:.0} MB), cached {}, timers loaded {}",
        rss_mb(),
        runtime.stats().cached_executions,
        runtime.stats().loaded_timers
    );
}
