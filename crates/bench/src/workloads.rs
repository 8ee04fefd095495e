//! The workloads. Each creates its own state machine (and activity), does its work through
//! the public API, checks that the work happened (every execution SUCCEEDED, or RUNNING for
//! `parked`), and returns one line of figures.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::Args;
use crate::client::Sfn;
use crate::stats::{Samples, memory_mib, now_epoch, rfc3339_ms};

const ROLE: &str = "arn:aws:iam::000000000000:role/baton-bench";

/// An activity task's (dispatch, round trip) latencies.
type Timing = (Duration, Duration);

pub struct Bench<'a> {
    pub sfn: Sfn,
    pub args: &'a Args,
    pub tag: String,
}

/// Runs `job(i)` for every `i < n` with at most `concurrency` in flight; results in order.
async fn fan<T, F, Fut>(n: usize, concurrency: usize, job: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let job = job.clone();
        let next = next.clone();
        set.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(out);
                }
                out.push((i, job(i).await?));
            }
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        all.extend(done??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, value)| value).collect())
}

fn pass_chain(length: usize) -> Value {
    let mut states = serde_json::Map::new();
    for i in 0..length {
        let mut state = json!({"Type": "Pass"});
        if i + 1 == length {
            state["End"] = json!(true);
        } else {
            state["Next"] = json!(format!("P{}", i + 1));
        }
        states.insert(format!("P{i}"), state);
    }
    json!({"StartAt": "P0", "States": states})
}

fn activity_then_pass(activity: &str) -> Value {
    json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 600, "Next": "After"},
        "After": {"Type": "Pass", "End": true}
    }})
}

fn two_activities(first: &str, second: &str) -> Value {
    json!({"StartAt": "First", "States": {
        "First": {"Type": "Task", "Resource": first, "TimeoutSeconds": 600, "Next": "Second"},
        "Second": {"Type": "Task", "Resource": second, "TimeoutSeconds": 600, "End": true}
    }})
}

/// Long-polls `activity` on endpoint `at` until a task comes (an empty answer is a long poll
/// that timed out: poll again). Returns the task, when it was received, and how many polls
/// came back empty.
async fn poll_task(
    sfn: &Sfn,
    at: usize,
    activity: &str,
) -> anyhow::Result<(Value, Instant, usize)> {
    let poll = json!({"activityArn": activity, "workerName": format!("bench-node{at}")});
    let mut empty = 0;
    loop {
        let task = sfn.call_at(at, "GetActivityTask", &poll).await?;
        if task["taskToken"].as_str().is_some() {
            return Ok((task, Instant::now(), empty));
        }
        empty += 1;
    }
}

/// The token and the `i` of the input of an activity task.
fn token_and_index(task: &Value) -> anyhow::Result<(String, usize)> {
    let token = task["taskToken"].as_str().context("task without a token")?;
    let input: Value = serde_json::from_str(task["input"].as_str().unwrap_or("{}"))?;
    let i = input["i"].as_u64().context("task input without i")? as usize;
    Ok((token.to_owned(), i))
}

