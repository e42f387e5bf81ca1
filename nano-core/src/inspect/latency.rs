//! [`Latencies`]: how many handler times fell in each bucket of a route's latency histogram
//! (`prometheus/histogram.rs` counts them), so that a recent window's quantiles can be read by
//! subtracting two snapshots.

use std::time::Duration;

/// Buckets with an upper bound: 25 µs doubling to about 13 s (the bounds of the Prometheus
/// latency histograms). One more bucket counts what is slower.
pub const LATENCY_BUCKETS: usize = 20;

/// The first bucket's upper bound, in nanoseconds; each next one doubles it.
pub(crate) const FIRST_BOUND_NANOS: u64 = 25_000;

/// The upper bound of bucket `index` (`None` for the last, unbounded, bucket).
pub fn bucket_bound(index: usize) -> Option<Duration> {
    (index < LATENCY_BUCKETS).then(|| Duration::from_nanos(FIRST_BOUND_NANOS << index))
}

/// How many durations fell in each bucket (see [`bucket_bound`]): since the app started, or
/// between two snapshots ([`since`](Self::since)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Latencies {
    /// Counts per bucket; the last is the unbounded one.
    pub counts: [u64; LATENCY_BUCKETS + 1],
}

impl Latencies {
    /// The durations counted after `earlier` (a snapshot of the same counters).
    pub fn since(&self, earlier: &Latencies) -> Latencies {
        Latencies {
            counts: std::array::from_fn(|i| self.counts[i].saturating_sub(earlier.counts[i])),
        }
    }

    /// How many durations were counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The `q`-quantile (0 to 1), as the upper bound of its bucket; `None` when nothing was
    /// counted. A quantile in the unbounded bucket is reported as the largest bound.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        // The rank of the quantile, 1-based: at least the first, at most the last duration.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_bound(index).or(bucket_bound(LATENCY_BUCKETS - 1));
            }
        }
        bucket_bound(LATENCY_BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_a_window_are_the_bounds_of_their_buckets() {
        let at = |counts: &[(usize, u64)]| {
            let mut latencies = Latencies::default();
            for &(bucket, count) in counts {
                latencies.counts[bucket] = count;
            }
            latencies
        };
        let before = at(&[(0, 1)]);
        // 98 in bucket 1 (bound 50 µs), 2 in bucket 7 (bound 3.2 ms).
        let window = at(&[(0, 1), (1, 98), (7, 2)]).since(&before);
        assert_eq!(window.total(), 100);
        assert_eq!(window.quantile(0.5), Some(Duration::from_micros(50)));
        assert_eq!(window.quantile(0.99), Some(Duration::from_micros(3_200)));
        assert_eq!(Latencies::default().quantile(0.5), None);
    }
}
