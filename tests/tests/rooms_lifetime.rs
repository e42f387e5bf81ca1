//! How long a room lives: an empty room (just created, or left by its last member, by leaving
//! or closing) is disposed after `dispose_when_empty`, unless someone joins first; `None`
//! keeps it. Under tokio's paused clock, over in-memory pipes.

use std::time::Duration;

use nano_core::{RoomConfig, RoomId};
use nano_tests::rooms::{Served, create_and_join};

const DELAY: Duration = Duration::from_secs(5);

async fn sleep_secs(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

#[tokio::test(start_paused = true)]
async fn a_room_nobody_joins_is_disposed_after_the_delay() {
    let served = Served::build(RoomConfig::default().dispose_when_empty(Some(DELAY)));
    let room = served.matches.create(served.init(0)).unwrap();
    sleep_secs(4).await;
    assert!(served.matches.get(room.id()).is_some());
    sleep_secs(2).await;
    assert!(served.matches.get(room.id()).is_none());
    assert!(room.is_disposed());
    served.app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_join_before_the_delay_keeps_the_room_and_the_last_leave_starts_it_again() {
    let served = Served::build(RoomConfig::default().dispose_when_empty(Some(DELAY)));
    let (a, b) = (served.pipe_client().await, served.pipe_client().await);
    let id = create_and_join(&a, 0).await;
    sleep_secs(10).await;
    assert!(
        served.matches.get(id).is_some(),
        "a room with a member stays"
    );

    // Empty at 10 s, joined again at 13 s, empty again at 14 s: the timer of the first
    // emptiness (due at 15 s) must not dispose of it; the second's (at 19 s, or a little later
    // if the server takes a moment to see the close) does.
    let _: RoomId = a.request("lobby.leave", &()).await.unwrap();
    sleep_secs(3).await;
    let _: RoomId = b.request("lobby.join", &id).await.unwrap();
    sleep_secs(1).await;
    b.close().await;
    sleep_secs(2).await;
    assert!(
        served.matches.get(id).is_some(),
        "disposed by a stale timer"
    );
    sleep_secs(5).await;
    assert!(
        served.matches.get(id).is_none(),
        "the closed member's room stayed"
    );
    served.app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn without_a_delay_empty_rooms_stay() {
    let served = Served::build(RoomConfig::default().dispose_when_empty(None));
    let room = served.matches.create(served.init(0)).unwrap();
    sleep_secs(3600).await;
    assert!(served.matches.get(room.id()).is_some());
    served.app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn every_way_out_of_a_room_tells_the_kinds_left_watchers_once() {
    let served = Served::build(RoomConfig::default());
    let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, RoomId)>::new()));
    let record = told.clone();
    served.matches.on_member_left(move |session, room| {
        record.lock().unwrap().push((session.id(), room));
    });
    let told = move || told.lock().unwrap().clone();
    let (a, b, c) = (
        served.pipe_client().await,
        served.pipe_client().await,
        served.pipe_client().await,
    );
    let x = create_and_join(&a, 0).await;
    let _: RoomId = b.request("lobby.join", &x).await.unwrap();
    let y = create_and_join(&c, 0).await;
    assert!(told().is_empty(), "joining tells nothing");

    let _: RoomId = a.request("lobby.leave", &()).await.unwrap();
    assert_eq!(
        told().iter().map(|(_, room)| *room).collect::<Vec<_>>(),
        [x]
    );
    b.close().await;
    let closed = nano_tests::wait::wait_until(DELAY, async || told().len() == 2).await;
    assert!(closed, "a closed member is told: {:?}", told());
    served.matches.dispose(y).unwrap();
    let rooms: Vec<RoomId> = told().iter().map(|(_, room)| *room).collect();
    assert_eq!(rooms, [x, x, y], "leave, close, disposal");
    let sessions: std::collections::HashSet<u64> = told().iter().map(|(id, _)| *id).collect();
    assert_eq!(sessions.len(), 3, "each member once");
    served.app.shutdown().await;
    assert_eq!(told().len(), 3, "the app stopping tells nothing");
}
