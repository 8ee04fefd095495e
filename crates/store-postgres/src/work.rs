//! Work distribution for several nodes on one database, as inherent methods of [`PgStore`]
//! (the [`Store`](baton_store::Store) trait stays backend-neutral).
//!
//! The model (`docs/design.md`, "PostgreSQL and several nodes"):
//! - **Node leases.** Each node upserts its row in `nodes` with an expiry
//!   ([`PgStore::renew_leases`]) every few seconds. A node is alive while its expiry is ahead of
//!   the caller's clock; nodes need clocks within a small fraction of the lease of each other.
//! - **Execution ownership.** `executions.owner_node` names the node that advances the
//!   execution. Ownership is valid while the owner's lease is: a dead node's executions are
//!   taken over by [`PgStore::acquire_execution`] or [`PgStore::claim_runnable`]. Ownership is
//!   for efficiency (one node keeps the execution in memory); safety comes from the fence on
//!   `seq`, which [`CommitGuard::owner`] tightens so that a node that lost ownership cannot
//!   commit even on a fresh state.
//! - **Mailbox.** An event for an execution owned elsewhere (a callback, a timer firing) is
//!   queued durably ([`PgStore::enqueue_event`]) with a NOTIFY to wake its owner; the owner reads
//!   it ([`PgStore::pending_events`]) and consumes it in the commit of the step it caused
//!   ([`CommitGuard::consume`]), so an event is applied exactly once.
//! - **Timers.** Due timers are claimed with `FOR UPDATE SKIP LOCKED` and a claim expiry
//!   ([`PgStore::claim_due_timers`]): concurrent claimants never get the same timer, and a
//!   claim whose node died before firing lapses and is claimed again.

use baton_store::cluster::{Ownership, PendingEvent, Runnable, Wakeup};
use baton_store::{BoxFuture, Commit, Error, Millis, Result, TimerRecord};

use crate::group;
use crate::ops::{self, execute, query, query_opt, to_i64};
use crate::wakeup::{self, Subscription};
use crate::{Fault, PgStore};

/// Multi-node conditions of a commit ([`PgStore::commit_with`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitGuard {
    /// Commit only if this node owns the execution; a start commit records it as the owner.
    /// A commit refused by this check fails with [`Error::Conflict`] (with `expected` equal
    /// to `actual` when the sequence number itself was right): reload, re-acquire, retry.
    pub owner: Option<String>,
    /// Mailbox events this step consumed: deleted in the same transaction. If any is already
    /// gone (another node applied it), the commit is refused with [`Error::Conflict`].
    pub consume: Vec<i64>,
    /// After commit, NOTIFY `a:<activity>` for every activity the commit scheduled tasks for,
    /// so that long pollers on other nodes wake up.
    pub notify_activities: bool,
}

/// What [`PgStore::renew_leases`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    /// The node's lease had expired before this renewal (or the node was new): other nodes may
    /// have taken its executions, so cached states must be checked (the fence does) and
    /// ownership re-acquired.
    pub lapsed: bool,
    /// The new expiry.
    pub expires_ms: Millis,
}

/// An event queued by [`PgStore::enqueue_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    /// Its mailbox id.
    pub id: i64,
    /// The execution's owner when it was queued (the NOTIFY goes to every node anyway).
    pub owner: Option<String>,
}

/// Whether the node named by `$node` (at `$now`) owns or may take the execution `e`.
const OWNABLE: &str = "(e.owner_node IS NULL OR e.owner_node = $1
    OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.node_id = e.owner_node AND n.expires_ms > $2))";
const SELF_ALIVE: &str =
    "EXISTS (SELECT 1 FROM nodes me WHERE me.node_id = $1 AND me.expires_ms > $2)";

