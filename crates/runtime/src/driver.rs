//! The execution driver: feeds events to the interpreter, commits each transition, then
//! carries out its commands.
//!
//! Each execution is advanced by one task at a time (a per-execution async mutex). Live
//! `Execution`s are cached up to a capacity; an evicted or never-loaded execution is rebuilt by
//! replaying its inbox through the interpreter, so a parked execution costs only its rows.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use baton_asl::{Resource, StateMachine};
use baton_interp::{Command, Entropy, Event, Execution, ExecutionInfo, Status, Transition};
use baton_store::cluster::Ownership;
use baton_store::{
    Commit, ExecutionOutcome, ExecutionRecord, ExecutionStatus, InboxRecord, MachineType, Millis,
    PageRequest, StateMachineRecord, Store, TaskRecord, TaskState, TaskUpdate,
};
use tokio::sync::{Notify, oneshot, watch};

use crate::codec::{self, Entry};
use crate::dispatch::{Completion, DispatchedTask, TaskDispatcher};
use crate::timers::Timers;
use crate::{Clock, Error, arn};

/// How long a node reuses a state machine record it read for `StartExecution`.
const MACHINE_RECORD_TTL_MS: Millis = 1000;

/// How many timers one refill reads at most.
const REFILL_LIMIT: usize = 50_000;

/// How long a `RedriveExecution` client token is remembered.
const REDRIVE_TOKEN_TTL_MS: Millis = 15 * 60 * 1000;

/// How many `RedriveExecution` client tokens are remembered per execution.
const REDRIVE_TOKENS_KEPT: usize = 10;

/// Runtime settings the driver needs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) region: String,
    pub(crate) account: String,
    pub(crate) cache_capacity: usize,
    pub(crate) timer_window_ms: Millis,
    pub(crate) max_activity_wait: std::time::Duration,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) dispatcher: Arc<dyn TaskDispatcher>,
    pub(crate) settings: Settings,
    /// Set when several nodes share the store (cluster mode).
    pub(crate) node: Option<crate::cluster::Node>,
    pub(crate) this: Weak<Inner>,
    slots: Mutex<HashMap<Arc<str>, Arc<SlotCell>>>,
    tick: AtomicU64,
    machines: Mutex<HashMap<String, Arc<StateMachine>>>,
    /// State machine records as `StartExecution` last read them, with when.
    machine_records: Mutex<HashMap<String, (Millis, Arc<StateMachineRecord>)>>,
    pub(crate) timers: Timers,
    activity_waiters: Mutex<HashMap<String, Arc<Notify>>>,
    finish_waiters: Mutex<HashMap<String, Vec<oneshot::Sender<()>>>>,
    /// `RedriveExecution` client tokens: `(execution, token)` to `(redriveDate, first use)`.
    redrive_tokens: Mutex<HashMap<(String, String), (Millis, Millis)>>,
    pub(crate) shutdown: watch::Sender<bool>,
    /// Counters for tests and metrics.
    pub(crate) replays: AtomicU64,
    pub(crate) commits: AtomicU64,
}

struct SlotCell {
    last_used: AtomicU64,
    slot: tokio::sync::Mutex<Option<Live>>,
}

/// A cached, running execution.
pub(crate) struct Live {
    execution: Execution,
    /// Express executions keep no history rows.
    express: bool,
    /// The next inbox sequence number (the commit fence).
    seq: u64,
    /// The time of the last step (history timestamps never go back).
    last_ms: Millis,
}

/// A precondition checked under the execution's lock before an event is fed.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    None,
    /// The task must still be waiting for a worker (activity claims).
    TaskScheduled(String),
    /// The task must still be open in the execution (callbacks); the cached execution state
    /// is authoritative here, so this costs no store read.
    TaskOpen(u64),
}

/// What happened to a delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivered {
    /// The step was committed; the execution's status after it.
    Committed(ExecutionStatus),
    /// The interpreter had nothing to do with it, or the precondition failed.
    Ignored,
    /// The execution is not running.
    NotRunning,
    /// Another node owns the execution: the event was queued in its mailbox, and that node
    /// applies it (or ignores it, as the interpreter decides).
    Queued,
}

/// Where an execution that is not cached here is.
pub(crate) enum Presence {
    /// Loaded (and, in cluster mode, owned by this node).
    Live(Box<Live>),
    /// It exists but is not running.
    NotRunning,
    /// A live node owns it (cluster mode).
    Elsewhere,
}

