//! Timers: callbacks that run on an actor (a component or the app's scheduler) at intervals.

use std::cmp::Ordering as CmpOrdering;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The shortest interval a timer runs at (tokio's timer resolution).
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// A scheduled timer: stop it, or read its id.
///
/// Dropping the handle does not stop the timer.
#[derive(Clone)]
pub struct TimerHandle {
    id: u64,
    stopped: Arc<AtomicBool>,
}

impl TimerHandle {
    pub(crate) fn new(id: u64) -> Self {
        Self {
            id,
            stopped: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The timer's id, unique on its actor.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Stops the timer: its callback will not run again.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }

    /// Whether the timer was stopped or has run out.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("id", &self.id)
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

type Callback<S> = Box<dyn FnMut(&mut S) + Send>;
type Condition<S> = Box<dyn FnMut(&mut S) -> bool + Send>;

pub(crate) enum TimerKind<S> {
    Every(Callback<S>),
    When(Condition<S>, Callback<S>),
}

/// A timer as its actor keeps it: ordered by deadline (earliest first in a `BinaryHeap`).
pub(crate) struct TimerEntry<S> {
    handle: TimerHandle,
    deadline: Instant,
    interval: Duration,
    remaining: Option<u64>,
    kind: TimerKind<S>,
}

impl<S> TimerEntry<S> {
    pub(crate) fn new(
        handle: TimerHandle,
        now: Instant,
        interval: Duration,
        remaining: Option<u64>,
        kind: TimerKind<S>,
    ) -> Self {
        let interval = interval.max(MIN_INTERVAL);
        if remaining == Some(0) {
            handle.stop();
        }
        Self {
            handle,
            deadline: now + interval,
            interval,
            remaining,
            kind,
        }
    }

    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    pub(crate) fn id(&self) -> u64 {
        self.handle.id
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.handle.is_stopped()
    }

    pub(crate) fn fire(&mut self, state: &mut S) {
        match &mut self.kind {
            TimerKind::Every(callback) => callback(state),
            TimerKind::When(condition, callback) => {
                if condition(state) {
                    callback(state);
                }
            }
        }
    }

    /// Moves the deadline one interval on; returns `false` when the timer is finished.
    pub(crate) fn reschedule(&mut self) -> bool {
        if let Some(remaining) = &mut self.remaining {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.handle.stop();
            }
        }
        if self.handle.is_stopped() {
            return false;
        }
        // From the previous deadline, not from now: no drift, and exact counts.
        self.deadline += self.interval;
        true
    }
}

impl<S> PartialEq for TimerEntry<S> {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline && self.handle.id == other.handle.id
    }
}

impl<S> Eq for TimerEntry<S> {}

impl<S> PartialOrd for TimerEntry<S> {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl<S> Ord for TimerEntry<S> {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        // Reversed: the earliest deadline (then the oldest timer) is the heap's maximum.
        (other.deadline, other.handle.id).cmp(&(self.deadline, self.handle.id))
    }
}
