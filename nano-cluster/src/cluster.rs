//! [`Cluster`]: one node's link to the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::Duration;

use async_nats::{Client, Request, RequestErrorKind, StatusCode};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::SelectAll;
use nano_core::protocol::EncodedPacket;
use nano_core::remote::{RemoteEvent, RemoteRouter, ReplyFuture};
use nano_core::{App, AppBuilder, HandlerError, Reply, Session, TransportKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::config::is_subject_token;
use crate::local_groups::{GroupFeed, LocalGroups};
use crate::registry::{Heartbeat, Registry};
use crate::wire::{self, Announce, Answer, Call, Closed, Event, GroupPush, SessionInfo};
use crate::{ClusterConfig, ClusterError, ClusterGroup};

/// Chooses the node that serves `route` for `session` among `candidates` (live nodes serving
/// it, in name order).
pub type RouteFn = Arc<dyn Fn(&Session, &str, &[String]) -> Option<String> + Send + Sync>;

/// Where a stand-in session's client lives, kept in the session's value store.
const GATE_KEY: &str = "nano.cluster.gate";

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How many answers to one stand-in session's calls may wait behind its pushes.
const ANSWER_QUEUE: usize = 16;

/// Session ids per audit request (8 bytes or so each, far below NATS's payload limit).
const AUDIT_CHUNK: usize = 1_000;

/// A stand-in session on a backend, and how to end it.
struct Remote {
    session: Session,
    finish: Arc<Notify>,
    /// Answers to this session's calls, sent after the pushes its handlers queued before.
    answers: mpsc::Sender<(async_nats::Subject, Bytes)>,
}

/// A call to another node waiting for its answer.
struct Pending {
    node: String,
    answer: oneshot::Sender<Result<(Answer, Bytes), ClusterError>>,
}

/// Forgets a pending call when its caller stops waiting (answered, timed out or dropped).
struct PendingGuard<'a> {
    inner: &'a Inner,
    id: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        lock(&self.inner.pending).remove(&self.id);
    }
}

pub(crate) struct Inner {
    pub(crate) config: ClusterConfig,
    pub(crate) nats: Client,
    registry: Mutex<Registry>,
    pub(crate) app: OnceLock<App>,
    route_fn: RwLock<Option<RouteFn>>,
    /// Gate side: client sessions of this node that other nodes have seen.
    clients: Mutex<HashMap<u64, Session>>,
    /// Session id -> component -> the node serving it for that session.
    bindings: Mutex<HashMap<u64, HashMap<String, String>>>,
    /// Backend side: (gate, session id) -> the stand-in session.
    remotes: Mutex<HashMap<(String, u64), Remote>>,
    /// Local members of cluster groups.
    pub(crate) groups: LocalGroups,
    /// Calls this node made, by id, until answered.
    pending: Mutex<HashMap<u64, Pending>>,
    next_call: AtomicU64,
    /// The first id of this node's client sessions (see [`session_id_base`]).
    first_session_id: u64,
    /// Which run of this node this is, so that the others tell a restart from a heartbeat.
    instance: u64,
    /// Nodes whose routes are being asked for.
    fetching: Mutex<std::collections::HashSet<String>>,
    /// Cancelled when the node leaves (its app starts shutting down, or
    /// [`Cluster::shutdown`]): it stops announcing itself, and the others forget it.
    leaving: CancellationToken,
    /// Cancelled by [`Cluster::shutdown`]: every task of the node ends.
    stop: CancellationToken,
    /// Backend side: clients that left recently, by (gate, session id), so that a call
    /// overtaken by the news of its client's departure does not create a stand-in that
    /// nobody would end.
    departed: Mutex<HashMap<(String, u64), std::time::Instant>>,
    /// Subscriptions of cluster groups, for the inbox task (see [`Inner::serve_inbox`]).
    /// (One per group this node joins: bounded by the number of groups.)
    pub(crate) new_groups: mpsc::UnboundedSender<GroupFeed>,
    new_groups_rx: Mutex<Option<mpsc::UnboundedReceiver<GroupFeed>>>,
}

/// Where this process's session ids start: a random one of 2^20 namespaces of 2^32 ids each,
/// so that client sessions on different nodes (and on a restarted node) have different ids.
/// Two nodes share a namespace with a probability of about one in a million per pair.
fn session_id_base() -> u64 {
    ((random_u64() % (1 << 20)) << 32) + 1
}

/// A random number (from the standard library's randomly keyed hasher).
fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    std::hash::RandomState::new().hash_one(std::process::id())
}