/// A committed step: what the caller must carry out after releasing the execution's lock.
pub(crate) struct Stepped {
    transition: Transition,
    status: ExecutionStatus,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// 32 bytes from the operating system.
pub(crate) fn entropy() -> Result<Entropy, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

pub(crate) fn status_of(status: &Status) -> ExecutionStatus {
    match status {
        Status::Running => ExecutionStatus::Running,
        Status::Succeeded => ExecutionStatus::Succeeded,
        Status::Failed => ExecutionStatus::Failed,
        Status::TimedOut => ExecutionStatus::TimedOut,
        Status::Aborted => ExecutionStatus::Aborted,
    }
}

impl Inner {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        dispatcher: Arc<dyn TaskDispatcher>,
        settings: Settings,
        node: Option<crate::cluster::Node>,
    ) -> Arc<Inner> {
        Arc::new_cyclic(|this| Inner {
            store,
            clock,
            dispatcher,
            settings,
            node,
            this: this.clone(),
            slots: Mutex::new(HashMap::new()),
            tick: AtomicU64::new(0),
            machines: Mutex::new(HashMap::new()),
            machine_records: Mutex::new(HashMap::new()),
            timers: Timers::new(),
            activity_waiters: Mutex::new(HashMap::new()),
            finish_waiters: Mutex::new(HashMap::new()),
            redrive_tokens: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            replays: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        })
    }

    /// The parsed state machine for a definition id (cached).
    pub(crate) async fn machine(&self, definition_id: &str) -> Result<Arc<StateMachine>, Error> {
        if let Some(machine) = lock(&self.machines).get(definition_id) {
            return Ok(Arc::clone(machine));
        }
        let text = self
            .store
            .get_definition(definition_id)
            .await?
            .ok_or_else(|| Error::Internal(format!("definition {definition_id} is missing")))?;
        self.machine_from_text(definition_id, &text)
    }

    /// A state machine record for `StartExecution`: read from the store at most once per
    /// [`MACHINE_RECORD_TTL_MS`] per node. Changes made through this runtime drop it at once;
    /// changes made on another node show within the TTL, as AWS documents for its own
    /// `UpdateStateMachine` ("Read consistency in Step Functions": eventually consistent, all
    /// starts within a few seconds use the update).
    pub(crate) async fn state_machine_record(
        &self,
        arn: &str,
    ) -> Result<Option<Arc<StateMachineRecord>>, Error> {
        let now = self.clock.now_ms();
        if let Some((read_at, record)) = lock(&self.machine_records).get(arn)
            && now.saturating_sub(*read_at) < MACHINE_RECORD_TTL_MS
        {
            return Ok(Some(Arc::clone(record)));
        }
        let record = self.store.get_state_machine(arn).await?.map(Arc::new);
        let mut records = lock(&self.machine_records);
        match &record {
            Some(record) => {
                records.insert(arn.to_owned(), (now, Arc::clone(record)));
            }
            None => {
                records.remove(arn);
            }
        }
        Ok(record)
    }

    /// Drops a cached state machine record (it was updated or deleted here).
    pub(crate) fn forget_state_machine_record(&self, arn: &str) {
        lock(&self.machine_records).remove(arn);
    }

    /// Whether the definition is cached (and therefore already in the store).
    pub(crate) fn knows_definition(&self, definition_id: &str) -> bool {
        lock(&self.machines).contains_key(definition_id)
    }

    pub(crate) fn machine_from_text(
        &self,
        definition_id: &str,
        text: &str,
    ) -> Result<Arc<StateMachine>, Error> {
        if let Some(machine) = lock(&self.machines).get(definition_id) {
            return Ok(Arc::clone(machine));
        }
        let machine = StateMachine::from_text(text).map_err(|d| crate::definition_error(&d))?;
        let machine = Arc::new(machine);
        lock(&self.machines).insert(definition_id.to_owned(), Arc::clone(&machine));
        Ok(machine)
    }

    pub(crate) fn execution_info(&self, record: &ExecutionRecord) -> Result<ExecutionInfo, Error> {
        let parsed = arn::Arn::parse(&record.arn)?;
        let machine = arn::Arn::parse(&record.state_machine_arn)?;
        Ok(ExecutionInfo {
            execution_arn: record.arn.clone(),
            name: record.name.clone(),
            state_machine_arn: record
                .version_arn
                .clone()
                .unwrap_or_else(|| record.state_machine_arn.clone()),
            state_machine_name: machine.parts[0].clone(),
            role_arn: record.role_arn.clone(),
            region: parsed.region,
            account: parsed.account,
            // Replay feeds every redrive of the inbox to the interpreter, which counts them.
            redrive_count: 0,
        })
    }

    fn slot(&self, execution_arn: &str) -> Arc<SlotCell> {
        let tick = self.tick.fetch_add(1, Ordering::Relaxed);
        let mut slots = lock(&self.slots);
        if let Some(cell) = slots.get(execution_arn) {
            cell.last_used.store(tick, Ordering::Relaxed);
            return Arc::clone(cell);
        }
        let cell = Arc::new(SlotCell {
            last_used: AtomicU64::new(tick),
            slot: tokio::sync::Mutex::new(None),
        });
        slots.insert(Arc::from(execution_arn), Arc::clone(&cell));
        let capacity = self.settings.cache_capacity;
        if slots.len() > capacity + capacity / 8 + 1 {
            let evicted = evict(&mut slots, capacity);
            drop(slots);
            self.release_all(evicted);
        }
        cell
    }

