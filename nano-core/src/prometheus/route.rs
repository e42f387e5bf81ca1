//! [`RouteMetrics`]: one route's handles into the app's families.

use std::time::Instant;

use super::histogram::LatencyHistogram;
use super::sharded::ShardedCounter;

use crate::inspect::Latencies;

/// The request counter and the two histograms of one route, resolved once when the app is
/// built: recording a request touches no label map and no lock, only atomics of the calling
/// thread's shard (one for the count, three per histogram).
#[derive(Clone, Debug)]
pub(crate) struct RouteMetrics {
    requests: ShardedCounter,
    handler_time: LatencyHistogram,
    total_time: LatencyHistogram,
}

impl RouteMetrics {
    pub(super) fn new(
        requests: ShardedCounter,
        handler_time: LatencyHistogram,
        total_time: LatencyHistogram,
    ) -> Self {
        Self {
            requests,
            handler_time,
            total_time,
        }
    }

    /// Messages received on the route so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.get()
    }

    /// The route's handler times so far, per bucket (what an admin subtracts for a window).
    pub(crate) fn latencies(&self) -> Latencies {
        Latencies {
            counts: self.handler_time.counts(),
        }
    }

    /// Counts a message received on the route.
    pub(crate) fn received(&self) {
        self.requests.inc();
    }

    /// Records a message read at `read` whose handler started at `started` and whose reply
    /// (for a `request`) is queued now: one clock read for both histograms.
    pub(crate) fn finished(&self, read: Instant, started: Instant, request: bool) {
        let now = Instant::now();
        self.handler_time
            .observe(now.saturating_duration_since(started));
        if request {
            self.total_time.observe(now.saturating_duration_since(read));
        }
    }
}
