//! [`Cluster`] for [`PgStore`]: the runtime's view of the multi-node methods in `work.rs`.

use baton_store::cluster::{
    Cluster, Health, Ownership, PendingEvent, Runnable, StartedEvent, Wakeup, WakeupStream,
};
use baton_store::{BoxFuture, Commit, Millis, Result, TaskRecord, TimerRecord};

use crate::{CommitGuard, PgStore, Subscription};

impl WakeupStream for Subscription {
    fn next(&mut self) -> BoxFuture<'_, Option<Wakeup>> {
        Box::pin(self.recv())
    }
}

impl Cluster for PgStore {
    fn commit_owned<'a>(
        &'a self,
        commit: Commit,
        node: &'a str,
        consume: Vec<i64>,
    ) -> BoxFuture<'a, Result<()>> {
        let guard = CommitGuard {
            owner: Some(node.to_owned()),
            consume,
            notify_activities: true,
        };
        self.commit_with(commit, guard)
    }

    fn renew_lease<'a>(
        &'a self,
        node: &'a str,
        now_ms: Millis,
        lease_ms: Millis,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move { Ok(self.renew_leases(node, now_ms, lease_ms).await?.lapsed) })
    }

    fn leave<'a>(&'a self, node: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.expire_node(node))
    }

    fn acquire_execution<'a>(
        &'a self,
        node: &'a str,
        arn: &'a str,
        now_ms: Millis,
    ) -> BoxFuture<'a, Result<Ownership>> {
        Box::pin(PgStore::acquire_execution(self, node, arn, now_ms))
    }

    fn release_execution<'a>(&'a self, node: &'a str, arn: &'a str) -> BoxFuture<'a, Result<bool>> {
        Box::pin(PgStore::release_execution(self, node, arn))
    }

    fn claim_due_timers<'a>(
        &'a self,
        node: &'a str,
        now_ms: Millis,
        lease_ms: Millis,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<TimerRecord>>> {
        Box::pin(PgStore::claim_due_timers(
            self, node, now_ms, lease_ms, limit,
        ))
    }

    fn enqueue_event<'a>(
        &'a self,
        arn: &'a str,
        event: &'a str,
        now_ms: Millis,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            PgStore::enqueue_event(self, arn, event, now_ms).await?;
            Ok(())
        })
    }

    fn pending_events<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<Vec<PendingEvent>>> {
        Box::pin(PgStore::pending_events(self, arn))
    }

    fn discard_events<'a>(&'a self, arn: &'a str, ids: &'a [i64]) -> BoxFuture<'a, Result<u64>> {
        Box::pin(PgStore::discard_events(self, arn, ids))
    }

    fn claim_runnable<'a>(
        &'a self,
        node: &'a str,
        now_ms: Millis,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Runnable>>> {
        Box::pin(PgStore::claim_runnable(self, node, now_ms, limit))
    }

    fn claim_activity_task<'a>(
        &'a self,
        activity_arn: &'a str,
        worker_name: Option<&'a str>,
        now_ms: Millis,
        started_event: StartedEvent,
    ) -> BoxFuture<'a, Result<Option<TaskRecord>>> {
        Box::pin(PgStore::claim_activity_task(
            self,
            activity_arn,
            worker_name,
            now_ms,
            move |task: &TaskRecord| started_event(task),
        ))
    }

    fn tasks_to_dispatch_of<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<Vec<TaskRecord>>> {
        Box::pin(PgStore::tasks_to_dispatch_of(self, arn))
    }

    fn notify_execution<'a>(&'a self, arn: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { self.notify(&Wakeup::Execution(arn.to_owned())).await })
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn WakeupStream>>> {
        Box::pin(async move {
            let subscription = PgStore::subscribe(self).await?;
            Ok(Box::new(subscription) as Box<dyn WakeupStream>)
        })
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(PgStore::health(self))
    }
}