    /// Cluster mode: gives up ownership of executions no longer cached here, so that events
    /// for them are applied wherever they arrive instead of queued for this node.
    fn release_all(&self, evicted: Vec<Arc<str>>) {
        if evicted.is_empty() {
            return;
        }
        let (Some(node), Some(inner)) = (&self.node, self.this.upgrade()) else {
            return;
        };
        let cluster = Arc::clone(&node.cluster);
        let id = node.id.clone();
        tokio::spawn(async move {
            for arn in evicted {
                // A cell made again meanwhile means the execution is in use here again.
                if inner.is_cached(&arn) {
                    continue;
                }
                let _ = cluster.release_execution(&id, &arn).await;
            }
        });
    }

    /// Whether the execution is in memory here: loaded, or busy (being loaded or stepped).
    pub(crate) fn is_cached(&self, execution_arn: &str) -> bool {
        let cell = lock(&self.slots).get(execution_arn).cloned();
        cell.is_some_and(|cell| cell.slot.try_lock().map_or(true, |slot| slot.is_some()))
    }

    /// Drops every cached execution nobody is using (cluster mode, after the lease lapsed:
    /// other nodes may have advanced them).
    pub(crate) fn forget_idle(&self) {
        lock(&self.slots).retain(|_, cell| Arc::strong_count(cell) > 1);
    }

    /// How many executions are cached in memory.
    pub(crate) fn cached(&self) -> usize {
        lock(&self.slots).len()
    }

    /// Rebuilds a running execution from its inbox; `None` if it is not running.
    async fn load(&self, execution_arn: &str) -> Result<Option<Live>, Error> {
        let Some(record) = self.store.get_execution(execution_arn).await? else {
            return Err(Error::ExecutionDoesNotExist(format!(
                "Execution Does Not Exist: '{execution_arn}'"
            )));
        };
        if record.status != ExecutionStatus::Running {
            return Ok(None);
        }
        self.replay(&record).await.map(Some)
    }

    /// Rebuilds an execution, running or closed, from its inbox.
    async fn replay(&self, record: &ExecutionRecord) -> Result<Live, Error> {
        let execution_arn = record.arn.as_str();
        let inbox = self.store.get_inbox(execution_arn).await?;
        if inbox.len() as u64 != record.seq {
            return Err(Error::Internal(format!(
                "{execution_arn}: inbox has {} entries, the execution says {}",
                inbox.len(),
                record.seq
            )));
        }
        let machine = self.machine(&record.definition_id).await?;
        let info = self.execution_info(record)?;
        let input: serde_json::Value = serde_json::from_str(&record.input).map_err(|e| {
            Error::Internal(format!("{execution_arn}: stored input is not JSON: {e}"))
        })?;
        let last_ms = inbox.last().map_or(record.start_ms, |entry| entry.now_ms);
        let mut entries = Vec::with_capacity(inbox.len());
        for (position, entry) in inbox.iter().enumerate() {
            if entry.seq != position as u64 {
                return Err(Error::Internal(format!(
                    "{execution_arn}: inbox gap at {position}"
                )));
            }
            let decoded = codec::decode_entry(&entry.event).map_err(Error::Internal)?;
            entries.push((decoded, entry.now_ms, entry.entropy));
        }
        let mut entries = entries.into_iter();
        let Some((Entry::Start, now, entropy)) = entries.next() else {
            return Err(Error::Internal(format!(
                "{execution_arn}: inbox does not begin with the start"
            )));
        };
        let replayed = std::panic::catch_unwind(AssertUnwindSafe(move || {
            let (mut execution, _) = Execution::start(machine, info, input, now, entropy);
            for (entry, now, entropy) in entries {
                match entry {
                    Entry::Event(event) => {
                        execution.handle(event, now, entropy);
                    }
                    Entry::Start => return Err("a second start in the inbox".to_owned()),
                }
            }
            Ok(execution)
        }));
        let execution = match replayed {
            Ok(Ok(execution)) => execution,
            Ok(Err(message)) => return Err(Error::Internal(format!("{execution_arn}: {message}"))),
            Err(panic) => {
                return Err(Error::Internal(format!(
                    "the interpreter panicked replaying {execution_arn}: {}",
                    panic_message(panic.as_ref())
                )));
            }
        };
        self.replays.fetch_add(1, Ordering::Relaxed);
        Ok(Live {
            execution,
            express: record.kind == MachineType::Express,
            seq: record.seq,
            last_ms,
        })
    }

