//! The whole connection state machine, driven through an in-memory pipe: arbitrary bytes from
//! a client, written in arbitrary chunks, against a real app (handshake, validator, routing,
//! handlers that push, broadcast and kick). Time is tokio's paused clock, so the server's
//! timeouts fire at once instead of slowing the fuzzer down.
//!
//! Invariants: nothing panics anywhere — a panic in any task aborts the process, which
//! libFuzzer reports; every connection ends once the client has stopped sending, and its
//! session with it (`sessions_open` is back to 0); the server sent only what the protocol
//! allows for what the client sent (see `output.rs`).
#![no_main]

#[path = "connection/output.rs"]
mod output;

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use nano_core::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

/// The app's body limit, which the check reads the client's bytes with too.
const MAX_BODY: usize = 4096;

/// The routes the app pushes on.
const PUSH_ROUTES: [&str; 2] = ["onJoin", "onLater"];

struct Target {
    room: Group,
}

#[component(name = "target")]
impl Target {
    #[handler]
    fn echo(&self, _session: &Session, body: serde_json::Value) -> serde_json::Value {
        body
    }

    #[handler]
    fn raw(&self, _session: &Session, body: Bytes) -> Bytes {
        body
    }

    #[handler]
    fn join(&self, session: &Session) -> Result<usize, HandlerError> {
        self.room.add(session)?;
        let _ = self.room.broadcast("onJoin", &session.id());
        Ok(self.room.count())
    }

    #[handler]
    async fn later(&self, session: &Session, n: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(n % 5_000)).await;
        session.push("onLater", &n).map(|()| n).unwrap_or(0)
    }

    #[handler]
    fn kick(&self, session: &Session, reason: String) {
        session.kick(reason);
    }

    #[handler]
    fn bind(&self, session: &Session, uid: i64) -> Result<(), HandlerError> {
        session
            .bind(uid)
            .map_err(|err| HandlerError::bad_request(err.to_string()))
    }
}

struct Harness {
    runtime: Runtime,
    app: App,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        // Handlers here never panic, so any panic is a bug in nano-rs: make it a crash.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("{info}");
            std::process::abort();
        }));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let app = runtime.block_on(async {
            App::builder()
                .register(Target {
                    room: Group::new("room"),
                })
                .push_routes(PUSH_ROUTES)
                .handshake_validator(|handshake, _session| async move {
                    match handshake.user.get("deny") {
                        Some(_) => Err(HandshakeRejection::refused()),
                        None => Ok(()),
                    }
                })
                .heartbeat_interval(Duration::from_secs(1))
                .max_body_len(MAX_BODY)
                .send_queue_capacity(8)
                .build()
                .unwrap()
        });
        Harness { runtime, app }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk % 64) + 1;
    let harness = harness();
    harness.runtime.block_on(async {
        let output = exchange(&harness.app, input, chunk).await;
        output::check(&output::sent(input, MAX_BODY), &output, &PUSH_ROUTES);
        session_ends(&harness.app).await;
    });
});

/// Writes `input` to a new connection in pieces of `chunk` bytes, then shuts its write side;
/// returns everything the server sent until it closed the connection.
async fn exchange(app: &App, input: &[u8], chunk: usize) -> Vec<u8> {
    let (client, server) = tokio::io::duplex(1 << 16);
    app.serve_stream(server, None);
    let (mut reader, mut writer) = tokio::io::split(client);
    let write = async {
        for piece in input.chunks(chunk) {
            if writer.write_all(piece).await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
        let _ = writer.shutdown().await;
    };
    let read = async {
        let mut output = Vec::new();
        reader
            .read_to_end(&mut output)
            .await
            .expect("read the server's output");
        output
    };
    // The connection must end on its own (EOF, a protocol error, or a timeout).
    let both = async { tokio::join!(write, read) };
    let ((), output) = tokio::time::timeout(Duration::from_secs(3600), both)
        .await
        .expect("the connection never ended");
    output
}

/// Waits until the connection's session is gone (its task finishes it just after closing).
async fn session_ends(app: &App) {
    let ended = async {
        while app.metrics().sessions_open != 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), ended)
        .await
        .expect("a session outlived its connection");
}