/// One node of a nano-rs cluster, linked to the others through NATS.
///
/// A node serves the routes of the components registered in its app; requests for routes it
/// does not serve are forwarded to a node that does (sticky per session and component, with
/// failover), and the answers, pushes and kicks of that node come back to the client through
/// this one. Nodes find each other by announcing themselves; there is no master.
///
/// # Examples
///
/// ```no_run
/// use nano_cluster::{Cluster, ClusterConfig};
/// use nano_core::App;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// // A gate: accepts clients, serves nothing itself, forwards everything.
/// let cluster = Cluster::connect(ClusterConfig::new("nats://127.0.0.1:4222", "gate-1")).await?;
/// let app = cluster.attach(App::builder()).build()?;
/// cluster.start(&app).await?;
/// app.listen_tcp("127.0.0.1:3250").await?;
/// app.run().await?;
/// cluster.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.inner.config.node)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects to NATS. The node takes part in the cluster once [`start`](Self::start)ed.
    ///
    /// # Errors
    ///
    /// [`ClusterError::InvalidNode`] for a node name that is not one NATS subject token;
    /// [`ClusterError::Nats`] when the NATS server cannot be reached.
    pub async fn connect(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        if !is_subject_token(&config.node) || !is_subject_token(&config.prefix) {
            return Err(ClusterError::InvalidNode(config.node));
        }
        let nats = async_nats::ConnectOptions::new()
            .name(format!("nano-rs {}", config.node))
            .max_reconnects(None)
            .connect(config.nats_url.as_str())
            .await
            .map_err(|err| ClusterError::Nats(err.to_string()))?;
        let (new_groups, new_groups_rx) = mpsc::unbounded_channel();
        Ok(Cluster {
            inner: Arc::new(Inner {
                config,
                nats,
                registry: Mutex::new(Registry::default()),
                app: OnceLock::new(),
                route_fn: RwLock::new(None),
                clients: Mutex::new(HashMap::new()),
                bindings: Mutex::new(HashMap::new()),
                remotes: Mutex::new(HashMap::new()),
                groups: LocalGroups::default(),
                pending: Mutex::new(HashMap::new()),
                next_call: AtomicU64::new(1),
                first_session_id: session_id_base(),
                instance: random_u64(),
                fetching: Mutex::new(std::collections::HashSet::new()),
                leaving: CancellationToken::new(),
                stop: CancellationToken::new(),
                departed: Mutex::new(HashMap::new()),
                new_groups,
                new_groups_rx: Mutex::new(Some(new_groups_rx)),
            }),
        })
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.inner.config.node
    }

    /// Chooses nodes with `route_fn` instead of the default (sticky per session and component;
    /// first choice by session id among the live nodes serving the route). Return `None` to
    /// fall back to the default. A session stays on the chosen node while it lives.
    pub fn route_with(
        &self,
        route_fn: impl Fn(&Session, &str, &[String]) -> Option<String> + Send + Sync + 'static,
    ) {
        *self
            .inner
            .route_fn
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(route_fn));
    }

    /// Prepares an app to be a node: routes it does not serve are forwarded, its clients'
    /// departures are told to the other nodes, and its session ids are drawn from a range of
    /// its own (see [`AppBuilder::first_session_id`]), so that they are unique in the cluster.
    pub fn attach(&self, builder: AppBuilder) -> AppBuilder {
        let inner = self.inner.clone();
        builder
            .first_session_id(self.inner.first_session_id)
            .remote_router(Forwarder(self.inner.clone()))
            .on_session_closed(move |session| inner.client_left(session))
    }

    /// Joins the cluster with `app` (built from [`attach`](Self::attach)): subscribes, announces
    /// the routes `app` serves, and keeps announcing until [`shutdown`](Self::shutdown).
    ///
    /// # Errors
    ///
    /// [`ClusterError::Nats`] when subscribing fails.
    pub async fn start(&self, app: &App) -> Result<(), ClusterError> {
        let inner = &self.inner;
        let Some(new_groups) = lock(&inner.new_groups_rx).take() else {
            return Ok(()); // Started already.
        };
        let subscriptions = match inner.subscribe_all().await {
            Ok(subscriptions) => subscriptions,
            Err(err) => {
                *lock(&inner.new_groups_rx) = Some(new_groups);
                return Err(err);
            }
        };
        let _ = inner.app.set(app.clone());
        let Subscriptions {
            announces,
            hellos,
            leaves,
            route_asks,
            audits,
            calls,
            inbox,
            closed,
        } = subscriptions;
        let this = inner.clone();
        tokio::spawn(async move {
            this.membership(announces, hellos, leaves, route_asks, audits)
                .await;
        });
        let this = inner.clone();
        tokio::spawn(async move { this.serve_calls(calls).await });
        let this = inner.clone();
        tokio::spawn(async move { this.serve_inbox(inbox, new_groups).await });
        let this = inner.clone();
        tokio::spawn(async move { this.serve_closed(closed).await });
        let this = inner.clone();
        tokio::spawn(async move { this.announce_loop().await });
        let this = inner.clone();
        tokio::spawn(async move { this.audit_loop().await });
        // Leave as soon as the app starts shutting down: the others stop sending it new calls
        // while it finishes the ones it has.
        let (this, running) = (inner.clone(), app.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = running.accepting_stopped() => this.leave().await,
                () = this.stop.cancelled() => {}
            }
        });

        // A hello is a full announcement that also asks the others for theirs.
        inner
            .publish(inner.config.subject("hello"), inner.announcement(true))
            .await;
        let _ = inner.nats.flush().await;
        tracing::info!(node = %inner.config.node, routes = app.routes().len(), "joined the cluster");
        Ok(())
    }

    /// Waits until at least one live node serves `route` (at most `timeout`); `true` if one
    /// does. Useful at start-up, before clients are accepted.
    pub async fn wait_for_route(&self, route: &str, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if lock(&self.inner.registry).serves(route) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The live peers (other nodes) this node knows, with the number of routes each serves.
    pub fn nodes(&self) -> HashMap<String, usize> {
        lock(&self.inner.registry).nodes()
    }

    /// Calls `route` on whichever node serves it (this one included) and returns its answer.
    ///
    /// # Errors
    ///
    /// [`ClusterError::NoNode`] when no live node serves the route, [`ClusterError::Timeout`],
    /// [`ClusterError::Remote`] with the handler's error, [`ClusterError::Serializer`].
    pub async fn rpc<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        route: &str,
        value: &T,
    ) -> Result<R, ClusterError> {
        self.inner.rpc(None, route, value).await
    }

    /// Like [`rpc`](Self::rpc), on behalf of a client session: the handler sees that session
    /// (same id and uid) and what it pushes reaches the client.
    ///
    /// # Errors
    ///
    /// As [`rpc`](Self::rpc).
    pub async fn rpc_with<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        session: &Session,
        route: &str,
        value: &T,
    ) -> Result<R, ClusterError> {
        self.inner.rpc(Some(session), route, value).await
    }

    /// A group whose members may be connected to any node; see [`ClusterGroup`].
    pub fn group(&self, name: impl Into<String>) -> ClusterGroup {
        ClusterGroup::new(self.inner.clone(), name.into())
    }

    /// Leaves the cluster (the other nodes drop this one at once, which also happens by itself
    /// when the app starts shutting down), ends the stand-ins of other nodes' clients here
    /// (their close callbacks run), fails the calls still waiting, and stops every task of
    /// the node. Call it after the app has shut down.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.leave().await;
        if inner.stop.is_cancelled() {
            return;
        }
        inner.stop.cancel();
        // Stand-ins end here (their close callbacks run); calls still waiting fail.
        let remotes: Vec<Remote> = lock(&inner.remotes)
            .drain()
            .map(|(_, remote)| remote)
            .collect();
        for remote in remotes {
            remote.finish.notify_one();
        }
        let pending: Vec<Pending> = lock(&inner.pending)
            .drain()
            .map(|(_, pending)| pending)
            .collect();
        for pending in pending {
            let _ = pending.answer.send(Err(ClusterError::Stopped));
        }
    }
}

