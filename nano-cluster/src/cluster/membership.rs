//! Membership: announcing this node, learning the others (and their routes), dropping the
//! silent ones.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::{Message, Request, Subscriber};
use bytes::Bytes;
use futures_util::StreamExt;

use super::lock;
use super::node::Node;
use crate::registry::{Heartbeat, Registry};
use crate::wire::Announce;

/// The other nodes as this node knows them.
#[derive(Default)]
pub(super) struct Membership {
    registry: Mutex<Registry>,
    /// Nodes whose routes are being asked for.
    fetching: Mutex<HashSet<String>>,
}

impl Membership {
    /// Whether any live node serves `route`.
    pub(super) fn serves(&self, route: &str) -> bool {
        lock(&self.registry).serves(route)
    }

    /// The live nodes serving `route`, in name order.
    pub(super) fn serving(&self, route: &str) -> Vec<String> {
        lock(&self.registry).serving(route)
    }

    /// The live nodes serving a route of `component`, in name order.
    pub(super) fn serving_component(&self, component: &str) -> Vec<String> {
        lock(&self.registry).serving_component(component)
    }

    /// Whether `node` is alive and serves `route`.
    pub(super) fn node_serves(&self, node: &str, route: &str) -> bool {
        lock(&self.registry).node_serves(node, route)
    }

    /// Every live peer and the number of routes it serves.
    pub(super) fn nodes(&self) -> HashMap<String, usize> {
        lock(&self.registry).nodes()
    }

    /// How many live peers there are.
    pub(super) fn len(&self) -> usize {
        lock(&self.registry).len()
    }
}

/// The subscriptions the membership task serves.
pub(super) struct MembershipSubscriptions {
    pub(super) announces: Subscriber,
    pub(super) hellos: Subscriber,
    pub(super) leaves: Subscriber,
    pub(super) route_asks: Subscriber,
    pub(super) audits: Subscriber,
    pub(super) member_asks: Subscriber,
}

impl Node {
    /// This node's announcement: `full` with its routes, or a heartbeat.
    pub(super) fn announcement(&self, full: bool) -> Bytes {
        let routes = self
            .link
            .app()
            .ok()
            .filter(|_| full)
            .map(|app| app.routes().into_iter().map(str::to_owned).collect());
        let announce = Announce {
            node: self.link.node().to_owned(),
            instance: self.link.instance,
            routes,
        };
        serde_json::to_vec(&announce).unwrap_or_default().into()
    }

    async fn announce(&self, full: bool) {
        if self.leaving.is_cancelled() {
            return;
        }
        self.link
            .publish(self.link.subject("announce"), self.announcement(full))
            .await;
    }

    /// Another node's announcement: a full one updates the registry, a heartbeat keeps its node
    /// alive or, from a node not known with that run, makes this one ask for its routes.
    fn announced(self: &Arc<Self>, announce: Announce) {
        let node = announce.node;
        if node == self.link.node() {
            if announce.instance != self.link.instance {
                tracing::error!(
                    %node,
                    "another process runs under this node's name: give every node its own"
                );
            }
            return;
        }
        let heartbeat = lock(&self.membership.registry).heartbeat(&node, announce.instance);
        if heartbeat == Heartbeat::Restarted {
            tracing::info!(%node, "node restarted");
            self.node_gone(&node);
        }
        match announce.routes {
            Some(routes) => self.learned(&node, announce.instance, routes),
            None if heartbeat != Heartbeat::Alive => self.ask_routes(node),
            None => {}
        }
    }

    fn learned(&self, node: &str, instance: u64, routes: Vec<String>) {
        if lock(&self.membership.registry).seen(node, instance, routes) {
            tracing::info!(%node, "node joined");
        }
    }

    /// Asks `node` for its routes (once at a time), and records its answer.
    fn ask_routes(self: &Arc<Self>, node: String) {
        if !lock(&self.membership.fetching).insert(node.clone()) {
            return;
        }
        let this = self.clone();
        let asked = node.clone();
        let started = self.tasks.spawn(async move {
            tokio::select! {
                () = this.stop.cancelled() => {}
                () = this.fetch_routes(&asked) => {}
            }
            lock(&this.membership.fetching).remove(&asked);
        });
        if !started {
            lock(&self.membership.fetching).remove(&node);
        }
    }

    async fn fetch_routes(&self, node: &str) {
        let subject = self.link.node_subject(node, "routes");
        let request = Request::new().timeout(Some(self.link.config.request_timeout));
        if let Ok(reply) = self.link.nats.send_request(subject, request).await
            && let Ok(announce) = serde_json::from_slice::<Announce>(&reply.payload)
            && announce.node == node
            && let Some(routes) = announce.routes
        {
            self.learned(node, announce.instance, routes);
        }
    }

