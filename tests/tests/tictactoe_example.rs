//! The `tictactoe` example as shipped, over real TCP with `nano-client`: players are paired
//! two by two (four at once make two matches), every illegal move is refused with its code,
//! wins on every row, column and diagonal and a draw are detected, a rematch swaps who starts,
//! a disconnect forfeits the game to the player who stays and an emptied match is disposed,
//! and a match whose waiting player left takes the next players.

use std::collections::BTreeMap;
use std::time::Duration;

use nano_client::{Client, ClientError, Pushes};
use nano_tests::examples::{self, RunningExample};
use nano_tests::wait::wait_until;
use serde_json::{Value, json};

/// How long a test waits for an answer or a push before it fails (a deadline, not a timing
/// assertion).
const DEADLINE: Duration = Duration::from_secs(20);

const NO_OPPONENT: i32 = 4001;
const NOT_YOUR_TURN: i32 = 4002;
const OUT_OF_RANGE: i32 = 4003;
const TAKEN: i32 = 4004;
const GAME_OVER: i32 = 4005;
const STILL_PLAYING: i32 = 4006;
/// nano-core's `RoomError::NOT_IN_ROOM`.
const NOT_IN_ROOM: i32 = 409;

fn server() -> RunningExample {
    examples::start(
        "tictactoe",
        &["--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"],
    )
}

/// One player: a TCP client subscribed to the game's pushes.
struct Player {
    client: Client,
    states: Pushes,
    left: Pushes,
}

impl Player {
    async fn connect(server: &RunningExample) -> Player {
        let client = Client::builder()
            .request_timeout(DEADLINE)
            .connect(server.addr("tcp"))
            .await
            .expect("connect");
        Player {
            states: client.subscribe("onState"),
            left: client.subscribe("onOpponentLeft"),
            client,
        }
    }

    /// `lobby.play`: the match's id.
    async fn play(&self) -> u64 {
        self.client
            .request("lobby.play", &())
            .await
            .expect("lobby.play")
    }

    async fn try_move(&self, cell: i64) -> Result<Value, ClientError> {
        self.client
            .request("match.move", &json!({ "cell": cell }))
            .await
    }

    async fn mv(&self, cell: i64) {
        let played = self.try_move(cell).await.expect("a legal move");
        assert_eq!(played["cell"], cell);
    }

    /// The next `onState` push.
    async fn state(&mut self) -> Value {
        let push = tokio::time::timeout(DEADLINE, self.states.recv())
            .await
            .expect("an onState push in time")
            .expect("subscribed");
        push.decode().expect("JSON")
    }

    /// The `onState` pushes up to the first one `done` accepts; that one.
    async fn state_until(&mut self, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            let state = self.state().await;
            if done(&state) {
                return state;
            }
        }
    }

    async fn opponent_left(&mut self) -> Value {
        let push = tokio::time::timeout(DEADLINE, self.left.recv())
            .await
            .expect("an onOpponentLeft push in time")
            .expect("subscribed");
        push.decode().expect("JSON")
    }
}