/// Forwards routes this node does not serve.
struct Forwarder(Arc<Inner>);

impl RemoteRouter for Forwarder {
    fn forward(
        &self,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
    ) -> Option<ReplyFuture> {
        if !lock(&self.0.registry).serves(route) {
            return None;
        }
        let inner = self.0.clone();
        let (session, route) = (session.clone(), route.to_owned());
        Some(Box::pin(async move {
            inner.forward(&session, &route, mid, payload).await
        }))
    }
}

/// Every subscription of a node.
struct Subscriptions {
    announces: async_nats::Subscriber,
    hellos: async_nats::Subscriber,
    leaves: async_nats::Subscriber,
    route_asks: async_nats::Subscriber,
    audits: async_nats::Subscriber,
    calls: async_nats::Subscriber,
    inbox: async_nats::Subscriber,
    closed: async_nats::Subscriber,
}

impl Inner {
    async fn subscribe_all(&self) -> Result<Subscriptions, ClusterError> {
        let subscribe = |rest: String| async move {
            self.nats
                .subscribe(self.config.subject(&rest))
                .await
                .map_err(|err| ClusterError::Nats(err.to_string()))
        };
        let node = &self.config.node;
        Ok(Subscriptions {
            announces: subscribe("announce".to_owned()).await?,
            hellos: subscribe("hello".to_owned()).await?,
            leaves: subscribe("leave".to_owned()).await?,
            route_asks: subscribe(format!("node.{node}.routes")).await?,
            audits: subscribe(format!("node.{node}.sessions")).await?,
            calls: subscribe(format!("node.{node}.call")).await?,
            // Events for this node's clients and answers to its calls share one
            // subscription, so that they are handled in the order they were sent: a
            // backend's pushes reach the client before the response of the handler that
            // pushed them.
            inbox: subscribe(format!("node.{node}.in.>")).await?,
            closed: subscribe("sessions.closed".to_owned()).await?,
        })
    }

    /// Says goodbye (once): the others drop this node at once, and it stops announcing itself.
    async fn leave(&self) {
        if self.leaving.is_cancelled() {
            return;
        }
        self.leaving.cancel();
        self.publish(self.config.subject("leave"), self.announcement(false))
            .await;
        let _ = self.nats.flush().await;
        tracing::info!(node = %self.config.node, "left the cluster");
    }

    pub(crate) fn app(&self) -> Result<&App, ClusterError> {
        self.app.get().ok_or(ClusterError::NotStarted)
    }

