//! Room instances over TCP: each session's requests to a room kind's routes go to the room it
//! joined, each room keeps its own state; joins refused with their codes (unknown, full,
//! locked, disposed, already in one); leaving and closing update the members; list and
//! dispose; and a room's timers stop with it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use nano_client::{Client, ClientError};
use nano_core::{RoomConfig, RoomError, RoomId};
use nano_tests::rooms::{MatchState, Served, create_and_join};
use nano_tests::wait::wait_until;

/// How long a test waits for something that happens at once on an idle machine.
const DEADLINE: Duration = Duration::from_secs(10);

/// The code of a refused request.
fn code(err: &ClientError) -> i32 {
    match err {
        ClientError::Server { code, .. } => *code,
        other => panic!("expected an error response, got {other}"),
    }
}

async fn state(client: &Client) -> MatchState {
    client.request("match.state", &()).await.unwrap()
}

#[tokio::test]
async fn requests_go_to_the_room_the_session_joined_and_each_room_keeps_its_own_state() {
    let served = Served::start(RoomConfig::default()).await;
    let (a, b, c) = (
        served.client().await,
        served.client().await,
        served.client().await,
    );
    let first = create_and_join(&a, 0).await;
    let second = create_and_join(&b, 1000).await;
    assert_ne!(first, second);
    let _: RoomId = c.request("lobby.join", &first).await.unwrap();

    assert_eq!(a.request::<_, u64>("match.add", &5).await.unwrap(), 5);
    assert_eq!(b.request::<_, u64>("match.add", &5).await.unwrap(), 1005);
    assert_eq!(c.request::<_, u64>("match.add", &1).await.unwrap(), 6);
    let seen = state(&c).await;
    assert_eq!((seen.room, seen.score, seen.members), (first, 6, 2));
    assert_eq!(state(&b).await.room, second);

    // A session in no room: a documented 409 on every route of the kind.
    let outsider = served.client().await;
    let err = outsider
        .request::<_, u64>("match.add", &1)
        .await
        .unwrap_err();
    assert_eq!(code(&err), RoomError::NOT_IN_ROOM, "{err}");
    assert_eq!(code(&err), 409);
    served.app.shutdown().await;
}

#[tokio::test]
async fn joins_to_unknown_full_locked_or_disposed_rooms_and_second_joins_get_their_codes() {
    let served = Served::start(RoomConfig::default().max_members(1)).await;
    let (a, b) = (served.client().await, served.client().await);
    let full = create_and_join(&a, 0).await;
    let join = async |client: &Client, id: RoomId| {
        let err = client
            .request::<_, RoomId>("lobby.join", &id)
            .await
            .unwrap_err();
        code(&err)
    };
    assert_eq!(join(&b, full).await, RoomError::FULL);
    assert_eq!(join(&b, RoomId(999)).await, RoomError::NOT_FOUND);

    let locked = served.matches.create(served.init(0)).unwrap();
    locked.lock();
    assert_eq!(join(&b, locked.id()).await, RoomError::LOCKED);
    locked.unlock();

    let disposed = served.matches.create(served.init(0)).unwrap();
    served.matches.dispose(disposed.id()).unwrap();
    assert!(disposed.is_disposed());
    assert_eq!(join(&b, disposed.id()).await, RoomError::GONE);
    assert_eq!(
        served.matches.dispose(disposed.id()),
        Err(RoomError::Gone(disposed.id()))
    );

    // One room of a kind at a time.
    assert_eq!(join(&a, locked.id()).await, RoomError::ALREADY_IN_ROOM);
    assert_eq!(join(&a, full).await, RoomError::ALREADY_IN_ROOM);
    let _: RoomId = b.request("lobby.join", &locked.id()).await.unwrap();
    assert_eq!(
        [404, 403, 423, 410, 412],
        [
            RoomError::NOT_FOUND,
            RoomError::FULL,
            RoomError::LOCKED,
            RoomError::GONE,
            RoomError::ALREADY_IN_ROOM
        ]
    );
    served.app.shutdown().await;
}