    /// Every `heartbeat`: announces this node, and drops what has outlived its use.
    pub(super) async fn announce_loop(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.link.config.heartbeat);
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            self.announce(false).await;
            self.groups.sweep();
            // A call overtaken by its client's departure arrives within the request timeout.
            let keep = self.link.config.request_timeout.max(Duration::from_secs(1)) * 2;
            self.backend.forget_departures_older_than(keep);
            let dead = lock(&self.membership.registry).prune(self.link.config.dead_after);
            for node in dead {
                tracing::warn!(%node, "node dropped: no announcement");
                self.node_gone(&node);
            }
        }
    }

    /// Another node is gone: end the stand-ins of its clients here, and unbind the sessions
    /// bound to it.
    pub(super) fn node_gone(&self, node: &str) {
        self.backend.end_stand_ins_of(node);
        self.gate.unbind_node(node);
        self.rooms.node_gone(node);
    }

    /// Forgets `node` at once (it left, or nobody listens on its subject any more): what
    /// this node kept for it ends too. `why` is logged when the node was known.
    pub(super) fn forget_node(&self, node: &str, why: &str) {
        if lock(&self.membership.registry).remove(node) {
            tracing::info!(%node, "node dropped: {why}");
        }
        self.node_gone(node);
    }

    /// The live peers' names.
    pub(crate) fn peers(&self) -> Vec<String> {
        self.membership.nodes().into_keys().collect()
    }

    /// Whether a live node already runs under this node's name (it answers for its routes).
    pub(super) async fn name_taken(&self) -> bool {
        let subject = self.link.node_subject(self.link.node(), "routes");
        let request = Request::new().timeout(Some(Duration::from_millis(500)));
        match self.link.nats.send_request(subject, request).await {
            Ok(reply) => serde_json::from_slice::<Announce>(&reply.payload)
                .is_ok_and(|announce| announce.instance != self.link.instance),
            // Nobody answers (or nobody listens): the name is free.
            Err(_) => false,
        }
    }

    /// Says hello: a full announcement that also asks the others for theirs.
    pub(super) async fn hello(&self) {
        self.say(self.link.subject("hello"), self.announcement(true))
            .await;
    }

    /// Publishes `payload` on `subject` and flushes, giving up after the request timeout:
    /// while NATS is unreachable the client only reconnects (a flush would wait for it), and
    /// the others drop this node after `dead_after` anyway.
    async fn say(&self, subject: String, payload: Bytes) {
        let said = async {
            self.link.publish(subject, payload).await;
            let _ = self.link.nats.flush().await;
        };
        if tokio::time::timeout(self.link.config.request_timeout, said)
            .await
            .is_err()
        {
            tracing::warn!(node = %self.link.node(), "NATS did not take this node's announcement in time");
        }
    }

    /// Says goodbye (once): the others drop this node at once, and it stops announcing itself.
    pub(super) async fn leave(&self) {
        if self.leaving.is_cancelled() {
            return;
        }
        self.leaving.cancel();
        self.say(self.link.subject("leave"), self.announcement(false))
            .await;
        tracing::info!(node = %self.link.node(), "left the cluster");
    }

    /// Serves what the other nodes say and ask about membership (and the questions asked
    /// of gates: audits, group members).
    pub(super) async fn membership(self: Arc<Self>, mut subscriptions: MembershipSubscriptions) {
        let MembershipSubscriptions {
            announces,
            hellos,
            leaves,
            route_asks,
            audits,
            member_asks,
        } = &mut subscriptions;
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                Some(message) = announces.next() => {
                    if let Ok(announce) = serde_json::from_slice::<Announce>(&message.payload) {
                        self.announced(announce);
                    }
                }
                Some(message) = route_asks.next() => self.answer_route_ask(&message).await,
                Some(message) = audits.next() => self.answer_audit(&message).await,
                Some(message) = member_asks.next() => crate::group::answer_members(&self, &message).await,
                Some(message) = hellos.next() => self.hello_heard(&message).await,
                Some(message) = leaves.next() => self.leave_heard(&message),
                else => return,
            }
        }
    }

    async fn answer_route_ask(&self, message: &Message) {
        if let Some(reply) = &message.reply
            && !self.leaving.is_cancelled()
        {
            self.link
                .publish(reply.to_string(), self.announcement(true))
                .await;
        }
    }

    async fn hello_heard(self: &Arc<Self>, message: &Message) {
        let Ok(hello) = serde_json::from_slice::<Announce>(&message.payload) else {
            return;
        };
        let other = hello.node != self.link.node();
        if other {
            // A node (re)starting: whatever this node kept for its earlier life (its
            // clients' stand-ins, sessions bound to it) is over.
            tracing::info!(node = %hello.node, "node started");
            self.node_gone(&hello.node);
        }
        // A hello is a full announcement too (and checks the name is this run's).
        self.announced(hello);
        if other {
            self.announce(true).await;
        }
    }

    fn leave_heard(&self, message: &Message) {
        let Ok(announce) = serde_json::from_slice::<Announce>(&message.payload) else {
            return;
        };
        if announce.node != self.link.node() {
            self.forget_node(&announce.node, "it left");
        }
    }
}
