//! [`ClusterGroup`]: a group whose members may be connected to any node.

use std::sync::Arc;

use bytes::Bytes;
use nano_core::{GroupError, Session, TransportKind};
use serde::Serialize;

use crate::ClusterError;
use crate::cluster::Inner;
use crate::wire::{self, Event, GroupPush};

/// A group across the cluster: every node keeps the members connected to it, and a
/// broadcast is published once on NATS and pushed by each node to its own members.
///
/// A member added on a backend (a stand-in for a client of another node) is added on the
/// node its client is connected to. Members leave automatically when their client leaves.
///
/// # Examples
///
/// ```no_run
/// # async fn run(cluster: nano_cluster::Cluster, session: nano_core::Session) -> Result<(), nano_cluster::ClusterError> {
/// let lobby = cluster.group("lobby");
/// lobby.add(&session).await?;
/// lobby.broadcast("onMessage", &serde_json::json!({ "content": "hello, everyone" })).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClusterGroup {
    inner: Arc<Inner>,
    name: String,
}

impl std::fmt::Debug for ClusterGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterGroup")
            .field("name", &self.name)
            .finish()
    }
}

impl ClusterGroup {
    pub(crate) fn new(inner: Arc<Inner>, name: String) -> Self {
        Self { inner, name }
    }

    /// The group's name (one NATS subject token).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds `session`, on the node its client is connected to.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Group`] for a local session that cannot join (closed, already a member);
    /// for a stand-in, [`ClusterError::Remote`] (code 400) with the reason its client's node
    /// gave, or [`ClusterError::Timeout`]/[`ClusterError::Unavailable`] when that node does not
    /// answer.
    pub async fn add(&self, session: &Session) -> Result<(), ClusterError> {
        self.check_name()?;
        match self.inner.gate_of(session) {
            Some(gate) => {
                // Waits for the client's node to have joined (and subscribed).
                let event = Event {
                    session: session.id(),
                    kind: "join".to_owned(),
                    name: self.name.clone(),
                };
                self.inner.confirm_event(&gate, &event).await
            }
            None => crate::local_groups::join(&self.inner, &self.name, session).await,
        }
    }

    /// Removes `session`.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Group`] for a local session that is not a member.
    pub async fn leave(&self, session: &Session) -> Result<(), ClusterError> {
        self.check_name()?;
        if session.transport() == TransportKind::Remote {
            if let Some(gate) = self.inner.gate_of(session) {
                let event = Event {
                    session: session.id(),
                    kind: "leave".to_owned(),
                    name: self.name.clone(),
                };
                self.inner.send_event(&gate, &event).await;
            }
            return Ok(());
        }
        self.inner.groups.leave(&self.name, session)?;
        Ok(())
    }

    /// Members connected to this node.
    pub fn local_count(&self) -> usize {
        self.inner
            .groups
            .get(&self.name)
            .map_or(0, |group| group.count())
    }

    /// Pushes `value` on `route` to every member on every node, serialized once.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Serializer`], [`ClusterError::NotStarted`],
    /// [`ClusterError::InvalidGroup`].
    pub async fn broadcast<T: Serialize + ?Sized>(
        &self,
        route: &str,
        value: &T,
    ) -> Result<(), ClusterError> {
        let payload = self.inner.app()?.serializer().serialize(value)?;
        self.broadcast_raw(route, payload).await
    }

    /// Pushes an already-serialized payload on `route` to every member on every node.
    ///
    /// # Errors
    ///
    /// [`ClusterError::InvalidGroup`].
    pub async fn broadcast_raw(&self, route: &str, payload: Bytes) -> Result<(), ClusterError> {
        self.check_name()?;
        let push = GroupPush {
            route: route.to_owned(),
        };
        let subject = self.inner.config.subject(&format!("group.{}", self.name));
        self.inner
            .publish(subject, wire::encode(&push, &payload))
            .await;
        Ok(())
    }

    /// A group name must be one NATS subject token: no `.`, `*`, `>` or whitespace.
    fn check_name(&self) -> Result<(), ClusterError> {
        if crate::config::is_subject_token(&self.name) {
            Ok(())
        } else {
            Err(ClusterError::InvalidGroup(self.name.clone()))
        }
    }
}

impl From<GroupError> for ClusterError {
    fn from(error: GroupError) -> Self {
        ClusterError::Group(error)
    }
}
