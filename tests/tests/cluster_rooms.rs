//! Rooms across nodes, on a real NATS server, with clients over TCP: concurrent joiners
//! through two gates fill exactly the rooms needed, spread across three backends by the
//! placement policy (fewest rooms by default, fewest sessions, or the user's); a joined client's requests
//! reach its room's node, whose broadcasts reach room-mates on other gates; leaving and
//! disposal stop that routing; seats expire across nodes; a node serving the kind going away
//! leaves the others to place, and with none left a join fails with 503, never hangs; on the
//! wire, a node that does not place redirects, and malformed asks are ignored.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use nano_client::{Client, ClientError};
use nano_cluster::{NodeLoad, Placement, PlacementPolicy};
use nano_core::{RoomConfig, RoomId};
use nano_tests::cluster_rooms::{Played, Setup, Spot, WITHIN, placement};
use nano_tests::wait::wait_until;

async fn join(client: &Client, filter: &str) -> Result<Spot, ClientError> {
    client.request("lobby.join", &filter).await
}

fn code<T: std::fmt::Debug>(result: Result<T, ClientError>) -> i32 {
    match result {
        Err(ClientError::Server { code, .. }) => code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// `count` clients, taking turns between the setup's gates.
async fn clients(setup: &Setup, count: usize) -> Vec<Client> {
    let mut clients = Vec::new();
    for index in 0..count {
        clients.push(setup.gates[index % setup.gates.len()].client().await);
    }
    clients
}

/// Every client asks to join a room made with `filter` at once; where each landed.
async fn join_all(clients: &[Client], filter: &str) -> Vec<Spot> {
    let joins = clients.iter().map(|client| join(client, filter));
    let joined = tokio::time::timeout(WITHIN, futures_util::future::join_all(joins))
        .await
        .expect("every join answered");
    joined.into_iter().map(Result::unwrap).collect()
}

/// Members per (node, room).
fn per_room(spots: &[Spot]) -> BTreeMap<Spot, usize> {
    let mut rooms = BTreeMap::new();
    for spot in spots {
        *rooms.entry(spot.clone()).or_default() += 1;
    }
    rooms
}

/// Rooms per backend, in the setup's order.
fn rooms_per_backend(setup: &Setup) -> Vec<usize> {
    setup.backends.iter().map(|b| b.tables.len()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_joiners_through_two_gates_fill_eight_rooms_balanced_across_three_nodes() {
    let room = RoomConfig::default().max_members(4);
    let setup = Setup::start("rooms-fill", &["b1", "b2", "b3"], 2, room, placement()).await;
    let clients = clients(&setup, 32).await;
    let spots = join_all(&clients, "ranked").await;
    let rooms = per_room(&spots);
    assert_eq!(rooms.len(), 8, "exactly eight rooms: {rooms:?}");
    assert!(rooms.values().all(|members| *members == 4), "{rooms:?}");
    let counts = rooms_per_backend(&setup);
    assert_eq!(
        counts.iter().sum::<usize>(),
        8,
        "no other room anywhere: {counts:?}"
    );
    let (least, most) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(
        most - least <= 1,
        "fewest rooms keeps nodes within one: {counts:?}"
    );
    for backend in &setup.backends {
        for info in backend.tables.list() {
            assert_eq!(
                (info.members, info.reserved),
                (4, 0),
                "{}: {info:?}",
                backend.name
            );
        }
    }
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_defined_policy_places_every_new_room() {
    // Always the last node in name order, whatever the loads.
    let last = PlacementPolicy::custom(|_filter: &str, nodes: &[NodeLoad]| {
        nodes.last().map(|load| load.node.clone())
    });
    let placement = placement().policy(last);
    let room = RoomConfig::default().max_members(2);
    let setup = Setup::start("rooms-policy", &["b1", "b2", "b3"], 2, room, placement).await;
    let clients = clients(&setup, 12).await;
    let spots = join_all(&clients, "casual").await;
    let rooms = per_room(&spots);
    assert_eq!(rooms.len(), 6, "{rooms:?}");
    assert!(rooms.keys().all(|spot| spot.node == "b3"), "{rooms:?}");
    assert_eq!(rooms_per_backend(&setup), [0, 0, 6]);
    setup.stop().await;
    let nodes = setup.backends.iter().map(|b| &b.cluster);
    for cluster in nodes.chain(setup.gates.iter().map(|g| &g.cluster)) {
        assert_eq!(
            cluster.stats().tasks,
            0,
            "{}: every task ended",
            cluster.node()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joined_clients_requests_reach_its_rooms_node_until_it_leaves_or_the_room_goes() {
    // Rooms on b1 only, while the gates' own choice for an unbound session is b2: a request
    // that is not routed to the room's node finds no room (409).
    let first = PlacementPolicy::custom(|_: &str, nodes: &[NodeLoad]| {
        nodes.first().map(|load| load.node.clone())
    });
    let placement = placement().policy(first);
    let room = RoomConfig::default().max_members(2);
    let setup = Setup::start("rooms-route", &["b1", "b2"], 2, room, placement).await;
    for gate in &setup.gates {
        gate.cluster
            .route_with(|_session, _route, candidates| candidates.last().cloned());
    }
    let (alice, bob) = (setup.gates[0].client().await, setup.gates[1].client().await);
    let (mut alice_sees, mut bob_sees) = (alice.subscribe("onPlay"), bob.subscribe("onPlay"));
    let spot = join(&alice, "duo").await.unwrap();
    assert_eq!(
        join(&bob, "duo").await.unwrap(),
        spot,
        "the free seat first"
    );
    assert_eq!(spot.node, "b1");
    let ran: Option<Spot> = alice.request("table.play", &"e4").await.unwrap();
    assert_eq!(ran.as_ref(), Some(&spot), "alice's request ran in her room");
    for sees in [&mut alice_sees, &mut bob_sees] {
        let push = tokio::time::timeout(WITHIN, sees.next())
            .await
            .unwrap()
            .unwrap();
        let played: Played = push.decode().unwrap();
        assert_eq!(played.mv, "e4");
    }
    let ran: Option<Spot> = bob.request("table.play", &"e5").await.unwrap();
    assert_eq!(
        ran.as_ref(),
        Some(&spot),
        "so did bob's, from the other gate"
    );

    let left: RoomId = alice.request("lobby.leave", &()).await.unwrap();
    assert_eq!(left, spot.room);
    assert_eq!(
        setup.gates[0].cluster.stats().bound_sessions,
        0,
        "alice is routed nowhere"
    );
    assert_eq!(
        code(alice.request::<_, Option<Spot>>("table.play", &"x").await),
        409
    );

    let b1 = setup.backend("b1");
    b1.tables.dispose(spot.room).unwrap();
    let unbound = wait_until(WITHIN, async || {
        setup.gates[1].cluster.stats().bound_sessions == 0
    });
    assert!(
        unbound.await,
        "bob's gate stopped routing him to the disposed room"
    );
    assert_eq!(
        code(bob.request::<_, Option<Spot>>("table.play", &"x").await),
        409
    );
    // Both can join again.
    assert_eq!(join(&alice, "duo").await.unwrap().node, "b1");
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_seat_reserved_across_nodes_expires_and_frees_its_place() {
    let room = RoomConfig::default()
        .max_members(2)
        .seat_reservation_timeout(Duration::from_secs(1));
    let setup = Setup::start("rooms-seat", &["b1", "b2"], 1, room, placement()).await;
    let (reserver, claimer) = (setup.gates[0].client().await, setup.gates[0].client().await);
    let first: Placement = reserver.request("lobby.reserve", &"r").await.unwrap();
    let node = setup.backend(&first.node);
    assert_eq!(node.tables.list()[0].reserved, 1, "held on {}", first.node);
    let expired = wait_until(WITHIN, async || node.tables.list()[0].reserved == 0).await;
    assert!(expired, "the seat freed itself on {}", first.node);
    assert_eq!(
        code(claimer.request::<_, RoomId>("lobby.claim", &first).await),
        408
    );
    // A placement a client sends back may name any node: only live nodes serving the kind
    // are called.
    for node in ["gate-1", "nowhere", "b1.call", ">"] {
        let mut forged = serde_json::to_value(&first).unwrap();
        forged["node"] = node.into();
        let claimed = claimer.request::<_, RoomId>("lobby.claim", &forged).await;
        assert_eq!(code(claimed), 408, "{node}");
    }

    // The freed seat is placed again, in the same room: no second room.
    let second: Placement = reserver.request("lobby.reserve", &"r").await.unwrap();
    assert_eq!((&second.node, second.room), (&first.node, first.room));
    let joined: RoomId = claimer.request("lobby.claim", &second).await.unwrap();
    assert_eq!(joined, first.room);
    assert_eq!(
        code(claimer.request::<_, RoomId>("lobby.claim", &second).await),
        412
    );
    assert_eq!(rooms_per_backend(&setup).iter().sum::<usize>(), 1);
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_nodes_serving_the_kind_go_away_the_others_place_and_then_joins_fail_with_503() {
    let room = RoomConfig::default().max_members(2);
    let setup = Setup::start("rooms-gone", &["b1", "b2", "b3"], 1, room, placement()).await;
    let early = clients(&setup, 2).await;
    let spots = join_all(&early, "a").await;
    assert_eq!(spots[0].node, "b1", "{spots:?}");
    // b1, the placement node and the holder of the room, crashes: every view keeps it (for
    // `dead_after`, longer than this test), but nobody answers on its subjects.
    setup.backend("b1").crash().await;
    let later = clients(&setup, 6).await;
    let spots = join_all(&later, "a").await;
    assert!(
        setup.gates[0].cluster.nodes().contains_key("b1"),
        "still in the gate's view"
    );
    let rooms = per_room(&spots);
    assert_eq!(rooms.len(), 3, "{rooms:?}");
    assert!(rooms.keys().all(|spot| spot.node != "b1"), "{rooms:?}");
    assert_eq!(rooms_per_backend(&setup)[1..].iter().sum::<usize>(), 3);

    // The others leave too (gracefully): only the crashed b1 is left in the gate's view.
    setup.backend("b2").stop().await;
    setup.backend("b3").stop().await;
    let last = setup.gates[0].client().await;
    let refused = tokio::time::timeout(WITHIN, join(&last, "a")).await;
    assert_eq!(code(refused.expect("answered, not hung")), 503);
    for gate in &setup.gates {
        gate.stop().await;
    }
}

/// A measurement, not a check: `cargo test --release -p nano-tests --test cluster_rooms --
/// --ignored --nocapture` prints how long joins take with 256 joiners (64 rooms of 4) asking
/// at once through two gates to three backends, every process of the cluster in this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement; run it with --ignored --nocapture"]
async fn measure_concurrent_joins() {
    let room = RoomConfig::default().max_members(4);
    let setup = Setup::start("rooms-measure", &["b1", "b2", "b3"], 2, room, placement()).await;
    let clients = clients(&setup, 256).await;
    let started = std::time::Instant::now();
    let timed = clients.iter().map(|client| async move {
        let asked = std::time::Instant::now();
        join(client, "m").await.unwrap();
        asked.elapsed()
    });
    let mut took = futures_util::future::join_all(timed).await;
    let total = started.elapsed();
    took.sort();
    let at = |percent: usize| took[(took.len() - 1) * percent / 100];
    println!(
        "256 concurrent joins: {:.0} ms in all ({:.0} joins/s), per join p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        total.as_secs_f64() * 1e3,
        256.0 / total.as_secs_f64(),
        at(50).as_secs_f64() * 1e3,
        at(99).as_secs_f64() * 1e3,
        took[took.len() - 1].as_secs_f64() * 1e3,
    );
    assert_eq!(rooms_per_backend(&setup).iter().sum::<usize>(), 64);
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_does_not_place_redirects_and_malformed_asks_are_ignored() {
    let setup = Setup::start(
        "rooms-wire",
        &["b1", "b2"],
        1,
        RoomConfig::default(),
        placement(),
    )
    .await;
    let nats = async_nats::connect(setup.nats.url()).await.unwrap();
    let ask = |node: &str, what: &str, body: &'static str| {
        let subject = format!("rooms-wire.node.{node}.rooms.table.{what}");
        let request = async_nats::Request::new()
            .payload(body.into())
            .timeout(Some(Duration::from_millis(300)));
        let nats = nats.clone();
        async move { nats.send_request(subject, request).await }
    };
    let json = |reply: async_nats::Message| -> serde_json::Value {
        serde_json::from_slice(&reply.payload).unwrap()
    };
    // b2 sees b1, lower and alive: b1 places.
    let redirected = ask("b2", "place", r#"{"filter":"x"}"#).await.unwrap();
    assert_eq!(json(redirected), serde_json::json!({"redirect": "b1"}));
    let load = ask("b2", "probe", r#"{"filter":"x"}"#).await.unwrap();
    assert_eq!(
        json(load),
        serde_json::json!({"rooms": 0, "sessions": 0, "free": false})
    );
    for what in ["place", "probe", "reserve"] {
        let ignored = ask("b1", what, "not json").await;
        assert!(ignored.is_err(), "{what}: a malformed ask gets no answer");
    }
    // Both still serve.
    let client = setup.gates[0].client().await;
    assert_eq!(join(&client, "x").await.unwrap().node, "b1");
    let placed = ask("b1", "place", r#"{"filter":"x"}"#).await.unwrap();
    assert_eq!(json(placed)["seat"]["node"], "b1");
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fewest_sessions_places_by_members_and_seats_not_by_rooms() {
    let placement = placement().policy(PlacementPolicy::FewestSessions);
    let setup = Setup::start(
        "rooms-sessions",
        &["b1", "b2"],
        1,
        RoomConfig::default(),
        placement,
    )
    .await;
    let players = clients(&setup, 6).await;
    // b1: one room of three.
    for player in &players[..3] {
        assert_eq!(join(player, "big").await.unwrap().node, "b1");
    }
    // Then rooms of one each go to b2 while it holds fewer sessions, even once it holds
    // more rooms than b1 (fewest rooms would have put the second on b1).
    let mut nodes = Vec::new();
    for (player, filter) in players[3..].iter().zip(["s1", "s2", "s3"]) {
        nodes.push(join(player, filter).await.unwrap().node);
    }
    assert_eq!(nodes, ["b2", "b2", "b2"]);
    assert_eq!(rooms_per_backend(&setup), [1, 3]);
    setup.stop().await;
}
