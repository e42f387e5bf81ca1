//! Matchmaking on one node: `join_or_create` fills rooms made with the same filter and never
//! creates a room while one of the filter has a seat, even with 64 players asking at once on a
//! multi-thread runtime over TCP; filters keep rooms apart, locked rooms are skipped; seat
//! reservations count against the member limit, are taken from another connection, and free
//! themselves on expiry (under tokio's paused clock, over in-memory pipes).

use std::collections::BTreeMap;
use std::time::Duration;

use nano_client::{Client, ClientError};
use nano_core::{RoomConfig, RoomError, RoomId};
use nano_tests::rooms::{Served, Ticket};

const DEADLINE: Duration = Duration::from_secs(30);

async fn quick(client: &Client, filter: &str) -> Result<RoomId, ClientError> {
    client.request("lobby.quick", &filter).await
}

fn code(result: Result<impl std::fmt::Debug, ClientError>) -> i32 {
    match result {
        Err(ClientError::Server { code, .. }) => code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// Rooms per member count.
fn shape(served: &Served) -> BTreeMap<usize, usize> {
    let mut shape = BTreeMap::new();
    for info in served.matches.list() {
        *shape.entry(info.members).or_default() += 1;
    }
    shape
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_joiners_fill_exactly_sixteen_rooms_of_four() {
    for round in 0..4 {
        let served = Served::start(RoomConfig::default().max_members(4)).await;
        let mut clients = Vec::new();
        for _ in 0..64 {
            clients.push(served.client().await);
        }
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(64));
        let joins = clients.into_iter().map(|client| {
            let barrier = std::sync::Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let id = quick(&client, "ranked").await.unwrap();
                (id, client)
            })
        });
        let joined = tokio::time::timeout(DEADLINE, futures_util::future::join_all(joins))
            .await
            .expect("every join answered");
        let mut per_room = BTreeMap::<RoomId, usize>::new();
        for result in &joined {
            *per_room.entry(result.as_ref().unwrap().0).or_default() += 1;
        }
        assert_eq!(per_room.len(), 16, "round {round}: {per_room:?}");
        assert!(per_room.values().all(|count| *count == 4), "round {round}");
        assert_eq!(shape(&served), BTreeMap::from([(4, 16)]), "round {round}");
        let infos = served.matches.list();
        assert!(
            infos
                .iter()
                .all(|info| info.filter.as_deref() == Some("ranked"))
        );
        assert!(
            infos.iter().all(|info| info.reserved == 0),
            "every seat taken"
        );
        served.app.shutdown().await;
    }
}

#[tokio::test]
async fn filters_keep_rooms_apart_and_locked_or_unfiltered_rooms_are_skipped() {
    let served = Served::start(RoomConfig::default().max_members(2)).await;
    let plain = served.matches.create(served.init(0)).unwrap();
    let made = served
        .matches
        .create_with_filter("casual", served.init(0))
        .unwrap();
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(served.client().await);
    }
    let first = quick(&clients[0], "casual").await.unwrap();
    assert_eq!(
        first,
        made.id(),
        "the room made with the filter is filled first"
    );
    assert_ne!(first, plain.id());
    let ranked = quick(&clients[1], "ranked").await.unwrap();
    assert!(
        ranked != first && ranked != plain.id(),
        "another filter, another room"
    );

    served.matches.get(ranked).unwrap().lock();
    let after_lock = quick(&clients[2], "ranked").await.unwrap();
    assert_ne!(after_lock, ranked, "a locked room takes no one");
    assert_eq!(quick(&clients[3], "casual").await.unwrap(), first);
    let third = quick(&clients[4], "casual").await.unwrap();
    assert_ne!(third, first, "a full room takes no one");

    // Already in a room of the kind: refused, and no seat is left reserved.
    assert_eq!(
        code(quick(&clients[0], "casual").await),
        RoomError::ALREADY_IN_ROOM
    );
    let info = served.matches.list();
    assert!(info.iter().all(|room| room.reserved == 0), "{info:?}");
    assert_eq!(served.matches.get(third).unwrap().filter(), Some("casual"));
    assert_eq!(plain.members().count(), 0);
    served.app.shutdown().await;
}

async fn reserve_in(client: &Client, id: RoomId) -> Result<Ticket, ClientError> {
    client.request("lobby.reserve_in", &id).await
}

async fn take(client: &Client, ticket: &Ticket) -> Result<RoomId, ClientError> {
    client.request("lobby.take", &ticket.token).await
}

