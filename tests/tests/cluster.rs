//! Cluster mode, multi-process on loopback: a NATS server, two gates and two room backends (the
//! `cluster` example), clients over TCP and WebSocket chatting across backends and gates, RPC with
//! results and errors, pushes ordered before responses, a backend killed and restarted, and
//! NATS itself restarted, at once and after an outage.
//!
//! Five processes share two cores here, so the phases assert what happens (in which order,
//! what is delivered and what is not) and give every outcome [`EVENTUALLY`] to come true;
//! none asserts how fast the machine is.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use nano_client::{Client, ClientBuilder, ClientError, CloseReason};
use nano_cluster::{Cluster, ClusterConfig, ClusterError};
use nano_core::App;
use nano_core::protocol::{Message, PacketType, Route};
use nano_tests::examples::{self, RunningExample};
use nano_tests::nats::Nats;
use nano_tests::raw::RawConn;
use nano_tests::wait::wait_until;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How long an outcome of the deployment's phases may take: long enough for five processes on
/// a loaded 2-core machine; only a broken behaviour runs into it.
const EVENTUALLY: Duration = Duration::from_secs(30);

fn gate(nats: &Nats, node: &str) -> RunningExample {
    examples::start(
        "cluster",
        &[
            "--role",
            "gate",
            "--node",
            node,
            "--nats",
            &nats.url(),
            "--tcp",
            "127.0.0.1:0",
            "--ws",
            "127.0.0.1:0",
            "--request-timeout",
            "2",
        ],
    )
}

fn backend(nats: &Nats, node: &str) -> RunningExample {
    examples::start(
        "cluster",
        &[
            "--role",
            "room",
            "--node",
            node,
            "--nats",
            &nats.url(),
            "--request-timeout",
            "2",
        ],
    )
}

/// Polls the gate's view of the cluster until it is `expected` (failing after [`EVENTUALLY`]).
async fn wait_for_nodes(probe: &Client, expected: &[&str]) {
    let seen = wait_until(EVENTUALLY, async || {
        probe
            .request::<_, Vec<String>>("gate.nodes", &())
            .await
            .is_ok_and(|nodes| nodes == expected)
    })
    .await;
    assert!(
        seen,
        "the gate did not see {expected:?} within {EVENTUALLY:?}"
    );
}

/// Waits until each of `nodes` has announced itself through the NATS server at `url` since
/// this was called: each is connected to it (again) and publishing.
async fn every_node_announces(url: &str, nodes: &[&str]) {
    let nats = async_nats::connect(url).await.expect("connect to NATS");
    let mut announces = nats.subscribe("nano.announce").await.unwrap();
    nats.flush().await.unwrap();
    let mut unheard: BTreeSet<&str> = nodes.iter().copied().collect();
    let all_heard = tokio::time::timeout(EVENTUALLY, async {
        while !unheard.is_empty() {
            let message = announces.next().await.expect("the subscription lives");
            let announce: Value = serde_json::from_slice(&message.payload).unwrap();
            unheard.remove(announce["node"].as_str().unwrap_or_default());
        }
    })
    .await;
    assert!(all_heard.is_ok(), "no announcement from {unheard:?}");
}

/// The next Data message as it is on the wire (routes not resolved), skipping heartbeats.
async fn next_message(raw: &mut RawConn<TcpStream>) -> Message {
    loop {
        let packet = raw
            .recv_within(EVENTUALLY)
            .await
            .expect("a packet from the gate");
        if packet.kind == PacketType::Data {
            return Message::decode(packet.body).expect("a valid message");
        }
    }
}

/// Waits (at most [`EVENTUALLY`]) until the sessions closed on `observer`'s room backend exceed
/// `before`.
async fn closed_count_rises(observer: &Client, before: u64, failure: &str) {
    let risen = wait_until(EVENTUALLY, async || {
        let now: u64 = observer.request("room.closed_count", &()).await.unwrap();
        now > before
    })
    .await;
    assert!(risen, "{failure}");
}

