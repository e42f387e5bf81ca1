//! Measuring: latencies, CPU use of this process, RSS of another, and the JSON report.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Latencies in microseconds, merged from every connection.
#[derive(Debug, Default)]
pub(crate) struct Latencies {
    samples: Vec<u32>,
}

impl Latencies {
    /// Adds one sample.
    pub(crate) fn record(&mut self, latency: Duration) {
        self.samples
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    /// Takes another set's samples.
    pub(crate) fn merge(&mut self, other: Latencies) {
        self.samples.extend(other.samples);
    }

    /// The `q` quantile (0.0..=1.0), in microseconds.
    pub(crate) fn quantile(&mut self, q: f64) -> u32 {
        if self.samples.is_empty() {
            return 0;
        }
        self.samples.sort_unstable();
        // Rounding down a rank is what a quantile does.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((self.samples.len() - 1) as f64 * q).round() as usize;
        self.samples[rank.min(self.samples.len() - 1)]
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
    latencies: &mut Latencies,
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
