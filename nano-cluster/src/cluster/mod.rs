//! [`Cluster`]: one node's link to the others. The node's state and work are split by side:
//! [`membership`] (who is alive and what they serve), [`gate`] (this node's clients and the
//! node each of their messages goes to), [`calls`] (calls this node makes, and their answers),
//! [`inbox`] (what other nodes send this node, in order, with [`holding`] for held
//! broadcasts), [`serving`] (calls from other nodes) and [`backend`] (their stand-in
//! sessions, each with its [`relay`]). [`link`] is what every side shares; [`node`] holds the
//! sides together; [`start`] subscribes and starts the node's tasks, which [`tasks`] tracks;
//! [`rooms`] places room kinds across nodes and routes their members; [`metrics`] is what the
//! node records for Prometheus.

mod backend;
mod calls;
mod gate;
mod holding;
mod inbox;
mod link;
mod membership;
mod metrics;
mod node;
mod outgoing;
mod pipe;
mod relay;
mod resume;
mod rooms;
mod serving;
mod start;
mod tasks;
mod trace;

pub(crate) use node::Node;
pub use rooms::{
    ChooseNode, DEFAULT_MAX_PENDING_PLACEMENTS, DEFAULT_PLACEMENT_TIMEOUT, DEFAULT_PROBE_TIMEOUT,
    NodeLoad, Placement, PlacementConfig, PlacementError, PlacementPolicy, RoomsClient,
};
#[cfg(test)]
pub(crate) use serving::reply_to_answer;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::Client;
use nano_core::{App, AppBuilder, Session};
use serde::Serialize;
use serde::de::DeserializeOwned;

use gate::Forwarder;
use resume::Resumer;

use crate::{ClusterConfig, ClusterError, ClusterGroup, ClusterStats};

/// Chooses the node that serves `route` for `session` among `candidates` (live nodes serving
/// it, in name order).
pub type RouteFn = Arc<dyn Fn(&Session, &str, &[String]) -> Option<String> + Send + Sync>;

/// Locks a mutex, ignoring poisoning (the workspace's one helper for it).
pub(crate) use nano_core::__private::lock;

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
    node: Arc<Node>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.node.link.node())
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
            .map_err(|err| ClusterError::nats(format!("connect to {}", config.nats_url), err))?;
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
        Ok(Cluster {
            node: Arc::new(Node::new(config, nats)),
        })
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        self.node.link.node()
    }

    /// Chooses nodes with `route_fn` instead of the default (sticky per session and component;
    /// first choice by session id among the live nodes serving the route). Return `None` to
    /// fall back to the default. A session stays on the chosen node while it lives.
    pub fn route_with(
        &self,
        route_fn: impl Fn(&Session, &str, &[String]) -> Option<String> + Send + Sync + 'static,
    ) {
        self.node.gate.route_with(Arc::new(route_fn));
    }

    /// Prepares an app to be a node: routes it does not serve are forwarded, its clients'
    /// departures are told to the other nodes, and its session ids are drawn from a range of
    /// its own (see [`AppBuilder::first_session_id`]), so that they are unique in the cluster.
    /// The node's metrics (`nano_cluster_*`, docs/OPERATIONS.md) join the app's.
    pub fn attach(&self, builder: AppBuilder) -> AppBuilder {
        let node = self.node.clone();
        let weak = Arc::downgrade(&self.node);
        let metrics = self.node.metrics.clone();
        builder
            .register_metrics(move |registry| metrics.register(registry, weak))
            .first_session_id(self.node.gate.first_session_id())
            .remote_router(Forwarder(self.node.clone()))
            .remote_resumer(Resumer(self.node.clone()))
            .on_session_closed(move |session| node.client_left(session))
    }

    /// Joins the cluster with `app` (built from [`attach`](Self::attach)): subscribes, announces
    /// the routes `app` serves, and keeps announcing until [`shutdown`](Self::shutdown).
    ///
    /// # Errors
    ///
    /// [`ClusterError::NodeNameTaken`] when a live node already runs under this node's name;
    /// [`ClusterError::Nats`] when subscribing fails; [`ClusterError::Stopped`] after
    /// [`shutdown`](Self::shutdown).
    pub async fn start(&self, app: &App) -> Result<(), ClusterError> {
        let node = &self.node;
        if node.stop.is_cancelled() {
            return Err(ClusterError::Stopped);
        }
        let Some(feeds) = lock(&node.unstarted).take() else {
            return Ok(()); // Started already.
        };
        let subscriptions = if node.name_taken().await {
            Err(ClusterError::NodeNameTaken(node.link.node().to_owned()))
        } else {
            node.subscribe_all().await
        };
        let subscriptions = match subscriptions {
            Ok(subscriptions) => subscriptions,
            Err(err) => {
                *lock(&node.unstarted) = Some(feeds);
                return Err(err);
            }
        };
        node.run(app, subscriptions, feeds);
        node.hello().await;
        tracing::info!(node = %node.link.node(), routes = app.routes().len(), "joined the cluster");
        Ok(())
    }

    /// Waits until at least one live node serves `route` (at most `timeout`); `true` if one
    /// does. Useful at start-up, before clients are accepted.
    pub async fn wait_for_route(&self, route: &str, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.node.membership.serves(route) {
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
        self.node.membership.nodes()
    }

    /// What this node holds for the cluster right now.
    pub fn stats(&self) -> ClusterStats {
        self.node.stats()
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
        self.node.rpc(None, route, value).await
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
        self.node.rpc(Some(session), route, value).await
    }

    /// A group whose members may be connected to any node; see [`ClusterGroup`].
    pub fn group(&self, name: impl Into<String>) -> ClusterGroup {
        ClusterGroup::new(self.node.clone(), name.into())
    }

    /// Leaves the cluster (the other nodes drop this one at once, which also happens by itself
    /// when the app starts shutting down), lets the calls from other nodes still running here
    /// finish, ends the stand-ins of other nodes' clients here (their close callbacks run),
    /// fails this node's calls still waiting with [`ClusterError::Stopped`], and stops every
    /// task of the node: when it returns, none runs. Call it after the app has shut down.
    ///
    /// Calls from other nodes still running get at most the request timeout to finish (their
    /// callers stop waiting about then); the handlers still running then are cancelled (their
    /// futures dropped) and their calls answered with error 503 `node shutting down`.
    /// Calling it again waits for the first call's work to end. Do not await it in a handler
    /// running for another node: it would wait for that very call.
    pub async fn shutdown(&self) {
        self.node.leave().await;
        self.node.shut_down().await;
    }
}