async fn client(target: &str, backend: &str) -> Client {
    ClientBuilder::new()
        .handshake_user(json!({ "backend": backend }))
        .connect(target)
        .await
        .expect("connect to the gate")
}

/// The cluster under test: its processes and the clients that live through all its phases.
struct Deployment {
    nats: Nats,
    /// `None` while it is killed.
    room_a: Option<RunningExample>,
    _room_b: RunningExample,
    _gate_1: RunningExample,
    /// `None` while it restarts.
    gate_2: Option<RunningExample>,
    /// gate-1's TCP address.
    tcp: String,
    /// gate-1's WebSocket URL.
    ws: String,
    /// gate-1's first client, asking it about the cluster.
    probe: Client,
    /// On gate-1 over TCP, served by room-a.
    ann: Client,
    /// On gate-1 over WebSocket, served by room-b.
    bob: Client,
    /// On gate-2 over TCP (its first client), served by room-a.
    dora: Client,
}

impl Deployment {
    /// NATS, two room backends and two gates, once gate-1 sees the others; then ann, bob and
    /// dora connect.
    async fn start() -> Deployment {
        let nats = Nats::start();
        let room_a = backend(&nats, "room-a");
        let room_b = backend(&nats, "room-b");
        let gate_1 = gate(&nats, "gate-1");
        let gate_2 = gate(&nats, "gate-2");
        let tcp = gate_1.addr("tcp").to_owned();
        let ws = format!("ws://{}/nano", gate_1.addr("ws"));
        let probe = Client::connect(&tcp).await.unwrap();
        wait_for_nodes(&probe, &["gate-2", "room-a", "room-b"]).await;
        let ann = client(&tcp, "room-a").await;
        let bob = client(&ws, "room-b").await;
        let dora = client(gate_2.addr("tcp"), "room-a").await;
        Deployment {
            nats,
            room_a: Some(room_a),
            _room_b: room_b,
            _gate_1: gate_1,
            gate_2: Some(gate_2),
            tcp,
            ws,
            probe,
            ann,
            bob,
            dora,
        }
    }

    /// gate-2's TCP address.
    fn gate_2_tcp(&self) -> &str {
        self.gate_2.as_ref().expect("gate-2 runs").addr("tcp")
    }

    /// A raw connection to gate-1, past the handshake (its `dict` is the gate's dictionary).
    async fn raw_client(&self) -> RawConn<TcpStream> {
        let mut raw = RawConn::tcp(&self.tcp).await;
        raw.handshake().await;
        raw
    }
}

/// The code of `route` in the dictionary `raw` got from its handshake.
fn dict_code(raw: &RawConn<TcpStream>, route: &str) -> u16 {
    raw.dict
        .code(route)
        .unwrap_or_else(|| panic!("the gate's dictionary has {route}"))
}

/// One cluster through every phase, in this order: each phase starts from what the ones before
/// left (ann's uid, the lobby's members, the sessions on each backend, which nodes run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_and_two_backends_survive_failures() {
    let mut cluster = Deployment::start().await;
    chat_crosses_transports_backends_and_gates(&cluster).await;
    session_ids_are_unique_in_the_cluster(&cluster).await;
    let ann_on_gate = a_uid_bound_on_a_backend_reaches_the_gate(&cluster).await;
    rpcs_give_results_and_errors_and_act_for_a_session(&cluster, &ann_on_gate).await;
    let mut raw = cluster.raw_client().await;
    pushes_arrive_before_their_response(&mut raw).await;
    a_join_pushes_members_then_the_broadcast_then_responds(&mut raw).await;
    a_kick_from_a_backend_reaches_the_client(&cluster).await;
    a_leaving_client_closes_its_session_on_its_backend(&cluster).await;
    let fay = a_restarted_gate_ends_its_former_sessions(&mut cluster).await;
    a_killed_backend_gives_503s_then_its_clients_rebind(&mut cluster).await;
    a_restarted_backend_rejoins(&mut cluster).await;
    a_silent_node_is_dropped(&cluster).await;
    the_cluster_forms_again_after_a_nats_restart(&mut cluster, &fay).await;
    the_cluster_forms_again_after_a_nats_outage(&mut cluster).await;
    nothing_piles_up_once_the_clients_are_gone(&cluster, raw, fay).await;
}