#[tokio::test(start_paused = true)]
async fn a_reserved_seat_counts_against_the_limit_and_is_taken_from_another_connection() {
    let served = Served::build(RoomConfig::default().max_members(2));
    let (lobby, player, late) = (
        served.pipe_client().await,
        served.pipe_client().await,
        served.pipe_client().await,
    );
    let id: RoomId = lobby.request("lobby.create", &0_u64).await.unwrap();
    let seat = reserve_in(&lobby, id).await.unwrap();
    let other = reserve_in(&lobby, id).await.unwrap();
    assert_ne!(seat.token, other.token);
    assert_eq!(served.matches.list()[0].reserved, 2);
    assert_eq!(code(reserve_in(&lobby, id).await), RoomError::FULL);
    let join: Result<RoomId, _> = late.request("lobby.join", &id).await;
    assert_eq!(code(join), RoomError::FULL, "reserved seats are taken");

    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(take(&player, &seat).await.unwrap(), id);
    assert_eq!(
        code(take(&late, &seat).await),
        RoomError::NO_RESERVATION,
        "used up"
    );
    let info = served.matches.list();
    assert_eq!((info[0].members, info[0].reserved), (1, 1));

    // A room locked since a seat was reserved still takes its holder.
    served.matches.get(id).unwrap().lock();
    assert_eq!(take(&late, &other).await.unwrap(), id);
    served.app.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_expired_seat_frees_itself_and_its_token_is_refused() {
    let config = RoomConfig::default()
        .max_members(1)
        .seat_reservation_timeout(Duration::from_secs(10))
        .dispose_when_empty(Some(Duration::from_secs(3)));
    let served = Served::build(config);
    let (lobby, player) = (served.pipe_client().await, served.pipe_client().await);
    let seat: Ticket = lobby.request("lobby.reserve", &"duel").await.unwrap();
    assert_eq!(served.matches.list()[0].filter.as_deref(), Some("duel"));

    // Past the empty timer (3 s): a room with a seat reserved stays.
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert_eq!(served.matches.list()[0].reserved, 1);
    let again: Ticket = lobby.request("lobby.reserve", &"duel").await.unwrap();
    assert_ne!(
        again.room, seat.room,
        "the only seat is held: a second room"
    );
    assert!(
        lobby
            .request::<_, bool>("lobby.cancel", &again.token)
            .await
            .unwrap()
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    let room = served
        .matches
        .list()
        .into_iter()
        .find(|info| info.id == seat.room);
    assert_eq!(room.map(|info| info.reserved), Some(0), "expired at 10 s");
    assert_eq!(code(take(&player, &seat).await), RoomError::NO_RESERVATION);
    let unknown: Result<RoomId, _> = player
        .request("lobby.take", &"0123456789abcdef0123456789abcdef")
        .await;
    assert_eq!(code(unknown), RoomError::NO_RESERVATION);
    let garbled: Result<RoomId, _> = player.request("lobby.take", &"not a token").await;
    assert!(matches!(garbled, Err(ClientError::Server { .. })));

    // Unused seats freed: both rooms go once their empty timers run out.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(served.matches.is_empty(), "{:?}", served.matches.list());
    served.app.shutdown().await;
}

#[test]
fn tokens_are_32_hex_digits_and_limits_are_checked() {
    use nano_core::{Matchmaker, QueueConfig, ReservationToken, Rooms};
    use nano_tests::rooms::Match;
    let text = "00ff00ff00ff00ff00ff00ff00ff00ff";
    let token: ReservationToken = text.parse().unwrap();
    assert_eq!(token.to_string(), text);
    assert_eq!(
        format!("{token:?}"),
        "ReservationToken(..)",
        "logs never show a token"
    );
    for bad in [
        "",
        "00ff",
        "+0ff00ff00ff00ff00ff00ff00ff00ff",
        "zz".repeat(16).as_str(),
    ] {
        assert!(bad.parse::<ReservationToken>().is_err(), "{bad:?}");
    }
    let zero = RoomConfig::default().seat_reservation_timeout(Duration::ZERO);
    assert!(Rooms::<Match>::new(zero).is_err());
    assert_eq!(
        RoomConfig::default().seat_reservation_timeout,
        nano_core::DEFAULT_SEAT_RESERVATION_TIMEOUT
    );
    let rooms = Rooms::<Match>::new(RoomConfig::default()).unwrap();
    let never = |_: &[nano_core::Session]| unreachable!("no group forms here");
    let zero_group = QueueConfig::default().group_size(0);
    assert!(Matchmaker::new(rooms.clone(), zero_group, never).is_err());
    let zero_every = QueueConfig::default().widening(1, 1, Duration::ZERO);
    assert!(Matchmaker::new(rooms, zero_every, never).is_err());
}

#[tokio::test(start_paused = true)]
async fn a_seat_in_a_disposed_room_is_refused() {
    let served = Served::build(RoomConfig::default());
    let (lobby, player) = (served.pipe_client().await, served.pipe_client().await);
    let seat: Ticket = lobby.request("lobby.reserve", &"duel").await.unwrap();
    served.matches.dispose(seat.room).unwrap();
    assert_eq!(code(take(&player, &seat).await), RoomError::NO_RESERVATION);
    assert_eq!(code(reserve_in(&lobby, seat.room).await), RoomError::GONE);
    served.app.shutdown().await;
}
