//! [`LatencyHistogram`]: a Prometheus histogram of durations that records without a lock.
//!
//! prometheus-client's own `Histogram` takes a mutex on every observation; a route's histogram
//! is shared by every connection of the app, so on a multi-thread runtime that mutex is taken
//! from every worker for every request. Here an observation is two relaxed atomic additions
//! (its bucket and the sum; the count is the buckets' total) on the calling thread's shard (cache-line aligned, as the
//! counters of [`metrics`](crate::metrics)), and the bucket is found with a shift instead of
//! a scan. A scrape sums the shards.
//! The buckets are fixed: 25 µs doubling, 20 of them (25 µs to about 13.1 s), then `+Inf`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

use crate::metrics::{SHARDS, shard};

use crate::inspect::{FIRST_BOUND_NANOS as FIRST_BOUND_NS, LATENCY_BUCKETS as BUCKETS};

/// A latency histogram with the buckets above; clones share the same counts. Exported (through
/// `__private`) for the metrics of the workspace's other crates.
#[derive(Clone, Debug, Default)]
pub struct LatencyHistogram {
    shards: Arc<[Counts; SHARDS]>,
}

/// One thread's share of the observations.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Counts {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: [AtomicU64; BUCKETS + 1],
    /// The sum of the observations, in nanoseconds (584 years before it wraps).
    sum_ns: AtomicU64,
}

/// The bucket of an observation of `ns` nanoseconds: the first whose upper bound is at least
/// `ns` (Prometheus' buckets are `le`, less than or equal).
fn bucket_of(ns: u64) -> usize {
    // The number of first bounds the observation spans, rounded up: bucket i holds up to 2^i.
    let spans = ns.div_ceil(FIRST_BOUND_NS);
    if spans <= 1 {
        return 0;
    }
    let index = (u64::BITS - (spans - 1).leading_zeros()) as usize;
    index.min(BUCKETS)
}

/// The upper bound of finite bucket `index`, in seconds.
fn bound_secs(index: usize) -> f64 {
    (FIRST_BOUND_NS << index) as f64 / 1e9
}

impl LatencyHistogram {
    /// Records one duration.
    pub fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let counts = &self.shards[shard()];
        counts.buckets[bucket_of(ns)].fetch_add(1, Ordering::Relaxed);
        counts.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The observations per bucket (not cumulative; `+Inf` last), summed over the shards: the
    /// buckets of [`inspect::Latencies`](crate::inspect::Latencies).
    pub(crate) fn counts(&self) -> [u64; BUCKETS + 1] {
        std::array::from_fn(|index| {
            self.shards
                .iter()
                .map(|counts| counts.buckets[index].load(Ordering::Relaxed))
                .fold(0u64, u64::wrapping_add)
        })
    }

    /// The `(upper bound in seconds, observations in that bucket)` pairs, `+Inf` last, the
    /// sum in seconds and the count (the buckets' total). Read while others record, the sum may
    /// disagree with the buckets by the observations in flight, as in any lock-free histogram.
    pub(crate) fn read(&self) -> (Vec<(f64, u64)>, f64, u64) {
        let counts = self.counts();
        let count = counts.iter().fold(0u64, |total, n| total.wrapping_add(*n));
        let buckets = counts
            .into_iter()
            .enumerate()
            .map(|(index, count)| {
                let bound = if index == BUCKETS {
                    f64::INFINITY
                } else {
                    bound_secs(index)
                };
                (bound, count)
            })
            .collect();
        let sum_ns = self
            .shards
            .iter()
            .map(|counts| counts.sum_ns.load(Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add);
        (buckets, sum_ns as f64 / 1e9, count)
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), fmt::Error> {
        let (buckets, sum, count) = self.read();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_observation_lands_in_the_first_bucket_that_holds_it() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(25_000), 0);
        assert_eq!(bucket_of(25_001), 1);
        assert_eq!(bucket_of(50_000), 1);
        assert_eq!(bucket_of(50_001), 2);
        assert_eq!(bucket_of(100_000), 2);
        assert_eq!(bucket_of(FIRST_BOUND_NS << 19), 19);
        assert_eq!(bucket_of((FIRST_BOUND_NS << 19) + 1), BUCKETS);
        assert_eq!(bucket_of(u64::MAX), BUCKETS);
        for index in 0..BUCKETS {
            let bound = FIRST_BOUND_NS << index;
            assert_eq!(bucket_of(bound), index, "{bound} ns");
            assert_eq!(bucket_of(bound + 1), index + 1, "{bound} ns + 1");
        }
    }

    #[test]
    fn counts_sum_and_bounds_are_read_back() {
        let histogram = LatencyHistogram::default();
        histogram.observe(Duration::from_micros(10));
        histogram.observe(Duration::from_micros(30));
        histogram.observe(Duration::from_secs(60));
        let (buckets, sum, count) = histogram.read();
        assert_eq!(count, 3);
        assert!((sum - 60.000_04).abs() < 1e-9, "{sum}");
        assert_eq!(buckets.len(), BUCKETS + 1);
        assert_eq!(buckets[0], (0.000_025, 1));
        assert_eq!(buckets[1], (0.000_05, 1));
        assert_eq!(buckets[BUCKETS], (f64::INFINITY, 1));
        assert_eq!(buckets.iter().map(|(_, n)| n).sum::<u64>(), 3);
    }

    #[test]
    fn observations_from_many_threads_are_all_counted() {
        let histogram = LatencyHistogram::default();
        std::thread::scope(|scope| {
            for _ in 0..SHARDS + 4 {
                let histogram = histogram.clone();
                scope.spawn(move || {
                    for _ in 0..1_000 {
                        histogram.observe(Duration::from_micros(40));
                    }
                });
            }
        });
        let (buckets, sum, count) = histogram.read();
        let expected = (SHARDS as u64 + 4) * 1_000;
        assert_eq!(count, expected);
        assert_eq!(buckets[1].1, expected);
        assert!((sum - expected as f64 * 0.000_04).abs() < 1e-6, "{sum}");
    }
}