#[tokio::test]
async fn leaving_or_closing_takes_a_session_out_of_its_room_and_its_members() {
    let served = Served::start(RoomConfig::default()).await;
    let (a, b) = (served.client().await, served.client().await);
    let id = create_and_join(&a, 0).await;
    let _: RoomId = b.request("lobby.join", &id).await.unwrap();
    let room = served.matches.get(id).unwrap();
    assert_eq!(room.members().count(), 2);
    let ids = room.members().members();
    let (a_id, b_id) = (ids[0].id().min(ids[1].id()), ids[0].id().max(ids[1].id()));

    assert_eq!(
        b.request::<_, RoomId>("lobby.leave", &()).await.unwrap(),
        id
    );
    assert_eq!(room.members().count(), 1);
    let err = b.request::<_, u64>("match.add", &1).await.unwrap_err();
    assert_eq!(code(&err), RoomError::NOT_IN_ROOM);
    let err = b
        .request::<_, RoomId>("lobby.leave", &())
        .await
        .unwrap_err();
    assert_eq!(code(&err), RoomError::NOT_IN_ROOM);

    a.close().await;
    assert!(
        wait_until(DEADLINE, async || room.members().count() == 0).await,
        "the closed session is still a member"
    );
    assert_eq!(served.matches.list()[0].members, 0);
    // The room's own state saw both leave, in order.
    let c = served.client().await;
    let _: RoomId = c.request("lobby.join", &id).await.unwrap();
    let seen = state(&c).await.log;
    assert_eq!(
        seen[..5],
        [
            "created".to_owned(),
            format!("joined {a_id}"),
            format!("joined {b_id}"),
            format!("left {b_id}"),
            format!("left {a_id}"),
        ]
    );
    served.app.shutdown().await;
}

#[tokio::test]
async fn rooms_are_listed_by_id_and_a_disposed_room_tells_its_members_and_stops_its_timers() {
    let served = Served::start(RoomConfig::default()).await;
    let a = served.client().await;
    let mut closed = a.subscribe(nano_core::ROOM_CLOSED_ROUTE);
    let id = create_and_join(&a, 0).await;
    let other = served.matches.create(served.init(0)).unwrap();
    let listed: Vec<_> = served
        .matches
        .list()
        .iter()
        .map(|info| (info.id, info.members))
        .collect();
    assert_eq!(listed, [(id, 1), (other.id(), 0)]);

    a.request::<_, serde_json::Value>("match.start_timer", &())
        .await
        .unwrap();
    let probe = &served.signals.timer_probe;
    assert_eq!(Arc::strong_count(probe), 2, "the timer holds the probe");
    let room = served.matches.get(id).unwrap();
    room.dispose();

    let push = tokio::time::timeout(DEADLINE, closed.recv())
        .await
        .unwrap()
        .unwrap();
    let body: serde_json::Value = push.decode().unwrap();
    assert_eq!(
        body,
        serde_json::json!({"kind": "match", "room": id.0, "reason": "disposed"})
    );
    assert!(
        wait_until(DEADLINE, async || Arc::strong_count(probe) == 1).await,
        "the disposed room's timer is still alive"
    );
    assert!(!room.actor().is_running());
    assert_eq!(served.matches.list().len(), 1);
    assert!(served.matches.get(id).is_none());
    let err = a.request::<_, u64>("match.add", &1).await.unwrap_err();
    assert_eq!(code(&err), RoomError::NOT_IN_ROOM);
    served.app.shutdown().await;
}

/// A room kind of this test's own.
struct Duel;

#[nano_core::component(name = "duel", room)]
impl Duel {
    #[handler]
    fn ping(&self, _session: &nano_core::Session) -> u32 {
        1
    }
}

impl nano_core::Room for Duel {
    type Init = ();
    type Input = ();

    fn create(_init: &(), _room: &nano_core::RoomRef<Self>) -> Self {
        Duel
    }
}

#[tokio::test]
async fn a_room_kind_is_served_through_rooms_not_register_and_is_in_the_manifest() {
    use nano_core::{App, Component, Error, Execution, Rooms};
    assert_eq!(Duel::META.execution, Execution::Room);
    let err = App::builder().register(Duel).build().unwrap_err();
    assert!(matches!(err, Error::RoomRegistered("Duel")), "{err}");
    assert!(err.to_string().contains("AppBuilder::rooms"), "{err}");

    let duels = Rooms::<Duel>::new(RoomConfig::default()).unwrap();
    assert_eq!(duels.create(()).unwrap_err(), RoomError::NotRunning);
    let app = App::builder().rooms(duels.clone()).build().unwrap();
    let err = App::builder().rooms(duels.clone()).build().unwrap_err();
    assert!(matches!(err, Error::RoomsServedTwice("duel")), "{err}");
    assert!(app.rooms::<Duel>().is_some());
    assert!(app.actor::<Duel>().is_none());
    let routes: Vec<_> = app
        .manifest()
        .routes
        .iter()
        .map(|r| r.route.as_str())
        .collect();
    assert_eq!(routes, ["duel.ping"]);
    let pushes: Vec<_> = app
        .manifest()
        .pushes
        .iter()
        .map(|p| p.route.as_str())
        .collect();
    assert_eq!(pushes, [nano_core::ROOM_CLOSED_ROUTE]);
    assert!(app.dict().code(nano_core::ROOM_CLOSED_ROUTE).is_some());

    let room = duels.create(()).unwrap();
    room.set_max_members(1);
    assert_eq!(duels.list()[0].max_members, 1);
    app.shutdown().await;
    assert_eq!(duels.create(()).unwrap_err(), RoomError::NotRunning);
    assert!(room.is_disposed(), "rooms stop with their app");
}

