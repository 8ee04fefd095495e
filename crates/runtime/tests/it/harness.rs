//! Shared test harness: a runtime on a chosen store with a manual clock, helpers to create
//! machines, wait for executions and read histories, and a recording task dispatcher.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_runtime::{
    Completion, Config, CreateActivity, CreateStateMachine, DispatchedTask, GetHistory,
    ManualClock, PageArgs, Runtime, StartExecution, TaskDispatcher,
};
use baton_store::{ExecutionRecord, ExecutionStatus, HistoryRecord, MemoryStore, Store};

pub const START_MS: i64 = 1_700_000_000_000;
pub const ROLE: &str = "arn:aws:iam::000000000000:role/test";

pub struct Harness {
    pub runtime: Runtime,
    pub clock: ManualClock,
    pub store: Arc<dyn Store>,
}

pub fn config(clock: &ManualClock) -> Config {
    Config {
        clock: Arc::new(clock.clone()),
        ..Config::default()
    }
}

impl Harness {
    pub async fn memory() -> Harness {
        Harness::with_store(
            Arc::new(MemoryStore::new()),
            ManualClock::new(START_MS),
            |c| c,
        )
        .await
    }

    pub async fn with_store(
        store: Arc<dyn Store>,
        clock: ManualClock,
        adjust: impl FnOnce(Config) -> Config,
    ) -> Harness {
        let runtime = Runtime::open(Arc::clone(&store), adjust(config(&clock)))
            .await
            .unwrap();
        Harness {
            runtime,
            clock,
            store,
        }
    }

    pub async fn machine(&self, name: &str, definition: &str) -> String {
        let request = CreateStateMachine {
            name: name.to_owned(),
            definition: definition.to_owned(),
            role_arn: ROLE.to_owned(),
            ..CreateStateMachine::default()
        };
        self.runtime
            .create_state_machine(request)
            .await
            .unwrap()
            .machine
            .arn
    }

    pub async fn activity(&self, name: &str) -> String {
        let request = CreateActivity {
            name: name.to_owned(),
            ..CreateActivity::default()
        };
        self.runtime.create_activity(request).await.unwrap().arn
    }

    pub async fn start(&self, machine_arn: &str, name: &str, input: &str) -> ExecutionRecord {
        let request = StartExecution {
            state_machine_arn: machine_arn.to_owned(),
            name: Some(name.to_owned()),
            input: Some(input.to_owned()),
        };
        self.runtime.start_execution(request).await.unwrap()
    }

    /// Waits (in real time, bounded) until the execution is no longer running.
    pub async fn finished(&self, execution_arn: &str) -> ExecutionRecord {
        let wait = self
            .runtime
            .wait_for_execution(execution_arn, Duration::from_secs(24 * 3600));
        let record = tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .unwrap_or_else(|_| panic!("{execution_arn} did not finish"))
            .unwrap();
        assert_ne!(record.status, ExecutionStatus::Running);
        record
    }

    /// Moves the clock and lets the scheduler fire what became due.
    pub async fn advance(&self, ms: i64) {
        self.clock.advance(ms);
        settle().await;
    }

    pub async fn history(&self, execution_arn: &str) -> Vec<HistoryRecord> {
        let mut events = Vec::new();
        let mut page = PageArgs::default();
        loop {
            let request = GetHistory {
                execution_arn: execution_arn.to_owned(),
                reverse: false,
                page: page.clone(),
            };
            let listed = self.runtime.get_execution_history(request).await.unwrap();
            events.extend(listed.items);
            match listed.next_token {
                Some(token) => page.next_token = Some(token),
                None => return events,
            }
        }
    }

    pub async fn event_types(&self, execution_arn: &str) -> Vec<String> {
        self.history(execution_arn)
            .await
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    pub async fn status(&self, execution_arn: &str) -> ExecutionStatus {
        self.runtime
            .describe_execution(execution_arn)
            .await
            .unwrap()
            .status
    }
}

/// Gives spawned tasks (scheduler, timer firings, dispatchers) time to run.
pub async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
}

/// Checks that history ids run 1..=n and each previous id points backwards.
pub fn assert_well_formed(events: &[HistoryRecord]) {
    for (index, event) in events.iter().enumerate() {
        assert_eq!(
            event.id,
            index as u64 + 1,
            "history ids must be contiguous: {events:#?}"
        );
        assert!(
            event.previous_event_id < event.id,
            "previous id must point back: {event:?}"
        );
    }
}

/// A dispatcher that acknowledges every task as submitted and records it, so a test can play
/// the external party that calls back with the token.
#[derive(Default, Clone)]
pub struct Recorder {
    pub tasks: Arc<Mutex<Vec<DispatchedTask>>>,
}

impl TaskDispatcher for Recorder {
    fn dispatch(&self, task: DispatchedTask, completion: Completion) {
        self.tasks.lock().unwrap().push(task);
        tokio::spawn(async move {
            let _ = completion
                .submitted(serde_json::json!({"MessageId": "m-1"}))
                .await;
        });
    }
}

impl Recorder {
    pub fn taken(&self) -> Vec<DispatchedTask> {
        self.tasks.lock().unwrap().clone()
    }
}

/// A predicate over an expected error, for tables of bad requests.
pub type Expect = fn(&baton_runtime::Error) -> bool;

/// Waits (in real time, at most 10 s) until `check` holds; spawned work such as timer firings
/// and dispatcher acknowledgements finishes at its own pace on a busy machine.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
