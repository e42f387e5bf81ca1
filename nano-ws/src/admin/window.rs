//! [`Window`]: samples of an app's counters, at most one a second, kept in a small ring, so
//! rates and latency quantiles can be given over the last seconds rather than since start.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use nano_core::inspect::{Latencies, RouteStats};

/// One route's counters in a sample.
#[derive(Clone, Debug)]
pub(super) struct RouteSample {
    pub(super) route: &'static str,
    pub(super) kind: &'static str,
    pub(super) requests: u64,
    pub(super) latencies: Latencies,
}

impl From<&RouteStats> for RouteSample {
    fn from(stats: &RouteStats) -> Self {
        Self {
            route: stats.route,
            kind: stats.kind,
            requests: stats.requests,
            latencies: stats.latencies,
        }
    }
}

/// One sample of the counters.
#[derive(Clone, Debug)]
pub(super) struct Sample {
    pub(super) at: Instant,
    /// Sessions opened since the app started.
    pub(super) sessions_total: u64,
    pub(super) routes: Vec<RouteSample>,
}

/// One route's traffic over the window.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RouteRate {
    pub(super) route: &'static str,
    pub(super) kind: &'static str,
    /// Messages since the app started.
    pub(super) requests: u64,
    /// Messages a second over the window.
    pub(super) rate: f64,
    pub(super) p50: Option<Duration>,
    pub(super) p99: Option<Duration>,
}

/// What the newest sample says against the base sample of the window.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Rates {
    /// The window's length (zero until two samples are a second apart).
    pub(super) window: Duration,
    pub(super) sessions_per_second: f64,
    pub(super) routes: Vec<RouteRate>,
}

/// The ring of samples.
#[derive(Debug)]
pub(super) struct Window {
    samples: VecDeque<Sample>,
    /// How far back the base sample is looked for.
    span: Duration,
    capacity: usize,
}

impl Window {
    /// A ring of up to `span` seconds (plus one) of samples, one per second at most.
    pub(super) fn new(span: Duration) -> Self {
        let capacity = usize::try_from(span.as_secs())
            .unwrap_or(usize::MAX / 2)
            .max(1)
            + 1;
        Self {
            samples: VecDeque::with_capacity(capacity.min(4096)),
            span,
            capacity,
        }
    }

    /// Takes `sample` (kept when a second has passed since the last kept one), and returns
    /// the rates from the window's base to it.
    pub(super) fn update(&mut self, sample: Sample) -> Rates {
        let keep = self
            .samples
            .back()
            .is_none_or(|last| sample.at.duration_since(last.at) >= Duration::from_secs(1));
        let rates = self.rates(&sample);
        if keep {
            if self.samples.len() == self.capacity {
                self.samples.pop_front();
            }
            self.samples.push_back(sample);
        }
        rates
    }

    /// The newest kept sample at least `span` before `now`, else the oldest kept one.
    fn base(&self, now: Instant) -> Option<&Sample> {
        let old_enough = self
            .samples
            .iter()
            .rev()
            .find(|sample| now.duration_since(sample.at) >= self.span);
        old_enough.or(self.samples.front())
    }

    fn rates(&self, now: &Sample) -> Rates {
        let Some(base) = self.base(now.at).filter(|base| base.at < now.at) else {
            return Rates {
                window: Duration::ZERO,
                sessions_per_second: 0.0,
                routes: now
                    .routes
                    .iter()
                    .map(|route| rate(route, None, 0.0))
                    .collect(),
            };
        };
        let window = now.at.duration_since(base.at);
        let seconds = window.as_secs_f64();
        let routes = now
            .routes
            .iter()
            .map(|route| {
                let before = base.routes.iter().find(|old| old.route == route.route);
                rate(route, before, seconds)
            })
            .collect();
        Rates {
            window,
            sessions_per_second: per_second(now.sessions_total, base.sessions_total, seconds),
            routes,
        }
    }
}

fn per_second(now: u64, before: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let delta = now.saturating_sub(before) as f64;
    delta / seconds
}

fn rate(now: &RouteSample, before: Option<&RouteSample>, seconds: f64) -> RouteRate {
    let latencies = match before {
        Some(before) => now.latencies.since(&before.latencies),
        None if seconds > 0.0 => now.latencies,
        None => Latencies::default(),
    };
    let requests_before = before.map_or(0, |before| before.requests);
    RouteRate {
        route: now.route,
        kind: now.kind,
        requests: now.requests,
        rate: per_second(now.requests, requests_before, seconds),
        p50: latencies.quantile(0.5),
        p99: latencies.quantile(0.99),
    }
}

#[cfg(test)]
mod tests;
