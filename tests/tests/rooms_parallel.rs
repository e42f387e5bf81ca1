//! Rooms run in parallel: a room busy in a slow handler does not hold up another room. Room
//! A's handler waits until room B's handler has run; on one shared task that would never
//! happen. The test asserts the order of completion, not timings.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nano_core::RoomConfig;
use nano_tests::rooms::{Served, create_and_join};

const DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_in_one_room_does_not_delay_another_room() {
    let served = Served::start(RoomConfig::default()).await;
    let (a, b) = (served.client().await, served.client().await);
    let first = create_and_join(&a, 1).await;
    let second = create_and_join(&b, 2).await;
    assert_ne!(first, second);

    let finished = Arc::new(Mutex::new(Vec::new()));
    // Room A: busy until the gate opens.
    let slow = tokio::spawn({
        let finished = Arc::clone(&finished);
        async move {
            let score: u64 = a.request("match.hold", &()).await.unwrap();
            finished.lock().unwrap().push(("room A hold", score));
        }
    });
    // Room B, meanwhile: answers although room A is still busy, and opens the gate.
    let state: serde_json::Value = b.request("match.state", &()).await.unwrap();
    assert_eq!(state["score"], 2);
    finished.lock().unwrap().push(("room B state", 2));
    assert!(
        !slow.is_finished(),
        "room A answered before its gate opened"
    );
    b.request::<_, serde_json::Value>("match.open", &())
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, slow).await.unwrap().unwrap();
    assert_eq!(
        *finished.lock().unwrap(),
        [("room B state", 2), ("room A hold", 1)]
    );
    served.app.shutdown().await;
}