    /// `RedriveExecution`: rebuilds a closed execution by replay, feeds it
    /// [`Event::Redrive`] and commits the step that reopens it. Returns the redrive's time;
    /// `ExecutionNotRedrivable` when the execution is running, succeeded or cannot continue.
    ///
    /// A `client_token` already used for this execution in the last 15 minutes returns that
    /// redrive's date again without redriving (AWS keeps the last 10; these live in memory).
    pub(crate) async fn redrive(
        &self,
        execution_arn: &str,
        client_token: Option<&str>,
    ) -> Result<Millis, Error> {
        let arn: Arc<str> = Arc::from(execution_arn);
        let cell = self.slot(&arn);
        let mut slot = cell.slot.lock().await;
        let token_key = client_token.map(|token| (execution_arn.to_owned(), token.to_owned()));
        if let Some(key) = &token_key {
            let now = self.clock.now_ms();
            let mut tokens = lock(&self.redrive_tokens);
            tokens.retain(|_, (_, used)| now - *used < REDRIVE_TOKEN_TTL_MS);
            if let Some((date, _)) = tokens.get(key) {
                return Ok(*date);
            }
        }
        let Some(record) = self.store.get_execution(execution_arn).await? else {
            return Err(Error::ExecutionDoesNotExist(format!(
                "Execution Does Not Exist: '{execution_arn}'"
            )));
        };
        let not_redrivable = |reason: &str| {
            Error::ExecutionNotRedrivable(format!(
                "Execution {execution_arn} cannot be redriven: {reason}"
            ))
        };
        if record.kind == MachineType::Express {
            return Err(not_redrivable("Express executions cannot be redriven"));
        }
        if matches!(
            record.status,
            ExecutionStatus::Running | ExecutionStatus::Succeeded | ExecutionStatus::PendingRedrive
        ) {
            return Err(not_redrivable(&format!(
                "Execution is {} and cannot be redriven",
                record.status.as_str()
            )));
        }
        if let Some(node) = &self.node {
            let now = self.clock.now_ms();
            match node
                .cluster
                .acquire_execution(&node.id, execution_arn, now)
                .await?
            {
                Ownership::Acquired => {}
                Ownership::OwnedBy(owner) => {
                    return Err(Error::ConflictException(format!(
                        "Execution {execution_arn} is being changed by node {owner}; try again"
                    )));
                }
                Ownership::NotFound | Ownership::LeaseLapsed => {
                    return Err(Error::Internal(format!(
                        "node {} cannot take {execution_arn} to redrive it",
                        node.id
                    )));
                }
            }
        }
        let mut live = self.replay(&record).await?;
        if !live.execution.can_redrive() {
            return Err(not_redrivable(
                "Execution history event limit exceeded or no step to continue from",
            ));
        }
        let now = self.clock.now_ms();
        let entropy = entropy()?;
        let open_before = live.execution.open_tasks();
        let handled = std::panic::catch_unwind(AssertUnwindSafe(|| {
            live.execution.handle(Event::Redrive, now, entropy)
        }));
        let transition = handled.map_err(|panic| {
            Error::Internal(format!(
                "the interpreter panicked redriving {execution_arn}: {}",
                panic_message(panic.as_ref())
            ))
        })?;
        if transition.events.is_empty() {
            return Err(not_redrivable("there is no step to continue from"));
        }
        let inbox = InboxRecord {
            seq: live.seq,
            now_ms: now,
            entropy,
            event: codec::encode_event(&Event::Redrive),
        };
        let mut commit = build_commit(
            &arn,
            inbox,
            Some(&Event::Redrive),
            &transition,
            &live.execution,
            &open_before,
            None,
            now,
        );
        let status = status_of(live.execution.status());
        if commit.outcome.is_none() {
            // Back to running: the closed execution's stop date, output, error and cause go.
            commit.outcome = Some(ExecutionOutcome {
                status,
                stop_ms: None,
                output: None,
                error: None,
                cause: None,
            });
        }
        self.commit(commit, Vec::new()).await?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        live.seq += 1;
        live.last_ms = now;
        let terminal = status.is_terminal();
        *slot = (!terminal).then_some(live);
        drop(slot);
        self.after_commit(&arn, &transition, terminal);
        if let Some(key) = token_key {
            let mut tokens = lock(&self.redrive_tokens);
            tokens.insert(key, (now, now));
            let mut mine: Vec<(Millis, String)> = tokens
                .iter()
                .filter(|((arn, _), _)| arn == execution_arn)
                .map(|((_, token), (_, used))| (*used, token.clone()))
                .collect();
            if mine.len() > REDRIVE_TOKENS_KEPT {
                mine.sort_unstable();
                for (_, token) in &mine[..mine.len() - REDRIVE_TOKENS_KEPT] {
                    tokens.remove(&(execution_arn.to_owned(), token.clone()));
                }
            }
        }
        Ok(now)
    }

