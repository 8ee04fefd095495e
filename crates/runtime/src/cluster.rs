//! Cluster mode: several nodes share one store that implements [`Cluster`] (PostgreSQL).
//!
//! Each node has a lease it renews; it owns the executions it started or took, keeps them in
//! memory and commits their steps with its ownership checked by the store. An event for an
//! execution another live node owns goes to that node's mailbox with a wake-up. Four loops run
//! beside the driver:
//! - the lease: renewed every third of its length;
//! - wake-ups: a queued event for an execution cached here is applied at once; a scheduled
//!   activity task wakes the long polls waiting here; a missed wake-up (reconnect) sweeps;
//! - the sweep (every second): claims executions with queued events nobody applies and the
//!   running executions of dead nodes, dispatching the latter's unacknowledged tasks again;
//! - timers: due timers of executions this node owns or may take are claimed (`SKIP LOCKED`)
//!   and fired, except those the in-memory index fires itself.
//!
//! See `docs/design.md`, "PostgreSQL and several nodes".

use std::sync::{Arc, Weak};
use std::time::Duration;

use baton_store::Millis;
use baton_store::cluster::{Cluster, Runnable, Wakeup};
use tokio::sync::watch;

use crate::Error;
use crate::driver::Inner;

/// How many executions one sweep claims at a time.
const SWEEP_LIMIT: usize = 200;

/// How many due timers one claim takes at most.
const TIMER_CLAIM_LIMIT: usize = 500;

/// How a runtime joins a cluster of nodes sharing one store.
#[derive(Clone)]
pub struct ClusterConfig {
    /// The shared store's coordination side (the same object as the runtime's store).
    pub cluster: Arc<dyn Cluster>,
    /// A label for this node; the node id is the label and a random suffix, so that every
    /// process (and every restart) is a node of its own.
    pub label: String,
    /// How long the node's lease lasts without renewal: a node that dies is taken over after
    /// at most this long. Renewed every third of it.
    pub lease: Duration,
    /// How often due timers of executions not in memory here are claimed.
    pub timer_poll: Duration,
    /// How often the node sweeps for work nobody is doing.
    pub sweep_every: Duration,
}

impl ClusterConfig {
    /// A cluster configuration with a 10 s lease, timers polled every 100 ms and a sweep
    /// every second.
    pub fn new(cluster: Arc<dyn Cluster>, label: impl Into<String>) -> ClusterConfig {
        ClusterConfig {
            cluster,
            label: label.into(),
            lease: Duration::from_secs(10),
            timer_poll: Duration::from_millis(100),
            sweep_every: Duration::from_secs(1),
        }
    }
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("label", &self.label)
            .field("lease", &self.lease)
            .field("timer_poll", &self.timer_poll)
            .field("sweep_every", &self.sweep_every)
            .finish_non_exhaustive()
    }
}

/// This node in the cluster.
pub(crate) struct Node {
    pub(crate) cluster: Arc<dyn Cluster>,
    pub(crate) id: String,
    pub(crate) lease_ms: Millis,
    timer_poll: Duration,
    sweep_every: Duration,
}

impl Node {
    pub(crate) fn new(config: ClusterConfig) -> Result<Node, Error> {
        let suffix = crate::driver::entropy()?;
        let id = format!(
            "{}-{:02x}{:02x}{:02x}{:02x}",
            config.label, suffix[0], suffix[1], suffix[2], suffix[3]
        );
        Ok(Node {
            cluster: config.cluster,
            id,
            lease_ms: Millis::try_from(config.lease.as_millis())
                .unwrap_or(10_000)
                .max(300),
            timer_poll: config.timer_poll.max(Duration::from_millis(5)),
            sweep_every: config.sweep_every.max(Duration::from_millis(50)),
        })
    }
}

impl Inner {
    fn node(&self) -> Result<&Node, Error> {
        self.node
            .as_ref()
            .ok_or_else(|| Error::Internal("not in cluster mode".to_owned()))
    }

    /// Renews this node's lease. When it had lapsed, other nodes may have taken executions
    /// cached here: the idle cached ones are dropped (the busy ones meet the fence).
    pub(crate) async fn renew_lease(&self) -> Result<(), Error> {
        let node = self.node()?;
        let now = self.clock.now_ms();
        let lapsed = node
            .cluster
            .renew_lease(&node.id, now, node.lease_ms)
            .await?;
        if lapsed {
            self.forget_idle();
        }
        Ok(())
    }

    /// Ends this node's lease (clean shutdown): other nodes take its executions over at once.
    pub(crate) async fn leave(&self) -> Result<(), Error> {
        let node = self.node()?;
        node.cluster.leave(&node.id).await?;
        Ok(())
    }

    /// Claims executions that need a node (queued events nobody applies, running executions
    /// of dead nodes) and works on each.
    pub(crate) async fn sweep(self: &Arc<Self>) -> Result<usize, Error> {
        let node = self.node()?;
        let mut total = 0;
        loop {
            let now = self.clock.now_ms();
            let claimed = node
                .cluster
                .claim_runnable(&node.id, now, SWEEP_LIMIT)
                .await?;
            let count = claimed.len();
            total += count;
            for runnable in claimed {
                let inner = Arc::clone(self);
                tokio::spawn(async move { inner.take_over(runnable).await });
            }
            if count < SWEEP_LIMIT {
                return Ok(total);
            }
        }
    }

