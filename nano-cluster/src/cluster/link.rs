//! [`Link`]: what every side of a node shares: its NATS client, its settings and the subjects
//! they name, which run of the node this is, and its app once started.

use std::sync::OnceLock;

use async_nats::Client;
use bytes::Bytes;
use nano_core::App;

use crate::{ClusterConfig, ClusterError};

/// One node's connection to the others.
pub(crate) struct Link {
    pub(crate) config: ClusterConfig,
    pub(crate) nats: Client,
    /// Which run of this node this is, so that the others tell a restart from a heartbeat.
    pub(crate) instance: u64,
    app: OnceLock<App>,
}

impl Link {
    pub(super) fn new(config: ClusterConfig, nats: Client) -> Self {
        Self {
            config,
            nats,
            instance: random_u64(),
            app: OnceLock::new(),
        }
    }

    /// This node's name.
    pub(crate) fn node(&self) -> &str {
        &self.config.node
    }

    /// The app, once the node is started.
    pub(crate) fn app(&self) -> Result<&App, ClusterError> {
        self.app.get().ok_or(ClusterError::NotStarted)
    }

    pub(super) fn set_app(&self, app: &App) {
        let _ = self.app.set(app.clone());
    }

    /// `<prefix>.<rest>`.
    pub(crate) fn subject(&self, rest: &str) -> String {
        self.config.subject(rest)
    }

    /// `<prefix>.node.<node>.<what>`: a subject only `node` listens on.
    pub(crate) fn node_subject(&self, node: &str, what: &str) -> String {
        self.subject(&format!("node.{node}.{what}"))
    }

    /// The subject of `node`'s inbox for `what` (`event`, or `answer.<run>.<call id>`).
    pub(crate) fn inbox(&self, node: &str, what: &str) -> String {
        self.node_subject(node, &format!("in.{what}"))
    }

    /// Where the answers to this run's calls arrive: this prefix and the call's id.
    pub(super) fn answers(&self) -> String {
        self.inbox(self.node(), &format!("answer.{:x}.", self.instance))
    }

    /// Publishes, logging a failure (what is lost is covered by timeouts and audits).
    pub(crate) async fn publish(&self, subject: String, payload: Bytes) {
        if let Err(err) = self.nats.publish(subject, payload).await {
            tracing::warn!(error = %err, "cluster publish failed");
        }
    }
}

/// A random number (from the standard library's randomly keyed hasher).
pub(super) fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    std::hash::RandomState::new().hash_one(std::process::id())
}
