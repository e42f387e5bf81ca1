//! [`Node`]: everything one node holds, by side, shared by its [`Cluster`](super::Cluster)
//! handles and its tasks.

use std::sync::{Arc, Mutex};

use async_nats::Client;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::backend::Backend;
use super::calls::Calls;
use super::gate::Gate;
use super::link::Link;
use super::lock;
use super::membership::Membership;
use super::metrics::ClusterMetrics;
use super::outgoing::Outbound;
use super::rooms::Hub;
use super::serving::Serving;
use super::tasks::Tasks;
use crate::local_groups::{GroupFeed, LocalGroups};
use crate::{ClusterConfig, ClusterError, ClusterStats};

/// One node's state. Each side keeps its own; the node's methods that involve several sides
/// live with the side that starts them.
pub(crate) struct Node {
    pub(crate) link: Link,
    pub(super) membership: Membership,
    pub(super) gate: Gate,
    pub(super) calls: Calls,
    /// Calls and relayed messages waiting to be published.
    pub(super) outbound: Arc<Outbound>,
    /// The task publishing them (it ends last, once the other tasks have).
    pub(super) publisher: Mutex<Option<JoinHandle<()>>>,
    pub(super) backend: Backend,
    pub(super) serving: Serving,
    /// Room kinds served here, and rooms this node's clients joined elsewhere.
    pub(super) rooms: Hub,
    /// Local members of cluster groups.
    pub(crate) groups: LocalGroups,
    /// The feeds of new groups, until the inbox task takes them when the node starts (so
    /// that it starts once).
    pub(super) unstarted: Mutex<Option<mpsc::Receiver<GroupFeed>>>,
    /// Cancelled when the node leaves (its app starts shutting down, or
    /// [`Cluster::shutdown`](super::Cluster::shutdown)): it stops announcing itself, and the
    /// others forget it.
    pub(super) leaving: CancellationToken,
    /// Cancelled by [`Cluster::shutdown`](super::Cluster::shutdown): every task of the node
    /// ends.
    pub(crate) stop: CancellationToken,
    /// Every background task of the node but the calls from other nodes (in `serving`): its
    /// loops, the relays of its stand-ins, short-lived ones.
    pub(super) tasks: Tasks,
    /// Calls by node and outcome, for Prometheus.
    pub(super) metrics: ClusterMetrics,
}

impl Node {
    pub(super) fn new(config: ClusterConfig, nats: Client) -> Self {
        let link = Link::new(config, nats);
        let (groups, feeds) = LocalGroups::new(link.nats.clone(), link.subject("group."));
        let outbound = Arc::new(Outbound::new(link.config.max_queued_calls));
        Self {
            link,
            membership: Membership::default(),
            gate: Gate::new(),
            calls: Calls::new(),
            outbound,
            publisher: Mutex::new(None),
            backend: Backend::default(),
            serving: Serving::default(),
            rooms: Hub::default(),
            groups,
            unstarted: Mutex::new(Some(feeds)),
            leaving: CancellationToken::new(),
            stop: CancellationToken::new(),
            tasks: Tasks::default(),
            metrics: ClusterMetrics::default(),
        }
    }

    /// Stops the node, once it has left: the calls from other nodes running here finish (or
    /// are cancelled after the request timeout), then every task ends: stand-ins end here
    /// (their relays send what they have queued, their close callbacks run), calls still
    /// waiting fail, and what was queued to publish goes out. Returns when no task of the node
    /// runs.
    pub(super) async fn shut_down(&self) {
        self.serving.finish(self.link.config.request_timeout).await;
        if !self.stop.is_cancelled() {
            self.stop.cancel();
            self.backend.end_all();
            self.calls.fail_all(|| ClusterError::Stopped);
        }
        self.tasks.close();
        self.tasks.wait().await;
        // What the relays queued as they ended goes out before the node is done.
        self.outbound.close();
        let publisher = lock(&self.publisher).take();
        if let Some(publisher) = publisher {
            let _ = publisher.await;
        }
    }

    /// What this node holds for the cluster right now.
    pub(super) fn stats(&self) -> ClusterStats {
        let (clients, bound_sessions) = self.gate.counts();
        ClusterStats {
            peers: self.membership.len(),
            clients,
            bound_sessions,
            stand_ins: self.backend.len(),
            pending_calls: self.calls.len(),
            local_groups: self.groups.len(),
            tasks: self.tasks.len() + self.serving.len(),
        }
    }
}
