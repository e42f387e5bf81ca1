//! Rooms run in parallel: a room busy in a slow handler does not hold up another room (room
//! A's handler waits until room B's handler has run, which on one shared task would never
//! happen; the test asserts the order of completion, not timings); and many rooms busy at once
//! each handle only their members' messages, each session's in order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nano_core::RoomConfig;
use nano_tests::rooms::{MatchState, Served, create_and_join};
use nano_tests::wait::wait_until;

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

/// The notes of session `id` in a room's log, in order.
fn notes_of(log: &[String], id: &str) -> Vec<String> {
    let prefix = format!("note {id} ");
    log.iter()
        .filter_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// Every client sends notes `0..count` (notifies), all clients at once.
async fn send_notes_at_once(clients: impl Iterator<Item = nano_client::Client>, count: usize) {
    let senders: Vec<_> = clients
        .map(|client| {
            tokio::spawn(async move {
                for n in 0..count {
                    client.notify("match.note", &n.to_string()).await.unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        tokio::time::timeout(DEADLINE, sender)
            .await
            .unwrap()
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_rooms_at_once_each_see_only_their_members_messages_in_each_sessions_order() {
    const ROOMS: usize = 20;
    const NOTES: usize = 20;
    let served = Arc::new(Served::start(RoomConfig::default()).await);
    let mut rooms = Vec::new();
    for index in 0..ROOMS {
        let (a, b) = (served.client().await, served.client().await);
        let id = create_and_join(&a, index as u64).await;
        let _: nano_core::RoomId = b.request("lobby.join", &id).await.unwrap();
        rooms.push((id, a, b));
    }
    let clients = rooms.iter().flat_map(|(_, a, b)| [a.clone(), b.clone()]);
    send_notes_at_once(clients, NOTES).await;
    let expected: Vec<String> = (0..NOTES).map(|n| n.to_string()).collect();
    for (id, a, _) in &rooms {
        let room = served.matches.get(*id).unwrap();
        let members: Vec<String> = room
            .members()
            .members()
            .iter()
            .map(|session| session.id().to_string())
            .collect();
        // Notifies are not answered: wait until the room has handled both members' notes.
        let log = async || {
            a.request::<_, MatchState>("match.state", &())
                .await
                .unwrap()
                .log
        };
        let handled = wait_until(DEADLINE, async || {
            let log = log().await;
            members
                .iter()
                .all(|member| notes_of(&log, member).len() == NOTES)
        });
        assert!(handled.await, "room {id}: notes missing");
        let log = log().await;
        for member in &members {
            assert_eq!(
                notes_of(&log, member),
                expected,
                "room {id}, session {member}"
            );
        }
        let total = log.iter().filter(|line| line.starts_with("note ")).count();
        assert_eq!(total, 2 * NOTES, "room {id} saw another room's notes");
    }
    served.app.shutdown().await;
}