    pub(crate) async fn publish(&self, subject: String, payload: Bytes) {
        if let Err(err) = self.nats.publish(subject, payload).await {
            tracing::warn!(error = %err, "cluster publish failed");
        }
    }

    /// This node's announcement: `full` with its routes, or a heartbeat.
    fn announcement(&self, full: bool) -> Bytes {
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

    async fn announce(&self, full: bool) {
        if self.leaving.is_cancelled() {
            return;
        }
        self.publish(self.config.subject("announce"), self.announcement(full))
            .await;
    }

    /// Another node's announcement: a full one updates the registry, a heartbeat keeps its node
    /// alive or, from a node not known with that run, makes this one ask for its routes.
    fn announced(self: &Arc<Self>, announce: Announce) {
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

    fn learned(&self, node: &str, instance: u64, routes: Vec<String>) {
        if lock(&self.registry).seen(node, instance, routes) {
            tracing::info!(%node, "node joined");
        }
    }

    /// Asks `node` for its routes (once at a time), and records its answer.
    fn ask_routes(self: &Arc<Self>, node: String) {
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

    async fn announce_loop(self: Arc<Self>) {
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
    fn node_gone(&self, node: &str) {
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

    async fn membership(
        self: Arc<Self>,
        mut announces: async_nats::Subscriber,
        mut hellos: async_nats::Subscriber,
        mut leaves: async_nats::Subscriber,
        mut route_asks: async_nats::Subscriber,
        mut audits: async_nats::Subscriber,
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
                Some(message) = hellos.next() => {
                    let Ok(hello) = serde_json::from_slice::<Announce>(&message.payload) else { continue };
                    if hello.node == self.config.node {
                        if hello.instance != self.instance {
                            tracing::error!(
                                node = %hello.node,
                                "another process runs under this node's name: give every node its own"
                            );
                        }
                        continue;
                    }
                    // A node (re)starting: whatever this node kept for its earlier life (its
                    // clients' stand-ins, sessions bound to it) is over.
                    tracing::info!(node = %hello.node, "node started");
                    self.node_gone(&hello.node);
                    self.announced(hello);
                    self.announce(true).await;
                }
                Some(message) = leaves.next() => {
                    let Ok(announce) = serde_json::from_slice::<Announce>(&message.payload) else { continue };
                    if announce.node != self.config.node && lock(&self.registry).remove(&announce.node) {
                        tracing::info!(node = %announce.node, "node left");
                        self.node_gone(&announce.node);
                    }
                }
                else => return,
            }
        }
    }

    /// Picks (and remembers) the node serving `route` for `session`.
    fn choose(&self, session: &Session, route: &str) -> Option<String> {
        let component = route.split('.').next().unwrap_or(route);
        let bound = lock(&self.bindings)
            .get(&session.id())
            .and_then(|components| components.get(component))
            .cloned();
        if let Some(bound) = bound
            && lock(&self.registry).node_serves(&bound, route)
        {
            return Some(bound);
        }
        let candidates = lock(&self.registry).serving(route);
        if candidates.is_empty() {
            return None;
        }
        let chosen = self
            .route_fn
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .and_then(|route_fn| route_fn(session, route, &candidates))
            .filter(|node| candidates.contains(node));
        #[allow(clippy::cast_possible_truncation)]
        let chosen = chosen.unwrap_or_else(|| {
            candidates[(session.id() % candidates.len() as u64) as usize].clone()
        });
        lock(&self.bindings)
            .entry(session.id())
            .or_default()
            .insert(component.to_owned(), chosen.clone());
        Some(chosen)
    }

    fn session_info(&self, session: &Session) -> SessionInfo {
        let gate = match session.transport() {
            TransportKind::Remote => session.get::<String>(GATE_KEY).unwrap_or_default(),
            _ => {
                if !session.is_closed() {
                    lock(&self.clients)
                        .entry(session.id())
                        .or_insert_with(|| session.clone());
                }
                self.config.node.clone()
            }
        };
        SessionInfo {
            gate,
            id: session.id(),
            uid: session.uid(),
            synced: session.synced(),
        }
    }

    /// Gate side: sends a client's message to the node serving its route.
    async fn forward(&self, session: &Session, route: &str, mid: u64, payload: Bytes) -> Reply {
        if session.is_closed() {
            return Reply::None;
        }
        let Some(node) = self.choose(session, route) else {
            return Reply::Error(HandlerError::not_found(format!("unknown route `{route}`")));
        };
        let call = Call {
            route: route.to_owned(),
            mid,
            session: Some(self.session_info(session)),
        };
        match self.call(&node, &call, &payload).await {
            Ok((answer, payload)) => {
                apply_answer_to(session, &answer);
                answer_to_reply(answer, payload)
            }
            Err(err) => {
                // Nobody listening means the node is gone: forget it now rather than when its
                // heartbeats stop counting (the session's next message then chooses again). A
                // timeout keeps the binding: the handler may still be running there, and the
                // session's state is there.
                if matches!(err, ClusterError::Unavailable(_)) {
                    if lock(&self.registry).remove(&node) {
                        tracing::warn!(%node, "node dropped: it no longer listens");
                    }
                    self.node_gone(&node);
                }
                tracing::warn!(%node, route, error = %err, "forwarding failed");
                Reply::Error(HandlerError::new(
                    503,
                    format!("`{route}` is unavailable right now"),
                ))
            }
        }
    }

    /// The subject of `node`'s inbox for `what` (`event`, or `answer.<call id>`).
    pub(crate) fn inbox(&self, node: &str, what: &str) -> String {
        self.config.subject(&format!("node.{node}.in.{what}"))
    }

    /// Calls `node` and waits (at most the request timeout) for its answer, which arrives in
    /// this node's inbox.
    async fn call(
        &self,
        node: &str,
        call: &Call,
        payload: &[u8],
    ) -> Result<(Answer, Bytes), ClusterError> {
        let id = self.next_call.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        lock(&self.pending).insert(
            id,
            Pending {
                node: node.to_owned(),
                answer,
            },
        );
        let _guard = PendingGuard { inner: self, id };
        let subject = self.config.subject(&format!("node.{node}.call"));
        let reply = self.inbox(
            &self.config.node,
            &format!("answer.{:x}.{id}", self.instance),
        );
        self.nats
            .publish_with_reply(subject, reply, wire::encode(call, payload))
            .await
            .map_err(|err| ClusterError::Nats(err.to_string()))?;
        match tokio::time::timeout(self.config.request_timeout, answered).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ClusterError::Nats("the answer was lost".to_owned())),
            Err(_) => Err(ClusterError::Timeout(node.to_owned())),
        }
    }

    /// Hands an answer (or NATS's "no responders") to the call waiting for it.
    fn answered(&self, id: u64, message: &async_nats::Message) {
        let Some(pending) = lock(&self.pending).remove(&id) else {
            return; // The caller gave up waiting.
        };
        let result = if message.status == Some(StatusCode::NO_RESPONDERS) {
            Err(ClusterError::Unavailable(pending.node))
        } else {
            wire::decode::<Answer>(&message.payload)
                .ok_or_else(|| ClusterError::Nats("malformed answer".to_owned()))
        };
        let _ = pending.answer.send(result);
    }

    /// Backend side: runs calls from other nodes on the local app, at most
    /// `max_calls_in_flight` at once; the calls beyond are answered "busy" at once.
    async fn serve_calls(self: Arc<Self>, mut calls: async_nats::Subscriber) {
        let in_flight = Arc::new(Semaphore::new(self.config.max_calls_in_flight));
        let mut refusing = false;
        loop {
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                message = calls.next() => match message { Some(message) => message, None => return },
            };
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                if !refusing {
                    tracing::warn!(
                        limit = self.config.max_calls_in_flight,
                        "too many calls in flight: refusing calls until some finish"
                    );
                    refusing = true;
                }
                self.refuse_busy(&message).await;
                continue;
            };
            refusing = false;
            let this = self.clone();
            tokio::spawn(async move {
                this.serve_call(message).await;
                drop(permit);
            });
        }
    }

    async fn refuse_busy(&self, message: &async_nats::Message) {
        if let Some(reply_to) = &message.reply {
            let (answer, payload) =
                reply_to_answer(Reply::Error(HandlerError::new(503, "node busy")));
            self.publish(reply_to.to_string(), wire::encode(&answer, &payload))
                .await;
        }
    }

    async fn serve_call(&self, message: async_nats::Message) {
        let Some(reply_to) = message.reply.clone() else {
            return;
        };
        let Some((call, payload)) = wire::decode::<Call>(&message.payload) else {
            return;
        };
        let Ok(app) = self.app() else { return };
        let (session, answers) = match &call.session {
            Some(info) => match self.stand_in(app, info) {
                Some((session, answers)) => (session, Some(answers)),
                None => {
                    let (answer, payload) = reply_to_answer(Reply::Error(HandlerError::new(
                        410,
                        format!("session {} is closed", info.id),
                    )));
                    self.publish(reply_to.to_string(), wire::encode(&answer, &payload))
                        .await;
                    return;
                }
            },
            None => (app.remote_session(0).session().clone(), None),
        };
        let reply = match app.dispatch(&session, &call.route, call.mid, payload) {
            Some(future) => future.await,
            None => Reply::Error(HandlerError::not_found(format!(
                "unknown route `{}`",
                call.route
            ))),
        };
        let (mut answer, payload) = reply_to_answer(reply);
        answer.uid = session.uid();
        if let Some(info) = &call.session {
            answer.synced_changes(&info.synced, session.synced());
        }
        let answer = (reply_to, wire::encode(&answer, &payload));
        // A session's answer goes out after the pushes its handler queued (same publisher,
        // same inbox on the client's node: they arrive in order).
        let unsent = match answers {
            Some(answers) => answers.send(answer).await.err().map(|err| err.0),
            None => Some(answer),
        };
        if let Some((reply_to, answer)) = unsent {
            self.publish(reply_to.to_string(), answer).await;
        }
    }

    /// Backend side: the local stand-in for a client of another node (created on first use),
    /// and the queue its answers go out through.
    fn stand_in(
        &self,
        app: &App,
        info: &SessionInfo,
    ) -> Option<(Session, mpsc::Sender<(async_nats::Subject, Bytes)>)> {
        let key = (info.gate.clone(), info.id);
        let (session, answers) = {
            let mut remotes = lock(&self.remotes);
            match remotes.get(&key) {
                Some(remote) => (remote.session.clone(), remote.answers.clone()),
                None if lock(&self.departed).contains_key(&key) || self.stop.is_cancelled() => {
                    return None;
                }
                None => {
                    let remote = app.remote_session(info.id);
                    let session = remote.session().clone();
                    session.set(GATE_KEY, info.gate.clone());
                    let finish = Arc::new(Notify::new());
                    let (answers, queued) = mpsc::channel(ANSWER_QUEUE);
                    remotes.insert(
                        key,
                        Remote {
                            session: session.clone(),
                            finish: finish.clone(),
                            answers: answers.clone(),
                        },
                    );
                    let events = self.inbox(&info.gate, "event");
                    tokio::spawn(relay(remote, queued, finish, self.nats.clone(), events));
                    (session, answers)
                }
            }
        };
        if let Some(uid) = info.uid {
            let _ = session.bind(uid);
        }
        session.replace_synced(info.synced.clone());
        Some((session, answers))
    }

    /// What other nodes send this node: answers to its calls, and what their handlers do to
    /// its clients, handled one by one in arrival order.
    ///
    /// Cluster-group broadcasts are handled by the same task, before inbox messages that are
    /// ready at the same time: async-nats hands a connection's messages to their subscriptions
    /// in arrival order, so a broadcast a backend's handler sent before its answer is waiting
    /// when the answer is, and its members here get it before the response.
    async fn serve_inbox(
        self: Arc<Self>,
        mut inbox: async_nats::Subscriber,
        mut new_groups: mpsc::UnboundedReceiver<GroupFeed>,
    ) {
        // Answers name this run: an answer meant for an earlier run of this node is dropped.
        let answers = self.inbox(&self.config.node, &format!("answer.{:x}.", self.instance));
        let group_prefix = self.config.subject("group.");
        let mut groups = SelectAll::new();
        loop {
            let message = tokio::select! {
                biased;
                () = self.stop.cancelled() => return,
                Some(subscription) = new_groups.recv() => {
                    groups.push(subscription);
                    continue;
                }
                Some(message) = groups.next(), if !groups.is_empty() => {
                    self.group_broadcast(&group_prefix, &message);
                    continue;
                }
                message = inbox.next() => match message { Some(message) => message, None => return },
            };
            if let Some(id) = message.subject.strip_prefix(answers.as_str()) {
                if let Ok(id) = id.parse() {
                    self.answered(id, &message);
                }
                continue;
            }
            let Some((event, payload)) = wire::decode::<Event>(&message.payload) else {
                continue;
            };
            let session = lock(&self.clients).get(&event.session).cloned();
            // Confirm events that ask for it (group joins), with what went wrong if anything.
            let confirm = message.reply.clone();
            let Some(session) = session else {
                if let Some(reply) = confirm {
                    let gone = format!("session {} is closed", event.session);
                    self.publish(reply.to_string(), gone.into()).await;
                }
                continue;
            };
            let mut outcome = String::new();
            match event.kind.as_str() {
                "packet" => match EncodedPacket::from_wire(payload) {
                    Ok(packet) => {
                        // Encoded on the backend without this node's dictionary.
                        let packet = match self.app.get() {
                            Some(app) => packet.compress_route(app.dict()),
                            None => packet,
                        };
                        let _ = session.push_packet(packet);
                    }
                    Err(err) => tracing::warn!(error = %err, "malformed packet from a backend"),
                },
                "kick" => session.kick(event.name),
                "close" => session.close(),
                "join" => {
                    if let Err(err) = crate::local_groups::join(&self, &event.name, &session).await
                    {
                        outcome = err.to_string();
                    }
                }
                "leave" => {
                    if let Err(err) = self.groups.leave(&event.name, &session) {
                        outcome = err.to_string();
                    }
                }
                other => tracing::debug!(kind = other, "unknown cluster event"),
            }
            if let Some(reply) = confirm {
                self.publish(reply.to_string(), outcome.into()).await;
            }
        }
    }

    /// A broadcast to a cluster group, pushed to the group's members on this node.
    fn group_broadcast(&self, group_prefix: &str, message: &async_nats::Message) {
        let Some(name) = message.subject.strip_prefix(group_prefix) else {
            return;
        };
        let Some(group) = self.groups.get(name) else {
            return;
        };
        if let Some((push, payload)) = wire::decode::<GroupPush>(&message.payload) {
            let _ = group.broadcast_raw(push.route, payload);
        }
    }

    /// Backend side: a client left its node; end its stand-in here.
    async fn serve_closed(self: Arc<Self>, mut closed: async_nats::Subscriber) {
        loop {
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                message = closed.next() => match message { Some(message) => message, None => return },
            };
            let Ok(closed) = serde_json::from_slice::<Closed>(&message.payload) else {
                continue;
            };
            self.departed(closed.gate, [closed.session]);
        }
    }

    /// Backend side: clients of `gate` left; end their stand-ins here, and remember them for
    /// a while (a call for them may still be on its way).
    fn departed(&self, gate: String, sessions: impl IntoIterator<Item = u64>) {
        let now = std::time::Instant::now();
        let mut ended = Vec::new();
        {
            let mut remotes = lock(&self.remotes);
            let mut departed = lock(&self.departed);
            for id in sessions {
                let key = (gate.clone(), id);
                ended.extend(remotes.remove(&key));
                departed.insert(key, now);
            }
        }
        for remote in ended {
            remote.finish.notify_one();
        }
    }

    /// Backend side: every `audit_interval`, asks each gate which of the clients it has
    /// stand-ins for are gone, and ends those (a departure missed during a NATS outage).
    async fn audit_loop(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.config.audit_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let mut by_gate: HashMap<String, Vec<u64>> = HashMap::new();
            for (gate, id) in lock(&self.remotes).keys() {
                by_gate.entry(gate.clone()).or_default().push(*id);
            }
            for (gate, ids) in by_gate {
                for chunk in ids.chunks(AUDIT_CHUNK) {
                    let subject = self.config.subject(&format!("node.{gate}.sessions"));
                    let request = Request::new()
                        .payload(serde_json::to_vec(chunk).unwrap_or_default().into())
                        .timeout(Some(self.config.request_timeout));
                    let Ok(reply) = self.nats.send_request(subject, request).await else {
                        continue; // The gate is unreachable: dropping it ends its stand-ins.
                    };
                    if let Ok(gone) = serde_json::from_slice::<Vec<u64>>(&reply.payload)
                        && !gone.is_empty()
                    {
                        tracing::info!(%gate, sessions = gone.len(), "ending stand-ins of departed clients");
                        self.departed(gate.clone(), gone);
                    }
                }
            }
        }
    }

    /// Gate side: which of the listed sessions (ids of this node's clients) are gone.
    async fn answer_audit(&self, message: &async_nats::Message) {
        let (Some(reply), Ok(ids)) = (
            message.reply.clone(),
            serde_json::from_slice::<Vec<u64>>(&message.payload),
        ) else {
            return;
        };
        let gone: Vec<u64> = {
            let clients = lock(&self.clients);
            ids.into_iter()
                .filter(|id| !clients.contains_key(id))
                .collect()
        };
        let payload = serde_json::to_vec(&gone).unwrap_or_default();
        self.publish(reply.to_string(), payload.into()).await;
    }

    /// Gate side: a client disconnected; tell the nodes that knew it.
    fn client_left(&self, session: &Session) {
        // Stand-ins have bindings too (their handlers may call other nodes).
        lock(&self.bindings).remove(&session.id());
        if session.transport() == TransportKind::Remote
            || lock(&self.clients).remove(&session.id()).is_none()
        {
            return;
        }
        let closed = Closed {
            gate: self.config.node.clone(),
            session: session.id(),
        };
        let payload = Bytes::from(serde_json::to_vec(&closed).unwrap_or_default());
        let (nats, subject) = (self.nats.clone(), self.config.subject("sessions.closed"));
        tokio::spawn(async move {
            let _ = nats.publish(subject, payload).await;
        });
    }

    /// The gate of a session (this node for its own clients).
    pub(crate) fn gate_of(&self, session: &Session) -> Option<String> {
        match session.transport() {
            TransportKind::Remote => session.get::<String>(GATE_KEY),
            _ => None,
        }
    }

    pub(crate) async fn send_event(&self, gate: &str, event: &Event) {
        self.publish(self.inbox(gate, "event"), wire::encode(event, &[]))
            .await;
    }

    /// Sends an event and waits until the client's node has applied it; what went wrong
    /// there comes back as [`ClusterError::Remote`] with code 400.
    pub(crate) async fn confirm_event(
        &self,
        gate: &str,
        event: &Event,
    ) -> Result<(), ClusterError> {
        let subject = self.inbox(gate, "event");
        let request = Request::new()
            .payload(wire::encode(event, &[]))
            .timeout(Some(self.config.request_timeout));
        let reply = self
            .nats
            .send_request(subject, request)
            .await
            .map_err(|err| match err.kind() {
                RequestErrorKind::TimedOut => ClusterError::Timeout(gate.to_owned()),
                RequestErrorKind::NoResponders => ClusterError::Unavailable(gate.to_owned()),
                _ => ClusterError::Nats(err.to_string()),
            })?;
        if reply.payload.is_empty() {
            Ok(())
        } else {
            Err(ClusterError::Remote {
                code: 400,
                message: String::from_utf8_lossy(&reply.payload).into_owned(),
            })
        }
    }

    async fn rpc<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        session: Option<&Session>,
        route: &str,
        value: &T,
    ) -> Result<R, ClusterError> {
        let app = self.app()?;
        if self.stop.is_cancelled() {
            return Err(ClusterError::Stopped);
        }
        if let Some(session) = session
            && session.is_closed()
        {
            return Err(ClusterError::SessionClosed(session.id()));
        }
        let payload = app.serializer().serialize(value)?;
        let (answer, body) = if app.serves(route) {
            let stand_in;
            let session = match session {
                Some(session) => session,
                None => {
                    stand_in = app.remote_session(0);
                    stand_in.session()
                }
            };
            let reply = match app.dispatch(session, route, 1, payload) {
                Some(future) => future.await,
                None => return Err(ClusterError::NoNode(route.to_owned())),
            };
            reply_to_answer(reply)
        } else {
            let node = match session {
                Some(session) => self.choose(session, route),
                // Without a session, calls take turns among the nodes serving the route.
                None => {
                    let candidates = lock(&self.registry).serving(route);
                    let turn = self.next_call.load(Ordering::Relaxed);
                    #[allow(clippy::cast_possible_truncation)]
                    candidates
                        .get((turn % candidates.len().max(1) as u64) as usize)
                        .cloned()
                }
            }
            .ok_or_else(|| ClusterError::NoNode(route.to_owned()))?;
            let call = Call {
                route: route.to_owned(),
                mid: 1,
                session: session.map(|s| self.session_info(s)),
            };
            let (answer, body) = match self.call(&node, &call, &payload).await {
                Ok(answered) => answered,
                Err(err) => {
                    if matches!(err, ClusterError::Unavailable(_)) {
                        lock(&self.registry).remove(&node);
                        self.node_gone(&node);
                    }
                    return Err(err);
                }
            };
            if let Some(session) = session {
                apply_answer_to(session, &answer);
            }
            (answer, body)
        };
        match answer.kind.as_str() {
            "error" => Err(ClusterError::Remote {
                code: answer.code,
                message: answer.msg,
            }),
            "payload" => Ok(app.serializer().deserialize(&body)?),
            _ => Ok(app.serializer().deserialize(b"null")?),
        }
    }
}

