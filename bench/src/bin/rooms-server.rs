//! # rooms-server: many small matches, as rooms or on one shared actor
//!
//! ```sh
//! cargo run --release -p nano-bench --bin rooms-server -- --mode rooms --rooms 1000
//! cargo run --release -p nano-bench --bin rooms-server -- --mode shared --rooms 1000
//! cargo run --release -p nano-bench --bin rooms-server -- --empty-rooms 10000
//! ```
//!
//! The target of `nano-bench moves` (bench/rooms.sh). Both modes serve the same game on TCP:
//! `lobby.join` (request, the match's number as JSON, 1 to `--rooms`) puts the session in that
//! match, and a move (notify, raw bytes) is pushed as `onMove` to the match's players after
//! `--work-us` microseconds of game logic.
//!
//! - `--mode rooms`: each match is a room (`#[component(room)]`), an actor of its own, so
//!   matches run in parallel; a move is `match.play`, which goes to the caller's room;
//! - `--mode shared`: every match lives in one actor component (nano's model: one logic task),
//!   its state keyed by match; a move is `lobby.play`.
//!
//! `--empty-rooms N` creates N empty rooms, prints the process's RSS before and after and per
//! room as one JSON line, and exits.

#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use nano_core::prelude::*;
use nano_core::{Room, RoomConfig, RoomId, RoomRef, Rooms};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    Rooms,
    Shared,
}

#[derive(Parser, Debug)]
#[command(name = "rooms-server")]
struct Args {
    /// TCP address to listen on
    #[arg(long, default_value = "127.0.0.1:3280")]
    tcp: String,
    /// Where the matches live
    #[arg(long, value_enum, default_value = "rooms")]
    mode: Mode,
    /// Matches
    #[arg(long, default_value_t = 1000)]
    rooms: u64,
    /// Players per match
    #[arg(long, default_value_t = 4)]
    players: usize,
    /// Microseconds of game logic per move (a busy loop)
    #[arg(long, default_value_t = 0)]
    work_us: u64,
    /// Create this many empty rooms, print the RSS per room, and exit
    #[arg(long, value_name = "N")]
    empty_rooms: Option<usize>,
}

/// Game logic standing in for a real move: `micros` of CPU.
fn work(micros: u64) {
    let until = Instant::now() + Duration::from_micros(micros);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// One match as a room.
struct Match {
    moves: u64,
    work_us: u64,
}

#[component(name = "match", room)]
impl Match {
    #[handler]
    fn play(&mut self, _session: &Session, body: Bytes, ctx: &Context<Self>) {
        work(self.work_us);
        self.moves += 1;
        if let Some(room) = ctx.room() {
            let _ = room.members().broadcast_raw("onMove", body);
        }
    }
}

impl Room for Match {
    type Init = u64;
    type Input = ();

    fn create(work_us: &u64, _room: &RoomRef<Self>) -> Self {
        Match {
            moves: 0,
            work_us: *work_us,
        }
    }
}

/// The lobby of the rooms mode: joins a session to its match's room.
struct Lobby {
    matches: Rooms<Match>,
}

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    async fn join(&self, session: &Session, number: u64) -> Result<u64, HandlerError> {
        self.matches.join(RoomId(number), session).await?;
        Ok(number)
    }
}

/// Every match on one actor (the shared mode).
struct SharedLobby {
    matches: HashMap<u64, Group>,
    moves: u64,
    work_us: u64,
}

#[component(name = "lobby")]
impl SharedLobby {
    #[handler]
    fn join(&mut self, session: &Session, number: u64) -> Result<u64, HandlerError> {
        let group = self
            .matches
            .entry(number)
            .or_insert_with(|| Group::new(format!("match-{number}")));
        group.add(session)?;
        session.set("match", number);
        Ok(number)
    }

    #[handler]
    fn play(&mut self, session: &Session, body: Bytes) {
        work(self.work_us);
        self.moves += 1;
        let Some(number) = session.get::<u64>("match") else {
            return;
        };
        if let Some(group) = self.matches.get(&number) {
            let _ = group.broadcast_raw("onMove", body);
        }
    }
}

/// The RSS of this process in KiB (Linux).
fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn room_config(args: &Args) -> RoomConfig {
    RoomConfig::default()
        .max_members(args.players)
        .max_rooms(usize::MAX)
        .dispose_when_empty(None)
}

/// Creates `count` empty rooms; prints the RSS before and after, and per room.
async fn measure_empty_rooms(args: &Args, count: usize) -> Result<(), Box<dyn std::error::Error>> {
    let matches = Rooms::<Match>::new(room_config(args))?;
    let app = App::builder().rooms(matches.clone()).build()?;
    let before = rss_kib();
    let rooms: Vec<_> = (0..count)
        .map(|_| matches.create(0).map_err(|err| err.to_string()))
        .collect::<Result<_, _>>()?;
    // Let every room's task start.
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = rss_kib();
    #[allow(clippy::cast_precision_loss)]
    let per_room = (after.saturating_sub(before) * 1024) as f64 / count as f64;
    println!(
        "{}",
        json!({ "empty_rooms": rooms.len(), "rss_before_kib": before, "rss_after_kib": after, "bytes_per_room": per_room.round() })
    );
    app.shutdown().await;
    Ok(())
}

type BoxError = Box<dyn std::error::Error>;

/// The app of `args.mode`, and in the rooms mode the handle of its matches.
fn build(args: &Args) -> Result<(App, Option<Rooms<Match>>), BoxError> {
    let builder = App::builder().rate_limit(None).max_connections(100_000);
    Ok(match args.mode {
        Mode::Rooms => {
            let matches = Rooms::<Match>::new(room_config(args))?;
            let app = builder
                .rooms(matches.clone())
                .register(Lobby {
                    matches: matches.clone(),
                })
                .build()?;
            (app, Some(matches))
        }
        Mode::Shared => {
            let app = builder
                .register(SharedLobby {
                    matches: HashMap::new(),
                    moves: 0,
                    work_us: args.work_us,
                })
                .build()?;
            (app, None)
        }
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if let Some(count) = args.empty_rooms {
        return measure_empty_rooms(&args, count).await;
    }
    let (app, matches) = build(&args)?;
    if let Some(matches) = &matches {
        // Ids count up from 1: match number n is room n.
        for _ in 0..args.rooms {
            matches
                .create(args.work_us)
                .map_err(|err| err.to_string())?;
        }
    }
    let tcp = app.listen_tcp(args.tcp.as_str()).await?;
    println!(
        "rooms-server listening tcp={tcp} mode={:?} rooms={}",
        args.mode, args.rooms
    );
    app.run().await?;
    Ok(())
}