    /// Works on a claimed execution: a dead node's unacknowledged tasks are dispatched again
    /// (at-least-once, as after a crash), then its queued events are applied.
    async fn take_over(&self, runnable: Runnable) {
        let Ok(node) = self.node() else { return };
        let arn = runnable.execution_arn.as_str();
        if runnable
            .previous_owner
            .as_deref()
            .is_some_and(|previous| previous != node.id)
        {
            match node.cluster.tasks_to_dispatch_of(arn).await {
                Ok(tasks) => tasks.into_iter().for_each(|task| self.dispatch_again(task)),
                Err(error) => {
                    tracing::warn!(node = %node.id, execution = arn, %error, "cannot read the tasks of a taken-over execution")
                }
            }
        }
        if let Err(error) = self.drain(arn).await {
            tracing::warn!(node = %node.id, execution = arn, %error, "cannot apply queued events");
        }
    }

    /// Claims due timers this node may fire and fires those the in-memory index does not hold.
    async fn claim_timers(self: &Arc<Self>) -> Result<(), Error> {
        let node = self.node()?;
        let now = self.clock.now_ms();
        let timers = node
            .cluster
            .claim_due_timers(&node.id, now, node.lease_ms, TIMER_CLAIM_LIMIT)
            .await?;
        for timer in timers {
            if self.timers.contains(&timer.execution_arn, timer.timer_id) {
                continue;
            }
            let inner = Arc::clone(self);
            let arn: Arc<str> = Arc::from(timer.execution_arn.as_str());
            tokio::spawn(async move { inner.fire_timer(arn, timer.timer_id).await });
        }
        Ok(())
    }

    fn on_wakeup(self: &Arc<Self>, wakeup: Wakeup) {
        match wakeup {
            Wakeup::Execution(arn) => {
                if self.is_cached(&arn) {
                    let inner = Arc::clone(self);
                    tokio::spawn(async move {
                        if let Err(error) = inner.drain(&arn).await {
                            tracing::warn!(execution = %arn, %error, "cannot apply queued events");
                        }
                    });
                }
            }
            Wakeup::Activity(arn) => self.notify_activity(&arn),
            Wakeup::Resync => self.spawn_sweep(),
            Wakeup::Other(_) => {}
        }
    }

    fn spawn_sweep(self: &Arc<Self>) {
        let inner = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(error) = inner.sweep().await {
                tracing::warn!(%error, "sweep failed");
            }
        });
    }
}

/// Starts the cluster loops of a runtime in cluster mode.
pub(crate) fn spawn_loops(inner: &Arc<Inner>) {
    let Some(node) = &inner.node else { return };
    let lease_every = Duration::from_millis(u64::try_from(node.lease_ms / 3).unwrap_or(1000));
    every(inner, lease_every, |inner| async move {
        if let Err(error) = inner.renew_lease().await {
            tracing::warn!(%error, "cannot renew the lease");
        }
    });
    every(inner, node.sweep_every, |inner| async move {
        if let Err(error) = inner.sweep().await {
            tracing::warn!(%error, "sweep failed");
        }
    });
    every(inner, node.timer_poll, |inner| async move {
        if let Err(error) = inner.claim_timers().await {
            tracing::warn!(%error, "cannot claim due timers");
        }
    });
    tokio::spawn(listen(Arc::downgrade(inner), inner.shutdown.subscribe()));
}

/// Runs `work` every `period` until the runtime stops.
fn every<F, Fut>(inner: &Arc<Inner>, period: Duration, work: F)
where
    F: Fn(Arc<Inner>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let weak = Arc::downgrade(inner);
    let mut shutdown = inner.shutdown.subscribe();
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let Some(inner) = weak.upgrade() else { return };
            work(inner).await;
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                _ = shutdown.changed() => {}
            }
        }
    });
}

/// The wake-up loop: subscribes (again after a failure), sweeps after each (re)subscription
/// since wake-ups may have been missed, and dispatches every wake-up.
async fn listen(inner: Weak<Inner>, mut shutdown: watch::Receiver<bool>) {
    let mut delay = Duration::from_millis(10);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let Some(runtime) = inner.upgrade() else {
            return;
        };
        let subscribed = match runtime.node() {
            Ok(node) => node.cluster.subscribe().await,
            Err(_) => return,
        };
        let mut stream = match subscribed {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for wake-ups");
                drop(runtime);
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
                delay = (delay * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        delay = Duration::from_millis(10);
        runtime.spawn_sweep();
        drop(runtime);
        loop {
            let wakeup = tokio::select! {
                wakeup = stream.next() => wakeup,
                _ = shutdown.changed() => return,
            };
            let Some(wakeup) = wakeup else { break };
            let Some(runtime) = inner.upgrade() else {
                return;
            };
            runtime.on_wakeup(wakeup);
        }
    }
}
