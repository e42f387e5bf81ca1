//! # nano-cluster
//!
//! Cluster mode for nano-rs, on NATS and nothing else: when one machine is not enough, run
//! several nano-rs apps as nodes of one cluster.
//!
//! - **Gates and backends.** Any node accepts clients (a gate) and serves the components
//!   registered in its app (a backend); a node may be both. A request for a route the node
//!   does not serve is forwarded over NATS to a node that does, and its answer, pushes and
//!   kicks come back to the client through its gate.
//! - **Discovery without a master.** Nodes announce their routes when they start and send a
//!   small heartbeat every second; a node not heard from for 3 s (configurable) is dropped by
//!   every other node; a restarted node rejoins on its own; a node shutting down says goodbye.
//! - **Sticky backends with failover.** Each session is bound to one node per component
//!   (chosen by session id, or by [`Cluster::route_with`]); when that node dies the session
//!   gets an error response within the request timeout, never a hang, and its next request
//!   goes to another node.
//! - **Sessions across nodes.** Session ids are unique in the cluster (each node draws its
//!   own range). A backend sees a session with the client's id and uid;
//!   `bind` and [`Session::set_synced`](nano_core::Session::set_synced) values travel both ways
//!   with every forwarded message; when the client disconnects, the session is closed (and its
//!   close callbacks run) on every node that knew it.
//! - **RPC with results** ([`Cluster::rpc`], [`Cluster::rpc_with`]): typed, with errors and
//!   a timeout.
//! - **Groups across gates** ([`ClusterGroup`]): one NATS message per broadcast, pushed by each
//!   node to its own members.
//! - **Rooms across nodes** ([`Cluster::serve_rooms`], [`Cluster::rooms`], [`RoomsClient`]):
//!   a nano-core room kind served by several backends; seats placed by the kind's placement
//!   node (the lowest-named live node serving it), one at a time, so that concurrent joiners
//!   through any gates never create two rooms where one would do; new rooms go where the
//!   [`PlacementPolicy`] says; a joined client's requests to the kind's routes go to its
//!   room's node until it leaves or the room is disposed.
//! - **Visible state** ([`Cluster::stats`]): peers, clients seen by other nodes, bindings,
//!   stand-in sessions, calls waiting, local groups; all return to zero when the clients leave.
//!   And the node's background tasks: none is left once [`Cluster::shutdown`] returns.
//!
//! # Examples
//!
//! ```no_run
//! use nano_cluster::{Cluster, ClusterConfig};
//! use nano_core::prelude::*;
//!
//! struct Room;
//!
//! #[component(name = "room")]
//! impl Room {
//!     #[handler]
//!     fn join(&self, session: &Session) -> String { format!("session {} joined", session.id()) }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // A backend serving `room.*` (run a gate as in `Cluster`'s example, in another process).
//! let cluster = Cluster::connect(ClusterConfig::new("nats://127.0.0.1:4222", "room-1")).await?;
//! let app = cluster.attach(App::builder().register(Room)).build()?;
//! cluster.start(&app).await?;
//! app.run().await?;
//! cluster.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Order: what a backend's handler pushes to its caller, directly or by a cluster-group
//! broadcast, reaches it in the handler's order and before that handler's response, as on a
//! single node (not for actor components' broadcasts); relayed pushes use the gate's route
//! dictionary.

mod cluster;
mod config;
mod error;
mod group;
mod id_map;
mod local_groups;
mod registry;
mod stats;
mod wire;

/// The NATS client nano-cluster is built on, for [`Cluster::with_client`] (same version).
pub use async_nats;
pub use cluster::{
    ChooseNode, Cluster, DEFAULT_MAX_PENDING_PLACEMENTS, DEFAULT_PLACEMENT_TIMEOUT,
    DEFAULT_PROBE_TIMEOUT, NodeLoad, Placement, PlacementConfig, PlacementError, PlacementPolicy,
    RoomsClient, RouteFn,
};
pub use config::{
    ClusterConfig, DEFAULT_MAX_CALLS_IN_FLIGHT, DEFAULT_MAX_QUEUED_CALLS, DEFAULT_RELAY_QUEUE,
};
pub use error::ClusterError;
pub use group::{ClusterGroup, ClusterMember};
pub use stats::ClusterStats;
