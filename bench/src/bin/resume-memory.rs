//! # resume-memory: what session resume keeps per dropped session and per buffered push
//!
//! ```sh
//! cargo run --release -p nano-bench --bin resume-memory -- --sessions 10000 --pushes 100
//! ```
//!
//! Counts the live heap bytes of the process (a counting allocator around the system's): an
//! app with resume on serves `--sessions` in-memory clients that handshake and join one group;
//! then every client drops its end. Once the server has noticed every drop, only the dropped
//! sessions (waiting in their grace window) remain of them: their live bytes over the baseline,
//! per session, are what a dropped session costs. Then `--pushes` broadcasts go to the group,
//! each kept in every dropped session's replay buffer: the growth per session and push is
//! what a buffered push costs (a broadcast's encoding is shared by its members). Prints one
//! JSON line (BENCHMARKS.md, "Session resume").

#![allow(clippy::print_stdout)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use nano_core::prelude::*;
use nano_core::protocol::{EncodedPacket, Message, Packet, Route};
use nano_core::{App, ResumeConfig};
use serde_json::json;

/// The system allocator, counting the bytes allocated and not yet freed.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's layout unchanged, so `System`'s
// guarantees hold; the counter only observes sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as received (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as received (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as received (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

#[derive(Parser, Debug)]
#[command(name = "resume-memory")]
struct Args {
    /// Sessions that connect, join, and drop
    #[arg(long, default_value_t = 10_000)]
    sessions: usize,
    /// Broadcasts kept for every dropped session
    #[arg(long, default_value_t = 100)]
    pushes: usize,
    /// Bytes of each broadcast's payload
    #[arg(long, default_value_t = 32)]
    payload: usize,
    /// Resume off: only the connected sessions are measured (what resume adds to them is the
    /// difference)
    #[arg(long)]
    no_resume: bool,
}

struct Lobby {
    all: Group,
}

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    fn join(&self, session: &Session) -> Result<(), HandlerError> {
        self.all.add(session)?;
        Ok(())
    }
}

/// A client over an in-memory pipe: handshake, ack, `lobby.join`; returns its end.
async fn join(
    app: &App,
) -> tokio_util::codec::Framed<tokio::io::DuplexStream, nano_core::protocol::PacketCodec> {
    let (client, server) = tokio::io::duplex(4096);
    app.serve_stream(server, None);
    let mut conn = nano_core::transport::framed(client, 65_536);
    let hello = Packet::handshake(Bytes::from_static(br#"{"sys":{},"user":{}}"#));
    conn.send(EncodedPacket::from_packet(&hello).expect("handshake"))
        .await
        .expect("send");
    conn.next().await.expect("reply").expect("a packet");
    conn.send(EncodedPacket::handshake_ack())
        .await
        .expect("ack");
    let request = Message::Request {
        id: 1,
        route: Route::from("lobby.join"),
        payload: Bytes::from_static(b"{}"),
    };
    conn.send(EncodedPacket::from_message(&request, None).expect("join"))
        .await
        .expect("send");
    conn.next().await.expect("response").expect("a packet");
    conn
}

/// Waits until no session of `app` has a connection.
async fn all_dropped(app: &App, sessions: usize) {
    while app
        .sessions(|session| !session.is_connected(), sessions)
        .len()
        < sessions
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let all = Group::new("all");
    let mut builder = App::builder()
        .register(Lobby { all: all.clone() })
        .rate_limit(None);
    if !args.no_resume {
        builder = builder.resume(ResumeConfig::default().replay_capacity(args.pushes.max(1)));
    }
    let app = builder.build()?;
    let baseline = live();
    let mut clients = Vec::with_capacity(args.sessions);
    for _ in 0..args.sessions {
        clients.push(join(&app).await);
    }
    let connected = live();
    let per = |bytes: usize, count: usize| bytes as f64 / count.max(1) as f64;
    if args.no_resume {
        let line = json!({
            "sessions": args.sessions,
            "resume": false,
            "connected_session_and_client_bytes": per(connected - baseline, args.sessions).round(),
        });
        println!("{line}");
        return Ok(());
    }
    drop(clients);
    all_dropped(&app, args.sessions).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let dropped = live();
    let payload = Bytes::from(vec![b'x'; args.payload]);
    for _ in 0..args.pushes {
        all.broadcast_raw("onTick", payload.clone())?;
    }
    let buffered = live();
    let line = json!({
        "sessions": args.sessions,
        "resume": true,
        "pushes": args.pushes,
        "payload_bytes": args.payload,
        "connected_session_and_client_bytes": per(connected - baseline, args.sessions).round(),
        "dropped_session_bytes": per(dropped.saturating_sub(baseline), args.sessions).round(),
        "buffered_push_bytes": per(buffered.saturating_sub(dropped), args.sessions * args.pushes),
    });
    println!("{line}");
    Ok(())
}