/// Three clients in one room, on different transports, backends and gates: each hears the
/// others' messages and its own, in order.
async fn chat_crosses_transports_backends_and_gates(cluster: &Deployment) {
    let Deployment { ann, bob, dora, .. } = cluster;
    let mut bob_messages = bob.subscribe("onMessage");
    let mut ann_messages = ann.subscribe("onMessage");
    let mut dora_messages = dora.subscribe("onMessage");
    let joined: Value = ann
        .request("room.join", &json!({ "room": "lobby", "name": "ann" }))
        .await
        .unwrap();
    assert_eq!(
        joined,
        json!({ "code": 0, "result": "success", "node": "room-a" })
    );
    let joined: Value = bob
        .request("room.join", &json!({ "room": "lobby", "name": "bob" }))
        .await
        .unwrap();
    assert_eq!(joined["node"], "room-b");
    let joined: Value = dora
        .request("room.join", &json!({ "room": "lobby", "name": "dora" }))
        .await
        .unwrap();
    assert_eq!(joined["node"], "room-a");
    ann.notify("room.message", &json!({ "content": "hi bob" }))
        .await
        .unwrap();
    let got: Value = bob_messages.recv().await.unwrap().decode().unwrap();
    assert_eq!(got, json!({ "name": "ann", "content": "hi bob" }));
    bob.notify("room.message", &json!({ "content": "hi ann" }))
        .await
        .unwrap();
    // ann is in the room too: she gets her own message, then bob's.
    let own: Value = ann_messages.recv().await.unwrap().decode().unwrap();
    assert_eq!(own, json!({ "name": "ann", "content": "hi bob" }));
    let got: Value = ann_messages.recv().await.unwrap().decode().unwrap();
    assert_eq!(got, json!({ "name": "bob", "content": "hi ann" }));
    // dora, on the other gate, hears both.
    for expected in [("ann", "hi bob"), ("bob", "hi ann")] {
        let got: Value = dora_messages.recv().await.unwrap().decode().unwrap();
        assert_eq!(got, json!({ "name": expected.0, "content": expected.1 }));
    }
}

/// Session ids are unique in the cluster: the first clients of the two gates differ.
async fn session_ids_are_unique_in_the_cluster(cluster: &Deployment) {
    let first_on_1: Value = cluster.probe.request("gate.whoami", &()).await.unwrap();
    let first_on_2: Value = cluster.dora.request("gate.whoami", &()).await.unwrap();
    assert_ne!(first_on_1["id"], first_on_2["id"]);
}

/// The backend sees the gate's session id; a uid bound there (ann's, 42) reaches the gate.
/// Returns ann's session as the gate sees it then.
async fn a_uid_bound_on_a_backend_reaches_the_gate(cluster: &Deployment) -> Value {
    let ann = &cluster.ann;
    let on_gate: Value = ann.request("gate.whoami", &()).await.unwrap();
    let on_backend: Value = ann.request("room.whoami", &()).await.unwrap();
    assert_eq!(on_backend["id"], on_gate["id"]);
    assert_eq!(on_backend["node"], "room-a");
    let logged_in: Value = ann.request("room.login", &42).await.unwrap();
    assert_eq!(logged_in, json!({}), "room.login answers an empty object");
    let on_gate: Value = ann.request("gate.whoami", &()).await.unwrap();
    assert_eq!(on_gate["uid"], 42);
    on_gate
}