    /// Starts an execution: commits its first step, then runs its commands. Returns the
    /// execution as that first step left it. [`baton_store::Error::AlreadyExists`] comes back
    /// as `Err(Error::Store(..))`.
    pub(crate) async fn start(
        &self,
        mut record: ExecutionRecord,
        machine: Arc<StateMachine>,
        input: serde_json::Value,
    ) -> Result<ExecutionRecord, Error> {
        let info = self.execution_info(&record)?;
        let now = record.start_ms;
        let entropy = entropy()?;
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| {
            Execution::start(machine, info, input, now, entropy)
        }));
        let (execution, transition) = started.map_err(|panic| {
            Error::Internal(format!(
                "the interpreter panicked starting {}: {}",
                record.arn,
                panic_message(panic.as_ref())
            ))
        })?;
        let arn: Arc<str> = Arc::from(record.arn.as_str());
        let express = record.kind == MachineType::Express;
        let cell = self.slot(&arn);
        let mut slot = cell.slot.lock().await;
        let inbox = InboxRecord {
            seq: 0,
            now_ms: now,
            entropy,
            event: codec::START.to_owned(),
        };
        let mut commit = build_commit(
            &arn,
            inbox,
            None,
            &transition,
            &execution,
            &[],
            Some(record.clone()),
            now,
        );
        if express {
            commit.history.clear();
        }
        let outcome = commit.outcome.clone();
        self.commit(commit, Vec::new()).await?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        record.seq = 1;
        if let Some(outcome) = outcome {
            record.status = outcome.status;
            record.stop_ms = outcome.stop_ms;
            record.output = outcome.output;
            record.error = outcome.error;
            record.cause = outcome.cause;
        }
        let status = status_of(execution.status());
        if !status.is_terminal() {
            *slot = Some(Live {
                execution,
                express,
                seq: 1,
                last_ms: now,
            });
        }
        drop(slot);
        self.after_commit(&arn, &transition, status.is_terminal());
        Ok(record)
    }

    /// Feeds one event to an execution and commits the step.
    pub(crate) async fn deliver(
        &self,
        execution_arn: &str,
        event: Event,
        check: Check,
    ) -> Result<Delivered, Error> {
        // A fencing conflict means another writer advanced the execution (possible once
        // several nodes share a database): the cached state was dropped, so load and retry.
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .deliver_once(execution_arn, event.clone(), check.clone())
                .await
            {
                Err(Error::Store(baton_store::Error::Conflict { .. })) if attempts < 3 => continue,
                other => return other,
            }
        }
    }

    async fn deliver_once(
        &self,
        execution_arn: &str,
        event: Event,
        check: Check,
    ) -> Result<Delivered, Error> {
        let arn: Arc<str> = Arc::from(execution_arn);
        let cell = self.slot(&arn);
        let mut slot = cell.slot.lock().await;
        if slot.is_none() {
            match self.bring(&arn).await? {
                Presence::Live(live) => *slot = Some(*live),
                Presence::NotRunning => return Ok(Delivered::NotRunning),
                Presence::Elsewhere => {
                    drop(slot);
                    return self.enqueue(&arn, &event).await;
                }
            }
        }
        if self.node.is_some() && matches!(check, Check::TaskOpen(_)) {
            // A callback may race the mailbox event that started its task (an activity task
            // claimed on another node): apply what is queued first, in order.
            self.drain_locked(&arn, &mut slot).await?;
            if slot.is_none() {
                return Ok(Delivered::NotRunning);
            }
        }
        match &check {
            Check::None => {}
            Check::TaskScheduled(token) => {
                let task = self.store.get_task(token).await?;
                if task.is_none_or(|task| task.state != TaskState::Scheduled) {
                    return Ok(Delivered::Ignored);
                }
            }
            Check::TaskOpen(task) => {
                let open = slot
                    .as_ref()
                    .is_some_and(|live| live.execution.open_tasks().contains(task));
                if !open {
                    return Ok(Delivered::Ignored);
                }
            }
        }
        match self.step(&arn, &mut slot, event, None).await? {
            Some(stepped) => {
                drop(slot);
                self.after_commit(&arn, &stepped.transition, stepped.status.is_terminal());
                Ok(Delivered::Committed(stepped.status))
            }
            None if slot.is_none() => Ok(Delivered::NotRunning),
            None => Ok(Delivered::Ignored),
        }
    }

    /// Loads an execution that is not cached. In cluster mode it is first acquired: when a
    /// live node owns it, it stays there ([`Presence::Elsewhere`]).
    pub(crate) async fn bring(&self, execution_arn: &str) -> Result<Presence, Error> {
        if let Some(node) = &self.node {
            let mut lapsed = 0;
            loop {
                let now = self.clock.now_ms();
                match node
                    .cluster
                    .acquire_execution(&node.id, execution_arn, now)
                    .await?
                {
                    Ownership::Acquired => break,
                    Ownership::OwnedBy(_) => return Ok(Presence::Elsewhere),
                    Ownership::NotFound => {
                        return Err(Error::ExecutionDoesNotExist(format!(
                            "Execution Does Not Exist: '{execution_arn}'"
                        )));
                    }
                    Ownership::LeaseLapsed if lapsed < 3 => {
                        lapsed += 1;
                        self.renew_lease().await?;
                    }
                    Ownership::LeaseLapsed => {
                        return Err(Error::Internal(format!(
                            "node {} cannot renew its lease",
                            node.id
                        )));
                    }
                }
            }
        }
        match self.load(execution_arn).await? {
            Some(live) => Ok(Presence::Live(Box::new(live))),
            None => {
                if let Some(node) = &self.node {
                    // A closed execution needs no owner: leave it free for any node (redrive).
                    node.cluster
                        .release_execution(&node.id, execution_arn)
                        .await?;
                }
                Ok(Presence::NotRunning)
            }
        }
    }

    /// Queues an event for the node that owns the execution.
    async fn enqueue(&self, execution_arn: &str, event: &Event) -> Result<Delivered, Error> {
        let Some(node) = &self.node else {
            return Err(Error::Internal(
                "no cluster to queue an event in".to_owned(),
            ));
        };
        let text = codec::encode_event(event);
        match node
            .cluster
            .enqueue_event(execution_arn, &text, self.clock.now_ms())
            .await
        {
            Ok(()) => Ok(Delivered::Queued),
            Err(baton_store::Error::NotFound(_)) => Err(Error::ExecutionDoesNotExist(format!(
                "Execution Does Not Exist: '{execution_arn}'"
            ))),
            Err(error) => Err(error.into()),
        }
    }

    /// Cluster mode: applies the events queued in the execution's mailbox if this node owns
    /// it or can take it (else its owner does).
    pub(crate) async fn drain(&self, execution_arn: &str) -> Result<(), Error> {
        if self.node.is_none() {
            return Ok(());
        }
        let arn: Arc<str> = Arc::from(execution_arn);
        let cell = self.slot(&arn);
        let mut slot = cell.slot.lock().await;
        if slot.is_none() {
            match self.bring(&arn).await {
                Ok(Presence::Live(live)) => *slot = Some(*live),
                Ok(Presence::Elsewhere) | Err(Error::ExecutionDoesNotExist(_)) => return Ok(()),
                Ok(Presence::NotRunning) => {}
                Err(error) => return Err(error),
            }
        }
        self.drain_locked(&arn, &mut slot).await
    }

    /// Applies the queued events of an execution whose lock the caller holds, each in its own
    /// commit that consumes it; events of a closed execution, or that change nothing, are
    /// discarded.
    async fn drain_locked(&self, arn: &Arc<str>, slot: &mut Option<Live>) -> Result<(), Error> {
        let Some(node) = &self.node else {
            return Ok(());
        };
        let pending = node.cluster.pending_events(arn).await?;
        let mut discard = Vec::new();
        for queued in pending {
            let event = match codec::decode_entry(&queued.event) {
                Ok(Entry::Event(event)) if slot.is_some() => event,
                _ => {
                    discard.push(queued.id);
                    continue;
                }
            };
            match self
                .step(arn, slot, event, Some((queued.id, queued.created_ms)))
                .await?
            {
                Some(stepped) => {
                    self.after_commit(arn, &stepped.transition, stepped.status.is_terminal())
                }
                None => discard.push(queued.id),
            }
        }
        if !discard.is_empty() {
            node.cluster.discard_events(arn, &discard).await?;
        }
        Ok(())
    }

    /// Feeds one event to a cached execution and commits the step (consuming the mailbox
    /// event `queued`, with the time it was queued). `None` when the interpreter had nothing to do with it. On failure
    /// or at the end of the execution the cached state is dropped.
    async fn step(
        &self,
        arn: &Arc<str>,
        slot: &mut Option<Live>,
        event: Event,
        queued: Option<(i64, Millis)>,
    ) -> Result<Option<Stepped>, Error> {
        let Some(live) = slot.as_mut() else {
            return Ok(None);
        };
        let wall = self.clock.now_ms();
        // A queued event happened when it was queued (a callback another node received, a
        // task claimed there): its step takes that time, never earlier than the last step.
        let (now, consume) = match queued {
            Some((id, queued_ms)) => (
                queued_ms.max(live.last_ms).min(wall).max(live.last_ms),
                vec![id],
            ),
            None => (wall, Vec::new()),
        };
        let entropy = entropy()?;
        let open_before = live.execution.open_tasks();
        let inbox_event = codec::encode_event(&event);
        let handled = std::panic::catch_unwind(AssertUnwindSafe(|| {
            live.execution.handle(event.clone(), now, entropy)
        }));
        let transition = match handled {
            Ok(transition) => transition,
            Err(panic) => {
                *slot = None;
                return Err(Error::Internal(format!(
                    "the interpreter panicked on {arn}: {}",
                    panic_message(panic.as_ref())
                )));
            }
        };
        let status = status_of(live.execution.status());
        // An event that changes nothing is not recorded (see docs/design.md, "Ignored events").
        if transition.events.is_empty()
            && transition.commands.is_empty()
            && status == ExecutionStatus::Running
        {
            return Ok(None);
        }
        let inbox = InboxRecord {
            seq: live.seq,
            now_ms: now,
            entropy,
            event: inbox_event,
        };
        let mut commit = build_commit(
            arn,
            inbox,
            Some(&event),
            &transition,
            &live.execution,
            &open_before,
            None,
            now,
        );
        if live.express {
            commit.history.clear();
        }
        if let Err(error) = self.commit(commit, consume).await {
            // The cached state is ahead of the store now: forget it, replay next time.
            *slot = None;
            return Err(error.into());
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
        live.seq += 1;
        live.last_ms = now;
        if status.is_terminal() {
            *slot = None;
        }
        Ok(Some(Stepped { transition, status }))
    }

    /// Commits a step: fenced by the sequence number, and in cluster mode by this node's
    /// ownership (consuming the mailbox events `consume`).
    async fn commit(&self, commit: Commit, consume: Vec<i64>) -> baton_store::Result<()> {
        match &self.node {
            Some(node) => node.cluster.commit_owned(commit, &node.id, consume).await,
            None => self.store.commit(commit).await,
        }
    }

    /// Carries out a committed transition's commands.
    fn after_commit(&self, execution_arn: &Arc<str>, transition: &Transition, terminal: bool) {
        for command in &transition.commands {
            match command {
                Command::StartTimer { timer, due } => {
                    if !terminal {
                        self.timers.add(execution_arn, *timer, *due);
                    }
                }
                Command::CancelTimer { timer } => self.timers.remove(execution_arn, *timer),
                Command::Dispatch(request) => match &request.resource {
                    Resource::Activity { arn } => self.notify_activity(arn),
                    _ => {
                        let task = DispatchedTask {
                            execution_arn: execution_arn.to_string(),
                            task_id: request.task,
                            token: request.token.clone(),
                            state_name: request.state_name.to_string(),
                            resource: request.resource.arn().to_owned(),
                            input: request.input.clone(),
                        };
                        self.dispatch(task);
                    }
                },
                Command::CancelTask { task } => self.dispatcher.cancel(execution_arn, *task),
            }
        }
        if terminal {
            self.notify_finished(execution_arn);
        }
    }

    pub(crate) fn dispatch(&self, task: DispatchedTask) {
        let completion = Completion {
            runtime: self.this.clone(),
            execution_arn: Arc::from(task.execution_arn.as_str()),
            task_id: task.task_id,
        };
        self.dispatcher.dispatch(task, completion);
    }

    /// Hands a stored, unacknowledged integration task to the dispatcher again.
    pub(crate) fn dispatch_again(&self, task: TaskRecord) {
        let input = serde_json::from_str(&task.input).unwrap_or(serde_json::Value::Null);
        self.dispatch(DispatchedTask {
            execution_arn: task.execution_arn,
            task_id: task.task_id,
            token: task.token,
            state_name: task.state_name,
            resource: task.resource,
            input,
        });
    }

    /// Hands every unacknowledged integration task to the dispatcher again (after a restart).
    pub(crate) async fn redispatch(&self) -> Result<usize, Error> {
        let mut page = PageRequest::first(1000);
        let mut count = 0;
        loop {
            let result = self.store.tasks_to_dispatch(page.clone()).await?;
            for task in result.items {
                self.dispatch_again(task);
                count += 1;
            }
            match result.next {
                Some(next) => page.after = Some(next),
                None => return Ok(count),
            }
        }
    }

    pub(crate) fn activity_notify(&self, activity_arn: &str) -> Arc<Notify> {
        Arc::clone(
            lock(&self.activity_waiters)
                .entry(activity_arn.to_owned())
                .or_default(),
        )
    }

    pub(crate) fn notify_activity(&self, activity_arn: &str) {
        if let Some(notify) = lock(&self.activity_waiters).get(activity_arn) {
            notify.notify_waiters();
        }
    }

    /// Registers interest in an execution's end; the receiver fires once it is terminal.
    pub(crate) fn on_finish(&self, execution_arn: &str) -> oneshot::Receiver<()> {
        let (sender, receiver) = oneshot::channel();
        let mut waiters = lock(&self.finish_waiters);
        // Waiters that gave up leave closed senders behind; sweep them now and then so the
        // map stays as small as the number of live waits.
        if waiters.len() >= 1024 && waiters.len().is_power_of_two() {
            waiters.retain(|_, senders| {
                senders.retain(|s| !s.is_closed());
                !senders.is_empty()
            });
        }
        let senders = waiters.entry(execution_arn.to_owned()).or_default();
        senders.retain(|s| !s.is_closed());
        senders.push(sender);
        receiver
    }

    fn notify_finished(&self, execution_arn: &str) {
        if let Some(waiters) = lock(&self.finish_waiters).remove(execution_arn) {
            for waiter in waiters {
                let _ = waiter.send(());
            }
        }
    }

    /// Fires one timer; a failed delivery is retried a second later.
    pub(crate) async fn fire_timer(&self, execution_arn: Arc<str>, timer: u64) {
        match self
            .deliver(&execution_arn, Event::TimerFired { timer }, Check::None)
            .await
        {
            Ok(_) | Err(Error::ExecutionDoesNotExist(_)) => {}
            Err(_) => {
                let retry_at = self.clock.now_ms() + 1000;
                self.timers.add(&execution_arn, timer, retry_at);
            }
        }
    }

    /// Loads the next window of timers from the store when the loaded one runs short.
    pub(crate) async fn refill_timers(&self, now: Millis) -> Result<(), Error> {
        let window = self.settings.timer_window_ms;
        let loaded_until = self.timers.loaded_until();
        if loaded_until > now.saturating_add(window / 2) {
            return Ok(());
        }
        let until = now.saturating_add(window);
        self.timers.begin_refill();
        let rows = match self
            .store
            .timers_between(loaded_until, until, REFILL_LIMIT)
            .await
        {
            Ok(rows) => rows,
            Err(error) => {
                self.timers.finish_refill(Vec::new(), loaded_until);
                return Err(error.into());
            }
        };
        let new_end = match rows.last() {
            // A full page may have left out timers due at the same instant as its last one.
            // (More than REFILL_LIMIT timers due in one millisecond would make no progress, so
            // then the window moves past that instant; see docs/design.md.)
            Some(last) if rows.len() == REFILL_LIMIT => {
                if last.due_ms - 1 > loaded_until {
                    last.due_ms - 1
                } else {
                    last.due_ms
                }
            }
            _ => until,
        };
        let timers = rows
            .into_iter()
            .map(|t| (Arc::from(t.execution_arn.as_str()), t.timer_id, t.due_ms))
            .collect();
        self.timers.finish_refill(timers, new_end);
        Ok(())
    }
}