impl Bench<'_> {
    async fn machine(&self, name: &str, definition: &Value) -> anyhow::Result<String> {
        let body = json!({
            "name": format!("{}-{name}", self.tag),
            "definition": definition.to_string(),
            "roleArn": ROLE,
        });
        self.sfn
            .call_for("CreateStateMachine", &body, "stateMachineArn")
            .await
    }

    async fn activity_arn(&self, name: &str) -> anyhow::Result<String> {
        let body = json!({"name": format!("{}-{name}", self.tag)});
        self.sfn
            .call_for("CreateActivity", &body, "activityArn")
            .await
    }

    /// Counts the executions of `machine` with `status`, page by page.
    async fn count(&self, machine: &str, status: &str) -> anyhow::Result<usize> {
        let mut count = 0;
        let mut token: Option<String> = None;
        loop {
            let mut body =
                json!({"stateMachineArn": machine, "statusFilter": status, "maxResults": 1000});
            if let Some(token) = &token {
                body["nextToken"] = json!(token);
            }
            let page = self.sfn.call("ListExecutions", &body).await?;
            count += page["executions"].as_array().map_or(0, Vec::len);
            match page["nextToken"].as_str() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(count),
            }
        }
    }

    /// Waits until no execution of `machine` is RUNNING.
    async fn drain(&self, machine: &str) -> anyhow::Result<Instant> {
        loop {
            let body =
                json!({"stateMachineArn": machine, "statusFilter": "RUNNING", "maxResults": 1});
            let page = self.sfn.call("ListExecutions", &body).await?;
            if page["executions"].as_array().is_none_or(Vec::is_empty) {
                return Ok(Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn all_succeeded(&self, machine: &str, n: usize) -> anyhow::Result<()> {
        let succeeded = self.count(machine, "SUCCEEDED").await?;
        ensure!(succeeded == n, "{succeeded} of {n} executions SUCCEEDED");
        Ok(())
    }

    /// Starts `n` executions of `machine` with `input(i)`; returns their ARNs and latencies.
    async fn start_many(
        &self,
        machine: &str,
        n: usize,
        input: impl Fn(usize) -> Value + Clone + Send + Sync + 'static,
    ) -> anyhow::Result<(Vec<String>, Samples)> {
        let sfn = self.sfn.clone();
        let machine = machine.to_owned();
        let started = fan(n, self.args.concurrency, move |i| {
            let sfn = sfn.clone();
            let body = json!({"stateMachineArn": machine, "input": input(i).to_string()});
            async move {
                let began = Instant::now();
                let arn = sfn
                    .call_for("StartExecution", &body, "executionArn")
                    .await?;
                Ok((arn, began.elapsed()))
            }
        })
        .await?;
        let mut samples = Samples::default();
        let mut arns = Vec::with_capacity(n);
        for (arn, latency) in started {
            samples.push(latency);
            arns.push(arn);
        }
        Ok((arns, samples))
    }

    /// StartExecution per second, `--concurrency` requests in flight.
    pub async fn start(&self) -> anyhow::Result<String> {
        let n = self.args.scaled(20_000);
        let machine = self.machine("start", &pass_chain(1)).await?;
        let began = Instant::now();
        let (_, latency) = self.start_many(&machine, n, |_| json!({})).await?;
        let wall = began.elapsed().as_secs_f64();
        self.drain(&machine).await?;
        self.all_succeeded(&machine, n).await?;
        Ok(format!(
            "{:.0} StartExecution/s ({n} in {wall:.2}s, concurrency {}); latency {}",
            n as f64 / wall,
            self.args.concurrency,
            latency.summary()
        ))
    }

    /// State transitions per second: executions of a 50-Pass chain, started concurrently,
    /// until the last one has finished.
    pub async fn transitions(&self) -> anyhow::Result<String> {
        const LENGTH: usize = 50;
        let n = self.args.scaled(2_000);
        let machine = self.machine("chain", &pass_chain(LENGTH)).await?;
        let began = Instant::now();
        self.start_many(&machine, n, |i| json!({"i": i})).await?;
        let done = self.drain(&machine).await?;
        let wall = (done - began).as_secs_f64();
        self.all_succeeded(&machine, n).await?;
        let transitions = n * LENGTH;
        Ok(format!(
            "{:.0} transitions/s ({n} executions x {LENGTH} Pass states in {wall:.2}s; {:.0} executions/s)",
            transitions as f64 / wall,
            n as f64 / wall
        ))
    }

    /// Callback round trip: one worker at a time takes an activity task, sends SendTaskSuccess
    /// and polls DescribeExecution until the next state has run (the execution SUCCEEDED).
    pub async fn callback(&self) -> anyhow::Result<String> {
        let n = self.args.scaled(1_000);
        let activity = self.activity_arn("callback").await?;
        let machine = self
            .machine("callback", &activity_then_pass(&activity))
            .await?;
        let (arns, _) = self.start_many(&machine, n, |i| json!({"i": i})).await?;
        let mut round_trip = Samples::default();
        let mut ack = Samples::default();
        let poll = json!({"activityArn": activity, "workerName": "bench"});
        for _ in 0..n {
            let task = self.sfn.call("GetActivityTask", &poll).await?;
            let token = task["taskToken"]
                .as_str()
                .context("no task for the callback worker")?;
            let input: Value = serde_json::from_str(task["input"].as_str().unwrap_or("{}"))?;
            let i = input["i"].as_u64().context("task input without i")? as usize;
            let execution = arns
                .get(i)
                .context("task for an execution not started by this run")?;
            let began = Instant::now();
            let body = json!({"taskToken": token, "output": input.to_string()});
            self.sfn.call("SendTaskSuccess", &body).await?;
            ack.push(began.elapsed());
            let describe = json!({"executionArn": execution});
            loop {
                let described = self.sfn.call("DescribeExecution", &describe).await?;
                match described["status"].as_str() {
                    Some("RUNNING") => tokio::task::yield_now().await,
                    Some("SUCCEEDED") => break,
                    other => bail!("execution ended {other:?}: {described}"),
                }
            }
            round_trip.push(began.elapsed());
        }
        self.all_succeeded(&machine, n).await?;
        Ok(format!(
            "SendTaskSuccess to next state done: {} ; SendTaskSuccess answered: {} ({n} callbacks, one at a time)",
            round_trip.summary(),
            ack.summary()
        ))
    }

    /// Callback latency across nodes (needs two endpoints or more; the same one twice works
    /// too). Each sample is one execution of `First` (activity) -> `Second` (activity): it is
    /// started on node A (which then owns it), a long poll on node C is already waiting for
    /// `Second`, the worker takes `First` from node A and sends SendTaskSuccess to node B.
    /// Latency: SendTaskSuccess sent -> `Second`'s task received by the poll on node C. With
    /// nodes 0..N, sample i uses A = i, B = i + 1, C = i + 2 (mod N): with three nodes every
    /// hop crosses nodes; with two, C is A. `--in-flight` lanes (4) run at once, each with its
    /// own machine and activities so that its long polls only get its own tasks.
    pub async fn xcallback(&self) -> anyhow::Result<String> {
        let lanes_wanted = usize::from(self.args.in_flight);
        let nodes = self.sfn.endpoints();
        ensure!(
            nodes >= 2,
            "xcallback needs two endpoints or more (--endpoint http://A,http://B[,...])"
        );
        let n = self.args.scaled(400);
        let mut lanes = Vec::new();
        for lane in 0..lanes_wanted.min(n) {
            let first = self.activity_arn(&format!("xcallback{lane}-first")).await?;
            let second = self
                .activity_arn(&format!("xcallback{lane}-second"))
                .await?;
            let machine = self
                .machine(
                    &format!("xcallback{lane}"),
                    &two_activities(&first, &second),
                )
                .await?;
            lanes.push((machine, first, second));
        }
        let next = Arc::new(AtomicUsize::new(0));
        let mut set = JoinSet::new();
        for (machine, first, second) in lanes.iter().cloned() {
            let (sfn, next) = (self.sfn.clone(), next.clone());
            set.spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<_, anyhow::Error>((machine, out));
                    }
                    let (a, b, c) = (i % nodes, (i + 1) % nodes, (i + 2) % nodes);
                    // The poll for `Second` goes out first, so it is waiting on node C well
                    // before SendTaskSuccess is sent (two round trips later).
                    let waiting = {
                        let (sfn, second) = (sfn.clone(), second.clone());
                        tokio::spawn(async move { poll_task(&sfn, c, &second).await })
                    };
                    let body =
                        json!({"stateMachineArn": machine, "input": json!({"i": i}).to_string()});
                    sfn.call_at(a, "StartExecution", &body)
                        .await
                        .context("StartExecution")?;
                    let (task, _, _) = poll_task(&sfn, a, &first).await?;
                    let (token, got) = token_and_index(&task)?;
                    ensure!(got == i, "lane got the First task of {got}, expected {i}");
                    let sent = Instant::now();
                    let body = json!({"taskToken": token, "output": json!({"i": i}).to_string()});
                    sfn.call_at(b, "SendTaskSuccess", &body).await?;
                    let answered = sent.elapsed();
                    let (task, received, empty) = waiting.await??;
                    let (token, got) = token_and_index(&task)?;
                    ensure!(got == i, "lane got the Second task of {got}, expected {i}");
                    let body = json!({"taskToken": token, "output": "{}"});
                    sfn.call_at(c, "SendTaskSuccess", &body).await?;
                    out.push((received - sent, answered, empty));
                }
            });
        }
        let (mut latency, mut ack, mut empty_polls) = (Samples::default(), Samples::default(), 0);
        let mut per_machine = Vec::new();
        while let Some(done) = set.join_next().await {
            let (machine, out) = done??;
            for (received, answered, empty) in &out {
                latency.push(*received);
                ack.push(*answered);
                empty_polls += empty;
            }
            per_machine.push((machine, out.len()));
        }
        for (machine, count) in &per_machine {
            self.drain(machine).await?;
            self.all_succeeded(machine, *count).await?;
        }
        ensure!(
            latency.len() == n,
            "{} of {n} callbacks measured",
            latency.len()
        );
        Ok(format!(
            "SendTaskSuccess on node B -> next activity task received by a long poll on node C: {} ; SendTaskSuccess answered: {} ({n} callbacks over {nodes} endpoints, {} in flight{})",
            latency.summary(),
            ack.summary(),
            per_machine.len(),
            if empty_polls > 0 {
                format!("; WARNING: {empty_polls} long polls came back empty and were repeated")
            } else {
                String::new()
            }
        ))
    }

    /// Activity round trip with 4 workers long-polling. Paced: one execution at a time, the
    /// next started once the previous task is answered, so the figures are latencies, not
    /// queueing: StartExecution sent -> task received by a worker (dispatch) -> the worker's
    /// SendTaskSuccess answered (round trip). Then a burst of executions started 16 at a time
    /// measures how many tasks per second the workers get through.
    pub async fn activity(&self) -> anyhow::Result<String> {
        const WORKERS: usize = 4;
        let paced = self.args.scaled(500);
        let burst = self.args.scaled(1_000);
        let n = paced + burst;
        let activity = self.activity_arn("activity").await?;
        let machine = self
            .machine("activity", &activity_then_pass(&activity))
            .await?;
        let submitted: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n]));
        let (handled_tx, mut handled_rx) = tokio::sync::watch::channel(0usize);
        let handled_tx = Arc::new(handled_tx);
        let results: Arc<Mutex<Vec<Option<Timing>>>> = Arc::new(Mutex::new(vec![None; n]));
        let mut workers = JoinSet::new();
        for w in 0..WORKERS {
            let (sfn, activity) = (self.sfn.clone(), activity.clone());
            let (submitted, handled, results) =
                (submitted.clone(), handled_tx.clone(), results.clone());
            workers.spawn(async move {
                let poll = json!({"activityArn": activity, "workerName": format!("bench-{w}")});
                while *handled.borrow() < n {
                    let task = sfn.call("GetActivityTask", &poll).await?;
                    let Some(token) = task["taskToken"].as_str() else {
                        continue;
                    };
                    let received = Instant::now();
                    let input: Value =
                        serde_json::from_str(task["input"].as_str().unwrap_or("{}"))?;
                    let i = input["i"].as_u64().context("task input without i")? as usize;
                    let body = json!({"taskToken": token, "output": input.to_string()});
                    sfn.call("SendTaskSuccess", &body).await?;
                    let answered = Instant::now();
                    let sent = submitted
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .get(i)
                        .copied()
                        .flatten()
                        .context("task for an execution not started by this run")?;
                    let mut results = results.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                    let slot = results.get_mut(i).context("task index out of range")?;
                    ensure!(slot.is_none(), "task {i} handed out twice");
                    *slot = Some((received - sent, answered - sent));
                    drop(results);
                    handled.send_modify(|h| *h += 1);
                }
                Ok::<_, anyhow::Error>(())
            });
        }
        let start = |i: usize| {
            let sfn = self.sfn.clone();
            let submitted = submitted.clone();
            let body = json!({"stateMachineArn": machine, "input": json!({"i": i}).to_string()});
            async move {
                submitted.lock().map_err(|_| anyhow::anyhow!("poisoned"))?[i] =
                    Some(Instant::now());
                sfn.call_for("StartExecution", &body, "executionArn").await
            }
        };
        for i in 0..paced {
            start(i).await?;
            handled_rx.wait_for(|h| *h > i).await?;
        }
        let began = Instant::now();
        let sfn = self.sfn.clone();
        let (burst_machine, burst_submitted) = (machine.clone(), submitted.clone());
        fan(burst, self.args.concurrency.min(16), move |k| {
            let sfn = sfn.clone();
            let submitted = burst_submitted.clone();
            let i = paced + k;
            let body =
                json!({"stateMachineArn": burst_machine, "input": json!({"i": i}).to_string()});
            async move {
                submitted.lock().map_err(|_| anyhow::anyhow!("poisoned"))?[i] =
                    Some(Instant::now());
                sfn.call_for("StartExecution", &body, "executionArn").await
            }
        })
        .await?;
        let timeout = Duration::from_secs(self.args.timeout);
        tokio::time::timeout(timeout, handled_rx.wait_for(|h| *h >= n))
            .await
            .context("workers did not answer every task in time")??;
        let wall = began.elapsed().as_secs_f64();
        workers.abort_all();
        self.drain(&machine).await?;
        self.all_succeeded(&machine, n).await?;
        let results = results.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        let (mut dispatch, mut round_trip, mut burst_dispatch) =
            (Samples::default(), Samples::default(), Samples::default());
        for (i, result) in results.iter().enumerate() {
            let (received, answered) = result.context("a task was never answered")?;
            if i < paced {
                dispatch.push(received);
                round_trip.push(answered);
            } else {
                burst_dispatch.push(received);
            }
        }
        Ok(format!(
            "round trip (StartExecution sent -> task received -> SendTaskSuccess answered) {} ; dispatch {} ({paced} one at a time, {WORKERS} workers long-polling) ; burst of {burst}: {:.0} tasks/s, dispatch {}",
            round_trip.summary(),
            dispatch.summary(),
            burst as f64 / wall,
            burst_dispatch.summary()
        ))
    }

    /// Wait timer lateness: executions whose Wait states are all due at the same instant;
    /// lateness is the WaitStateExited timestamp minus the due time.
    pub async fn timer(&self) -> anyhow::Result<String> {
        let n = self.args.scaled(1_000);
        let definition = json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "TimestampPath": "$.due", "Next": "After"},
            "After": {"Type": "Pass", "End": true}
        }});
        let machine = self.machine("timer", &definition).await?;
        // Due after every start is done (2 s plus a millisecond per execution).
        let due_ms = ((now_epoch() * 1000.0) as i64 / 1000 + 2) * 1000 + n as i64;
        let due = rfc3339_ms(due_ms);
        let (arns, _) = {
            let due = due.clone();
            self.start_many(&machine, n, move |_| json!({"due": due}))
                .await?
        };
        let late_starts = (now_epoch() * 1000.0) as i64 > due_ms;
        self.drain(&machine).await?;
        self.all_succeeded(&machine, n).await?;
        let sfn = self.sfn.clone();
        let arns = Arc::new(arns);
        let exits = fan(n, self.args.concurrency, move |i| {
            let sfn = sfn.clone();
            let arns = arns.clone();
            async move {
                let history = sfn
                    .call(
                        "GetExecutionHistory",
                        &json!({"executionArn": arns[i], "maxResults": 1000}),
                    )
                    .await?;
                let exited = history["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|e| e["type"] == "WaitStateExited")
                    .and_then(|e| e["timestamp"].as_f64())
                    .context("no WaitStateExited timestamp")?;
                Ok(exited)
            }
        })
        .await?;
        let mut lateness = Samples::default();
        let mut early = 0;
        for exited in exits {
            let late = exited * 1000.0 - due_ms as f64;
            if late < 0.0 {
                early += 1;
            }
            lateness.push_ms(late);
        }
        Ok(format!(
            "lateness {} ({} Waits due at once at {due}; {early} early{})",
            lateness.summary(),
            lateness.len(),
            if late_starts {
                "; WARNING: some started after the due time"
            } else {
                ""
            }
        ))
    }

    /// Resident memory with `--parked` executions parked on an activity task (or a day-long
    /// Wait with `--parked-on wait`).
    pub async fn parked(&self) -> anyhow::Result<String> {
        let pid = self
            .args
            .pid
            .context("parked needs --pid PID of the server")?;
        let n = self.args.scaled(self.args.parked);
        let definition = match self.args.parked_on.as_str() {
            "activity" => {
                let activity = self.activity_arn("parked").await?;
                json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": activity, "End": true}}})
            }
            "wait" => {
                json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86_400, "End": true}}})
            }
            other => bail!("--parked-on must be activity or wait, not {other:?}"),
        };
        let machine = self.machine("parked", &definition).await?;
        let (before, _) = memory_mib(pid)?;
        let began = Instant::now();
        let (_, latency) = self.start_many(&machine, n, |i| json!({"i": i})).await?;
        let wall = began.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (after, peak) = memory_mib(pid)?;
        let running = self.count(&machine, "RUNNING").await?;
        ensure!(
            running == n,
            "{running} of {n} parked executions are RUNNING"
        );
        Ok(format!(
            "RSS {after:.1} MiB with {n} executions parked on {} (before {before:.1} MiB, peak {peak:.1} MiB; started at {:.0}/s, latency {})",
            self.args.parked_on,
            n as f64 / wall,
            latency.summary()
        ))
    }
}
