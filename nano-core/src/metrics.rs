//! Counters of an app, readable at any time through [`App::metrics`](crate::App::metrics).

use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Sessions kicked (by the app, as slow consumers, or at shutdown).
    pub kicks: u64,
    /// Connections refused because `max_connections` was reached.
    pub connections_refused: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sessions_open: AtomicU64,
    pub(crate) sessions_total: AtomicU64,
    pub(crate) messages_in: AtomicU64,
    pub(crate) messages_out: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) pushes_dropped: AtomicU64,
    pub(crate) kicks: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Metrics {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Metrics {
            sessions_open: get(&self.sessions_open),
            sessions_total: get(&self.sessions_total),
            messages_in: get(&self.messages_in),
            messages_out: get(&self.messages_out),
            errors: get(&self.errors),
            pushes_dropped: get(&self.pushes_dropped),
            kicks: get(&self.kicks),
            connections_refused: get(&self.connections_refused),
        }
    }
}