/// Backend side: carries what a stand-in's handlers send (pushes, kicks, closing, answers)
/// to the client's node, in the order they were sent, until the client's node says the
/// session is over.
async fn relay(
    mut remote: nano_core::remote::RemoteSession,
    mut answers: mpsc::Receiver<(async_nats::Subject, Bytes)>,
    finish: Arc<Notify>,
    nats: Client,
    events: String,
) {
    let id = remote.session().id();
    let mut open = true;
    loop {
        // Biased: an answer is queued after its handler returned, so the pushes that handler
        // queued are already waiting and go first.
        let (kind, name, payload) = tokio::select! {
            biased;
            () = finish.notified() => break,
            event = remote.next_event(), if open => match event {
                Some(RemoteEvent::Packet(packet)) => ("packet", String::new(), packet.into_bytes()),
                Some(RemoteEvent::Kick(reason)) => ("kick", reason, Bytes::new()),
                Some(RemoteEvent::Close) => ("close", String::new(), Bytes::new()),
                // Closing was sent: answers may still follow until the client's node confirms.
                Some(_) | None => {
                    open = false;
                    continue;
                }
            },
            Some((reply_to, answer)) = answers.recv() => {
                let _ = nats.publish(reply_to, answer).await;
                continue;
            }
        };
        let event = Event {
            session: id,
            kind: kind.to_owned(),
            name,
        };
        let _ = nats
            .publish(events.clone(), wire::encode(&event, &payload))
            .await;
    }
    remote.finish();
}