/// RPC between nodes: results, errors, and on behalf of a session (ann's, as `ann_on_gate`).
async fn rpcs_give_results_and_errors_and_act_for_a_session(
    cluster: &Deployment,
    ann_on_gate: &Value,
) {
    let ann = &cluster.ann;
    let doubled: Value = ann.request("gate.double", &21).await.unwrap();
    assert_eq!(doubled["result"], 42);
    let err = ann.request::<_, Value>("gate.fail", &()).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::Server { code: 418, message } if message == "calc refuses"),
        "{err}"
    );
    let remote: Value = ann.request("gate.whoami_remote", &()).await.unwrap();
    assert_eq!(
        (remote["id"].clone(), remote["uid"].clone()),
        (ann_on_gate["id"].clone(), json!(42))
    );
}

/// A backend's pushes reach the client before the response of the handler that pushed them,
/// written with the gate's route dictionary like pushes of the gate itself.
async fn pushes_arrive_before_their_response(raw: &mut RawConn<TcpStream>) {
    let on_count = dict_code(raw, "onCount");
    for round in 1..=3_u64 {
        raw.request(round, "calc.count", "20").await;
        for i in 1..=20 {
            let push = next_message(raw).await;
            assert_eq!(
                push,
                Message::Push {
                    route: Route::Code(on_count),
                    payload: Bytes::from(i.to_string()),
                },
                "round {round}"
            );
        }
        match next_message(raw).await {
            Message::Response { id, payload, .. } => {
                assert_eq!(id, round);
                let answer: Value = serde_json::from_slice(&payload).unwrap();
                assert_eq!(answer["counted"], 20);
            }
            other => panic!("expected the response, got {other:?}"),
        }
    }
}

