//! [`ClusterGroup`]: a group whose members may be connected to any node.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use nano_core::{Group, GroupError, Session, TransportKind};
use serde::Serialize;

use crate::ClusterError;
use crate::cluster::{Inner, lock};
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

/// This node's part of the cluster group `name`, subscribed to its broadcasts (on first use,
/// before this returns, so that no broadcast after a join is missed).
pub(crate) async fn local_group(inner: &Arc<Inner>, name: &str) -> Group {
    if let Some(group) = lock(&inner.groups).get(name) {
        return group.clone();
    }
    let subject = inner.config.subject(&format!("group.{name}"));
    let subscription = inner.nats.subscribe(subject).await;
    let mut groups = lock(&inner.groups);
    if let Some(group) = groups.get(name) {
        // Another task created it meanwhile; its subscription serves both.
        return group.clone();
    }
    let group = Group::new(name);
    groups.insert(name.to_owned(), group.clone());
    match subscription {
        Ok(mut pushes) => {
            let local = group.clone();
            tokio::spawn(async move {
                while let Some(message) = pushes.next().await {
                    if let Some((push, payload)) = wire::decode::<GroupPush>(&message.payload) {
                        let _ = local.broadcast_raw(push.route, payload);
                    }
                }
            });
        }
        Err(err) => {
            tracing::warn!(error = %err, group = name, "cannot subscribe to a cluster group");
        }
    }
    group
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
    /// [`ClusterError::Group`] for a local session that cannot join (closed, already a member).
    pub async fn add(&self, session: &Session) -> Result<(), ClusterError> {
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
            None => {
                local_group(&self.inner, &self.name).await.add(session)?;
                let _ = self.inner.nats.flush().await;
                Ok(())
            }
        }
    }

    /// Removes `session`.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Group`] for a local session that is not a member.
    pub async fn leave(&self, session: &Session) -> Result<(), ClusterError> {
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
        local_group(&self.inner, &self.name).await.leave(session)?;
        Ok(())
    }

    /// Members connected to this node.
    pub fn local_count(&self) -> usize {
        lock(&self.inner.groups)
            .get(&self.name)
            .map_or(0, Group::count)
    }

    /// Pushes `value` on `route` to every member on every node, serialized once.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Serializer`], [`ClusterError::NotStarted`].
    pub async fn broadcast<T: Serialize + ?Sized>(
        &self,
        route: &str,
        value: &T,
    ) -> Result<(), ClusterError> {
        let payload = self.inner.app()?.serializer().serialize(value)?;
        self.broadcast_raw(route, payload).await;
        Ok(())
    }

    /// Pushes an already-serialized payload on `route` to every member on every node.
    pub async fn broadcast_raw(&self, route: &str, payload: Bytes) {
        let push = GroupPush {
            route: route.to_owned(),
        };
        let subject = self.inner.config.subject(&format!("group.{}", self.name));
        self.inner
            .publish(subject, wire::encode(&push, &payload))
            .await;
    }
}

impl From<GroupError> for ClusterError {
    fn from(error: GroupError) -> Self {
        ClusterError::Group(error)
    }
}
