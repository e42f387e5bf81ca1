//! [`ResumeMetrics`]: the session-resume families (docs/PROTOCOL-EXTENSIONS.md).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::resume::ResumeRefusal;

/// `{outcome}`: `resumed`, or the reason a resume was refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Resumes attempted and how they went, pushes replayed, buffers overflowed, and the
/// sessions waiting for their clients.
#[derive(Default)]
pub(crate) struct ResumeMetrics {
    resumes: Family<OutcomeLabels, Counter>,
    pub(crate) replayed: Counter,
    pub(crate) overflows: Counter,
    pub(crate) dropped: Gauge,
}

impl ResumeMetrics {
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "resumes",
            "Session resumes attempted, by outcome (resumed, or why it was refused)",
            self.resumes.clone(),
        );
        registry.register(
            "resume_replayed_pushes",
            "Pushes replayed to clients that resumed their sessions",
            self.replayed.clone(),
        );
        registry.register(
            "resume_overflows",
            "Dropped sessions closed because the pushes their clients missed outgrew the replay buffer",
            self.overflows.clone(),
        );
        registry.register(
            "sessions_dropped",
            "Sessions whose connection dropped, waiting for their clients to resume them",
            self.dropped.clone(),
        );
    }

    /// Counts a resume that succeeded (`None`) or was refused.
    pub(crate) fn attempted(&self, refusal: Option<ResumeRefusal>) {
        let outcome = refusal.map_or("resumed", ResumeRefusal::reason);
        self.resumes.get_or_create(&OutcomeLabels { outcome }).inc();
    }
}
