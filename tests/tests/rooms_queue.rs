//! The queue matchmaker: players of close ratings are grouped at once, farther ones once
//! their tolerance has widened enough (under tokio's paused clock, over in-memory pipes); a
//! group's players are joined to one new room; a player leaving the queue, or closing its
//! session, is no longer matched.

use std::time::Duration;

use nano_client::{Client, ClientError};
use nano_core::{QueueError, RoomConfig, RoomError, RoomId};
use nano_tests::rooms::Served;
use tokio::task::JoinHandle;

fn queue(client: &Client, rating: i64) -> JoinHandle<Result<RoomId, ClientError>> {
    let client = client.clone();
    tokio::spawn(async move { client.request("lobby.queue", &rating).await })
}

#[tokio::test(start_paused = true)]
async fn close_ratings_match_at_once_and_far_ones_once_the_range_has_widened() {
    let served = Served::build(RoomConfig::default());
    let clients = [
        served.pipe_client().await,
        served.pipe_client().await,
        served.pipe_client().await,
        served.pipe_client().await,
    ];
    // 100 and 105: within the initial range (10).
    let (a, b) = (queue(&clients[0], 100), queue(&clients[1], 105));
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    assert_eq!(a, b, "one room for the pair");
    assert_eq!(served.matches.get(a).unwrap().members().count(), 2);

    // 500 and 525: 25 apart, within range after two widenings (10 + 2 x 10 = 30).
    let (c, d) = (queue(&clients[2], 500), queue(&clients[3], 525));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !c.is_finished() && !d.is_finished(),
        "range 20 after 1 s: no match yet"
    );
    assert_eq!(served.queue.len(), 2);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(c.is_finished() && d.is_finished(), "range 30 after 2 s");
    let (c, d) = (c.await.unwrap().unwrap(), d.await.unwrap().unwrap());
    assert_eq!(c, d);
    assert_ne!(c, a);
    assert!(served.queue.is_empty());

    // In a match already: refused at once, not queued.
    match clients[0]
        .request::<_, RoomId>("lobby.queue", &100_i64)
        .await
    {
        Err(ClientError::Server { code, .. }) => assert_eq!(code, RoomError::ALREADY_IN_ROOM),
        other => panic!("expected already in a room, got {other:?}"),
    }
    assert!(served.queue.is_empty());
    served.app.shutdown().await;
}

async fn queue_push(client: &Client, rating: i64) -> Result<(), ClientError> {
    client
        .request::<_, serde_json::Value>("lobby.queue_push", &rating)
        .await
        .map(drop)
}

#[tokio::test(start_paused = true)]
async fn a_player_leaving_the_queue_or_closing_is_not_matched() {
    let served = Served::build(RoomConfig::default());
    let (a, b, c) = (
        served.pipe_client().await,
        served.pipe_client().await,
        served.pipe_client().await,
    );
    let mut told = a.subscribe("onMatched");
    queue_push(&a, 100).await.unwrap();
    match queue_push(&a, 100).await {
        Err(ClientError::Server { code, .. }) => {
            assert_eq!(code, QueueError::AlreadyQueued.code());
        }
        other => panic!("expected already queued, got {other:?}"),
    }
    assert!(a.request::<_, bool>("lobby.unqueue", &()).await.unwrap());
    let push: serde_json::Value = told.recv().await.unwrap().decode().unwrap();
    assert_eq!(push["error"], QueueError::Cancelled.code());
    assert_eq!(push["room"], serde_json::Value::Null);
    assert!(!a.request::<_, bool>("lobby.unqueue", &()).await.unwrap());

    // b waits, then closes: c, at the same rating, waits alone.
    queue_push(&b, 200).await.unwrap();
    assert_eq!(served.queue.len(), 1);
    b.close().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(served.queue.is_empty(), "the closed session left the queue");
    let mut c_told = c.subscribe("onMatched");
    queue_push(&c, 200).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(served.queue.len(), 1);
    assert!(served.matches.is_empty(), "no room was made");

    // a comes back at 205: a pair, each told its room by a push.
    let mut a_told = a.subscribe("onMatched");
    queue_push(&a, 205).await.unwrap();
    let to_a: serde_json::Value = a_told.recv().await.unwrap().decode().unwrap();
    let to_c: serde_json::Value = c_told.recv().await.unwrap().decode().unwrap();
    assert_eq!(to_a["room"], to_c["room"]);
    assert_eq!(to_a["kind"], "match");
    let room = RoomId(to_a["room"].as_u64().unwrap());
    assert_eq!(served.matches.get(room).unwrap().members().count(), 2);
    served.app.shutdown().await;
}