/// Joining the lobby (as gus), in the handler's order, as on a single node: the member list (a
/// push to the joiner), the room's `onNewUser` (a cluster-group broadcast, held by the gate
/// until its turn), then the join's response.
async fn a_join_pushes_members_then_the_broadcast_then_responds(raw: &mut RawConn<TcpStream>) {
    raw.request(10, "room.join", r#"{"room":"lobby","name":"gus"}"#)
        .await;
    match next_message(raw).await {
        Message::Push { route, payload } if route == Route::Code(dict_code(raw, "onMembers")) => {
            let members: Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(members, json!({ "members": ["ann", "bob", "dora", "gus"] }));
        }
        other => panic!("expected onMembers first, got {other:?}"),
    }
    match next_message(raw).await {
        Message::Push { route, payload } if route == Route::Code(dict_code(raw, "onNewUser")) => {
            let arrival: Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(arrival["name"], "gus");
        }
        other => panic!("expected onNewUser second, got {other:?}"),
    }
    assert!(matches!(
        next_message(raw).await,
        Message::Response { id: 10, .. }
    ));
}

/// A kick from a backend reaches the client through its gate.
async fn a_kick_from_a_backend_reaches_the_client(cluster: &Deployment) {
    let eve = client(&cluster.ws, "room-b").await;
    eve.notify("room.kick", "banned").await.unwrap();
    let reason = tokio::time::timeout(EVENTUALLY, eve.closed())
        .await
        .expect("eve was not kicked");
    assert_eq!(
        reason,
        CloseReason::Kicked {
            reason: "banned".to_owned()
        }
    );
}

/// A client leaving closes its session on the backend that knew it (close callbacks run).
async fn a_leaving_client_closes_its_session_on_its_backend(cluster: &Deployment) {
    let carl = client(&cluster.tcp, "room-b").await;
    let joined: Value = carl
        .request("room.join", &json!({ "room": "lobby", "name": "carl" }))
        .await
        .unwrap();
    assert_eq!(joined["node"], "room-b");
    let before: u64 = cluster.bob.request("room.closed_count", &()).await.unwrap();
    carl.close().await;
    closed_count_rises(
        &cluster.bob,
        before,
        "carl's session was not closed on room-b",
    )
    .await;
}

/// A gate dies and restarts at once (before the others would drop it): the backends end the
/// sessions of its former clients (dora's close callback runs on room-a), and a new client of
/// it starts afresh. Returns that client, fay (on room-a).
async fn a_restarted_gate_ends_its_former_sessions(cluster: &mut Deployment) -> Client {
    let before: u64 = cluster.ann.request("room.closed_count", &()).await.unwrap();
    cluster.gate_2 = None;
    cluster.gate_2 = Some(gate(&cluster.nats, "gate-2"));
    closed_count_rises(
        &cluster.ann,
        before,
        "dora's session was not closed on room-a",
    )
    .await;
    let fay = client(cluster.gate_2_tcp(), "room-a").await;
    let fresh: Value = fay.request("room.whoami", &()).await.unwrap();
    assert_eq!(
        fresh["uid"],
        Value::Null,
        "a new client starts without a uid"
    );
    fay
}

/// room-a killed: its clients (ann) get error 503 (at once when NATS knows it is gone, else
/// after the 2 s request timeout), never a hang (that would be the client's own timeout),
/// until they are rebound; then they continue on room-b, uid and all. The gate drops room-a.
async fn a_killed_backend_gives_503s_then_its_clients_rebind(cluster: &mut Deployment) {
    cluster.room_a = None;
    let mut rebound = None;
    let rebinds = wait_until(EVENTUALLY, async || {
        match cluster.ann.request::<_, Value>("room.whoami", &()).await {
            Ok(answer) => rebound = Some(answer),
            Err(err) => assert!(
                matches!(err, ClientError::Server { code: 503, .. }),
                "{err}"
            ),
        }
        rebound.is_some()
    })
    .await;
    assert!(rebinds, "ann was not rebound");
    let rebound = rebound.expect("ann's answer");
    assert_eq!(rebound["node"], "room-b");
    assert_eq!(rebound["uid"], 42, "the uid travels to the new backend");
    wait_for_nodes(&cluster.probe, &["gate-2", "room-b"]).await;
}

/// room-a restarted rejoins the cluster by itself.
async fn a_restarted_backend_rejoins(cluster: &mut Deployment) {
    cluster.room_a = Some(backend(&cluster.nats, "room-a"));
    wait_for_nodes(&cluster.probe, &["gate-2", "room-a", "room-b"]).await;
}

/// A node that stops announcing (killed: no goodbye, and no client traffic to notice it) is
/// dropped by the others: its announcements stop, and the drop time (3 s) does the rest.
async fn a_silent_node_is_dropped(cluster: &Deployment) {
    let room_c = backend(&cluster.nats, "room-c");
    wait_for_nodes(&cluster.probe, &["gate-2", "room-a", "room-b", "room-c"]).await;
    drop(room_c);
    wait_for_nodes(&cluster.probe, &["gate-2", "room-a", "room-b"]).await;
}

/// NATS restarted: every node reconnects (each announces itself through the new server) and
/// the cluster forms again; calls cross every node again (bob's through gate-1 to room-b,
/// fay's through gate-2 to room-a), and bob's session and RPCs continue.
async fn the_cluster_forms_again_after_a_nats_restart(cluster: &mut Deployment, fay: &Client) {
    cluster.nats.restart();
    every_node_announces(
        &cluster.nats.url(),
        &["gate-1", "gate-2", "room-a", "room-b"],
    )
    .await;
    wait_for_nodes(&cluster.probe, &["gate-2", "room-a", "room-b"]).await;
    let after: Value = cluster.bob.request("room.whoami", &()).await.unwrap();
    assert_eq!(after["node"], "room-b");
    let doubled: Value = cluster.bob.request("gate.double", &5).await.unwrap();
    assert_eq!(doubled["result"], 10);
    let on_room_a: Value = fay.request("room.whoami", &()).await.unwrap();
    assert_eq!(on_room_a["node"], "room-a");
}

/// NATS down for longer than the drop time: the nodes drop each other (the gate's view
/// empties; the others have the same drop time). When it is back, their heartbeats carry no
/// routes; each node asks the ones it does not know for theirs, and the cluster forms again.
/// ann's session continues on a fresh stand-in, uid and all.
async fn the_cluster_forms_again_after_a_nats_outage(cluster: &mut Deployment) {
    cluster.nats.stop();
    wait_for_nodes(&cluster.probe, &[]).await;
    cluster.nats.restart();
    wait_for_nodes(&cluster.probe, &["gate-2", "room-a", "room-b"]).await;
    let after: Value = cluster.ann.request("room.whoami", &()).await.unwrap();
    assert_eq!(after["uid"], 42);
    let doubled: Value = cluster.ann.request("gate.double", &6).await.unwrap();
    assert_eq!(doubled["result"], 12);
}

/// Nothing piles up: once the clients (ann, bob, fay and the raw one) are gone, the gate holds
/// nothing for them (clients, bindings, the lobby's local part), and each backend only the
/// stand-in of the one client that asks.
async fn nothing_piles_up_once_the_clients_are_gone(
    cluster: &Deployment,
    raw: RawConn<TcpStream>,
    fay: Client,
) {
    for leaving in [&cluster.ann, &cluster.bob, &fay] {
        leaving.close().await;
    }
    drop(raw);
    let gate_emptied = wait_until(EVENTUALLY, async || {
        let stats: Value = cluster.probe.request("gate.stats", &()).await.unwrap();
        (
            &stats["clients"],
            &stats["bound_sessions"],
            &stats["local_groups"],
        ) == (&json!(0), &json!(0), &json!(0))
    })
    .await;
    assert!(
        gate_emptied,
        "the gate still holds state for departed clients"
    );
    for node in ["room-a", "room-b"] {
        let last = client(&cluster.tcp, node).await;
        let backend_emptied = wait_until(EVENTUALLY, async || {
            let stats: Value = last.request("room.stats", &()).await.unwrap();
            stats["stand_ins"] == 1 && stats["pending_calls"] == 0
        })
        .await;
        assert!(
            backend_emptied,
            "{node} still holds stand-ins of departed clients"
        );
    }
}

/// A backend whose handler holds its calls until the test lets them go.
struct Held {
    gate: Arc<Semaphore>,
}

#[nano_core::component(name = "held")]
impl Held {
    #[nano_core::handler]
    async fn call(&self, _session: &nano_core::Session, n: u64) -> u64 {
        let _permit = self.gate.acquire().await;
        n
    }
}

/// Node `held-1`, serving [`Held`] behind `release` and taking at most 2 calls at once.
async fn held_backend(nats: &Nats, release: Arc<Semaphore>) -> (Cluster, App) {
    let backend = Cluster::connect(
        ClusterConfig::new(nats.url(), "held-1")
            .max_calls_in_flight(2)
            .request_timeout(Duration::from_secs(20)),
    )
    .await
    .unwrap();
    let app = backend
        .attach(App::builder().register(Held { gate: release }))
        .build()
        .unwrap();
    backend.start(&app).await.unwrap();
    (backend, app)
}

/// Node `caller`, on a NATS client it brings itself (as an application with credentials or TLS
/// would), once it sees a node serving `held.call`.
async fn caller_on_its_own_nats_client(nats: &Nats) -> (Cluster, App) {
    let own_client = async_nats::ConnectOptions::new()
        .max_reconnects(None)
        .connect(nats.url())
        .await
        .unwrap();
    let caller = Cluster::with_client(
        ClusterConfig::new("", "caller").request_timeout(Duration::from_secs(20)),
        own_client,
    )
    .unwrap();
    let app = caller.attach(App::builder()).build().unwrap();
    caller.start(&app).await.unwrap();
    assert!(
        caller
            .wait_for_route("held.call", Duration::from_secs(10))
            .await
    );
    (caller, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_refuses_calls_beyond_its_limit_at_once() {
    let nats = Nats::start();
    let release = Arc::new(Semaphore::new(0));
    let (backend, _backend_app) = held_backend(&nats, release.clone()).await;
    let (caller, _caller_app) = caller_on_its_own_nats_client(&nats).await;

    let mut calls = JoinSet::new();
    for n in 0..5_u64 {
        let caller = caller.clone();
        calls.spawn(async move { caller.rpc::<_, u64>("held.call", &n).await });
    }
    // Three calls find both places taken and are refused at once, while two are held.
    for _ in 0..3 {
        let refused = calls.join_next().await.unwrap().unwrap();
        assert!(
            matches!(&refused, Err(ClusterError::Remote { code: 503, message }) if message == "node busy"),
            "{refused:?}"
        );
    }
    release.add_permits(100);
    for _ in 0..2 {
        assert!(calls.join_next().await.unwrap().unwrap().is_ok());
    }
    // The places are free again.
    assert_eq!(caller.rpc::<_, u64>("held.call", &7).await.unwrap(), 7);
    caller.shutdown().await;
    backend.shutdown().await;
}

/// A backend component that counts the sessions that closed after calling it.
struct Tracked {
    closed: Arc<AtomicU64>,
}

#[nano_core::component(name = "tracked")]
impl Tracked {
    #[nano_core::handler]
    fn hello(&self, session: &nano_core::Session) -> u64 {
        let closed = self.closed.clone();
        session.on_close(move |_| {
            closed.fetch_add(1, Ordering::SeqCst);
        });
        session.id()
    }
}

/// A started node serving [`Tracked`], and its count of closed sessions.
struct TrackedBackend {
    cluster: Cluster,
    app: App,
    closed: Arc<AtomicU64>,
}

/// How long these nodes wait before dropping a silent peer: far longer than any wait of the
/// test, so that a node they forget has left, not gone silent.
const DEAD_AFTER: Duration = Duration::from_secs(60);

/// How soon a node that left must be forgotten: clearly within [`DEAD_AFTER`].
const LEAVE_SEEN_WITHIN: Duration = Duration::from_secs(10);

/// The configuration of node `name`, auditing its stand-ins every `audit`.
fn node_config(nats: &Nats, name: &str, audit: Duration) -> ClusterConfig {
    ClusterConfig::new(nats.url(), name)
        .audit_interval(audit)
        .request_timeout(Duration::from_secs(5))
        .dead_after(DEAD_AFTER)
}

/// Node `gate-x`, started with no components of its own (a gate without clients).
async fn gate_x(nats: &Nats) -> (Cluster, App) {
    let gate = Cluster::connect(node_config(nats, "gate-x", Duration::from_secs(60)))
        .await
        .unwrap();
    let app = gate.attach(App::builder()).build().unwrap();
    gate.start(&app).await.unwrap();
    (gate, app)
}

/// Node `name` serving [`Tracked`], auditing its stand-ins every `audit`.
async fn tracked_backend(nats: &Nats, name: &str, audit: Duration) -> TrackedBackend {
    let closed = Arc::new(AtomicU64::new(0));
    let cluster = Cluster::connect(node_config(nats, name, audit))
        .await
        .unwrap();
    let app = cluster
        .attach(App::builder().register(Tracked {
            closed: closed.clone(),
        }))
        .build()
        .unwrap();
    cluster.start(&app).await.unwrap();
    TrackedBackend {
        cluster,
        app,
        closed,
    }
}

/// A call from `gate` for its client `session`, framed as nodes frame it (a big-endian u32
/// header length, the JSON header, the payload), sent straight to `node`'s call subject.
async fn call_as_gate(nats: &async_nats::Client, node: &str, gate: &str, session: u64) -> Value {
    let header = json!({
        "route": "tracked.hello",
        "mid": 1,
        "session": { "gate": gate, "id": session, "uid": null, "synced": {} },
    })
    .to_string();
    let mut frame = (u32::try_from(header.len()).unwrap())
        .to_be_bytes()
        .to_vec();
    frame.extend_from_slice(header.as_bytes());
    frame.extend_from_slice(b"null");
    let reply = nats
        .request(format!("nano.node.{node}.call"), frame.into())
        .await
        .expect("the backend answers");
    let header_len = u32::from_be_bytes(reply.payload[..4].try_into().unwrap()) as usize;
    serde_json::from_slice(&reply.payload[4..4 + header_len]).unwrap()
}

/// Waits (at most 10 s) for `done`, failing with `what`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    assert!(
        wait_until(Duration::from_secs(10), async || done()).await,
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_names_are_unique_and_stand_ins_end_when_their_gate_forgot_them_or_their_node_stops() {
    let nats = Nats::start();
    let (gate, _gate_app) = gate_x(&nats).await;
    let tracked_1 = tracked_backend(&nats, "tracked-1", Duration::from_millis(200)).await;
    let tracked_2 = tracked_backend(&nats, "tracked-2", Duration::from_secs(60)).await;
    let raw = async_nats::connect(nats.url()).await.unwrap();

    a_second_process_under_a_running_nodes_name_is_refused(&nats).await;
    the_audit_ends_a_stand_in_its_gate_does_not_have(&raw, &tracked_1).await;
    a_node_shutting_down_ends_its_stand_ins_and_leaves_at_once(&raw, &gate, tracked_2).await;
    gate.shutdown().await;
}

/// A second process under a running node's name (gate-x) is refused.
async fn a_second_process_under_a_running_nodes_name_is_refused(nats: &Nats) {
    let twin = Cluster::connect(node_config(nats, "gate-x", Duration::from_secs(60)))
        .await
        .unwrap();
    let twin_app = twin.attach(App::builder()).build().unwrap();
    assert!(matches!(
        twin.start(&twin_app).await,
        Err(ClusterError::NodeNameTaken(name)) if name == "gate-x"
    ));
}

/// A stand-in on `tracked_1` for a client gate-x does not have (its departure was missed): the
/// audit of tracked-1 asks gate-x, and ends it (its close callback runs).
async fn the_audit_ends_a_stand_in_its_gate_does_not_have(
    raw: &async_nats::Client,
    tracked_1: &TrackedBackend,
) {
    let answer = call_as_gate(raw, "tracked-1", "gate-x", 77).await;
    assert_eq!(answer["kind"], "payload");
    until("the audit ended the stand-in", || {
        tracked_1.closed.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(tracked_1.cluster.stats().stand_ins, 0);
}

/// Shutting a node (`tracked_2`) down ends its stand-ins too, and it leaves the cluster (as
/// `gate` sees it) at once: by its goodbye, well before `gate` would drop it for silence.
async fn a_node_shutting_down_ends_its_stand_ins_and_leaves_at_once(
    raw: &async_nats::Client,
    gate: &Cluster,
    tracked_2: TrackedBackend,
) {
    let answer = call_as_gate(raw, "tracked-2", "gate-x", 78).await;
    assert_eq!(answer["kind"], "payload");
    until("gate-x saw tracked-2", || {
        gate.nodes().contains_key("tracked-2")
    })
    .await;
    tracked_2.app.shutdown().await;
    tracked_2.cluster.shutdown().await;
    until("tracked-2's stand-in ended", || {
        tracked_2.closed.load(Ordering::SeqCst) == 1
    })
    .await;
    let forgotten = wait_until(LEAVE_SEEN_WITHIN, async || {
        !gate.nodes().contains_key("tracked-2")
    })
    .await;
    assert!(
        forgotten,
        "gate-x did not forget tracked-2 within {LEAVE_SEEN_WITHIN:?} of its leaving"
    );
    assert!(matches!(
        tracked_2.cluster.rpc::<_, u64>("tracked.hello", &()).await,
        Err(ClusterError::Stopped)
    ));
    let stats = tracked_2.cluster.stats();
    assert_eq!((stats.stand_ins, stats.pending_calls), (0, 0));
}
