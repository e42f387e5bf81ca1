//! # tictactoe: a game of two on rooms, playable in two browser tabs
//!
//! ```sh
//! cargo run --example tictactoe
//! ```
//!
//! Then open <http://127.0.0.1:3290/> in two browser tabs: the first waits for an opponent,
//! the second is paired with it, and they play, X first. The same port serves the page at `/`
//! and the WebSocket endpoint at `/nano`; TCP clients (`nano-client`, `nano-cli`) play on
//! 127.0.0.1:3291.
//!
//! Flags: `--http ADDR` (default 127.0.0.1:3290), `--tcp ADDR` (default 127.0.0.1:3291),
//! `--heartbeat SECONDS` (default 30), `--smoke` (free ports, a WebSocket and a TCP player
//! through one game, exit 0).
//!
//! ## How rooms are used
//!
//! Every match is an instance of the room kind `match` (`room.rs`), an actor of its own with
//! the board as its state, so matches run in parallel and one match's moves run one at a time.
//! `Rooms::<Match>` is configured for two members a room. The `lobby` component (`lobby.rs`)
//! pairs players with `join_or_create` (one filter, `classic`): under the kind's matchmaking
//! lock, a player joins the lowest match with a free seat or opens a new one, so two players
//! arriving at once land in one match, and four in two. The room seats its members as X and O
//! in `Room::joined` and locks itself once both are in.
//!
//! Routes:
//! - `lobby.play` (request, no body): answers the match's id; `onState` follows.
//! - `lobby.leave` (request): leaves the match; `lobby.rooms` lists the live matches.
//! - `match.move` (request `{"cell": 0..8}`): answers `{"cell", "mark"}`. Refused with
//!   4001 no opponent yet, 4002 not your turn, 4003 cell out of range, 4004 cell taken,
//!   4005 game over (409 when in no match).
//! - `match.rematch` (request): once a game is over; the next game starts when both asked,
//!   the other player first (4006 while the game is on, 4001 once the opponent left).
//! - `onState` (push, to each player after every change): `{room, you, board, turn, players,
//!   status: waiting|playing|over, outcome: {kind: win, mark, line} | {kind: draw} |
//!   {kind: forfeit, mark}, rematch, game}`.
//! - `onOpponentLeft` (push) `{mark, forfeit}`: the opponent left or disconnected. A game in
//!   progress is won by the player who stays (a forfeit). The room stays locked (it takes no
//!   new opponent); the page offers to find a new one (`lobby.leave`, then `lobby.play`). A
//!   match whose last player leaves is disposed; a match still waiting for its second player
//!   is disposed by the kind's empty timer unless someone joins first.

#![allow(clippy::print_stdout)]

mod game;
mod lobby;
mod page;
mod room;
mod smoke;

use std::time::Duration;

use nano_core::prelude::*;
use nano_core::{RoomConfig, Rooms};
use nano_examples::{Args, Flag, init_logging, serve_page};

use crate::lobby::Lobby;
use crate::room::{Match, SEATS};

const FLAGS: &[Flag] = &[
    Flag::value(
        "--http",
        "ADDR",
        "address of the page and the WebSocket endpoint /nano",
    )
    .default_value("127.0.0.1:3290"),
    Flag::value("--tcp", "ADDR", "TCP address to listen on").default_value("127.0.0.1:3291"),
    Flag::value("--heartbeat", "SECONDS", "heartbeat interval (0: none)").default_value("30"),
    Flag::switch(
        "--smoke",
        "free ports, a WebSocket and a TCP player through one game, exit 0",
    ),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let args = Args::from_env("tictactoe", FLAGS);
    let heartbeat: u64 = args.value("--heartbeat");

    let matches = Rooms::<Match>::new(RoomConfig::default().max_members(SEATS))?;
    let app = App::builder()
        .rooms(matches.clone())
        .register(Lobby { matches })
        .heartbeat_interval(Duration::from_secs(heartbeat))
        .build()?;
    let tcp = app.listen_tcp(args.addr("--tcp")).await?;
    let (http, server) = serve_page(&app, args.addr("--http"), &page::files()).await?;
    tracing::info!("tictactoe: open http://{http}/ in two browser tabs (TCP {tcp})");
    println!("tictactoe listening http={http} tcp={tcp}");

    if args.smoke() {
        smoke::run(http, tcp).await?;
        app.shutdown().await;
    } else {
        app.run().await?;
    }
    server.await??;
    Ok(())
}
