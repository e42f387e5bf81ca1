//! [`RouteMetrics`]: one route's handles into the app's families.

use std::time::Instant;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

/// The request counter and the two histograms of one route, resolved once when the app is
/// built: recording a request is two atomic additions and two histogram observations, with
/// no label lookup.
#[derive(Clone, Debug)]
pub(crate) struct RouteMetrics {
    requests: Counter,
    handler_time: Histogram,
    total_time: Histogram,
}

impl RouteMetrics {
    pub(super) fn new(requests: Counter, handler_time: Histogram, total_time: Histogram) -> Self {
        Self {
            requests,
            handler_time,
            total_time,
        }
    }

    /// Counts a message received on the route.
    pub(crate) fn received(&self) {
        self.requests.inc();
    }

    /// Records a handler that ran from `started` until now.
    pub(crate) fn handled(&self, started: Instant) {
        self.handler_time.observe(started.elapsed().as_secs_f64());
    }

    /// Records a request whose packet was read at `read`, answered now.
    pub(crate) fn answered(&self, read: Instant) {
        self.total_time.observe(read.elapsed().as_secs_f64());
    }
}