/// Drops the least recently used idle cells until `capacity` remain; returns the ARNs of those
/// that held a running execution (the ones a node owns).
fn evict(slots: &mut HashMap<Arc<str>, Arc<SlotCell>>, capacity: usize) -> Vec<Arc<str>> {
    let mut idle: Vec<(u64, Arc<str>)> = slots
        .iter()
        .filter(|(_, cell)| Arc::strong_count(cell) == 1)
        .map(|(arn, cell)| (cell.last_used.load(Ordering::Relaxed), Arc::clone(arn)))
        .collect();
    idle.sort_unstable_by_key(|(used, _)| *used);
    let excess = slots.len().saturating_sub(capacity);
    let mut evicted = Vec::with_capacity(excess);
    for (_, arn) in idle.into_iter().take(excess) {
        let running = slots
            .remove(&arn)
            .is_some_and(|cell| cell.slot.try_lock().is_ok_and(|slot| slot.is_some()));
        if running {
            evicted.push(arn);
        }
    }
    evicted
}

/// Builds the commit of one step.
#[allow(clippy::too_many_arguments)] // One call site each for start and deliver; a struct would only rename them.
fn build_commit(
    execution_arn: &str,
    inbox: InboxRecord,
    event: Option<&Event>,
    transition: &Transition,
    execution: &Execution,
    open_before: &[u64],
    start: Option<ExecutionRecord>,
    now: Millis,
) -> Commit {
    let mut commit = Commit {
        execution_arn: execution_arn.to_owned(),
        start,
        inbox,
        history: transition
            .events
            .iter()
            .map(codec::history_record)
            .collect(),
        outcome: None,
        timers_set: Vec::new(),
        timers_delete: Vec::new(),
        tasks_insert: Vec::new(),
        tasks_update: Vec::new(),
    };
    let close = |task: u64| TaskUpdate {
        task_id: task,
        state: TaskState::Closed,
        worker_name: None,
    };
    match event {
        Some(Event::TimerFired { timer }) => commit.timers_delete.push(*timer),
        Some(Event::TaskStarted { task, worker_name }) => commit.tasks_update.push(TaskUpdate {
            task_id: *task,
            state: TaskState::Started,
            worker_name: worker_name.clone(),
        }),
        Some(Event::TaskSubmitted { task, .. }) => commit.tasks_update.push(TaskUpdate {
            task_id: *task,
            state: TaskState::Started,
            worker_name: None,
        }),
        Some(Event::TaskSucceeded { task, .. } | Event::TaskFailed { task, .. }) => {
            commit.tasks_update.push(close(*task))
        }
        _ => {}
    }
    for command in &transition.commands {
        match command {
            Command::Dispatch(request) => commit.tasks_insert.push(TaskRecord {
                token: request.token.clone(),
                execution_arn: execution_arn.to_owned(),
                task_id: request.task,
                state_name: request.state_name.to_string(),
                resource: request.resource.arn().to_owned(),
                activity_arn: match &request.resource {
                    Resource::Activity { arn } => Some(arn.clone()),
                    _ => None,
                },
                input: request.input.to_string(),
                state: TaskState::Scheduled,
                worker_name: None,
                created_ms: now,
            }),
            Command::StartTimer { timer, due } => {
                // A re-armed timer must not be deleted by the firing that re-armed it.
                commit.timers_delete.retain(|t| t != timer);
                commit.timers_set.push((*timer, *due));
            }
            Command::CancelTimer { timer } => commit.timers_delete.push(*timer),
            Command::CancelTask { task } => commit.tasks_update.push(close(*task)),
        }
    }
    let open_after = execution.open_tasks();
    for task in open_before {
        if !open_after.contains(task) {
            commit.tasks_update.push(close(*task));
        }
    }
    let status = status_of(execution.status());
    if status != ExecutionStatus::Running {
        let (error, cause) = execution
            .error()
            .map(|(error, cause)| (error.map(str::to_owned), cause.map(str::to_owned)))
            .unwrap_or_default();
        commit.outcome = Some(ExecutionOutcome {
            status,
            stop_ms: Some(transition.events.last().map_or(now, |e| e.timestamp)),
            output: execution.output().map(|output| output.to_string()),
            error,
            cause,
        });
    }
    commit
}
