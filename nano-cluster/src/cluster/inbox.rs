//! [`Inbox`]: the task that handles what other nodes send this node, one message at a time in
//! arrival order: answers to its calls, what backends' handlers do to its clients, and
//! cluster-group broadcasts.

use std::sync::Arc;

use async_nats::{Message, Subscriber};
use bytes::Bytes;
use futures_util::StreamExt;
use nano_core::Session;
use nano_core::protocol::EncodedPacket;
use tokio::sync::mpsc;

use super::holding::{HOLD_AT_MOST, Holding};
use super::node::Node;
use crate::local_groups::{FeedTo, Feeds, GroupFeed};
use crate::wire::{self, Event, EventKind, GroupPush};

/// The inbox task's state.
///
/// Answers and events share one subscription (`<prefix>.node.<node>.in.>`), so that they are
/// handled in the order they were sent: a backend's pushes reach the client before the
/// response of the handler that pushed them. Cluster-group broadcasts come on their own
/// subscriptions and take turns with the inbox (a flood of either does not starve the other);
/// a broadcast held for one of this node's clients waits for its `release` in the inbox.
pub(super) struct Inbox {
    node: Arc<Node>,
    /// Where answers to this run's calls arrive (one meant for an earlier run is dropped).
    answers: String,
    /// `<prefix>.group.`.
    group_prefix: String,
    /// Feeds of groups other tasks made this node part of.
    new_feeds: mpsc::Receiver<GroupFeed>,
    feeds: Feeds,
    holding: Holding,
}

impl Inbox {
    pub(super) fn new(node: Arc<Node>, new_feeds: mpsc::Receiver<GroupFeed>) -> Self {
        Self {
            answers: node.link.answers().to_owned(),
            group_prefix: node.link.subject("group."),
            node,
            new_feeds,
            feeds: Feeds::new(),
            holding: Holding::default(),
        }
    }

    /// Handles the inbox and the group feeds until the node stops.
    pub(super) async fn run(mut self, mut inbox: Subscriber) {
        loop {
            self.holding.expire();
            let message = tokio::select! {
                () = self.node.stop.cancelled() => return,
                Some(feed) = self.new_feeds.recv() => {
                    self.feeds.push(feed);
                    continue;
                }
                Some(message) = self.feeds.next(), if !self.feeds.is_empty() => {
                    self.group_broadcast(&message);
                    continue;
                }
                message = inbox.next() => match message { Some(message) => message, None => return },
                // Nothing else comes: a held broadcast still goes out in time.
                () = tokio::time::sleep(HOLD_AT_MOST), if !self.holding.is_empty() => continue,
            };
            self.handle(message).await;
        }
    }

    async fn handle(&mut self, message: Message) {
        if let Some(id) = message.subject.strip_prefix(self.answers.as_str()) {
            if let Ok(id) = id.parse() {
                self.node.answered(id, &message);
            }
            return;
        }
        let Some((event, payload)) = wire::decode::<Event>(&message.payload) else {
            return;
        };
        if event.kind == EventKind::Release {
            self.release(&event.name, &event.key).await;
            return;
        }
        let outcome = self.apply_event(event, payload).await;
        // Confirm events that ask for it (group joins), with what went wrong if anything.
        if let Some(reply) = message.reply {
            self.node
                .link
                .publish(reply.to_string(), outcome.into())
                .await;
        }
    }

    /// A held broadcast's turn: it arrived before this release (same publisher), so it is
    /// held already or waiting in its group's feed.
    async fn release(&mut self, group: &str, key: &str) {
        if self.node.groups.get(group).is_some() {
            let deadline = tokio::time::Instant::now() + HOLD_AT_MOST;
            while !self.holding.holds(key) {
                let message = tokio::select! {
                    biased;
                    Some(feed) = self.new_feeds.recv() => {
                        self.feeds.push(feed);
                        continue;
                    }
                    Some(message) = self.feeds.next(), if !self.feeds.is_empty() => message,
                    () = tokio::time::sleep_until(deadline) => break,
                };
                self.group_broadcast(&message);
            }
        }
        self.holding.release(key);
    }

    /// What a backend's handler did to one of this node's clients; returns what went wrong,
    /// if anything (for events that ask for a confirmation).
    async fn apply_event(&mut self, event: Event, payload: Bytes) -> String {
        let Some(session) = self.node.gate.client(event.session) else {
            return format!("session {} is closed", event.session);
        };
        match event.kind {
            EventKind::Packet => self.push(&session, payload),
            EventKind::Kick => session.kick(event.name),
            EventKind::Close => session.close(),
            EventKind::Join => {
                let to = FeedTo::Feeds(&mut self.feeds);
                if let Err(err) = self.node.groups.join(&event.name, &session, to).await {
                    return err.to_string();
                }
            }
            EventKind::Leave => {
                if let Err(err) = self.node.groups.leave(&event.name, &session) {
                    return err.to_string();
                }
            }
            // Handled before: a release needs no session.
            EventKind::Release => {}
            EventKind::Unknown(kind) => tracing::debug!(%kind, "unknown cluster event ignored"),
        }
        String::new()
    }

    /// A backend's push to `session`.
    fn push(&self, session: &Session, packet: Bytes) {
        match EncodedPacket::from_wire(packet) {
            Ok(packet) => {
                // Encoded on the backend without this node's dictionary.
                let packet = match self.node.link.app() {
                    Ok(app) => packet.compress_route(app.dict()),
                    Err(_) => packet,
                };
                let _ = nano_core::remote::push_packet(session, packet);
            }
            Err(err) => tracing::warn!(error = %err, "malformed packet from a backend"),
        }
    }

    /// A broadcast to a cluster group, pushed to the group's members on this node.
    fn group_broadcast(&mut self, message: &Message) {
        let Some(name) = message.subject.strip_prefix(self.group_prefix.as_str()) else {
            return;
        };
        let Some(group) = self.node.groups.get(name) else {
            return;
        };
        let Some((push, payload)) = wire::decode::<GroupPush>(&message.payload) else {
            return;
        };
        match push.held {
            // Sent by a handler for one of this node's clients: wait for its release.
            Some(held) if held.gate == self.node.link.node() => {
                self.holding.hold(held.key, group, push.route, payload);
            }
            _ => {
                let _ = group.broadcast_raw(push.route, payload);
            }
        }
    }
}
