//! [`CountingWaker`]: a waker that counts its wakes, for the crate's unit tests of wake-ups.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};

/// Counts how often a waker made from it was woken.
pub(crate) struct CountingWaker(AtomicUsize);

impl CountingWaker {
    /// A counter and a waker that adds to it.
    pub(crate) fn new() -> (Arc<Self>, Waker) {
        let counter = Arc::new(Self(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    /// How many wakes so far.
    pub(crate) fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
