//! `soak`: many chat clients for a long time — rooms, messages, heartbeats — then either a
//! clean departure (everything must be cleaned up) or a graceful shutdown under load (every
//! request sent before the signal must be answered). Targets `soak-server`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use nano_core::protocol::Message;
use serde_json::{Value, json};
use tokio::sync::Barrier;

use super::{Options, open_all};
use crate::conn::{Conn, Error};
use crate::stats::rss_kib;
use crate::values;

#[derive(Default)]
struct Totals {
    messages_sent: AtomicU64,
    pushes_received: AtomicU64,
    unexpected_disconnects: AtomicU64,
    pings_before_signal: AtomicU64,
    pings_answered: AtomicU64,
}

/// `soak`'s own options.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Soak {
    /// Chat rooms the clients are spread over
    #[arg(long, value_name = "N", default_value = "100", value_parser = values::at_least_one())]
    rooms: usize,
    /// Time between two messages of one client
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = values::duration)]
    message_interval: Duration,
    /// End with SIGTERM to the server while every client has a request in flight (each must
    /// be answered), instead of the clients leaving
    #[arg(long, requires = "pid")]
    shutdown: bool,
    /// Process id of the server (on this machine), to sample its memory and to signal it
    #[arg(long)]
    pid: Option<u32>,
}

/// Runs the clients for the duration, sampling the server's memory, then ends the run as
/// `--shutdown` says and reports what the clients and the server saw.
pub(crate) async fn soak(options: &Options, soak: &Soak) -> Result<Value, Error> {
    let started = Instant::now();
    let mut conns = open_all(options).await?;
    let count = conns.len();
    join_rooms(&mut conns, soak.rooms).await?;
    let connect_time = started.elapsed();
    let end = Instant::now() + options.duration;
    let totals = Arc::new(Totals::default());
    // Everyone (and the main task) meets here before the shutdown signal, with a ping in flight.
    let barrier = Arc::new(Barrier::new(count + 1));

    let mut tasks = tokio::task::JoinSet::new();
    for (index, conn) in conns.into_iter().enumerate() {
        let (totals, barrier) = (totals.clone(), barrier.clone());
        let interval = soak.message_interval;
        let shutdown = soak.shutdown;
        tasks.spawn(async move {
            client(conn, index, end, interval, shutdown, &totals, &barrier).await;
        });
    }

    let curve = sample_rss(soak.pid, end).await;
    let mut outcome = json!({ "scenario": "soak", "conns": count, "duration_s": options.duration.as_secs(),
        "rooms": soak.rooms, "message_interval_s": soak.message_interval.as_secs_f64(),
        "connect_s": (connect_time.as_secs_f64() * 10.0).round() / 10.0 });
    if soak.shutdown {
        barrier.wait().await;
        let pid = soak.pid.ok_or("--shutdown needs --pid")?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        outcome["signal_sent"] = status.success().into();
    }
    while let Some(done) = tasks.join_next().await {
        done?;
    }
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    outcome["messages_sent"] = load(&totals.messages_sent).into();
    outcome["pushes_received"] = load(&totals.pushes_received).into();
    outcome["unexpected_disconnects"] = load(&totals.unexpected_disconnects).into();
    outcome["server_rss_kib_curve"] = curve.into();
    if soak.shutdown {
        outcome["pings_sent_before_signal"] = load(&totals.pings_before_signal).into();
        outcome["pings_answered"] = load(&totals.pings_answered).into();
    } else {
        // Everyone has left: the server must have cleaned up every session and room.
        tokio::time::sleep(Duration::from_secs(2)).await;
        outcome["server_after"] = server_stats(options).await?;
        if let Some(kib) = soak.pid.and_then(rss_kib) {
            outcome["server_rss_kib_after"] = kib.into();
        }
    }
    Ok(outcome)
}

/// Puts client `index` in room `index % rooms`, one after the other, each answered before the
/// next.
async fn join_rooms(conns: &mut [Conn], rooms: usize) -> Result<(), Error> {
    for (index, conn) in conns.iter_mut().enumerate() {
        let join = conn.route("room.join");
        let body = Bytes::from(json!({ "room": index % rooms }).to_string());
        let id = conn.request(&join, &body).await?;
        while !matches!(conn.recv().await?, Message::Response { id: got, .. } if got == id) {}
    }
    Ok(())
}

