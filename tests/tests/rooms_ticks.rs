//! A room's tick loop: a fixed rate (checked at 1-60 Hz), inputs queued in arrival order
//! (bounded, 429 beyond), each tick seeing those queued since the last and broadcasting. Under
//! tokio's paused clock over in-memory pipes (the paused clock jumps ahead whenever the runtime
//! waits for a real socket), so tick counts are exact; and once over TCP.

use std::time::Duration;

use nano_client::{Client, ClientError, Pushes};
use nano_core::{RoomConfig, RoomConfigError, RoomError, RoomId, Rooms};
use nano_tests::rooms::{Match, Served, TickPush, create_and_join};

const DEADLINE: Duration = Duration::from_secs(10);

async fn input(client: &Client, text: &str) -> Result<serde_json::Value, ClientError> {
    client.request("match.input", &text).await
}

/// The next `count` `onTick` pushes.
async fn received(pushes: &mut Pushes, count: usize) -> Vec<TickPush> {
    let mut ticks = Vec::new();
    for _ in 0..count {
        let push = pushes.recv().await.expect("an onTick push");
        ticks.push(push.decode().unwrap());
    }
    ticks
}

/// The ticks room `id` ran: (tick, inputs).
fn ticks_of(served: &Served, id: RoomId) -> Vec<(u64, Vec<String>)> {
    let ticks = nano_core::__private::lock(&served.signals.ticks);
    ticks
        .iter()
        .filter(|(room, _, _)| *room == id)
        .map(|(_, tick, inputs)| (*tick, inputs.clone()))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn ticks_run_at_the_configured_rate_and_see_every_input_in_arrival_order() {
    let served = Served::build(RoomConfig::default().tick_rate(10));
    let (a, b) = (served.pipe_client().await, served.pipe_client().await);
    let mut pushes = a.subscribe("onTick");
    let id = create_and_join(&a, 0).await;
    let _: RoomId = b.request("lobby.join", &id).await.unwrap();

    // Half a period in, so that the test never wakes at a tick's own instant.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(ticks_of(&served, id).is_empty());
    for (client, text) in [(&a, "a1"), (&b, "b1"), (&a, "a2")] {
        input(client, text).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        ticks_of(&served, id),
        [(1, vec!["a1".into(), "b1".into(), "a2".into()])]
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    let ticks = ticks_of(&served, id);
    assert_eq!(ticks.len(), 11, "10 ticks a second: {ticks:?}");
    assert!(ticks[1..].iter().all(|(_, inputs)| inputs.is_empty()));
    let seen = received(&mut pushes, 11).await;
    let numbers: Vec<u64> = seen.iter().map(|push| push.tick).collect();
    assert_eq!(
        numbers,
        (1..=11).collect::<Vec<_>>(),
        "every tick broadcast, in order"
    );
    assert_eq!(seen[0].inputs, ["a1", "b1", "a2"]);
    served.app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_input_queue_is_bounded_between_two_ticks() {
    let config = RoomConfig::default().tick_rate(1).input_queue_capacity(2);
    let served = Served::build(config);
    let client = served.pipe_client().await;
    let id = create_and_join(&client, 0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    input(&client, "1").await.unwrap();
    input(&client, "2").await.unwrap();
    let err = input(&client, "3").await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Server {
                code: RoomError::INPUT_QUEUE_FULL,
                ..
            }
        ),
        "{err}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    input(&client, "4").await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        ticks_of(&served, id),
        [(1, vec!["1".into(), "2".into()]), (2, vec!["4".into()])]
    );

    // Without a tick loop there is no queue.
    let plain = Served::build(RoomConfig::default());
    let client = plain.pipe_client().await;
    create_and_join(&client, 0).await;
    let err = input(&client, "1").await.unwrap_err();
    assert!(
        matches!(err, ClientError::Server { code: 500, .. }),
        "{err}"
    );
    served.app.shutdown().await;
    plain.app.shutdown().await;
}

#[tokio::test]
async fn the_tick_rate_is_checked_and_so_are_the_counts() {
    for rate in [0, 61, 1000] {
        let err = Rooms::<Match>::new(RoomConfig::default().tick_rate(rate)).unwrap_err();
        assert_eq!(err, RoomConfigError::TickRate(rate));
    }
    for rate in [1, 30, 60] {
        Rooms::<Match>::new(RoomConfig::default().tick_rate(rate)).unwrap();
    }
    let err = Rooms::<Match>::new(RoomConfig::default().max_members(0)).unwrap_err();
    assert_eq!(err, RoomConfigError::Zero("max_members"));
    let err = Rooms::<Match>::new(RoomConfig::default().input_queue_capacity(0)).unwrap_err();
    assert_eq!(err, RoomConfigError::Zero("input_queue_capacity"));
}

#[tokio::test]
async fn over_tcp_inputs_reach_the_ticks_in_order_and_ticks_are_broadcast() {
    let served = Served::start(RoomConfig::default().tick_rate(60)).await;
    let client = served.client().await;
    let mut pushes = client.subscribe("onTick");
    create_and_join(&client, 0).await;
    for text in ["x", "y", "z"] {
        input(&client, text).await.unwrap();
    }
    let mut inputs = Vec::new();
    let mut last = None;
    while inputs.len() < 3 {
        let push = tokio::time::timeout(DEADLINE, pushes.recv())
            .await
            .unwrap()
            .unwrap();
        let tick: TickPush = push.decode().unwrap();
        if let Some(last) = last {
            assert_eq!(tick.tick, last + 1, "ticks are consecutive");
        }
        last = Some(tick.tick);
        inputs.extend(tick.inputs);
    }
    assert_eq!(inputs, ["x", "y", "z"]);
    served.app.shutdown().await;
}
