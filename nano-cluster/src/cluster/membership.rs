//! Membership: announcing this node, learning the others (and their routes), dropping the
//! silent ones.

use super::*;

impl Inner {
    /// This node's announcement: `full` with its routes, or a heartbeat.
    pub(super) fn announcement(&self, full: bool) -> Bytes {
        let routes = self
            .app
            .get()
            .filter(|_| full)
            .map(|app| app.routes().into_iter().map(str::to_owned).collect());
        let announce = Announce {
            node: self.config.node.clone(),
            instance: self.instance,
            routes,
        };
        serde_json::to_vec(&announce).unwrap_or_default().into()
    }

    pub(super) async fn announce(&self, full: bool) {
        if self.leaving.is_cancelled() {
            return;
        }
        self.publish(self.config.subject("announce"), self.announcement(full))
            .await;
    }

    /// Another node's announcement: a full one updates the registry, a heartbeat keeps its node
    /// alive or, from a node not known with that run, makes this one ask for its routes.
    pub(super) fn announced(self: &Arc<Self>, announce: Announce) {
        let node = announce.node;
        if node == self.config.node {
            if announce.instance != self.instance {
                tracing::error!(
                    %node,
                    "another process runs under this node's name: give every node its own"
                );
            }
            return;
        }
        let heartbeat = lock(&self.registry).heartbeat(&node, announce.instance);
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

    pub(super) fn learned(&self, node: &str, instance: u64, routes: Vec<String>) {
        if lock(&self.registry).seen(node, instance, routes) {
            tracing::info!(%node, "node joined");
        }
    }

    /// Asks `node` for its routes (once at a time), and records its answer.
    pub(super) fn ask_routes(self: &Arc<Self>, node: String) {
        if !lock(&self.fetching).insert(node.clone()) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let subject = this.config.subject(&format!("node.{node}.routes"));
            let request = Request::new().timeout(Some(this.config.request_timeout));
            if let Ok(reply) = this.nats.send_request(subject, request).await
                && let Ok(announce) = serde_json::from_slice::<Announce>(&reply.payload)
                && announce.node == node
                && let Some(routes) = announce.routes
            {
                this.learned(&node, announce.instance, routes);
            }
            lock(&this.fetching).remove(&node);
        });
    }

    pub(super) async fn announce_loop(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.config.heartbeat);
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            self.announce(false).await;
            self.groups.sweep();
            // A call overtaken by its client's departure arrives within the request timeout.
            let keep = self.config.request_timeout.max(Duration::from_secs(1)) * 2;
            lock(&self.departed).retain(|_, since| since.elapsed() < keep);
            let dead = lock(&self.registry).prune(self.config.dead_after);
            for node in dead {
                tracing::warn!(%node, "node dropped: no announcement");
                self.node_gone(&node);
            }
        }
    }

    /// Another node is gone: end the stand-ins of its clients here.
    pub(super) fn node_gone(&self, node: &str) {
        let gone: Vec<Remote> = {
            let mut remotes = lock(&self.remotes);
            let keys: Vec<(String, u64)> = remotes
                .keys()
                .filter(|(gate, _)| gate == node)
                .cloned()
                .collect();
            keys.iter().filter_map(|key| remotes.remove(key)).collect()
        };
        for remote in gone {
            remote.finish.notify_one();
        }
        lock(&self.bindings).retain(|_, components| {
            components.retain(|_, bound| bound != node);
            !components.is_empty()
        });
    }

    pub(super) async fn membership(
        self: Arc<Self>,
        mut announces: async_nats::Subscriber,
        mut hellos: async_nats::Subscriber,
        mut leaves: async_nats::Subscriber,
        mut route_asks: async_nats::Subscriber,
        mut audits: async_nats::Subscriber,
        mut member_asks: async_nats::Subscriber,
    ) {
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                Some(message) = announces.next() => {
                    if let Ok(announce) = serde_json::from_slice::<Announce>(&message.payload) {
                        self.announced(announce);
                    }
                }
                Some(message) = route_asks.next() => {
                    if let Some(reply) = message.reply && !self.leaving.is_cancelled() {
                        self.publish(reply.to_string(), self.announcement(true)).await;
                    }
                }
                Some(message) = audits.next() => self.answer_audit(&message).await,
                Some(message) = member_asks.next() => crate::group::answer_members(&self, &message).await,
                Some(message) = hellos.next() => {
                    let Ok(hello) = serde_json::from_slice::<Announce>(&message.payload) else { continue };
                    let other = hello.node != self.config.node;
                    if other {
                        // A node (re)starting: whatever this node kept for its earlier life
                        // (its clients' stand-ins, sessions bound to it) is over.
                        tracing::info!(node = %hello.node, "node started");
                        self.node_gone(&hello.node);
                    }
                    // A hello is a full announcement too (and checks the name is this run's).
                    self.announced(hello);
                    if other {
                        self.announce(true).await;
                    }
                }
                Some(message) = leaves.next() => {
                    let Ok(announce) = serde_json::from_slice::<Announce>(&message.payload) else { continue };
                    if announce.node != self.config.node {
                        self.forget_node(&announce.node, "it left");
                    }
                }
                else => return,
            }
        }
    }
}