#[tokio::test]
async fn a_handler_that_disposes_of_its_room_is_answered_and_its_members_told() {
    let served = Served::start(RoomConfig::default()).await;
    let (a, b) = (served.client().await, served.client().await);
    let mut told = b.subscribe(nano_core::ROOM_CLOSED_ROUTE);
    let id = create_and_join(&a, 40).await;
    let _: RoomId = b.request("lobby.join", &id).await.unwrap();
    assert_eq!(a.request::<_, u64>("match.add", &2).await.unwrap(), 42);
    assert_eq!(a.request::<_, u64>("match.finish", &()).await.unwrap(), 42);
    let push = tokio::time::timeout(DEADLINE, told.recv())
        .await
        .unwrap()
        .unwrap();
    let body: serde_json::Value = push.decode().unwrap();
    assert_eq!(body["reason"], "disposed");
    assert!(served.matches.get(id).is_none());
    // Both can start again elsewhere.
    let next = create_and_join(&b, 0).await;
    assert_ne!(next, id);
    served.app.shutdown().await;
}

#[tokio::test]
async fn a_panicking_create_fails_the_create_with_500_and_leaves_no_room() {
    let served = Served::start(RoomConfig::default()).await;
    let client = served.client().await;
    let err = client
        .request::<_, RoomId>("lobby.create", &666)
        .await
        .unwrap_err();
    assert_eq!(code(&err), 500, "{err}");
    assert!(served.matches.is_empty());
    let id = create_and_join(&client, 0).await;
    assert_eq!(served.matches.list()[0].id, id);
    served.app.shutdown().await;
}

#[tokio::test]
async fn calls_waiting_in_a_disposed_rooms_mailbox_are_answered_410() {
    let served = Served::start(RoomConfig::default()).await;
    let (a, b) = (served.client().await, served.client().await);
    let id = create_and_join(&a, 0).await;
    let _: RoomId = b.request("lobby.join", &id).await.unwrap();
    let room = served.matches.get(id).unwrap();
    let hold = tokio::spawn(async move { a.request::<_, u64>("match.hold", &()).await });
    let holding = &served.signals.holding;
    assert!(
        wait_until(DEADLINE, async || holding.load(Ordering::SeqCst) == 1).await,
        "hold never started"
    );
    let actor = room.actor().clone();
    let add = tokio::spawn(async move {
        // Once `hold` runs, this call waits in the mailbox behind it.
        b.request::<_, u64>("match.add", &1).await
    });
    assert!(
        wait_until(DEADLINE, async || actor.queued() == 1).await,
        "the second call never queued"
    );
    room.dispose();
    served.signals.gate.add_permits(1);
    assert_eq!(
        hold.await.unwrap().unwrap(),
        0,
        "the running handler finishes"
    );
    let err = add.await.unwrap().unwrap_err();
    assert_eq!(code(&err), RoomError::GONE, "{err}");
    served.app.shutdown().await;
}

#[tokio::test]
async fn a_rooms_mailbox_is_bounded_and_callers_beyond_it_wait_their_turn() {
    let served = Served::start(RoomConfig::default().mailbox_capacity(1)).await;
    let (a, b, c) = (
        served.client().await,
        served.client().await,
        served.client().await,
    );
    let id = create_and_join(&a, 0).await;
    for client in [&b, &c] {
        let _: RoomId = client.request("lobby.join", &id).await.unwrap();
    }
    let actor = served.matches.get(id).unwrap().actor().clone();
    let hold = tokio::spawn(async move { a.request::<_, u64>("match.hold", &()).await });
    let holding = &served.signals.holding;
    assert!(wait_until(DEADLINE, async || holding.load(Ordering::SeqCst) == 1).await);
    let queued = tokio::spawn(async move { b.request::<_, u64>("match.add", &1).await });
    assert!(wait_until(DEADLINE, async || actor.queued() == 1).await);
    let waiting = tokio::spawn(async move { c.request::<_, u64>("match.add", &10).await });
    // Create, three joins, hold, two adds: the third call has arrived, and waits for room.
    assert!(
        wait_until(DEADLINE, async || served.app.metrics().messages_in == 7).await,
        "{:?}",
        served.app.metrics()
    );
    assert_eq!(actor.queued(), 1, "the mailbox holds one call");
    assert!(!waiting.is_finished() && !queued.is_finished());

    served.signals.gate.add_permits(1);
    assert_eq!(hold.await.unwrap().unwrap(), 0);
    assert_eq!(queued.await.unwrap().unwrap(), 1);
    assert_eq!(
        waiting.await.unwrap().unwrap(),
        11,
        "the waiting caller is served"
    );
    served.app.shutdown().await;
}
