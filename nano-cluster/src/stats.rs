//! [`ClusterStats`]: what a node holds for the cluster, for dashboards and leak checks.

use serde::Serialize;

/// A snapshot of what one node holds for the cluster ([`Cluster::stats`](crate::Cluster::stats)).
///
/// Every figure returns to zero (or to the number of live peers, or the node's own few tasks)
/// when the clients are gone: a figure that only grows is a leak worth reporting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Live peers this node knows.
    pub peers: usize,
    /// Gate side: this node's clients whose messages went to other nodes.
    pub clients: usize,
    /// Sessions bound to a node for at least one component.
    pub bound_sessions: usize,
    /// Backend side: stand-in sessions for clients of other nodes.
    pub stand_ins: usize,
    /// Calls to other nodes waiting for their answer.
    pub pending_calls: usize,
    /// Cluster groups this node has a part of (with local members, or empty since the last
    /// heartbeat).
    pub local_groups: usize,
    /// Background tasks of the node: a fixed few while it runs, one relay per stand-in, one
    /// per call from another node running here, and short-lived ones (a departure being
    /// told, routes being asked for); 0 once [`Cluster::shutdown`](crate::Cluster::shutdown)
    /// has returned.
    pub tasks: usize,
}
