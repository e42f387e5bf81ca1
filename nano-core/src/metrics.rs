//! Counters of an app, readable at any time through [`App::metrics`](crate::App::metrics).
//!
//! Every connection task updates them on every message, from every worker thread, so each
//! counter is sharded per thread (one cache line per shard): no two cores fight over a line.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A snapshot of an app's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Sessions currently open (connected, handshake started).
    pub sessions_open: u64,
    /// Sessions opened since start.
    pub sessions_total: u64,
    /// Data messages received from clients.
    pub messages_in: u64,
    /// Data messages queued to clients (responses and pushes).
    pub messages_out: u64,
    /// Error responses sent, handler failures on notifies, and connections closed for a
    /// protocol violation.
    pub errors: u64,
    /// Pushes dropped because a session's send queue was full.
    pub pushes_dropped: u64,
    /// Sessions kicked (by the app, as slow consumers, for flooding, or at shutdown).
    pub kicks: u64,
    /// Connections refused because `max_connections` was reached.
    pub connections_refused: u64,
}

/// The number of shards of a sharded counter (threads beyond it share shards).
pub(crate) const SHARDS: usize = 16;

#[derive(Debug, Default)]
#[repr(align(64))]
struct Shard(AtomicU64);

/// A counter split into per-thread shards; its value is their sum (wrapping, so that
/// increments and decrements on different shards add up).
#[derive(Debug, Default)]
pub(crate) struct Counter {
    shards: [Shard; SHARDS],
}

/// The shard of the calling thread, in `0..SHARDS`: threads take shards in turn, once.
pub(crate) fn shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD.with(|shard| {
        if shard.get() == usize::MAX {
            shard.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        shard.get()
    })
}

impl Counter {
    pub(crate) fn add(&self, n: u64) {
        self.shards[shard()].0.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn sub(&self, n: u64) {
        self.shards[shard()].0.fetch_sub(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.shards.iter().fold(0u64, |sum, shard| {
            sum.wrapping_add(shard.0.load(Ordering::Relaxed))
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sessions_open: Counter,
    pub(crate) sessions_total: Counter,
    pub(crate) messages_in: Counter,
    pub(crate) messages_out: Counter,
    pub(crate) errors: Counter,
    pub(crate) pushes_dropped: Counter,
    pub(crate) kicks: Counter,
    pub(crate) connections_refused: Counter,
}

impl Counters {
    pub(crate) fn add(counter: &Counter, n: u64) {
        counter.add(n);
    }

    pub(crate) fn snapshot(&self) -> Metrics {
        Metrics {
            sessions_open: self.sessions_open.get(),
            sessions_total: self.sessions_total.get(),
            messages_in: self.messages_in.get(),
            messages_out: self.messages_out.get(),
            errors: self.errors.get(),
            pushes_dropped: self.pushes_dropped.get(),
            kicks: self.kicks.get(),
            connections_refused: self.connections_refused.get(),
        }
    }
}
