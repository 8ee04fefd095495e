//! Group commit: several executions' steps share one transaction, and so one WAL flush.
//!
//! A commit's cost on PostgreSQL is dominated by the flush of the write-ahead log at `COMMIT`
//! (milliseconds on a busy disk), not by its statements. [`Options::writers`](crate::Options)
//! writer tasks take every commit waiting in the queue (up to
//! [`Options::max_batch`](crate::Options)), write them one after the other in one transaction
//! and acknowledge each only after `COMMIT` returned. Steps of one execution in the same batch
//! see each other, so their fences chain exactly as if committed one by one.
//!
//! If any step of a batch fails (a fence conflict, a duplicate, a deadlock with another writer)
//! the whole transaction is rolled back and every step of the batch is committed again on its
//! own, so each gets exactly the outcome it would have had alone. If the `COMMIT` itself fails
//! the batch may or may not have been applied: each step is then committed on its own as an
//! ambiguous retry, which recognises a step already applied by its inbox entry
//! (`settle_ambiguous` in `ops.rs`).

use std::sync::Arc;
use std::time::Duration;

use baton_store::{Commit, Error, Result};
use deadpool_postgres::Pool;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::ops;
use crate::work::CommitGuard;

/// A commit waiting for a writer.
pub(crate) struct Job {
    pub(crate) input: Arc<(Commit, CommitGuard, String)>,
    pub(crate) reply: oneshot::Sender<Result<()>>,
}

/// Starts `writers` writer tasks on the current runtime; they end when the sender is dropped.
pub(crate) fn start(
    pool: Pool,
    retry_for: Duration,
    writers: usize,
    max_batch: usize,
) -> mpsc::UnboundedSender<Job> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let receiver = Arc::new(Mutex::new(receiver));
    for _ in 0..writers {
        tokio::spawn(writer(
            pool.clone(),
            Arc::clone(&receiver),
            retry_for,
            max_batch.max(1),
        ));
    }
    sender
}

async fn writer(
    pool: Pool,
    receiver: Arc<Mutex<mpsc::UnboundedReceiver<Job>>>,
    retry_for: Duration,
    max_batch: usize,
) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = receiver.lock().await;
            match receiver.recv().await {
                Some(job) => batch.push(job),
                None => return,
            }
            while batch.len() < max_batch {
                match receiver.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        if batch.len() > 1 {
            match together(&pool, &batch).await {
                Ok(()) => {
                    for job in batch {
                        let _ = job.reply.send(Ok(()));
                    }
                    continue;
                }
                Err(may_have_applied) => {
                    alone(&pool, retry_for, batch, may_have_applied).await;
                    continue;
                }
            }
        }
        alone(&pool, retry_for, batch, false).await;
    }
}

/// The batch in one transaction; `Err(may_have_applied)` if it did not commit for sure.
async fn together(pool: &Pool, batch: &[Job]) -> Result<(), bool> {
    let Ok(mut client) = pool.get().await else {
        return Err(false);
    };
    let Ok(tx) = client.transaction().await else {
        return Err(false);
    };
    for job in batch {
        let (commit, guard, channel) = &*job.input;
        if ops::apply_commit(&tx, commit, guard, channel)
            .await
            .is_err()
        {
            // Dropping the transaction rolls it back.
            return Err(false);
        }
    }
    tx.commit().await.map_err(|_| true)
}

/// Each step in its own transaction, concurrently, with the usual retries.
async fn alone(pool: &Pool, retry_for: Duration, batch: Vec<Job>, may_have_applied: bool) {
    let runs = batch.into_iter().map(|job| async move {
        let input = Arc::clone(&job.input);
        let result = crate::retry_with(pool, retry_for, may_have_applied, move |mut c, again| {
            let input = Arc::clone(&input);
            Box::pin(async move {
                let (commit, guard, channel) = &*input;
                ops::commit(&mut c, commit, guard, channel, again).await
            })
        })
        .await;
        let _ = job.reply.send(result);
    });
    futures_util::future::join_all(runs).await;
}

/// The error a commit gets when the writers are gone.
pub(crate) fn closed() -> Error {
    Error::Closed
}
