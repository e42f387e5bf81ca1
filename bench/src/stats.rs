//! Measuring: latencies, CPU use of this process, RSS of another, and the JSON report.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// The smallest latency told apart from zero, in microseconds.
const LOWEST_US: u64 = 1;
/// The largest latency recorded as itself, in microseconds (60 s); longer ones count as 60 s.
const HIGHEST_US: u64 = 60_000_000;
/// Precision: a recorded value is within 0.1% of the measured one.
const SIGNIFICANT_DIGITS: u8 = 3;
/// Samples a [`Recorder`] gathers before it takes the histogram's lock.
const BATCH: usize = 256;

/// The latencies of a run, in microseconds: one HDR histogram from 1 µs to 60 s with 3
/// significant digits, shared by every connection's [`Recorder`]. Its memory is fixed (about
/// 140 KiB) however many samples the run takes.
#[derive(Clone, Debug)]
pub(crate) struct Latencies {
    histogram: Arc<Mutex<Histogram<u64>>>,
}

impl Default for Latencies {
    fn default() -> Self {
        let histogram = Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
            .expect("the bounds are constants that satisfy hdrhistogram's rules");
        Self {
            histogram: Arc::new(Mutex::new(histogram)),
        }
    }
}

impl Latencies {
    /// A recorder for one connection's samples.
    pub(crate) fn recorder(&self) -> Recorder {
        Recorder {
            latencies: self.clone(),
            batch: Vec::with_capacity(BATCH),
        }
    }

    /// The `q` quantile (0.0..=1.0), in microseconds: the smallest recorded value that at
    /// least `q` of the samples are at or below (0 with no samples).
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        let histogram = self.lock();
        if histogram.is_empty() {
            return 0;
        }
        histogram.value_at_quantile(q)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Histogram<u64>> {
        self.histogram
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection's way into the run's [`Latencies`]: samples gather in a small batch that
/// goes into the histogram when full and when the recorder is dropped (when its connection's
/// task ends, before that task's result is seen), so connections rarely meet on the lock.
#[derive(Debug)]
pub(crate) struct Recorder {
    latencies: Latencies,
    batch: Vec<u64>,
}

impl Recorder {
    /// Adds one sample (longer than 60 s counts as 60 s).
    pub(crate) fn record(&mut self, latency: Duration) {
        self.batch
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let mut histogram = self.latencies.lock();
        for micros in self.batch.drain(..) {
            histogram.saturating_record(micros);
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

/// CPU time (user + system) this process has used so far.
pub(crate) fn own_cpu_time() -> Duration {
    // Fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second on Linux).
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    let Some(after_name) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 overall, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Resident set size of process `pid`, in KiB.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The measured window of a run, and the CPU this process used in it.
pub(crate) struct Window {
    started: Instant,
    cpu_at_start: Duration,
}

impl Window {
    /// Starts measuring now.
    pub(crate) fn start() -> Self {
        Self {
            started: Instant::now(),
            cpu_at_start: own_cpu_time(),
        }
    }

    /// Seconds since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// This process's CPU use since the start, in percent of one core.
    pub(crate) fn cpu_percent(&self) -> f64 {
        let cpu = own_cpu_time()
            .saturating_sub(self.cpu_at_start)
            .as_secs_f64();
        100.0 * cpu / self.elapsed().as_secs_f64().max(1e-9)
    }
}

/// The one-line summary every scenario prints with `--json`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn report(
    scenario: &str,
    transport: &str,
    conns: usize,
    elapsed: Duration,
    ops: u64,
    latencies: &Latencies,
    errors: u64,
    cpu_percent: f64,
) -> Value {
    let seconds = elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let ops_per_s = ops as f64 / seconds.max(1e-9);
    json!({
        "scenario": scenario,
        "transport": transport,
        "conns": conns,
        "duration_s": (seconds * 100.0).round() / 100.0,
        "ops": ops,
        "ops_per_s": ops_per_s.round(),
        "p50_us": latencies.quantile(0.50),
        "p99_us": latencies.quantile(0.99),
        "p999_us": latencies.quantile(0.999),
        "errors": errors,
        "client_cpu_percent": cpu_percent.round(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(values: impl IntoIterator<Item = u64>) -> Latencies {
        let latencies = Latencies::default();
        let mut recorder = latencies.recorder();
        for value in values {
            recorder.record(Duration::from_micros(value));
        }
        drop(recorder);
        latencies
    }

    #[test]
    fn percentiles_of_one_to_a_thousand() {
        let latencies = micros(1..=1000);
        assert_eq!(latencies.quantile(0.0), 1);
        assert_eq!(latencies.quantile(0.50), 500);
        assert_eq!(latencies.quantile(0.99), 990);
        assert_eq!(latencies.quantile(0.999), 999);
        assert_eq!(latencies.quantile(1.0), 1000);
    }

    #[test]
    fn a_slow_tail_shows_in_the_high_percentiles_only() {
        // 990 fast answers and 10 stalls: p99 is still fast, p99.9 is a stall.
        let latencies = micros(std::iter::repeat_n(100, 990).chain(std::iter::repeat_n(1900, 10)));
        assert_eq!(latencies.quantile(0.50), 100);
        assert_eq!(latencies.quantile(0.99), 100);
        assert_eq!(latencies.quantile(0.999), 1900);
    }

    #[test]
    fn large_values_keep_three_significant_digits() {
        let latencies = micros([123_456, 5_000_000]);
        let p50 = latencies.quantile(0.5);
        assert!((123_456..=123_456 + 123).contains(&p50), "{p50}");
        let max = latencies.quantile(1.0);
        assert!((5_000_000..=5_005_000).contains(&max), "{max}");
    }

    #[test]
    fn latencies_past_sixty_seconds_count_as_sixty() {
        let latencies = micros([10, 3_600_000_000]);
        let max = latencies.quantile(1.0);
        assert!(
            (HIGHEST_US..=HIGHEST_US + HIGHEST_US / 1000).contains(&max),
            "{max}"
        );
    }

    #[test]
    fn no_samples_report_zero() {
        assert_eq!(Latencies::default().quantile(0.99), 0);
    }

    #[test]
    fn recorders_merge_into_one_histogram() {
        let latencies = Latencies::default();
        let mut even = latencies.recorder();
        let mut odd = latencies.recorder();
        // More than a batch each, so both flush while recording and again when dropped.
        for value in 1..=2 * BATCH as u64 {
            let recorder = if value % 2 == 0 { &mut even } else { &mut odd };
            recorder.record(Duration::from_micros(value));
        }
        drop((even, odd));
        assert_eq!(latencies.quantile(0.5), BATCH as u64);
        assert_eq!(latencies.quantile(1.0), 2 * BATCH as u64);
    }

    #[test]
    fn the_summary_reports_the_percentiles() {
        let latencies = micros(1..=1000);
        let summary = report(
            "request",
            "tcp",
            10,
            Duration::from_secs(2),
            1000,
            &latencies,
            0,
            12.4,
        );
        assert_eq!(summary["ops_per_s"], 500.0);
        assert_eq!(summary["p50_us"], 500);
        assert_eq!(summary["p99_us"], 990);
        assert_eq!(summary["p999_us"], 999);
        assert_eq!(summary["client_cpu_percent"], 12.0);
    }
}
