//! A room's panic policy, over TCP: a handler that does `score += 100; panic!()` under each
//! [`PanicPolicy`]. Keep going leaves the change; reset re-creates the state from the init
//! data and the members stay (joined again); dispose (the default) ends the room and tells its
//! members on `onRoomClosed`.

use std::time::Duration;

use nano_client::{Client, ClientError};
use nano_core::{PanicPolicy, ROOM_CLOSED_ROUTE, RoomConfig, RoomError, RoomId};
use nano_tests::rooms::{MatchState, Served, create_and_join};
use nano_tests::wait::wait_until;

const DEADLINE: Duration = Duration::from_secs(10);

/// `match.boom` answers 500 whatever the policy.
async fn boom(client: &Client) {
    let err = client
        .request::<_, serde_json::Value>("match.boom", &())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Server { code: 500, message } if message.contains("panicked")),
        "{err}"
    );
}

async fn add(client: &Client, n: u64) -> Result<u64, ClientError> {
    client.request("match.add", &n).await
}

#[tokio::test]
async fn keep_going_leaves_the_half_done_change_in_place() {
    let served = Served::start(RoomConfig::default().on_panic(PanicPolicy::KeepGoing)).await;
    let client = served.client().await;
    create_and_join(&client, 0).await;
    assert_eq!(add(&client, 1).await.unwrap(), 1);
    boom(&client).await;
    assert_eq!(add(&client, 1).await.unwrap(), 102);
    served.app.shutdown().await;
}

#[tokio::test]
async fn reset_recreates_the_state_from_the_init_data_and_keeps_the_members() {
    let served = Served::start(RoomConfig::default().on_panic(PanicPolicy::Reset)).await;
    let (a, b) = (served.client().await, served.client().await);
    let id = create_and_join(&a, 7).await;
    let _: RoomId = b.request("lobby.join", &id).await.unwrap();
    assert_eq!(add(&a, 1).await.unwrap(), 8);
    a.request::<_, serde_json::Value>("match.start_timer", &())
        .await
        .unwrap();
    let probe = &served.signals.timer_probe;
    assert_eq!(std::sync::Arc::strong_count(probe), 2);
    boom(&a).await;
    // The old state's timers are dropped with it.
    assert!(
        wait_until(DEADLINE, async || std::sync::Arc::strong_count(probe) == 1).await,
        "a timer of the state before the reset survived it"
    );

    // The same room, a fresh state from its init data (7), both members still in it.
    assert_eq!(add(&b, 1).await.unwrap(), 8);
    let state: MatchState = a.request("match.state", &()).await.unwrap();
    assert_eq!((state.room, state.score, state.members), (id, 8, 2));
    assert_eq!(
        state.log.len(),
        3,
        "created, then both joined again: {:?}",
        state.log
    );
    assert_eq!(state.log[0], "created");
    assert!(state.log[1..].iter().all(|line| line.starts_with("joined")));
    assert!(!served.matches.get(id).unwrap().is_disposed());
    served.app.shutdown().await;
}

#[tokio::test]
async fn dispose_is_the_default_and_tells_every_member() {
    assert_eq!(RoomConfig::default().on_panic, PanicPolicy::Dispose);
    let served = Served::start(RoomConfig::default()).await;
    let (a, b) = (served.client().await, served.client().await);
    let mut told = b.subscribe(ROOM_CLOSED_ROUTE);
    let id = create_and_join(&a, 0).await;
    let _: RoomId = b.request("lobby.join", &id).await.unwrap();
    boom(&a).await;

    let push = tokio::time::timeout(DEADLINE, told.recv())
        .await
        .unwrap()
        .unwrap();
    let body: serde_json::Value = push.decode().unwrap();
    assert_eq!(
        body,
        serde_json::json!({"kind": "match", "room": id.0, "reason": "panicked"})
    );
    for client in [&a, &b] {
        let err = add(client, 1).await.unwrap_err();
        assert!(
            matches!(
                err,
                ClientError::Server {
                    code: RoomError::NOT_IN_ROOM,
                    ..
                }
            ),
            "{err}"
        );
    }
    assert!(served.matches.get(id).is_none());
    let err = a.request::<_, RoomId>("lobby.join", &id).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Server {
                code: RoomError::GONE,
                ..
            }
        ),
        "{err}"
    );
    // Another room of the kind is not affected.
    let other = create_and_join(&a, 5).await;
    assert_ne!(other, id);
    assert_eq!(add(&a, 1).await.unwrap(), 6);
    assert!(
        wait_until(DEADLINE, async || served.matches.len() == 1).await,
        "{:?}",
        served.matches.list()
    );
    served.app.shutdown().await;
}

#[tokio::test]
async fn a_panicking_tick_falls_under_the_policy_too() {
    let config = RoomConfig::default().tick_rate(60);
    let served = Served::start(config.clone().on_panic(PanicPolicy::Reset)).await;
    let client = served.client().await;
    let id = create_and_join(&client, 3).await;
    assert_eq!(add(&client, 1).await.unwrap(), 4);
    client
        .request::<_, serde_json::Value>("match.input", &"panic")
        .await
        .unwrap();
    // Reset: the score goes back to its init value, the room and the tick loop carry on.
    assert!(
        wait_until(DEADLINE, async || add(&client, 0).await.unwrap() == 3).await,
        "the room was not reset"
    );
    let ticks = nano_core::__private::lock(&served.signals.ticks).len();
    assert!(
        wait_until(DEADLINE, async || {
            nano_core::__private::lock(&served.signals.ticks).len() > ticks
        })
        .await,
        "the reset room does not tick"
    );
    assert!(served.matches.get(id).is_some());
    served.app.shutdown().await;

    let served = Served::start(config).await;
    let client = served.client().await;
    let mut told = client.subscribe(ROOM_CLOSED_ROUTE);
    let id = create_and_join(&client, 0).await;
    client
        .request::<_, serde_json::Value>("match.input", &"panic")
        .await
        .unwrap();
    let push = tokio::time::timeout(DEADLINE, told.recv())
        .await
        .unwrap()
        .unwrap();
    let body: serde_json::Value = push.decode().unwrap();
    assert_eq!(body["reason"], "panicked");
    assert!(served.matches.get(id).is_none());
    served.app.shutdown().await;
}
