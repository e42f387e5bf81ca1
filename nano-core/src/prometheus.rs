//! [`Telemetry`]: an app's Prometheus metrics (prometheus-client), exported in the text
//! format by [`App::encode_metrics`](crate::App::encode_metrics).
//!
//! - `labels`: the label sets, and the reasons sessions end, kicks and refused handshakes
//!   are counted under;
//! - `resume`: the session-resume families;
//! - `route`: the handles of one route, resolved when the app is built so that a request
//!   touches no label map;
//! - `histogram` and `sharded`: the latency histogram and the hot counters, recorded in
//!   per-thread shards of atomics, without a lock or a cache line shared between cores.
//!
//! Every metric is listed, with its labels and the pitaya metric it corresponds to, in
//! docs/OPERATIONS.md.

mod histogram;
mod labels;
mod resume;
mod route;
mod sharded;

pub(crate) use labels::{EndReason, KickCause};
pub(crate) use resume::ResumeMetrics;
pub(crate) use route::RouteMetrics;

use std::fmt;

use prometheus_client::encoding::text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use labels::{ActorLabels, CodeLabels, ReasonLabels, RouteLabels, TransportLabels};

pub use histogram::LatencyHistogram;
use sharded::ShardedCounter;

/// Latency histograms by route (buckets: 25 µs doubling to about 13 s).
type Histograms = Family<RouteLabels, LatencyHistogram>;

/// Metrics of the app's own or of another crate, added to the registry when the app is built
/// ([`AppBuilder::register_metrics`](crate::AppBuilder::register_metrics)).
pub(crate) type MetricRegistration = Box<dyn FnOnce(&mut Registry) + Send>;

/// The metric families of one app, and the registry they are exported from.
pub(crate) struct Telemetry {
    registry: Registry,
    requests: Family<RouteLabels, ShardedCounter>,
    errors: Family<CodeLabels, Counter>,
    handler_time: Histograms,
    total_time: Histograms,
    pub(crate) sessions_open: Gauge,
    sessions_opened: Family<TransportLabels, Counter>,
    sessions_closed: Family<ReasonLabels, Counter>,
    kicks: Family<ReasonLabels, Counter>,
    handshakes_refused: Family<ReasonLabels, Counter>,
    pub(crate) connections_refused: Counter,
    pub(crate) pushes_sent: ShardedCounter,
    pub(crate) pushes_dropped: Counter,
    pub(crate) bytes_in: ShardedCounter,
    pub(crate) bytes_out: ShardedCounter,
    groups: Gauge,
    group_members: Gauge,
    mailbox_depth: Family<ActorLabels, Gauge>,
    /// The session-resume families.
    pub(crate) resume: ResumeMetrics,
}

/// What the gauges read at scrape time are set from.
pub(crate) struct ScrapeGauges<'a> {
    /// Groups with at least one live session of the app.
    pub(crate) groups: usize,
    /// Memberships of live sessions in those groups.
    pub(crate) members: usize,
    /// Each actor's name and mailbox depth.
    pub(crate) mailboxes: &'a [(&'static str, usize)],
}