impl PgStore {
    /// [`Store::commit`](baton_store::Store::commit) with the multi-node conditions of `guard`,
    /// all in one transaction. `Store::commit` is `commit_with(commit, CommitGuard::default())`.
    pub fn commit_with(&self, commit: Commit, guard: CommitGuard) -> BoxFuture<'_, Result<()>> {
        let channel = self.channel.clone();
        if let Some(writer) = &self.writer {
            let (reply, receiver) = tokio::sync::oneshot::channel();
            let job = group::Job {
                input: std::sync::Arc::new((commit, guard, channel)),
                reply,
            };
            let sent = writer.send(job).is_ok();
            return Box::pin(async move {
                if !sent {
                    return Err(group::closed());
                }
                receiver.await.unwrap_or_else(|_| Err(group::closed()))
            });
        }
        self.run(
            std::sync::Arc::new((commit, guard, channel)),
            |mut c, input, may_have_applied| async move {
                let (commit, guard, channel) = &*input;
                ops::commit(&mut c, commit, guard, channel, may_have_applied).await
            },
        )
    }

    /// Commits a step that an earlier call may already have applied (it failed after its
    /// statements reached the database, for example when the connection dropped around
    /// `COMMIT`). If the fence refuses it and the stored inbox entry at its sequence number is
    /// this step's own (same time, entropy and event), the earlier call did apply it and this
    /// returns `Ok`. For callers that retry failed commits themselves; [`Store::commit`]
    /// already does this inside its retry window.
    ///
    /// [`Store::commit`]: baton_store::Store::commit
    pub fn commit_after_ambiguous_failure(&self, commit: Commit) -> BoxFuture<'_, Result<()>> {
        let channel = self.channel.clone();
        self.run(
            std::sync::Arc::new((commit, CommitGuard::default(), channel)),
            |mut c, input, _| async move {
                let (commit, guard, channel) = &*input;
                ops::commit(&mut c, commit, guard, channel, true).await
            },
        )
    }

    /// Registers this node or extends its lease to `now_ms + lease_ms` (never shortens it).
    pub async fn renew_leases(
        &self,
        node: &str,
        now_ms: Millis,
        lease_ms: Millis,
    ) -> Result<Renewal> {
        let node = node.to_owned();
        let expires = now_ms.saturating_add(lease_ms);
        self.retry(move |c, _| {
            let node = node.clone();
            Box::pin(async move {
                let row = query_opt(
                    &c,
                    "WITH old AS (SELECT expires_ms FROM nodes WHERE node_id = $1)
                     INSERT INTO nodes (node_id, started_ms, expires_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (node_id) DO UPDATE SET expires_ms = GREATEST(nodes.expires_ms, EXCLUDED.expires_ms)
                     RETURNING (SELECT expires_ms FROM old), expires_ms",
                    &[&node, &now_ms, &expires],
                )
                .await?
                .ok_or_else(|| Fault::Store(Error::Backend("lease upsert returned nothing".into())))?;
                let old: Option<i64> = row.get(0);
                Ok(Renewal {
                    lapsed: old.is_none_or(|old| old <= now_ms),
                    expires_ms: row.get(1),
                })
            })
        })
        .await
    }

    /// Clean shutdown of a node: its executions become unowned and its timer claims lapse at
    /// once, so other nodes need not wait for its lease to expire.
    pub async fn release_node(&self, node: &str) -> Result<()> {
        let node = node.to_owned();
        self.retry(move |mut c, _| {
            let node = node.clone();
            Box::pin(async move {
                let tx = c.transaction().await?;
                execute(&tx, "UPDATE executions SET owner_node = NULL WHERE owner_node = $1", &[&node]).await?;
                execute(
                    &tx,
                    "UPDATE timers SET claimed_by = NULL, claim_expires_ms = NULL WHERE claimed_by = $1",
                    &[&node],
                )
                .await?;
                execute(&tx, "DELETE FROM nodes WHERE node_id = $1", &[&node]).await?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    /// Ends a node's lease at once and frees its timer claims (clean shutdown without
    /// unowning its executions): other nodes then take its running executions over on their
    /// next sweep, dispatching its unacknowledged tasks again, as after a crash.
    pub async fn expire_node(&self, node: &str) -> Result<()> {
        let node = node.to_owned();
        self.retry(move |mut c, _| {
            let node = node.clone();
            Box::pin(async move {
                let tx = c.transaction().await?;
                execute(&tx, "UPDATE nodes SET expires_ms = 0 WHERE node_id = $1", &[&node]).await?;
                execute(
                    &tx,
                    "UPDATE timers SET claimed_by = NULL, claim_expires_ms = NULL WHERE claimed_by = $1",
                    &[&node],
                )
                .await?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    /// An execution's `Scheduled` tasks that are not activity tasks, in scheduling order.
    pub async fn tasks_to_dispatch_of(&self, arn: &str) -> Result<Vec<baton_store::TaskRecord>> {
        let arn = arn.to_owned();
        self.retry(move |c, _| {
            let arn = arn.clone();
            Box::pin(async move {
                let sql = format!(
                    "SELECT {} FROM tasks t JOIN executions e ON e.id = t.execution_id
                     WHERE e.arn = $1 AND t.state = 'SCHEDULED' AND t.activity_arn IS NULL ORDER BY t.seq",
                    ops::TASK_COLUMNS
                );
                let rows = query(&c, &sql, &[&arn]).await?;
                rows.iter().map(ops::task_from).collect::<std::result::Result<Vec<_>, Fault>>()
            })
        })
        .await
    }

    /// Nodes whose lease runs past `now_ms`, by id.
    pub async fn live_nodes(&self, now_ms: Millis) -> Result<Vec<String>> {
        self.retry(move |c, _| {
            Box::pin(async move {
                let rows = query(
                    &c,
                    "SELECT node_id FROM nodes WHERE expires_ms > $1 ORDER BY node_id",
                    &[&now_ms],
                )
                .await?;
                Ok(rows.iter().map(|row| row.get(0)).collect())
            })
        })
        .await
    }

    /// Takes ownership of an execution if it is unowned, already this node's, or owned by a
    /// node whose lease has expired. Waits for a commit in progress on the execution.
    pub async fn acquire_execution(
        &self,
        node: &str,
        arn: &str,
        now_ms: Millis,
    ) -> Result<Ownership> {
        let (node, arn) = (node.to_owned(), arn.to_owned());
        self.retry(move |c, _| {
            let (node, arn) = (node.clone(), arn.clone());
            Box::pin(async move {
                // One round trip: the update, and beside it the row as it was (a CTE's
                // statements share one snapshot), which names the owner when it did not match.
                let sql = format!(
                    "WITH taken AS (
                        UPDATE executions e SET owner_node = $1
                        WHERE e.arn = $3 AND {OWNABLE} AND {SELF_ALIVE} RETURNING e.id)
                     SELECT EXISTS (SELECT 1 FROM taken), e.owner_node,
                            EXISTS (SELECT 1 FROM nodes me WHERE me.node_id = $1 AND me.expires_ms > $2)
                     FROM executions e WHERE e.arn = $3"
                );
                let row = query_opt(&c, &sql, &[&node, &now_ms, &arn]).await?;
                Ok(match row {
                    None => Ownership::NotFound,
                    Some(row) if row.get::<_, bool>(0) => Ownership::Acquired,
                    Some(row) if !row.get::<_, bool>(2) => Ownership::LeaseLapsed,
                    Some(row) => match row.get::<_, Option<String>>(1) {
                        Some(owner) => Ownership::OwnedBy(owner),
                        // It changed hands while we looked: try again.
                        None => {
                            return Err(Fault::Store(Error::Conflict {
                                execution_arn: arn.clone(),
                                expected: 0,
                                actual: 0,
                            }));
                        }
                    },
                })
            })
        })
        .await
    }

    /// Gives up ownership (the execution was evicted from memory or finished); returns whether
    /// this node owned it.
    pub async fn release_execution(&self, node: &str, arn: &str) -> Result<bool> {
        let (node, arn) = (node.to_owned(), arn.to_owned());
        self.retry(move |c, _| {
            let (node, arn) = (node.clone(), arn.clone());
            Box::pin(async move {
                Ok(execute(
                    &c,
                    "UPDATE executions SET owner_node = NULL WHERE arn = $1 AND owner_node = $2",
                    &[&arn, &node],
                )
                .await?
                    > 0)
            })
        })
        .await
    }

    /// The execution's owner, if its lease is alive at `now_ms`.
    pub async fn owner_of(&self, arn: &str, now_ms: Millis) -> Result<Option<String>> {
        let arn = arn.to_owned();
        self.retry(move |c, _| {
            let arn = arn.clone();
            Box::pin(async move {
                let row = query_opt(
                    &c,
                    "SELECT e.owner_node FROM executions e JOIN nodes n ON n.node_id = e.owner_node
                     WHERE e.arn = $1 AND n.expires_ms > $2",
                    &[&arn, &now_ms],
                )
                .await?;
                Ok(row.map(|row| row.get(0)))
            })
        })
        .await
    }

    /// Claims up to `limit` timers due at `now_ms` for `node`, earliest first, for `lease_ms`.
    ///
    /// Only timers that are unclaimed or whose claim has lapsed are taken, and only timers of
    /// executions this node owns or may take (unowned, or owned by a dead node): a live owner
    /// fires its own executions' timers. Rows locked by a concurrent claimant are skipped
    /// (`FOR UPDATE SKIP LOCKED`), so two claimants never get the same timer. The claim ends
    /// when the commit that fires the timer deletes (or moves) it; if the node dies first, the
    /// claim lapses after `lease_ms` and another node claims it.
    pub async fn claim_due_timers(
        &self,
        node: &str,
        now_ms: Millis,
        lease_ms: Millis,
        limit: usize,
    ) -> Result<Vec<TimerRecord>> {
        let node = node.to_owned();
        let limit = to_i64(limit as u64);
        let expires = now_ms.saturating_add(lease_ms);
        self.retry(move |c, _| {
            let node = node.clone();
            Box::pin(async move {
                let sql = format!(
                    "WITH due AS (
                        SELECT t.execution_id, t.timer_id FROM timers t
                        JOIN executions e ON e.id = t.execution_id
                        WHERE t.due_ms <= $2 AND (t.claim_expires_ms IS NULL OR t.claim_expires_ms <= $2)
                          AND {OWNABLE}
                        ORDER BY t.due_ms, t.execution_id, t.timer_id
                        LIMIT $4
                        FOR UPDATE OF t SKIP LOCKED)
                     UPDATE timers t SET claimed_by = $1, claim_expires_ms = $3
                     FROM due JOIN executions e ON e.id = due.execution_id
                     WHERE t.execution_id = due.execution_id AND t.timer_id = due.timer_id
                     RETURNING e.arn, t.timer_id, t.due_ms"
                );
                let rows = query(&c, &sql, &[&node, &now_ms, &expires, &limit]).await?;
                let mut timers: Vec<TimerRecord> = rows.iter().map(ops::timer_from).collect();
                timers.sort_by(|a, b| {
                    (a.due_ms, &a.execution_arn, a.timer_id).cmp(&(b.due_ms, &b.execution_arn, b.timer_id))
                });
                Ok(timers)
            })
        })
        .await
    }

    /// Queues an event for an execution and wakes every node (`e:<arn>`), in one statement:
    /// the wake-up is delivered only once the event is committed. [`Error::NotFound`] if the
    /// execution does not exist.
    pub async fn enqueue_event(&self, arn: &str, event: &str, now_ms: Millis) -> Result<Enqueued> {
        let input = std::sync::Arc::new((arn.to_owned(), event.to_owned(), self.channel.clone()));
        self.retry(move |c, may_have_applied| {
            let input = input.clone();
            Box::pin(async move {
                let (arn, event, channel) = &*input;
                if may_have_applied {
                    // An earlier attempt may have queued it: do not queue it twice.
                    let row = query_opt(
                        &c,
                        "SELECT m.id, e.owner_node FROM mailbox m JOIN executions e ON e.id = m.execution_id
                         WHERE e.arn = $1 AND m.event = $2 AND m.created_ms = $3",
                        &[arn, event, &now_ms],
                    )
                    .await?;
                    if let Some(row) = row {
                        return Ok(Enqueued { id: row.get(0), owner: row.get(1) });
                    }
                }
                let payload = Wakeup::Execution(arn.clone()).payload();
                let row = query_opt(
                    &c,
                    "WITH queued AS (
                        INSERT INTO mailbox (execution_id, event, created_ms)
                        SELECT id, $2, $3 FROM executions WHERE arn = $1
                        RETURNING id, execution_id)
                     SELECT q.id, e.owner_node, pg_notify($4, $5) FROM queued q JOIN executions e ON e.id = q.execution_id",
                    &[arn, event, &now_ms, channel, &payload],
                )
                .await?;
                match row {
                    Some(row) => Ok(Enqueued { id: row.get(0), owner: row.get(1) }),
                    None => Err(Fault::Store(Error::NotFound(arn.clone()))),
                }
            })
        })
        .await
    }

    /// The execution's queued events, oldest first.
    pub async fn pending_events(&self, arn: &str) -> Result<Vec<PendingEvent>> {
        let arn = arn.to_owned();
        self.retry(move |c, _| {
            let arn = arn.clone();
            Box::pin(async move {
                let rows = query(
                    &c,
                    "SELECT m.id, m.event, m.created_ms FROM mailbox m JOIN executions e ON e.id = m.execution_id
                     WHERE e.arn = $1 ORDER BY m.id",
                    &[&arn],
                )
                .await?;
                Ok(rows
                    .iter()
                    .map(|row| PendingEvent { id: row.get(0), event: row.get(1), created_ms: row.get(2) })
                    .collect())
            })
        })
        .await
    }

    /// Deletes queued events that changed nothing (the interpreter ignored them, so no commit
    /// consumes them); returns how many were still there.
    pub async fn discard_events(&self, arn: &str, ids: &[i64]) -> Result<u64> {
        let input = std::sync::Arc::new((arn.to_owned(), ids.to_vec()));
        self.retry(move |c, _| {
            let input = input.clone();
            Box::pin(async move {
                let (arn, ids) = &*input;
                execute(
                    &c,
                    "DELETE FROM mailbox m USING executions e
                     WHERE e.id = m.execution_id AND e.arn = $1 AND m.id = ANY($2)",
                    &[arn, ids],
                )
                .await
            })
        })
        .await
    }

    /// Claims up to `limit` executions that need a node, taking ownership of each:
    /// executions with queued events that this node owns or may take, and running executions
    /// of dead nodes (their integration tasks in state `Scheduled` must be dispatched again,
    /// as after a crash). Rows locked by another claimant or by a commit in progress are
    /// skipped. Requires this node's lease to be alive.
    pub async fn claim_runnable(
        &self,
        node: &str,
        now_ms: Millis,
        limit: usize,
    ) -> Result<Vec<Runnable>> {
        let node = node.to_owned();
        let limit = to_i64(limit as u64);
        self.retry(move |c, _| {
            let node = node.clone();
            Box::pin(async move {
                // The candidates come from two small, indexed sets (executions with queued
                // events; running executions owned by dead nodes), never from a walk over
                // every execution: this runs every second on every node.
                let sql = format!(
                    "WITH wanted AS (
                        SELECT m.execution_id AS id FROM mailbox m
                        UNION
                        SELECT x.id FROM executions x
                        WHERE x.owner_node IN (SELECT n.node_id FROM nodes n WHERE n.expires_ms <= $2)
                          AND x.status = 'RUNNING'),
                     candidates AS (
                        SELECT e.id, e.owner_node AS previous,
                               EXISTS (SELECT 1 FROM mailbox m WHERE m.execution_id = e.id) AS has_events
                        FROM executions e JOIN wanted w ON w.id = e.id
                        WHERE {SELF_ALIVE}
                          AND ((EXISTS (SELECT 1 FROM mailbox m WHERE m.execution_id = e.id) AND {OWNABLE})
                               OR (e.owner_node IN (SELECT n.node_id FROM nodes n WHERE n.expires_ms <= $2)
                                   AND e.status = 'RUNNING'))
                        LIMIT $3
                        FOR UPDATE OF e SKIP LOCKED)
                     UPDATE executions e SET owner_node = $1 FROM candidates c WHERE e.id = c.id
                     RETURNING e.arn, c.previous, c.has_events"
                );
                let rows = query(&c, &sql, &[&node, &now_ms, &limit]).await?;
                let mut claimed: Vec<Runnable> = rows
                    .iter()
                    .map(|row| Runnable {
                        execution_arn: row.get(0),
                        previous_owner: row.get(1),
                        has_events: row.get(2),
                    })
                    .collect();
                claimed.sort_by(|a, b| a.execution_arn.cmp(&b.execution_arn));
                Ok(claimed)
            })
        })
        .await
    }

    /// Hands the oldest `Scheduled` task of an activity to a worker, whichever node the
    /// execution lives on: the task row is taken with `FOR UPDATE SKIP LOCKED` (concurrent
    /// pollers on any node skip it and take the next), set to `Started` with the worker's
    /// name, and the execution's `TaskStarted` event (built by `started_event` from the claimed
    /// task) is queued in its mailbox with a wake-up, all in one transaction. The owner then
    /// applies the event like any other queued event. `None` when the queue is empty.
    ///
    /// If the connection drops around `COMMIT`, the retry may claim a second task while the
    /// first stays `Started` for a worker that never heard of it; it then ends by its
    /// `TimeoutSeconds`/`HeartbeatSeconds`, as a task whose worker died would on AWS.
    pub async fn claim_activity_task<F>(
        &self,
        activity_arn: &str,
        worker_name: Option<&str>,
        now_ms: Millis,
        started_event: F,
    ) -> Result<Option<baton_store::TaskRecord>>
    where
        F: Fn(&baton_store::TaskRecord) -> String + Send + Sync + 'static,
    {
        let input = std::sync::Arc::new((
            activity_arn.to_owned(),
            worker_name.map(str::to_owned),
            self.channel.clone(),
            started_event,
        ));
        self.retry(move |mut c, _| {
            let input = input.clone();
            Box::pin(async move {
                let (activity, worker, channel, started_event) = &*input;
                let tx = c.transaction().await?;
                let sql = format!(
                    "UPDATE tasks t SET state = 'STARTED', worker_name = COALESCE($2, t.worker_name)
                     FROM executions e
                     WHERE e.id = t.execution_id AND t.seq = (
                        SELECT q.seq FROM tasks q WHERE q.activity_arn = $1 AND q.state = 'SCHEDULED'
                        ORDER BY q.seq LIMIT 1 FOR UPDATE SKIP LOCKED)
                     RETURNING {}",
                    ops::TASK_COLUMNS
                );
                let Some(row) = query_opt(&tx, &sql, &[activity, worker]).await? else {
                    return Ok(None);
                };
                let task = ops::task_from(&row)?;
                let event = started_event(&task);
                let payload = Wakeup::Execution(task.execution_arn.clone()).payload();
                execute(
                    &tx,
                    "WITH queued AS (
                        INSERT INTO mailbox (execution_id, event, created_ms)
                        SELECT id, $2, $3 FROM executions WHERE arn = $1 RETURNING id)
                     SELECT pg_notify($4, $5) FROM queued",
                    &[&task.execution_arn, &event, &now_ms, channel, &payload],
                )
                .await?;
                tx.commit().await?;
                Ok(Some(task))
            })
        })
        .await
    }

    /// Sends a wake-up to every subscribed node (delivered at once: it is its own transaction).
    pub async fn notify(&self, wakeup: &Wakeup) -> Result<()> {
        let input = std::sync::Arc::new((self.channel.clone(), wakeup.payload()));
        self.retry(move |c, _| {
            let input = input.clone();
            Box::pin(async move {
                let (channel, payload) = &*input;
                execute(&c, "SELECT pg_notify($1, $2)", &[channel, payload]).await?;
                Ok(())
            })
        })
        .await
    }

    /// Starts listening for wake-ups on a dedicated connection. When this returns, LISTEN is in
    /// effect: every wake-up committed afterwards is delivered (or a [`Wakeup::Resync`] says
    /// some may have been missed).
    pub async fn subscribe(&self) -> Result<Subscription> {
        wakeup::subscribe(self.config.clone(), self.channel.clone())
            .await
            .map_err(crate::db_error)
    }
}
