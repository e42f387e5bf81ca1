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

    /// Records a handler that ran from `started` until now.
    pub(crate) fn handled(&self, started: Instant) {
        self.handler_time.observe(started.elapsed());
    }

    /// Records a request whose packet was read at `read`, answered now.
    pub(crate) fn answered(&self, read: Instant) {
        self.total_time.observe(read.elapsed());
    }
}
