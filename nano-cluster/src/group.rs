//! [`ClusterGroup`]: a group whose members may be connected to any node.

use std::sync::Arc;
use std::time::Duration;

use async_nats::Request;
use bytes::Bytes;
use futures_util::future::join_all;
use nano_core::{GroupError, Session, TransportKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ClusterError;
use crate::cluster::Node;
use crate::local_groups::FeedTo;
use crate::wire::{self, Event, EventKind, GroupPush, Held};

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
    node: Arc<Node>,
    name: String,
}

impl std::fmt::Debug for ClusterGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterGroup")
            .field("name", &self.name)
            .finish()
    }
}

/// A member of a cluster group, as the node its client is connected to sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClusterMember {
    /// The node the member's client is connected to.
    pub node: String,
    /// The session's id (unique in the cluster).
    pub session: u64,
    /// The uid bound to the session, if any.
    pub uid: Option<i64>,
    /// The session's synchronized values (a player's name, say).
    pub synced: Map<String, Value>,
}

/// The members of `node`'s local part of group `name`.
fn local_members(node: &Node, name: &str) -> Vec<ClusterMember> {
    node.groups.get(name).map_or_else(Vec::new, |group| {
        group
            .members()
            .iter()
            .map(|session| ClusterMember {
                node: node.link.node().to_owned(),
                session: session.id(),
                uid: session.uid(),
                synced: session.synced(),
            })
            .collect()
    })
}

/// Answers another node's question: the members of a group connected here.
pub(crate) async fn answer_members(node: &Node, message: &async_nats::Message) {
    let Some(reply) = message.reply.clone() else {
        return;
    };
    let name = String::from_utf8_lossy(&message.payload);
    let members = serde_json::to_vec(&local_members(node, &name)).unwrap_or_default();
    node.link.publish(reply.to_string(), members.into()).await;
}

impl ClusterGroup {
    pub(crate) fn new(node: Arc<Node>, name: String) -> Self {
        Self { node, name }
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
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may or may not leave `session` a member (for a stand-in, the join
    /// may already be on its way to the client's node), but never leaves this node's part of
    /// the group without its subscription: call `add` again, or `leave`, to be sure.
    pub async fn add(&self, session: &Session) -> Result<(), ClusterError> {
        self.check_name()?;
        match self.node.gate_of(session) {
            Some(gate) => {
                // Waits for the client's node to have joined (and subscribed).
                let event = Event::new(session.id(), EventKind::Join, self.name.clone());
                self.node.confirm_event(&gate, &event).await
            }
            None => {
                let to = FeedTo::Queue;
                self.node.groups.join(&self.name, session, to).await
            }
        }
    }

    /// Removes `session`.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Group`] for a local session that is not a member.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe for a local session (it leaves before the first await); for a stand-in,
    /// dropping the future may or may not have sent the leave to the client's node.
    pub async fn leave(&self, session: &Session) -> Result<(), ClusterError> {
        self.check_name()?;
        if session.transport() == TransportKind::Remote {
            if let Some(gate) = self.node.gate_of(session) {
                let event = Event::new(session.id(), EventKind::Leave, self.name.clone());
                self.node.send_event(&gate, &event).await;
            }
            return Ok(());
        }
        self.node.groups.leave(&self.name, session)?;
        Ok(())
    }

    /// Every member on every node: this node's, and those of each live peer, asked
    /// concurrently (a peer that does not answer within a second is left out, with a warning).
    ///
    /// A member's synchronized values are as its client's node has them: values a handler
    /// sets during the call that asks reach that node with the handler's answer.
    ///
    /// # Errors
    ///
    /// [`ClusterError::InvalidGroup`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only asks.
    pub async fn members(&self) -> Result<Vec<ClusterMember>, ClusterError> {
        self.check_name()?;
        let node = &self.node;
        let peers = node.peers();
        let asks = peers.iter().map(|peer| async move {
            let subject = node.link.node_subject(peer, "members");
            let request = Request::new()
                .payload(Bytes::from(self.name.clone()))
                .timeout(Some(
                    node.link.config.request_timeout.min(Duration::from_secs(1)),
                ));
            match node.link.nats.send_request(subject, request).await {
                Ok(reply) => {
                    serde_json::from_slice::<Vec<ClusterMember>>(&reply.payload).unwrap_or_default()
                }
                Err(err) => {
                    tracing::warn!(%peer, error = %err, group = %self.name, "members not known");
                    Vec::new()
                }
            }
        });
        let mut members = local_members(node, &self.name);
        for answer in join_all(asks).await {
            members.extend(answer);
        }
        Ok(members)
    }

    /// Members connected to this node.
    pub fn local_count(&self) -> usize {
        self.node
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
    ///
    /// # Cancel safety
    ///
    /// As [`broadcast_raw`](Self::broadcast_raw).
    pub async fn broadcast<T: Serialize + ?Sized>(
        &self,
        route: &str,
        value: &T,
    ) -> Result<(), ClusterError> {
        let payload = self.node.link.app()?.serializer().serialize(value)?;
        self.broadcast_raw(route, payload).await
    }

    /// Pushes an already-serialized payload on `route` to every member on every node.
    ///
    /// # Errors
    ///
    /// [`ClusterError::InvalidGroup`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may or may not have sent the broadcast, never half of it to some
    /// nodes: it is one NATS message. A broadcast held for ordering whose release was not
    /// sent still goes out, at most a second late.
    pub async fn broadcast_raw(&self, route: &str, payload: Bytes) -> Result<(), ClusterError> {
        self.check_name()?;
        let node = &self.node;
        let subject = node.groups.subject(&self.name);
        // From a handler running for a client of another node: the broadcast goes out through
        // that session's relay, in order with the handler's pushes and answer, and its gate
        // holds it until the release that follows (same publisher, so it arrives first).
        if let Some(session) = nano_core::remote::dispatched_session()
            && let Some((gate, ordered)) = node.ordered_for(&session)
        {
            let key = node.broadcast_key();
            let push = GroupPush {
                route: route.to_owned(),
                held: Some(Held {
                    gate: gate.clone(),
                    key: key.clone(),
                }),
            };
            let release = Event {
                key,
                ..Event::new(session.id(), EventKind::Release, self.name.clone())
            };
            let held = (subject.into(), wire::encode(&push, &payload));
            if ordered.send(held).await.is_ok() {
                let release = (
                    node.link.inbox(&gate, "event").into(),
                    wire::encode(&release, &[]),
                );
                let _ = ordered.send(release).await;
                return Ok(());
            }
            // The relay has ended (the client left): its gate holds nothing; send it plainly.
            return self.publish_plain(route, payload).await;
        }
        self.publish_plain(route, payload).await
    }

    async fn publish_plain(&self, route: &str, payload: Bytes) -> Result<(), ClusterError> {
        let push = GroupPush {
            route: route.to_owned(),
            held: None,
        };
        let subject = self.node.groups.subject(&self.name);
        self.node
            .link
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
