//! [`Holding`]: cluster-group broadcasts a gate holds until their release, so that a
//! broadcast a handler sent for one of its clients keeps its place among that handler's
//! pushes and answer (see `GroupPush::held`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use nano_core::Group;

/// How long a held broadcast waits for its release at most (a release lost with its publisher).
pub(super) const HOLD_AT_MOST: Duration = Duration::from_secs(1);

/// Held broadcasts beyond which the oldest go out without waiting.
const MAX_HELD: usize = 10_000;

/// Broadcasts waiting for their release, by key.
#[derive(Default)]
pub(super) struct Holding {
    held: HashMap<String, HeldBroadcast>,
}

struct HeldBroadcast {
    group: Group,
    route: String,
    payload: Bytes,
    since: Instant,
}

impl Holding {
    pub(super) fn hold(&mut self, key: String, group: Group, route: String, payload: Bytes) {
        let since = Instant::now();
        self.held.insert(
            key,
            HeldBroadcast {
                group,
                route,
                payload,
                since,
            },
        );
        if self.held.len() > MAX_HELD {
            self.flush(|_| true);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Whether the broadcast `key` is held.
    pub(super) fn holds(&self, key: &str) -> bool {
        self.held.contains_key(key)
    }

    /// Pushes the broadcast held under `key`, if any.
    pub(super) fn release(&mut self, key: &str) {
        if let Some(held) = self.held.remove(key) {
            let _ = held.group.broadcast_raw(held.route, held.payload);
        }
    }

    /// Pushes the broadcasts that waited too long for their release.
    pub(super) fn expire(&mut self) {
        if !self.held.is_empty() {
            self.flush(|held| held.since.elapsed() >= HOLD_AT_MOST);
        }
    }

    fn flush(&mut self, due: impl Fn(&HeldBroadcast) -> bool) {
        let keys: Vec<String> = self
            .held
            .iter()
            .filter(|(_, held)| due(held))
            .map(|(key, _)| key.clone())
            .collect();
        for key in keys {
            self.release(&key);
        }
    }
}
