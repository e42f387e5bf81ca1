//! What the cluster rooms tests share: a room kind (`table.*`) served by backend nodes, a
//! lobby (`lobby.*`) on gate nodes that places and joins seats through
//! `nano_cluster::RoomsClient`, and a cluster of such nodes on one NATS server.

use std::time::Duration;

use nano_cluster::{Cluster, ClusterConfig, Placement, PlacementConfig, RoomsClient};
use nano_core::prelude::*;
use nano_core::{App, Room, RoomConfig, RoomId, RoomRef, Rooms};
use serde::{Deserialize, Serialize};

use crate::nats::Nats;
use crate::wait::wait_until;

/// How long a condition of these tests may take to come true.
pub const WITHIN: Duration = Duration::from_secs(30);

/// The placement settings of these tests: the defaults, with timeouts generous enough for a
/// loaded machine (no test waits for one to expire; a crashed node is detected by NATS's
/// "no responders" at once).
pub fn placement() -> PlacementConfig {
    PlacementConfig::default()
        .probe_timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(20))
}

/// Where a client's room is, or where its request ran.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Spot {
    /// The node.
    pub node: String,
    /// The room there.
    pub room: RoomId,
}

/// `onPlay`: a member played.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Played {
    /// The player's session id.
    pub from: u64,
    /// What it played.
    pub mv: String,
}

/// One table (a room), on the node named in its init data.
pub struct Table {
    node: String,
}

#[nano_core::component(name = "table", room)]
impl Table {
    /// Tells every member what `session` played; answers where it ran.
    #[nano_core::handler]
    fn play(&mut self, session: &Session, mv: String, ctx: &Context<Self>) -> Option<Spot> {
        let room = ctx.room()?;
        let played = Played {
            from: session.id(),
            mv,
        };
        let _ = room.members().broadcast("onPlay", &played);
        Some(Spot {
            node: self.node.clone(),
            room: room.id(),
        })
    }
}

impl Room for Table {
    type Init = String;
    type Input = ();

    fn create(node: &String, _room: &RoomRef<Self>) -> Self {
        Table { node: node.clone() }
    }
}

/// A gate's lobby: its clients find, reserve, claim and leave tables anywhere.
pub struct Lobby {
    tables: RoomsClient,
}

#[nano_core::component(name = "lobby")]
impl Lobby {
    /// Joins a table made with `filter` (or a new one).
    #[nano_core::handler]
    async fn join(&self, session: &Session, filter: String) -> Result<Spot, HandlerError> {
        let placement = self.tables.join_or_create(session, filter).await?;
        Ok(Spot {
            node: placement.node,
            room: placement.room,
        })
    }

    /// Reserves a seat at a table made with `filter`, for a later `claim`.
    #[nano_core::handler]
    async fn reserve(&self, _session: &Session, filter: String) -> Result<Placement, HandlerError> {
        Ok(self.tables.reserve_or_create(filter).await?)
    }

    /// Takes a reserved seat.
    #[nano_core::handler]
    async fn claim(&self, session: &Session, placement: Placement) -> Result<RoomId, HandlerError> {
        Ok(self.tables.join_reserved(session, &placement).await?)
    }

    /// Leaves the caller's table.
    #[nano_core::handler]
    async fn leave(&self, session: &Session) -> Result<RoomId, HandlerError> {
        Ok(self.tables.leave(session).await?)
    }
}

/// A backend node serving tables.
pub struct Backend {
    /// Its name.
    pub name: String,
    /// Its cluster handle.
    pub cluster: Cluster,
    /// Its app.
    pub app: App,
    /// Its tables.
    pub tables: Rooms<Table>,
    /// Its connection to NATS.
    nats: async_nats::Client,
}

impl Backend {
    /// Starts backend `name`: its app serves `Table` with `room`, placed with `placement`.
    pub async fn start(
        nats: &Nats,
        prefix: &str,
        name: &str,
        room: RoomConfig,
        placement: PlacementConfig,
    ) -> Backend {
        let tables = Rooms::<Table>::new(room).unwrap();
        let client = async_nats::connect(nats.url()).await.unwrap();
        let cluster = Cluster::with_client(config(prefix, name), client.clone()).unwrap();
        let app = cluster
            .attach(App::builder().rooms(tables.clone()))
            .build()
            .unwrap();
        cluster.start(&app).await.unwrap();
        let node = name.to_owned();
        cluster
            .serve_rooms(tables.clone(), placement, move |_filter| node.clone())
            .await
            .unwrap();
        Backend {
            name: name.to_owned(),
            cluster,
            app,
            tables,
            nats: client,
        }
    }

