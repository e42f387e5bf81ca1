//! [`ClusterMetrics`]: what a node records for Prometheus, in the app's registry under
//! `nano_cluster_` (registered by [`Cluster::attach`](super::Cluster::attach)): calls to other
//! nodes by node and outcome with their latency, and, read at each scrape, what
//! [`ClusterStats`] counts (nodes seen, stand-ins, calls waiting, ...).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use nano_core::__private::LatencyHistogram;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::lock;
use super::node::Node;
use crate::{ClusterError, ClusterStats};

/// `{node, outcome}`: the node called and how the call ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    node: String,
    outcome: &'static str,
}

/// `{node}`: the node called.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    node: String,
}

/// The families of one node; clones share them.
#[derive(Clone, Default)]
pub(super) struct ClusterMetrics {
    calls: Family<CallLabels, Counter>,
    call_time: Family<NodeLabels, LatencyHistogram>,
    /// The `ok` counter and the latency of each node called, as in the families: found by
    /// name without making labels (a call's hot path; the other outcomes are rare).
    answered: Arc<Mutex<HashMap<String, (Counter, LatencyHistogram)>>>,
}

/// How a call ended, as the `outcome` label: `ok` when the other node answered (its handler
/// may still have answered with an error code, counted by that node's own metrics).
fn outcome<T>(result: &Result<T, ClusterError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(ClusterError::Timeout(_)) => "timeout",
        Err(ClusterError::Unavailable(_)) => "unavailable",
        Err(ClusterError::AnswerLost(_)) => "answer_lost",
        Err(ClusterError::MalformedAnswer(_)) => "malformed_answer",
        Err(ClusterError::Nats { .. }) => "nats_error",
        Err(ClusterError::Stopped) => "stopped",
        Err(ClusterError::Backlog(_)) => "backlog",
        Err(_) => "error",
    }
}

fn call_labels(node: &str, outcome: &'static str) -> CallLabels {
    CallLabels {
        node: node.to_owned(),
        outcome,
    }
}

impl ClusterMetrics {
    /// Records a call to `node` that took `elapsed` and ended with `result`.
    pub(super) fn call<T>(&self, node: &str, result: &Result<T, ClusterError>, elapsed: Duration) {
        let outcome = outcome(result);
        if outcome != "ok" {
            self.calls.get_or_create(&call_labels(node, outcome)).inc();
            return;
        }
        let mut answered = lock(&self.answered);
        let (count, time) = match answered.get(node) {
            Some(metrics) => metrics,
            None => {
                let count = self
                    .calls
                    .get_or_create(&call_labels(node, outcome))
                    .clone();
                let labels = NodeLabels {
                    node: node.to_owned(),
                };
                let time = self.call_time.get_or_create(&labels).clone();
                answered.entry(node.to_owned()).or_insert((count, time))
            }
        };
        count.inc();
        time.observe(elapsed);
    }

    /// Registers the families, and the node's [`ClusterStats`] read at each scrape, under
    /// `cluster_` in `registry` (the app's, itself under `nano_`).
    pub(super) fn register(&self, registry: &mut Registry, node: Weak<Node>) {
        let registry = registry.sub_registry_with_prefix("cluster");
        registry.register(
            "calls",
            "Calls to other nodes (forwarded client messages and RPCs), by node and outcome",
            self.calls.clone(),
        );
        registry.register(
            "call_duration_seconds",
            "Time from a call sent to its answer received, by node (answered calls only)",
            self.call_time.clone(),
        );
        registry.register_collector(Box::new(StatsCollector(node)));
    }
}

/// Encodes the node's [`ClusterStats`] as gauges when scraped (nothing once the node is gone).
struct StatsCollector(Weak<Node>);

impl fmt::Debug for StatsCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatsCollector").finish_non_exhaustive()
    }
}

/// The gauges of [`ClusterStats`]: name, help, value.
fn gauges(stats: &ClusterStats) -> [(&'static str, &'static str, usize); 6] {
    [
        (
            "peers",
            "Live nodes this node knows (itself excluded)",
            stats.peers,
        ),
        (
            "clients",
            "Gate side: clients whose messages went to other nodes",
            stats.clients,
        ),
        (
            "bound_sessions",
            "Sessions bound to a node for at least one component",
            stats.bound_sessions,
        ),
        (
            "stand_ins",
            "Backend side: stand-in sessions for clients of other nodes",
            stats.stand_ins,
        ),
        (
            "pending_calls",
            "Calls to other nodes waiting for their answer",
            stats.pending_calls,
        ),
        (
            "local_groups",
            "Cluster groups with a part on this node",
            stats.local_groups,
        ),
    ]
}

impl Collector for StatsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let Some(node) = self.0.upgrade() else {
            return Ok(());
        };
        for (name, help, value) in gauges(&node.stats()) {
            let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
            let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}