/// The RSS of process `pid` every 10 s until `end`, as `[seconds, KiB]` pairs (none without a
/// pid).
async fn sample_rss(pid: Option<u32>, end: Instant) -> Vec<Value> {
    let mut curve = Vec::new();
    let start = Instant::now();
    while Instant::now() < end {
        if let Some(kib) = pid.and_then(rss_kib) {
            curve.push(json!([start.elapsed().as_secs(), kib]));
        }
        let left = end.saturating_duration_since(Instant::now());
        tokio::time::sleep(Duration::from_secs(10).min(left)).await;
    }
    curve
}

/// What soak-server's `admin.stats` answers: its counters, rooms and members.
async fn server_stats(options: &Options) -> Result<Value, Error> {
    let mut admin = Conn::connect(&options.target(), &options.handshake_json).await?;
    let route = admin.route("admin.stats");
    let id = admin.request(&route, &Bytes::from_static(b"null")).await?;
    loop {
        if let Message::Response {
            id: got, payload, ..
        } = admin.recv().await?
            && got == id
        {
            return Ok(serde_json::from_slice(&payload)?);
        }
    }
}

/// One chat client: chats until `end` (see [`chat`]), counts an unexpected disconnect if it
/// lost its connection, then with `shutdown` leaves its last request in flight for the
/// shutdown signal (see [`last_request`]).
async fn client(
    mut conn: Conn,
    index: usize,
    end: Instant,
    interval: Duration,
    shutdown: bool,
    totals: &Totals,
    barrier: &Barrier,
) {
    let alive = chat(&mut conn, index, end, interval, totals).await;
    if !alive {
        totals
            .unexpected_disconnects
            .fetch_add(1, Ordering::Relaxed);
    }
    if shutdown {
        last_request(&mut conn, alive, totals, barrier).await;
    }
}

/// Until `end`: a message to the room every `interval` (the clients spread over it by
/// `index`), a heartbeat every interval the server asked for (5 s when it named none), and
/// every push counted. Returns whether the connection is still up.
async fn chat(
    conn: &mut Conn,
    index: usize,
    end: Instant,
    interval: Duration,
    totals: &Totals,
) -> bool {
    let message = conn.route("room.message");
    let body = Bytes::from(format!(r#"{{"from":{index},"text":"hello room"}}"#));
    let beat = conn.heartbeat.unwrap_or(Duration::from_secs(5));
    // Spread the clients' messages over the interval.
    #[allow(clippy::cast_possible_truncation)]
    let mut next_message = Instant::now() + interval.mul_f64((index % 997) as f64 / 997.0);
    let mut next_beat = Instant::now() + beat;
    let mut alive = true;
    while alive && Instant::now() < end {
        let wake = next_message.min(next_beat).min(end);
        tokio::select! {
            received = conn.recv() => match received {
                Ok(Message::Push { .. }) => { totals.pushes_received.fetch_add(1, Ordering::Relaxed); }
                Ok(_) => {}
                Err(_) => alive = false,
            },
            () = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if now >= next_message {
                    alive &= conn.notify(&message, &body).await.is_ok();
                    totals.messages_sent.fetch_add(1, Ordering::Relaxed);
                    next_message += interval;
                }
                if now >= next_beat {
                    alive &= conn.heartbeat().await.is_ok();
                    next_beat += beat;
                }
            }
        }
    }
    alive
}

/// Sends a ping (when the connection is `alive`), meets everyone at `barrier` (after which
/// the server is signalled), then waits for the answer: every ping sent before the signal
/// must be answered.
async fn last_request(conn: &mut Conn, alive: bool, totals: &Totals, barrier: &Barrier) {
    let ping = conn.route("room.ping");
    let sent = alive
        && conn
            .request(&ping, &Bytes::from_static(b"\"last\""))
            .await
            .is_ok();
    barrier.wait().await;
    if !sent {
        return;
    }
    totals.pings_before_signal.fetch_add(1, Ordering::Relaxed);
    loop {
        match conn.recv().await {
            Ok(Message::Response { .. }) => {
                totals.pings_answered.fetch_add(1, Ordering::Relaxed);
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}
