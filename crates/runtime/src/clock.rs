//! Time for the runtime: the [`Clock`] trait, the system clock and a manual clock for tests.
//!
//! Everything in the runtime that reads the time or waits for a deadline goes through a
//! `Clock`, so tests can move time by hand and timers fire deterministically.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use baton_store::{BoxFuture, Millis};
use tokio::sync::watch;

/// A source of time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> Millis;
    /// Completes once [`Clock::now_ms`] has reached `deadline_ms`.
    fn sleep_until(&self, deadline_ms: Millis) -> BoxFuture<'static, ()>;
}

/// The machine's clock, with tokio's timer for waits.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Millis::try_from(since.as_millis()).unwrap_or(Millis::MAX)
    }

    fn sleep_until(&self, deadline_ms: Millis) -> BoxFuture<'static, ()> {
        let wait = deadline_ms.saturating_sub(self.now_ms()).max(0);
        let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(0));
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when told to. Sleepers wake as soon as the time passes their
/// deadline.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
    changed: Arc<watch::Sender<Millis>>,
}

impl ManualClock {
    /// A clock showing `now_ms`.
    pub fn new(now_ms: Millis) -> ManualClock {
        let (changed, _) = watch::channel(now_ms);
        ManualClock {
            now: Arc::new(AtomicI64::new(now_ms)),
            changed: Arc::new(changed),
        }
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: Millis) {
        let now = self.now.fetch_add(ms, Ordering::SeqCst) + ms;
        self.changed.send_replace(now);
    }

    /// Sets the clock (it may go backwards, which only tests of odd cases want).
    pub fn set(&self, now_ms: Millis) {
        self.now.store(now_ms, Ordering::SeqCst);
        self.changed.send_replace(now_ms);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep_until(&self, deadline_ms: Millis) -> BoxFuture<'static, ()> {
        let mut receiver = self.changed.subscribe();
        let now = Arc::clone(&self.now);
        Box::pin(async move {
            while now.load(Ordering::SeqCst) < deadline_ms {
                if receiver.changed().await.is_err() {
                    // The clock is gone: nothing will ever move time again.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}
