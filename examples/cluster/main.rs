//! # cluster: the chat split into gates and room backends, on NATS
//!
//! ```sh
//! nats-server -a 127.0.0.1 -p 4222 &                # Debian: apt install nats-server
//! cargo run --example cluster -- --role room --node room-a &
//! cargo run --example cluster -- --role room --node room-b &
//! cargo run --example cluster -- --role gate --node gate-1
//! ```
//!
//! Then open <http://127.0.0.1:3351/> (the chat page, served by the gate) in two browser tabs:
//! each tab's session lives on one of the backends, and they chat in one room. Start a second
//! gate (`--node gate-2 --tcp 127.0.0.1:3352 --ws 127.0.0.1:3353`) and a tab on
//! <http://127.0.0.1:3353/> joins the same room. Kill a backend: its clients get an error, then
//! continue on the other; start it again: it rejoins.
//!
//! The gate accepts clients (TCP on 3350; the page and WebSocket `/nano` on 3351) and serves
//! nothing itself but a few `gate.*` routes; `room.*`, `calc.*` and `echo.*` are served by the
//! room backends and forwarded to them over NATS. A client stays on one backend (chosen by
//! session id, or by the `backend` field of its handshake `user` data); rooms are cluster
//! groups, so members on different backends and gates chat together.
//!
//! Routes on the backends:
//! - `room.join` `{"name", "room"?}` (the lobby by default): pushes `onMembers` `{"members"}`
//!   (names, from every gate) to the joiner, broadcasts `onNewUser` `{"name","content"}` to
//!   the room, answers, and broadcasts `onLeave` `{"name"}` when the client leaves;
//! - `room.message` `{"content"}`: broadcast as `onMessage` `{"name","content"}` to the room;
//! - `room.whoami`, `room.login` `uid`, `room.kick` `reason`, `room.closed_count`,
//!   `room.stats`;
//! - `calc.double` `n`, `calc.count` `n` (pushes `onCount` 1..=n, then answers), `calc.fail`,
//!   `calc.whoami`; `echo.ping` (raw echo).
//!
//! On the gate: `gate.nodes`, `gate.stats`, `gate.whoami`, `gate.double` `n` (an RPC to
//! `calc.double`), `gate.fail` (an RPC to `calc.fail`), `gate.whoami_remote` (an RPC with the
//! client's session).
//!
//! Flags: `--role gate|room`, `--node NAME`, `--nats URL` (default nats://127.0.0.1:4222),
//! `--tcp ADDR`, `--ws ADDR` (gate; default 127.0.0.1:3350 and :3351), `--request-timeout
//! SECONDS` (default 5), `--admin ADDR --admin-token TOKEN` (serve the admin page and its API
//! on ADDR, with the cluster's nodes on `GET /api/nodes`; see docs/OPERATIONS.md).

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use nano_cluster::{Cluster, ClusterConfig, ClusterError, ClusterStats};
use nano_core::prelude::*;
use nano_examples::{Args, Flag, admin_flags, init_logging, serve_chat_page};
use nano_ws::admin::{AdminNode, listen_admin};
use serde::Deserialize;
use serde_json::{Value, json};

// ---- the backends ----

#[derive(Deserialize)]
struct Join {
    /// The chat page does not name a room: it joins the lobby.
    #[serde(default = "lobby")]
    room: String,
    name: String,
}

fn lobby() -> String {
    "lobby".to_owned()
}

#[derive(Deserialize)]
struct Say {
    content: String,
}

struct Room {
    cluster: Cluster,
    closed: Arc<AtomicU64>,
}

