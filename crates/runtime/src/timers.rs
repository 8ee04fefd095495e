//! The in-memory index of the nearest timer deadlines.
//!
//! Timers are rows in the store; this index only caches those due before `loaded_until`
//! (a sliding window ahead of now), so a million far-away timers cost no memory. Commits add
//! timers that fall inside the window; the scheduler refills the window from the store as time
//! moves on. While a refill is querying the store, every added timer is kept whatever its due
//! time, so a timer committed during the query cannot fall between the two.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use baton_store::Millis;
use tokio::sync::Notify;

/// Timer key: (execution ARN, timer id).
pub(crate) type TimerKey = (Arc<str>, u64);

#[derive(Debug)]
pub(crate) struct Timers {
    state: Mutex<State>,
    /// Woken when a timer earlier than the current first one is added.
    pub(crate) wake: Arc<Notify>,
}

#[derive(Debug)]
struct State {
    by_due: BTreeSet<(Millis, Arc<str>, u64)>,
    due_of: HashMap<TimerKey, Millis>,
    loaded_until: Millis,
    refilling: bool,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            state: Mutex::new(State {
                by_due: BTreeSet::new(),
                due_of: HashMap::new(),
                loaded_until: Millis::MIN,
                refilling: false,
            }),
            wake: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds or moves a timer (kept only if it falls inside the loaded window).
    pub(crate) fn add(&self, execution_arn: &Arc<str>, timer: u64, due: Millis) {
        let mut state = self.lock();
        if due > state.loaded_until && !state.refilling {
            return;
        }
        let earliest = state.by_due.first().map(|(first, _, _)| *first);
        state.insert(Arc::clone(execution_arn), timer, due);
        drop(state);
        if earliest.is_none_or(|first| due < first) {
            self.wake.notify_one();
        }
    }

    /// Forgets a timer.
    pub(crate) fn remove(&self, execution_arn: &str, timer: u64) {
        let mut state = self.lock();
        let key: TimerKey = (Arc::from(execution_arn), timer);
        if let Some(due) = state.due_of.remove(&key) {
            state.by_due.remove(&(due, key.0, timer));
        }
    }

    /// Takes every timer due at or before `now`, earliest first.
    pub(crate) fn pop_due(&self, now: Millis) -> Vec<(Arc<str>, u64, Millis)> {
        let mut state = self.lock();
        let mut due = Vec::new();
        while let Some((first, _, _)) = state.by_due.first() {
            if *first > now {
                break;
            }
            let Some((at, arn, timer)) = state.by_due.pop_first() else {
                break;
            };
            state.due_of.remove(&(Arc::clone(&arn), timer));
            due.push((arn, timer, at));
        }
        due
    }

    /// Whether the index holds this timer.
    pub(crate) fn contains(&self, execution_arn: &str, timer: u64) -> bool {
        self.lock()
            .due_of
            .contains_key(&(Arc::from(execution_arn), timer))
    }

    /// The earliest loaded deadline.
    pub(crate) fn next_due(&self) -> Option<Millis> {
        self.lock().by_due.first().map(|(due, _, _)| *due)
    }

    /// The end of the loaded window.
    pub(crate) fn loaded_until(&self) -> Millis {
        self.lock().loaded_until
    }

    /// Marks the start of a refill (see the module comment).
    pub(crate) fn begin_refill(&self) {
        self.lock().refilling = true;
    }

    /// Adds the timers a refill read and moves the window's end.
    pub(crate) fn finish_refill(&self, timers: Vec<(Arc<str>, u64, Millis)>, loaded_until: Millis) {
        let mut state = self.lock();
        for (arn, timer, due) in timers {
            state.insert(arn, timer, due);
        }
        state.loaded_until = state.loaded_until.max(loaded_until);
        state.refilling = false;
    }

    /// How many timers are loaded.
    pub(crate) fn len(&self) -> usize {
        self.lock().due_of.len()
    }
}

impl State {
    fn insert(&mut self, arn: Arc<str>, timer: u64, due: Millis) {
        if let Some(old) = self.due_of.insert((Arc::clone(&arn), timer), due) {
            self.by_due.remove(&(old, Arc::clone(&arn), timer));
        }
        self.by_due.insert((due, arn, timer));
    }
}
