//! `moves`: matches of `--players` connections (against `rooms-server`); every player sends a
//! move, waits until the match pushes its own move back, and sends the next (closed loop),
//! while counting the other players' moves it receives.

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use nano_core::protocol::{Message, Route};
use serde_json::{Value, json};

use super::{Load, Options, open_all};
use crate::conn::{Conn, Error};
use crate::stats::{Latencies, Recorder, Window, report};
use crate::values;

/// `moves`' own options.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Moves {
    /// Players per match: connections 1 to N are match 1, the next N match 2, ...
    #[arg(long, value_name = "N", default_value = "4", value_parser = values::at_least_one())]
    players: usize,
    /// Route every player requests first with its match's number, to join it
    #[arg(long, value_name = "ROUTE", default_value = "lobby.join")]
    join_route: String,
    /// Route of a move (a notify the match pushes to all its players)
    #[arg(long, default_value = "match.play")]
    route: String,
    #[command(flatten)]
    load: Load,
}

/// The time base of this process, for move latency.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// A move: its send time (ns since `epoch()`), the sender's index, then padding.
fn stamped(player: u32, bytes: usize) -> Bytes {
    let mut body = BytesMut::with_capacity(bytes.max(12));
    #[allow(clippy::cast_possible_truncation)]
    body.put_u64(epoch().elapsed().as_nanos() as u64);
    body.put_u32(player);
    body.resize(bytes.max(12), b'x');
    body.freeze()
}

/// The sender and age of a move.
fn read_move(payload: &[u8]) -> Option<(u32, Duration)> {
    let stamp = u64::from_be_bytes(payload.get(..8)?.try_into().ok()?);
    let player = u32::from_be_bytes(payload.get(8..12)?.try_into().ok()?);
    #[allow(clippy::cast_possible_truncation)]
    let now = epoch().elapsed().as_nanos() as u64;
    Some((player, Duration::from_nanos(now.saturating_sub(stamp))))
}

/// Every connection joins match `index / players + 1`, then plays for the duration. The
/// summary's `ops` are the moves completed (a move counts when its sender gets it back), its
/// latencies those round trips, and `deliveries` every move received by every player.
pub(crate) async fn moves(options: &Options, moves: &Moves) -> Result<Value, Error> {
    epoch();
    let mut conns = open_all(options).await?;
    for (index, conn) in conns.iter_mut().enumerate() {
        let join = conn.route(&moves.join_route);
        let number = Bytes::from((index / moves.players + 1).to_string());
        let id = conn.request(&join, &number).await?;
        loop {
            match conn.recv().await? {
                Message::Response {
                    id: got, payload, ..
                } if got == id => {
                    if payload.starts_with(b"{") {
                        let answer = String::from_utf8_lossy(&payload);
                        return Err(format!("join refused: {answer}").into());
                    }
                    break;
                }
                _ => {}
            }
        }
    }
    let begin = Instant::now() + moves.load.warmup;
    let end = begin + options.duration;
    let latencies = Latencies::default();
    let mut tasks = tokio::task::JoinSet::new();
    let count = conns.len();
    for (index, conn) in conns.into_iter().enumerate() {
        let player = Player {
            route: conn.route(&moves.route),
            conn,
            index: u32::try_from(index).unwrap_or(u32::MAX),
            payload_bytes: moves.load.payload_bytes,
            latencies: latencies.recorder(),
        };
        tasks.spawn(player.play(begin, end));
    }
    let measure = Window::start();
    let mut totals = Totals::default();
    while let Some(done) = tasks.join_next().await {
        totals.add(done?);
    }
    let mut summary = report(
        "moves",
        options.target().transport(),
        count,
        options.duration,
        totals.moves,
        &latencies,
        totals.errors,
        measure.cpu_percent(),
    );
    summary["players"] = json!(moves.players);
    summary["matches"] = json!(count.div_ceil(moves.players));
    summary["deliveries"] = json!(totals.deliveries);
    Ok(summary)
}

/// What the players counted.
#[derive(Default)]
struct Totals {
    moves: u64,
    deliveries: u64,
    errors: u64,
}

impl Totals {
    fn add(&mut self, other: Totals) {
        self.moves += other.moves;
        self.deliveries += other.deliveries;
        self.errors += other.errors;
    }
}

/// One player of a match.
struct Player {
    conn: Conn,
    route: Route,
    index: u32,
    payload_bytes: usize,
    latencies: Recorder,
}

/// How long a player waits for its own move before giving up on it.
const MOVE_TIMEOUT: Duration = Duration::from_secs(5);

impl Player {
    /// Plays until `end`: sends a move, reads pushes until its own comes back.
    async fn play(mut self, begin: Instant, end: Instant) -> Totals {
        let mut totals = Totals::default();
        while Instant::now() < end {
            let body = stamped(self.index, self.payload_bytes);
            if self.conn.notify(&self.route, &body).await.is_err() {
                totals.errors += 1;
                break;
            }
            if !self.await_own_move(begin, end, &mut totals).await {
                totals.errors += 1;
                break;
            }
        }
        totals
    }

    /// Reads pushes until this player's move comes back (`true`), counting what arrives
    /// between `begin` and `end`; `false` on a closed connection or a timeout.
    async fn await_own_move(&mut self, begin: Instant, end: Instant, totals: &mut Totals) -> bool {
        loop {
            let next = tokio::time::timeout(MOVE_TIMEOUT, self.conn.recv()).await;
            let Ok(Ok(message)) = next else {
                return false;
            };
            let Message::Push { payload, .. } = message else {
                continue;
            };
            let Some((player, age)) = read_move(&payload) else {
                continue;
            };
            let now = Instant::now();
            let counted = now >= begin && now < end;
            if counted {
                totals.deliveries += 1;
            }
            if player == self.index {
                if counted {
                    totals.moves += 1;
                    self.latencies.record(age);
                }
                return true;
            }
        }
    }
}