/// A backend's changes to a session (uid, synchronized values) applied on the client's node.
fn apply_answer_to(session: &Session, answer: &Answer) {
    if let Some(uid) = answer.uid
        && session.uid() != Some(uid)
    {
        let _ = session.bind(uid);
    }
    if !answer.synced_set.is_empty() || !answer.synced_removed.is_empty() {
        session.update_synced(|values| {
            for key in &answer.synced_removed {
                values.remove(key);
            }
            for (key, value) in &answer.synced_set {
                values.insert(key.clone(), value.clone());
            }
        });
    }
}

fn reply_to_answer(reply: Reply) -> (Answer, Bytes) {
    match reply {
        Reply::Payload(payload) => (
            Answer {
                kind: "payload".to_owned(),
                ..Answer::default()
            },
            payload,
        ),
        Reply::Error(error) => (
            Answer {
                kind: "error".to_owned(),
                code: error.code(),
                msg: error.message().to_owned(),
                ..Answer::default()
            },
            Bytes::new(),
        ),
        _ => (
            Answer {
                kind: "none".to_owned(),
                ..Answer::default()
            },
            Bytes::new(),
        ),
    }
}

fn answer_to_reply(answer: Answer, payload: Bytes) -> Reply {
    match answer.kind.as_str() {
        "payload" => Reply::Payload(payload),
        "error" => Reply::Error(HandlerError::new(answer.code, answer.msg)),
        _ => Reply::None,
    }
}
