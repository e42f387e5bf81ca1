//! [`Cluster`]: one node's link to the others. The node's work is split by side:
//! [`membership`] (who is alive and what they serve), [`gate`] (this node's clients and the
//! calls it makes), [`backend`] (calls from other nodes and their stand-in sessions).

mod backend;
mod gate;
mod membership;

#[cfg(test)]
pub(crate) use backend::reply_to_answer;
use gate::{Forwarder, answer_to_reply, apply_answer_to};

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

use crate::local_groups::{GroupFeed, LocalGroups};
use crate::registry::{Heartbeat, Registry};
use crate::wire::{
    self, Announce, Answer, AnswerKind, Call, Closed, Event, EventKind, GroupPush, SessionInfo,
};
use crate::{ClusterConfig, ClusterError, ClusterGroup, ClusterStats};

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

/// How many messages (answers, held broadcasts) may wait in a stand-in's outlet behind its
/// pushes.
const OUTLET_QUEUE: usize = 16;

/// A stand-in's outlet: messages to publish (subject, bytes) in order after the pushes its
/// handlers queued before them.
type Outlet = mpsc::Sender<(async_nats::Subject, Bytes)>;

/// Session ids per audit request (8 bytes or so each, far below NATS's payload limit).
const AUDIT_CHUNK: usize = 1_000;

/// A stand-in session on a backend, and how to end it.
struct Remote {
    session: Session,
    finish: Arc<Notify>,
    outlet: Outlet,
}

/// A call to another node waiting for its answer.
struct Pending {
    node: String,
    answer: oneshot::Sender<Result<(Answer, Bytes), ClusterError>>,
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
/// `Cluster` is a cheap handle (clone it into components). The node runs until
/// [`shutdown`](Self::shutdown), even when every handle is dropped.
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
        config.check()?;
        let nats = async_nats::ConnectOptions::new()
            .name(format!("nano-rs {}", config.node))
            .max_reconnects(None)
            .connect(config.nats_url.as_str())
            .await
            .map_err(|err| ClusterError::Nats(err.to_string()))?;
        Self::with_client(config, nats)
    }

    /// Uses a NATS client the application connected itself: with credentials, TLS, or any
    /// other [`async_nats::ConnectOptions`]; the URL in `config` is then unused. Give it
    /// unlimited reconnects (`max_reconnects(None)`) so that the node survives NATS restarts,
    /// as [`connect`](Self::connect) does.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use nano_cluster::{Cluster, ClusterConfig};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let nats = async_nats::ConnectOptions::with_user_and_password("game".into(), "secret".into())
    ///     .max_reconnects(None)
    ///     .connect("nats://nats.internal:4222")
    ///     .await?;
    /// let cluster = Cluster::with_client(ClusterConfig::new("", "room-1"), nats)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ClusterError::InvalidNode`] for a node name that is not one NATS subject token.
    pub fn with_client(config: ClusterConfig, nats: Client) -> Result<Cluster, ClusterError> {
        config.check()?;
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
    /// [`ClusterError::NodeNameTaken`] when a live node already runs under this node's name;
    /// [`ClusterError::Nats`] when subscribing fails.
    pub async fn start(&self, app: &App) -> Result<(), ClusterError> {
        let inner = &self.inner;
        let Some(new_groups) = lock(&inner.new_groups_rx).take() else {
            return Ok(()); // Started already.
        };
        if inner.name_taken().await {
            *lock(&inner.new_groups_rx) = Some(new_groups);
            return Err(ClusterError::NodeNameTaken(inner.config.node.clone()));
        }
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
            member_asks,
            calls,
            inbox,
            closed,
        } = subscriptions;
        let this = inner.clone();
        tokio::spawn(async move {
            this.membership(announces, hellos, leaves, route_asks, audits, member_asks)
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

    /// What this node holds for the cluster right now.
    pub fn stats(&self) -> ClusterStats {
        let inner = &self.inner;
        ClusterStats {
            peers: lock(&inner.registry).len(),
            clients: lock(&inner.clients).len(),
            bound_sessions: lock(&inner.bindings).len(),
            stand_ins: lock(&inner.remotes).len(),
            pending_calls: lock(&inner.pending).len(),
            local_groups: inner.groups.len(),
        }
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

/// Every subscription of a node.
struct Subscriptions {
    announces: async_nats::Subscriber,
    hellos: async_nats::Subscriber,
    leaves: async_nats::Subscriber,
    route_asks: async_nats::Subscriber,
    audits: async_nats::Subscriber,
    member_asks: async_nats::Subscriber,
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
            member_asks: subscribe(format!("node.{node}.members")).await?,
            calls: subscribe(format!("node.{node}.call")).await?,
            // Events for this node's clients and answers to its calls share one
            // subscription, so that they are handled in the order they were sent: a
            // backend's pushes reach the client before the response of the handler that
            // pushed them.
            inbox: subscribe(format!("node.{node}.in.>")).await?,
            closed: subscribe("sessions.closed".to_owned()).await?,
        })
    }

    /// Whether a live node already runs under this node's name (it answers for its routes).
    async fn name_taken(&self) -> bool {
        let subject = self
            .config
            .subject(&format!("node.{}.routes", self.config.node));
        let request = Request::new().timeout(Some(Duration::from_millis(500)));
        match self.nats.send_request(subject, request).await {
            Ok(reply) => serde_json::from_slice::<Announce>(&reply.payload)
                .is_ok_and(|announce| announce.instance != self.instance),
            // Nobody answers (or nobody listens): the name is free.
            Err(_) => false,
        }
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

    /// The live peers' names.
    pub(crate) fn peers(&self) -> Vec<String> {
        lock(&self.registry).nodes().into_keys().collect()
    }

    pub(crate) fn app(&self) -> Result<&App, ClusterError> {
        self.app.get().ok_or(ClusterError::NotStarted)
    }

    pub(crate) async fn publish(&self, subject: String, payload: Bytes) {
        if let Err(err) = self.nats.publish(subject, payload).await {
            tracing::warn!(error = %err, "cluster publish failed");
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
        let reply = if app.serves(route) {
            let stand_in;
            let session = match session {
                Some(session) => session,
                None => {
                    stand_in = app.remote_session(0);
                    stand_in.session()
                }
            };
            match app.dispatch(session, route, 1, payload) {
                Some(future) => future.await,
                None => return Err(ClusterError::NoNode(route.to_owned())),
            }
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
            let (answer, body) = self.call(&node, &call, &payload).await?;
            if let Some(session) = session {
                apply_answer_to(session, &answer);
            }
            answer_to_reply(answer, body)
        };
        match reply {
            Reply::Payload(body) => Ok(app.serializer().deserialize(&body)?),
            Reply::Error(error) => Err(ClusterError::Remote {
                code: error.code(),
                message: error.message().to_owned(),
            }),
            _ => Ok(app.serializer().deserialize(b"null")?),
        }
    }

    /// Forgets `node` at once (it left, or nobody listens on its subject any more): what
    /// this node kept for it ends too. `why` is logged when the node was known.
    pub(crate) fn forget_node(&self, node: &str, why: &str) {
        if lock(&self.registry).remove(node) {
            tracing::info!(%node, "node dropped: {why}");
        }
        self.node_gone(node);
    }
}