#[component(name = "room")]
impl Room {
    #[handler]
    async fn join(&self, session: &Session, join: Join) -> Result<Value, HandlerError> {
        session.set_synced("name", &join.name)?;
        session.set_synced("room", &join.room)?;
        let room = self.cluster.group(format!("room-{}", join.room));
        room.add(session)
            .await
            .map_err(|err| HandlerError::bad_request(err.to_string()))?;
        // Who is in the room, on every gate (the joiner's own name reaches its gate with this
        // handler's answer, so it is added here).
        let mut members: Vec<String> = room
            .members()
            .await
            .map_err(|err| HandlerError::new(503, err.to_string()))?
            .into_iter()
            .filter_map(|member| member.synced.get("name")?.as_str().map(str::to_owned))
            .chain([join.name.clone()])
            .collect();
        members.sort();
        members.dedup();
        let _ = session.push("onMembers", &json!({ "members": members }));
        let _ = room
            .broadcast(
                "onNewUser",
                &json!({ "content": format!("{} joined", join.name), "name": join.name }),
            )
            .await;
        // When the client leaves (on whichever gate), tell the room.
        let (closed, name) = (self.closed.clone(), join.name.clone());
        session.on_close(move |_| {
            closed.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = room.broadcast("onLeave", &json!({ "name": name })).await;
            });
        });
        Ok(json!({ "code": 0, "result": "success", "node": self.cluster.node() }))
    }

    #[handler]
    async fn message(&self, session: &Session, say: Say) {
        let (Some(name), Some(room)) = (
            session.get_synced::<String>("name"),
            session.get_synced::<String>("room"),
        ) else {
            return;
        };
        let room = self.cluster.group(format!("room-{room}"));
        let _ = room
            .broadcast(
                "onMessage",
                &json!({ "name": name, "content": say.content }),
            )
            .await;
    }

    #[handler]
    fn whoami(&self, session: &Session) -> Value {
        json!({ "id": session.id(), "uid": session.uid(), "node": self.cluster.node() })
    }

    #[handler]
    fn login(&self, session: &Session, uid: i64) -> Result<(), HandlerError> {
        session
            .bind(uid)
            .map_err(|err| HandlerError::bad_request(err.to_string()))
    }

    /// Kicks the caller with `reason` (how a backend ends a client's connection, after a ban
    /// for instance); the kick travels to the client's gate.
    #[handler]
    fn kick(&self, session: &Session, reason: String) {
        session.kick(reason);
    }

    #[handler]
    fn closed_count(&self, _session: &Session) -> u64 {
        self.closed.load(Ordering::SeqCst)
    }

    /// What this backend holds for the cluster (stand-in sessions, groups, ...).
    #[handler]
    fn stats(&self, _session: &Session) -> ClusterStats {
        self.cluster.stats()
    }
}

struct Calc {
    node: String,
}

#[component(name = "calc")]
impl Calc {
    #[handler]
    fn double(&self, _session: &Session, n: i64) -> Value {
        json!({ "result": n * 2, "node": self.node })
    }

    /// Pushes `onCount` 1, 2, ... `n`, then answers: the pushes reach the client first.
    #[handler]
    fn count(&self, session: &Session, n: u32) -> Result<Value, HandlerError> {
        for i in 1..=n.min(100) {
            session
                .push("onCount", &i)
                .map_err(|err| HandlerError::new(503, err.to_string()))?;
        }
        Ok(json!({ "counted": n.min(100), "node": self.node }))
    }

    #[handler]
    fn fail(&self, _session: &Session) -> Result<Value, HandlerError> {
        Err(HandlerError::new(418, "calc refuses"))
    }

    #[handler]
    fn whoami(&self, session: &Session) -> Value {
        json!({ "id": session.id(), "uid": session.uid(), "node": self.node })
    }
}

struct Echo;

#[component(name = "echo")]
impl Echo {
    #[handler]
    fn ping(&self, _session: &Session, body: Bytes) -> Bytes {
        body
    }
}

// ---- the gate ----

struct Gate {
    cluster: Cluster,
}

#[component(name = "gate")]
impl Gate {
    #[handler]
    fn nodes(&self, _session: &Session) -> Value {
        let mut nodes: Vec<String> = self.cluster.nodes().into_keys().collect();
        nodes.sort();
        json!(nodes)
    }

    #[handler]
    fn whoami(&self, session: &Session) -> Value {
        json!({ "id": session.id(), "uid": session.uid(), "node": self.cluster.node() })
    }

    /// What this gate holds for the cluster (clients seen by other nodes, bindings, ...).
    #[handler]
    fn stats(&self, _session: &Session) -> ClusterStats {
        self.cluster.stats()
    }

    #[handler]
    async fn double(&self, _session: &Session, n: i64) -> Result<Value, HandlerError> {
        self.cluster.rpc("calc.double", &n).await.map_err(rpc_error)
    }

    #[handler]
    async fn fail(&self, _session: &Session) -> Result<Value, HandlerError> {
        self.cluster.rpc("calc.fail", &()).await.map_err(rpc_error)
    }

    #[handler]
    async fn whoami_remote(&self, session: &Session) -> Result<Value, HandlerError> {
        self.cluster
            .rpc_with(session, "calc.whoami", &())
            .await
            .map_err(rpc_error)
    }
}