fn code<T: std::fmt::Debug>(result: Result<T, ClientError>) -> i32 {
    match result {
        Err(ClientError::Server { code, .. }) => code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// Two players paired in one match: X (the first) and O, each having seen the game start.
async fn pair(server: &RunningExample) -> (Player, Player) {
    let mut x = Player::connect(server).await;
    let mut o = Player::connect(server).await;
    let room = x.play().await;
    assert_eq!(x.state().await["status"], "waiting");
    assert_eq!(
        o.play().await,
        room,
        "the second player joins the waiting match"
    );
    for (player, mark) in [(&mut x, "X"), (&mut o, "O")] {
        let state = player.state_until(|s| s["status"] == "playing").await;
        assert_eq!(state["you"], mark);
        assert_eq!(state["turn"], "X");
        assert_eq!(state["players"], json!(["X", "O"]));
    }
    (x, o)
}

/// Plays `cells` alternately, X first; both players' last `onState` once the game is over.
async fn play_out(x: &mut Player, o: &mut Player, cells: &[i64]) -> (Value, Value) {
    for (turn, &cell) in cells.iter().enumerate() {
        let mover = if turn % 2 == 0 { &*x } else { &*o };
        mover.mv(cell).await;
    }
    let over = |state: &Value| state["status"] == "over";
    (x.state_until(over).await, o.state_until(over).await)
}

async fn rooms(player: &Player) -> Vec<Value> {
    player
        .client
        .request("lobby.rooms", &())
        .await
        .expect("lobby.rooms")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_players_at_once_make_two_full_locked_matches() {
    let server = server();
    let mut players = Vec::new();
    for _ in 0..4 {
        players.push(Player::connect(&server).await);
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(4));
    let joins = players.into_iter().map(|player| {
        let barrier = std::sync::Arc::clone(&barrier);
        tokio::spawn(async move {
            barrier.wait().await;
            (player.play().await, player)
        })
    });
    let joined = futures_util::future::join_all(joins).await;
    let mut per_room = BTreeMap::<u64, usize>::new();
    for result in &joined {
        *per_room
            .entry(result.as_ref().expect("joined").0)
            .or_default() += 1;
    }
    assert_eq!(
        per_room.values().collect::<Vec<_>>(),
        [&2, &2],
        "{per_room:?}"
    );
    let (_, probe) = joined[0].as_ref().expect("joined");
    let listed = rooms(probe).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    for room in &listed {
        assert_eq!(
            (&room["members"], &room["locked"]),
            (&json!(2), &json!(true))
        );
    }

    // A fifth player opens a third match and waits there.
    let mut fifth = Player::connect(&server).await;
    let third = fifth.play().await;
    assert!(!per_room.contains_key(&third));
    assert_eq!(fifth.state().await["status"], "waiting");
    assert_eq!(code(fifth.try_move(0).await), NO_OPPONENT);
}

#[tokio::test]
async fn illegal_moves_are_refused_each_with_its_code() {
    let server = server();
    let outsider = Player::connect(&server).await;
    assert_eq!(code(outsider.try_move(0).await), NOT_IN_ROOM);

    let (x, mut o) = pair(&server).await;
    assert_eq!(code(o.try_move(4).await), NOT_YOUR_TURN, "X starts");
    x.mv(4).await;
    assert_eq!(code(x.try_move(0).await), NOT_YOUR_TURN, "twice in a row");
    assert_eq!(code(o.try_move(4).await), TAKEN);
    assert_eq!(code(o.try_move(9).await), OUT_OF_RANGE);
    assert_eq!(code(o.try_move(-1).await), 400, "not a cell number at all");
    assert_eq!(
        code(x.client.request::<_, Value>("match.rematch", &()).await),
        STILL_PLAYING
    );

    // The board holds only the one legal move.
    let state = o.state_until(|s| s["board"][4] == "X").await;
    assert_eq!(
        state["board"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| !c.is_null())
            .count(),
        1
    );
    assert_eq!(state["turn"], "O");

    // X: 4, 0, 8 (a diagonal); O: 1, 2.
    o.mv(1).await;
    x.mv(0).await;
    o.mv(2).await;
    x.mv(8).await;
    assert_eq!(code(o.try_move(5).await), GAME_OVER);
    assert_eq!(code(x.try_move(5).await), GAME_OVER);
}

#[tokio::test]
async fn every_row_column_and_diagonal_wins_and_a_full_board_draws() {
    let server = server();
    let lines: [[i64; 3]; 8] = [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
        [0, 3, 6],
        [1, 4, 7],
        [2, 5, 8],
        [0, 4, 8],
        [2, 4, 6],
    ];
    for line in lines {
        let (mut x, mut o) = pair(&server).await;
        // O plays two cells off the line that do not make a line of their own with it.
        let others: Vec<i64> = (0..9).filter(|cell| !line.contains(cell)).collect();
        let cells = [line[0], others[0], line[1], others[3], line[2]];
        let (x_over, o_over) = play_out(&mut x, &mut o, &cells).await;
        let won = json!({ "kind": "win", "mark": "X", "line": line });
        assert_eq!(x_over["outcome"], won, "{line:?}");
        assert_eq!(o_over["outcome"], won, "{line:?}");
        assert_eq!(x_over["turn"], Value::Null);
    }

    let (mut x, mut o) = pair(&server).await;
    let (x_over, o_over) = play_out(&mut x, &mut o, &[0, 1, 2, 4, 3, 5, 7, 6, 8]).await;
    assert_eq!(x_over["outcome"], json!({ "kind": "draw" }));
    assert_eq!(o_over["outcome"], json!({ "kind": "draw" }));
}

#[tokio::test]
async fn a_rematch_starts_when_both_ask_with_the_other_player_first() {
    let server = server();
    let (mut x, mut o) = pair(&server).await;
    play_out(&mut x, &mut o, &[0, 3, 1, 4, 2]).await;
    let asked: Value = x.client.request("match.rematch", &()).await.unwrap();
    assert_eq!(asked, json!(["X"]));
    let waiting = o.state_until(|s| s["rematch"] == json!(["X"])).await;
    assert_eq!(waiting["status"], "over", "one vote is not enough");
    let _: Value = o.client.request("match.rematch", &()).await.unwrap();
    let second = x.state_until(|s| s["game"] == 2).await;
    assert_eq!(second["status"], "playing");
    assert_eq!(second["turn"], "O", "the other player starts");
    assert!(
        second["board"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_null)
    );
    assert_eq!(code(x.try_move(0).await), NOT_YOUR_TURN);
    o.mv(0).await;
}

#[tokio::test]
async fn a_disconnect_forfeits_to_the_player_who_stays_and_the_empty_match_goes() {
    let server = server();
    let (mut x, o) = pair(&server).await;
    x.mv(4).await;
    o.client.close().await;

    assert_eq!(
        x.opponent_left().await,
        json!({ "mark": "O", "forfeit": true })
    );
    let state = x.state_until(|s| s["status"] == "over").await;
    assert_eq!(state["outcome"], json!({ "kind": "forfeit", "mark": "X" }));
    assert_eq!(state["players"], json!(["X"]));
    assert_eq!(code(x.try_move(0).await), GAME_OVER);
    assert_eq!(
        code(x.client.request::<_, Value>("match.rematch", &()).await),
        NO_OPPONENT
    );

    // The match takes no new opponent: a newcomer opens another.
    let newcomer = Player::connect(&server).await;
    let first = rooms(&x).await[0]["id"].clone();
    assert_ne!(json!(newcomer.play().await), first);

    // Its last player leaves: it is disposed.
    let left: u64 = x.client.request("lobby.leave", &()).await.unwrap();
    assert_eq!(json!(left), first);
    let mut listed = Vec::new();
    let gone = wait_until(DEADLINE, async || {
        listed = rooms(&x).await;
        listed.iter().all(|room| room["id"] != first)
    })
    .await;
    assert!(gone, "{listed:?}");
    assert_eq!(
        code(x.client.request::<_, u64>("lobby.leave", &()).await),
        NOT_IN_ROOM
    );
}

#[tokio::test]
async fn a_match_whose_waiting_player_left_takes_the_next_players() {
    let server = server();
    let first = Player::connect(&server).await;
    let room = first.play().await;
    first.client.close().await;
    let probe = Player::connect(&server).await;
    let mut listed = Vec::new();
    let emptied = wait_until(DEADLINE, async || {
        listed = rooms(&probe).await;
        listed
            == [
                json!({ "id": room, "members": 0, "max_members": 2, "locked": false,
            "filter": "classic", "reserved": 0 }),
            ]
    })
    .await;
    assert!(emptied, "{listed:?}");

    let (mut x, mut o) = (
        Player::connect(&server).await,
        Player::connect(&server).await,
    );
    assert_eq!(x.play().await, room, "the open match takes the next player");
    assert_eq!(x.state().await["you"], "X");
    assert_eq!(o.play().await, room);
    let state = o.state_until(|s| s["status"] == "playing").await;
    assert_eq!(state["players"], json!(["X", "O"]));
    play_out(&mut x, &mut o, &[0, 3, 1, 4, 2]).await;
}
