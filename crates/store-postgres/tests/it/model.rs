//! Model-based test: random sequences of commits (right and stale sequence numbers, duplicate
//! history ids and task tokens, timers set, moved and deleted in one step, tasks inserted and
//! updated in one step, terminal outcomes) applied to the in-memory reference store and to
//! PostgreSQL must give the same results and leave the same state. The seed is printed;
//! `BATON_TEST_SEED` replays one.

use baton_store::{
    Commit, Error, ExecutionFilter, ExecutionOutcome, ExecutionStatus, HistoryQuery, HistoryRecord,
    MemoryStore, PageRequest, Store, TaskRecord, TaskState, TaskUpdate, contract,
};

use crate::support::TestDb;

const EXECUTIONS: usize = 8;
const OPERATIONS: usize = 400;
const ACTIVITY: &str = "arn:aws:states:us-east-1:000000000000:activity:model";

/// xorshift64*: deterministic from the seed, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn seed() -> u64 {
    if let Some(seed) = std::env::var("BATON_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return seed;
    }
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("OS randomness");
    u64::from_le_bytes(bytes) | 1
}

/// What the generator believes about one execution (from the model's answers).
#[derive(Default, Clone)]
struct Known {
    started: bool,
    seq: u64,
    next_event: u64,
    next_task: u64,
}