fn rpc_error(error: ClusterError) -> HandlerError {
    match error {
        ClusterError::Remote { code, message } => HandlerError::new(code, message),
        other => HandlerError::new(503, other.to_string()),
    }
}

const FLAGS: &[Flag] = &[
    Flag::value("--role", "ROLE", "what this node is")
        .one_of(&["gate", "room"])
        .default_value("gate"),
    Flag::value(
        "--node",
        "NAME",
        "this node's name in the cluster [default: the role]",
    ),
    Flag::value("--nats", "URL", "the NATS server").default_value("nats://127.0.0.1:4222"),
    Flag::value("--tcp", "ADDR", "gate: TCP address to listen on").default_value("127.0.0.1:3350"),
    Flag::value(
        "--ws",
        "ADDR",
        "gate: address of the chat page and WebSocket /nano",
    )
    .default_value("127.0.0.1:3351"),
    Flag::value(
        "--request-timeout",
        "SECONDS",
        "how long a request to another node may take",
    )
    .default_value("5"),
    admin_flags::ADMIN,
    admin_flags::ADMIN_TOKEN,
];

/// Serves the admin page when `--admin` is given, listing the cluster's nodes; returns
/// ` admin=ADDR` for the address line, or nothing.
async fn serve_admin(
    args: &Args,
    app: &App,
    cluster: &Cluster,
    node: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let Some(config) = admin_flags::admin_config(args)? else {
        return Ok(String::new());
    };
    let (cluster, node, routes) = (
        cluster.clone(),
        node.to_owned(),
        app.manifest().routes.len(),
    );
    let config = config.nodes(move || {
        let peers = cluster.nodes().into_iter();
        let mut nodes: Vec<AdminNode> = peers
            .map(|(name, routes)| AdminNode::new(name, routes, false))
            .collect();
        nodes.push(AdminNode::new(node.clone(), routes, true));
        nodes
    });
    let addr = listen_admin(app, config).await?;
    tracing::info!("cluster: admin page on http://{addr}/");
    Ok(format!(" admin={addr}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let args = Args::from_env("cluster", FLAGS);
    let role: String = args.value("--role");
    let node = args.get("--node").unwrap_or(&role).to_owned();
    let timeout: f64 = args.value("--request-timeout");
    let (tcp_addr, ws_addr) = (args.addr("--tcp"), args.addr("--ws"));
    let config = ClusterConfig::new(args.value::<String>("--nats"), node.clone())
        .request_timeout(Duration::try_from_secs_f64(timeout)?);
    let cluster = Cluster::connect(config).await?;

    let app = if role == "gate" {
        // Clients may ask for a backend in their handshake: {"user": {"backend": "room-a"}}.
        cluster.route_with(|session, _route, _candidates| session.get_synced::<String>("backend"));
        let builder = App::builder()
            .register(Gate {
                cluster: cluster.clone(),
            })
            .push_routes(["onMembers", "onMessage", "onNewUser", "onLeave", "onCount"])
            .handshake_validator(|handshake, session| async move {
                if let Some(backend) = handshake.user.get("backend").and_then(Value::as_str) {
                    let _ = session.set_synced("backend", backend);
                }
                Ok(())
            });
        let app = cluster.attach(builder).build()?;
        cluster.start(&app).await?;
        let tcp = app.listen_tcp(tcp_addr).await?;
        // The chat page and the WebSocket endpoint (`/nano`), as in the chat example.
        let (ws, _page) = serve_chat_page(&app, ws_addr).await?;
        tracing::info!(
            "cluster gate {node}: TCP {tcp}, chat page http://{ws}/, WebSocket ws://{ws}/nano"
        );
        let admin = serve_admin(&args, &app, &cluster, &node).await?;
        println!("cluster listening tcp={tcp} ws={ws}{admin}");
        app
    } else {
        let builder = App::builder()
            .register(Room {
                cluster: cluster.clone(),
                closed: Arc::default(),
            })
            .register(Calc { node: node.clone() })
            .register(Echo);
        let app = cluster.attach(builder).build()?;
        cluster.start(&app).await?;
        tracing::info!("cluster backend {node} ready");
        let admin = serve_admin(&args, &app, &cluster, &node).await?;
        println!("cluster node={node} ready{admin}");
        app
    };
    app.run().await?;
    cluster.shutdown().await;
    Ok(())
}