impl Telemetry {
    /// The families, registered under the `nano_` prefix, then the `registrations`'.
    pub(crate) fn new(registrations: Vec<MetricRegistration>) -> Self {
        let mut telemetry = Self {
            registry: Registry::with_prefix("nano"),
            requests: Family::default(),
            errors: Family::default(),
            handler_time: Family::default(),
            total_time: Family::default(),
            sessions_open: Gauge::default(),
            sessions_opened: Family::default(),
            sessions_closed: Family::default(),
            kicks: Family::default(),
            handshakes_refused: Family::default(),
            connections_refused: Counter::default(),
            pushes_sent: ShardedCounter::default(),
            pushes_dropped: Counter::default(),
            bytes_in: ShardedCounter::default(),
            bytes_out: ShardedCounter::default(),
            groups: Gauge::default(),
            group_members: Gauge::default(),
            mailbox_depth: Family::default(),
            resume: ResumeMetrics::default(),
        };
        telemetry.register();
        for register in registrations {
            register(&mut telemetry.registry);
        }
        telemetry
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "requests",
            "Requests and notifies received, by route and kind",
            self.requests.clone(),
        );
        r.register(
            "request_errors",
            "Error responses (and failed notifies), by route and code",
            self.errors.clone(),
        );
        r.register(
            "handler_duration_seconds",
            "Time from the handler's start to its reply queued (an actor's includes its mailbox wait)",
            self.handler_time.clone(),
        );
        r.register(
            "request_duration_seconds",
            "Time from the packet read to the response queued for writing",
            self.total_time.clone(),
        );
        r.register(
            "sessions_open",
            "Sessions open now",
            self.sessions_open.clone(),
        );
        r.register(
            "sessions_opened",
            "Sessions opened, by transport",
            self.sessions_opened.clone(),
        );
        r.register(
            "sessions_closed",
            "Sessions closed, by reason",
            self.sessions_closed.clone(),
        );
        r.register("kicks", "Sessions kicked, by reason", self.kicks.clone());
        r.register(
            "handshakes_refused",
            "Handshakes refused, by reason",
            self.handshakes_refused.clone(),
        );
        r.register(
            "connections_refused",
            "Connections refused because max_connections was reached",
            self.connections_refused.clone(),
        );
        r.register(
            "pushes_sent",
            "Pushes queued to clients (broadcasts count once per member)",
            self.pushes_sent.clone(),
        );
        r.register(
            "pushes_dropped",
            "Pushes dropped because a session's send queue was full",
            self.pushes_dropped.clone(),
        );
        r.register(
            "received_bytes",
            "Bytes of packets read from clients (4-byte headers included)",
            self.bytes_in.clone(),
        );
        r.register(
            "sent_bytes",
            "Bytes of packets written to clients (4-byte headers included)",
            self.bytes_out.clone(),
        );
        r.register(
            "groups",
            "Groups with at least one live session of the app (read at scrape time)",
            self.groups.clone(),
        );
        r.register(
            "group_members",
            "Group memberships of live sessions, summed over groups (read at scrape time)",
            self.group_members.clone(),
        );
        r.register(
            "actor_mailbox_depth",
            "Calls and closures waiting in an actor's mailbox, by actor (read at scrape time)",
            self.mailbox_depth.clone(),
        );
        self.resume.register(r);
    }

    /// Sets the gauges that are read, not tracked, before the metrics are encoded.
    pub(crate) fn set_scrape_gauges(&self, gauges: &ScrapeGauges<'_>) {
        self.groups.set(saturating_i64(gauges.groups));
        self.group_members.set(saturating_i64(gauges.members));
        for (actor, depth) in gauges.mailboxes {
            self.mailbox_depth
                .get_or_create(&ActorLabels { actor })
                .set(saturating_i64(*depth));
        }
    }

    /// The handles of `route`, a route of `kind` (`"request"` or `"notify"`).
    pub(crate) fn route(&self, route: &'static str, kind: &'static str) -> RouteMetrics {
        let labels = RouteLabels { route, kind };
        RouteMetrics::new(
            self.requests.get_or_create_owned(&labels),
            self.handler_time.get_or_create_owned(&labels),
            self.total_time.get_or_create_owned(&labels),
        )
    }

    /// Counts an error response (or failed notify) of `route` with `code`.
    pub(crate) fn error(&self, route: &'static str, code: i32) {
        self.errors.get_or_create(&CodeLabels { route, code }).inc();
    }

    /// Counts a session opened over `transport`.
    pub(crate) fn session_opened(&self, transport: &'static str) {
        self.sessions_opened
            .get_or_create(&TransportLabels { transport })
            .inc();
        self.sessions_open.inc();
    }

    /// Counts a session closed for `reason`, and its kick or refused handshake if it was one.
    pub(crate) fn session_closed(&self, reason: EndReason) {
        self.sessions_open.dec();
        let labels = ReasonLabels {
            reason: reason.as_str(),
        };
        self.sessions_closed.get_or_create(&labels).inc();
        if let Some(kick) = reason.kick() {
            self.kicks
                .get_or_create(&ReasonLabels {
                    reason: kick.as_str(),
                })
                .inc();
        }
        if let Some(refusal) = reason.handshake_refusal() {
            self.handshakes_refused
                .get_or_create(&ReasonLabels { reason: refusal })
                .inc();
        }
    }

    /// The metrics in the Prometheus text format (OpenMetrics 1.0).
    pub(crate) fn encode(&self, out: &mut String) -> fmt::Result {
        text::encode(out, &self.registry)
    }
}

fn saturating_i64(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}
