//! [`RouteMetrics`]: one route's handles into the app's families.

use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use crate::inspect::{Latencies, LatencyCounters};

/// The request counter and the two histograms of one route, resolved once when the app is
/// built: recording a request is three atomic additions and two histogram observations, with
/// no label lookup.
#[derive(Clone, Debug)]
pub(crate) struct RouteMetrics {
    requests: Counter,
    handler_time: Histogram,
    total_time: Histogram,
    /// Handler times again, in plain atomics an admin can snapshot and subtract.
    latencies: std::sync::Arc<LatencyCounters>,
}

impl RouteMetrics {
    pub(super) fn new(requests: Counter, handler_time: Histogram, total_time: Histogram) -> Self {
        Self {
            requests,
            handler_time,
            total_time,
            latencies: std::sync::Arc::default(),
        }
    }

    /// Messages received on the route so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.get()
    }

    /// The route's handler times so far.
    pub(crate) fn latencies(&self) -> Latencies {
        self.latencies.snapshot()
    }

    /// Counts a message received on the route.
    pub(crate) fn received(&self) {
        self.requests.inc();
    }

    /// Records a handler that ran from `started` until now.
    pub(crate) fn handled(&self, started: Instant) {
        let elapsed = started.elapsed();
        self.handler_time.observe(elapsed.as_secs_f64());
        self.latencies.record(elapsed);
    }

    /// Records a request whose packet was read at `read`, answered now.
    pub(crate) fn answered(&self, read: Instant) {
        self.total_time.observe(read.elapsed().as_secs_f64());
    }
}
