//! `connections`: open N idle sessions, hold them with heartbeats, and see what they cost the
//! server.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Options, open_all};
use crate::conn::{Conn, Error};
use crate::stats::{Latencies, Window, report, rss_kib};

/// `connections`' own options.
#[derive(clap::Args, Clone, Debug)]
pub(crate) struct Connections {
    /// Process id of the server (on this machine), to report its memory per session
    #[arg(long)]
    pid: Option<u32>,
}

/// How long the server settles after the sessions opened, before its memory is read.
const SETTLE: Duration = Duration::from_secs(1);

/// Opens `conns` sessions (measuring the handshake rate), holds them for the duration while
/// answering heartbeats, and reports the server's RSS per session when `--pid` is given.
pub(crate) async fn connections(
    options: &Options,
    connections: &Connections,
) -> Result<Value, Error> {
    let pid = connections.pid;
    let rss_before = pid.and_then(rss_kib);
    let opening = Instant::now();
    let conns = open_all(options).await?;
    let open_time = opening.elapsed();
    let count = conns.len();
    // Sessions are held (heartbeats answered) from now on: a server with a short interval drops
    // a quiet one. Let the server settle, then read its memory.
    let end = Instant::now() + SETTLE + options.duration;
    let holding = tokio::spawn(hold_all(conns, end));
    tokio::time::sleep(SETTLE).await;
    let rss_after = pid.and_then(rss_kib);

    let window = Window::start();
    let dropped = holding.await??;
    let rss_end = pid.and_then(rss_kib);
    let mut summary = report(
        "connections",
        options.target().transport(),
        count,
        options.duration,
        count as u64,
        &Latencies::default(),
        dropped,
        window.cpu_percent(),
    );
    #[allow(clippy::cast_precision_loss)]
    let handshakes_per_s = count as f64 / open_time.as_secs_f64().max(1e-9);
    summary["handshakes_per_s"] = handshakes_per_s.round().into();
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        add_server_memory(&mut summary, count, before, after, rss_end);
    }
    Ok(summary)
}

/// Holds every session until `end`, each on its own task; returns how many were lost on the
/// way.
async fn hold_all(conns: Vec<Conn>, end: Instant) -> Result<u64, Error> {
    let mut tasks = tokio::task::JoinSet::new();
    for conn in conns {
        tasks.spawn(hold(conn, end));
    }
    let mut dropped = 0;
    while let Some(done) = tasks.join_next().await {
        dropped += done?;
    }
    Ok(dropped)
}

/// Holds one session until `end`: sends a heartbeat every interval the server asked for (30 s
/// when it named none) and reads whatever the server sends. Returns 1 if the session failed
/// before `end`, else 0.
async fn hold(mut conn: Conn, end: Instant) -> u64 {
    let beat = conn.heartbeat.unwrap_or(Duration::from_secs(30));
    // Our own heartbeats go out every interval, whatever the server sends meanwhile; the first
    // at once, since the session was quiet while the others opened.
    let mut next_beat = Instant::now();
    loop {
        let now = Instant::now();
        if now >= end {
            return 0;
        }
        if now >= next_beat {
            if conn.heartbeat().await.is_err() {
                return 1;
            }
            next_beat += beat;
            continue;
        }
        let wait = next_beat.min(end) - now;
        match tokio::time::timeout(wait, conn.recv_any()).await {
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(_)) => return 1,
        }
    }
}

/// Adds the server's RSS (KiB) before the sessions, with them, and at the end of the run
/// (null if it could not be read), and its growth per session in bytes.
fn add_server_memory(summary: &mut Value, count: usize, before: u64, after: u64, end: Option<u64>) {
    summary["server_rss_before_kib"] = before.into();
    summary["server_rss_after_kib"] = after.into();
    summary["server_rss_end_kib"] = end.into();
    #[allow(clippy::cast_precision_loss)]
    let per_session = (after.saturating_sub(before) * 1024) as f64 / count.max(1) as f64;
    summary["server_rss_per_session_bytes"] = per_session.round().into();
}
