//! [`ShardedCounter`]: a Prometheus counter split into per-thread shards.
//!
//! The app-wide counters (bytes in and out, pushes) are added to by every connection on every
//! worker thread; one atomic shared by all of them would bounce its cache line between cores
//! on every packet. The shards are [`metrics::Counter`](crate::metrics)'s, summed when scraped.

use std::fmt;
use std::sync::Arc;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

use crate::metrics::Counter;

/// A monotonic counter; clones share the same shards.
#[derive(Clone, Debug, Default)]
pub(crate) struct ShardedCounter {
    shards: Arc<Counter>,
}

impl ShardedCounter {
    /// Adds one.
    pub(crate) fn inc(&self) {
        self.shards.add(1);
    }

    /// Adds `n`.
    pub(crate) fn inc_by(&self, n: u64) {
        self.shards.add(n);
    }

    /// The sum of the shards.
    pub(crate) fn get(&self) -> u64 {
        self.shards.get()
    }
}

impl TypedMetric for ShardedCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for ShardedCounter {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