    /// Loses its NATS connection without a goodbye, as a crashed node would: the others
    /// keep it in their view until `dead_after`, and nobody answers on its subjects.
    pub async fn crash(&self) {
        self.nats.drain().await.unwrap();
    }

    /// Stops it (it says goodbye: the others drop it at once).
    pub async fn stop(&self) {
        self.app.shutdown().await;
        self.cluster.shutdown().await;
    }
}

/// A gate node: a lobby, and clients over TCP.
pub struct Gate {
    /// Its cluster handle.
    pub cluster: Cluster,
    /// Its app.
    pub app: App,
    /// Where its clients connect.
    pub addr: String,
}

impl Gate {
    /// Starts gate `name` with a lobby placing with `placement`'s timeouts.
    pub async fn start(nats: &Nats, prefix: &str, name: &str, placement: PlacementConfig) -> Gate {
        let cluster = connect(nats, prefix, name).await;
        let lobby = Lobby {
            tables: cluster.rooms_with("table", placement),
        };
        let app = cluster
            .attach(App::builder().register(lobby))
            .build()
            .unwrap();
        cluster.start(&app).await.unwrap();
        let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
        Gate { cluster, app, addr }
    }

    /// A client connected to it.
    pub async fn client(&self) -> nano_client::Client {
        nano_client::Client::connect(&self.addr).await.unwrap()
    }

    /// Stops it.
    pub async fn stop(&self) {
        self.app.shutdown().await;
        self.cluster.shutdown().await;
    }
}

/// A node's settings: a silent node stays in the others' view for 30 s, longer than any
/// test (a crashed node is then still in every view while the test runs).
fn config(prefix: &str, name: &str) -> ClusterConfig {
    ClusterConfig::new("", name)
        .prefix(prefix)
        .request_timeout(Duration::from_secs(10))
        .dead_after(Duration::from_secs(30))
}

async fn connect(nats: &Nats, prefix: &str, name: &str) -> Cluster {
    let client = async_nats::connect(nats.url()).await.unwrap();
    Cluster::with_client(config(prefix, name), client).unwrap()
}

/// Waits until `cluster` sees every one of `nodes` serving routes.
pub async fn sees(cluster: &Cluster, nodes: &[&str]) {
    let seen = wait_until(WITHIN, async || {
        let known = cluster.nodes();
        nodes
            .iter()
            .all(|node| known.get(*node).is_some_and(|routes| *routes > 0))
    })
    .await;
    assert!(seen, "{} did not see {nodes:?}", cluster.node());
}

/// Backends `names` and `gates` gates on one NATS server, every node seeing every backend.
pub struct Setup {
    /// The backends, in the order of `names`.
    pub backends: Vec<Backend>,
    /// The gates.
    pub gates: Vec<Gate>,
    /// The NATS server.
    pub nats: Nats,
}

impl Setup {
    /// Starts the cluster.
    pub async fn start(
        prefix: &str,
        names: &[&str],
        gates: usize,
        room: RoomConfig,
        placement: PlacementConfig,
    ) -> Setup {
        let nats = Nats::start();
        let mut backends = Vec::new();
        for name in names {
            let backend = Backend::start(&nats, prefix, name, room.clone(), placement.clone());
            backends.push(backend.await);
        }
        let mut started = Vec::new();
        for index in 1..=gates {
            let name = format!("gate-{index}");
            started.push(Gate::start(&nats, prefix, &name, placement.clone()).await);
        }
        for backend in &backends {
            let others: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| *n != backend.name)
                .collect();
            sees(&backend.cluster, &others).await;
        }
        for gate in &started {
            sees(&gate.cluster, names).await;
        }
        Setup {
            backends,
            gates: started,
            nats,
        }
    }

    /// Backend `name`.
    pub fn backend(&self, name: &str) -> &Backend {
        self.backends
            .iter()
            .find(|backend| backend.name == name)
            .expect("a backend of the setup")
    }

    /// Stops every node.
    pub async fn stop(&self) {
        for gate in &self.gates {
            gate.stop().await;
        }
        for backend in &self.backends {
            backend.stop().await;
        }
    }
}