fn generate(rng: &mut Rng, arn: &str, known: &Known, tokens: &mut u64) -> Commit {
    let mut commit = if known.started {
        let seq = match rng.below(10) {
            0 => known.seq.saturating_sub(1),
            1 => known.seq + 1,
            _ => known.seq,
        };
        contract::step(arn, seq)
    } else {
        let name = arn.rsplit(':').next().unwrap_or("e");
        let mut start = contract::start(&contract::execution("model", name, rng.below(5) as i64));
        if rng.chance(10) {
            start.inbox.seq = 1;
        }
        start
    };
    commit.inbox.now_ms = rng.below(1_000_000) as i64;
    commit.inbox.entropy = [rng.below(256) as u8; 32];
    // Duplicates only ever repeat what is already stored: within one commit ids and tokens
    // are distinct (the contract leaves duplicates inside one commit undefined).
    let first = if known.started { known.next_event } else { 2 };
    let from = if known.started && first > 2 && rng.chance(5) {
        first - 1
    } else {
        first
    };
    let count = rng.below(4);
    for id in from..from + count {
        commit.history.push(HistoryRecord {
            id,
            previous_event_id: id - 1,
            timestamp_ms: id as i64,
            event_type: "PassStateEntered".into(),
            details: format!(r#"{{"r":{}}}"#, rng.below(1000)),
        });
    }
    for _ in 0..rng.below(4) {
        commit
            .timers_set
            .push((1 + rng.below(4), rng.below(10_000) as i64));
    }
    for _ in 0..rng.below(3) {
        commit.timers_delete.push(1 + rng.below(5));
    }
    let mut task_id = known.next_task.max(1);
    let existing_tokens = *tokens;
    let mut duplicate_task = known.started && task_id > 1 && rng.chance(5);
    for _ in 0..rng.below(3) {
        let token = if rng.chance(5) && existing_tokens > 0 {
            format!("tok-{}", 1 + rng.below(existing_tokens))
        } else {
            *tokens += 1;
            format!("tok-{}", *tokens)
        };
        let activity = rng.chance(50).then(|| ACTIVITY.to_owned());
        commit.tasks_insert.push(TaskRecord {
            token,
            execution_arn: arn.to_owned(),
            task_id: if std::mem::take(&mut duplicate_task) {
                task_id - 1
            } else {
                task_id
            },
            state_name: "S".into(),
            resource: activity
                .clone()
                .unwrap_or_else(|| "arn:aws:states:::lambda:invoke".into()),
            activity_arn: activity,
            input: "{}".into(),
            state: TaskState::Scheduled,
            worker_name: None,
            created_ms: 1,
        });
        task_id += 1;
    }
    for _ in 0..rng.below(3) {
        let state =
            [TaskState::Scheduled, TaskState::Started, TaskState::Closed][rng.below(3) as usize];
        commit.tasks_update.push(TaskUpdate {
            task_id: 1 + rng.below(task_id.max(2)),
            state,
            worker_name: rng.chance(50).then(|| format!("w{}", rng.below(3))),
        });
    }
    if rng.chance(15) {
        let status = [
            ExecutionStatus::Running,
            ExecutionStatus::Succeeded,
            ExecutionStatus::Failed,
        ][rng.below(3) as usize];
        commit.outcome = Some(ExecutionOutcome {
            status,
            stop_ms: status.is_terminal().then_some(7),
            output: Some("{}".into()),
            error: None,
            cause: None,
        });
    }
    commit
}

/// Errors are compared by kind (and exactly for conflicts); messages differ by backend.
fn shape(result: &Result<(), Error>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(Error::Conflict {
            expected, actual, ..
        }) => format!("conflict {expected} {actual}"),
        Err(Error::AlreadyExists(_)) => "already exists".into(),
        Err(Error::NotFound(_)) => "not found".into(),
        Err(other) => format!("other {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_commits_agree_with_the_memory_store() {
    let Some(db) = TestDb::new("random_commits_agree_with_the_memory_store").await else {
        return;
    };
    let seed = seed();
    eprintln!("model test seed {seed} (BATON_TEST_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let model = MemoryStore::new();
    let arns: Vec<String> = (0..EXECUTIONS)
        .map(|i| contract::execution("model", &format!("e{i}"), 0).arn)
        .collect();
    let mut known = vec![Known::default(); EXECUTIONS];
    let mut tokens = 0u64;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for operation in 0..OPERATIONS {
        let index = rng.below(EXECUTIONS as u64) as usize;
        let commit = generate(&mut rng, &arns[index], &known[index], &mut tokens);
        let expected = model.commit(commit.clone()).await;
        let actual = db.store.commit(commit.clone()).await;
        assert_eq!(
            shape(&actual),
            shape(&expected),
            "operation {operation} (seed {seed}): {commit:#?}"
        );
        let kind = shape(&expected);
        let kind = kind.split(' ').next().unwrap_or_default().to_owned();
        *outcomes.entry(kind).or_default() += 1;
        if expected.is_ok() {
            let state = &mut known[index];
            state.started = true;
            state.seq = commit.inbox.seq + 1;
            state.next_event = commit
                .history
                .last()
                .map_or(state.next_event.max(2), |e| e.id + 1);
            state.next_task = commit
                .tasks_insert
                .iter()
                .map(|t| t.task_id + 1)
                .max()
                .unwrap_or(state.next_task)
                .max(state.next_task)
                .max(1);
        }
    }

    eprintln!("outcomes: {outcomes:?}");
    assert!(
        outcomes.get("ok").copied().unwrap_or(0) > OPERATIONS / 4,
        "too few commits went through to compare much: {outcomes:?}"
    );

    let everything = HistoryQuery {
        after_id: None,
        reverse: false,
        limit: 10_000,
    };
    for arn in &arns {
        assert_eq!(
            db.store.get_execution(arn).await.unwrap(),
            model.get_execution(arn).await.unwrap(),
            "{arn}"
        );
        assert_eq!(
            db.store.get_history(arn, everything).await.unwrap(),
            model.get_history(arn, everything).await.unwrap(),
            "{arn}"
        );
        assert_eq!(
            db.store.get_inbox(arn).await.unwrap(),
            model.get_inbox(arn).await.unwrap(),
            "{arn}"
        );
    }
    assert_eq!(
        db.store
            .timers_between(i64::MIN, i64::MAX, 10_000)
            .await
            .unwrap(),
        model
            .timers_between(i64::MIN, i64::MAX, 10_000)
            .await
            .unwrap()
    );
    for token in 1..=tokens {
        let token = format!("tok-{token}");
        assert_eq!(
            db.store.get_task(&token).await.unwrap(),
            model.get_task(&token).await.unwrap(),
            "{token}"
        );
    }
    assert_eq!(
        db.store.activity_queue(ACTIVITY, 10_000).await.unwrap(),
        model.activity_queue(ACTIVITY, 10_000).await.unwrap()
    );
    assert_eq!(
        db.store
            .tasks_to_dispatch(PageRequest::first(10_000))
            .await
            .unwrap()
            .items,
        model
            .tasks_to_dispatch(PageRequest::first(10_000))
            .await
            .unwrap()
            .items
    );
    assert_eq!(
        db.store
            .list_executions(ExecutionFilter::default(), PageRequest::first(100))
            .await
            .unwrap()
            .items,
        model
            .list_executions(ExecutionFilter::default(), PageRequest::first(100))
            .await
            .unwrap()
            .items
    );
}
