//! The whole connection state machine, driven through an in-memory pipe: arbitrary bytes from
//! a client, written in arbitrary chunks, against a real app (handshake, validator, routing,
//! handlers that push, broadcast and kick). Time is tokio's paused clock, so the server's
//! timeouts fire at once instead of slowing the fuzzer down.
//!
//! Invariant: nothing panics anywhere — a panic in any task aborts the process, which
//! libFuzzer reports — and every connection ends once the client has stopped sending.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use nano_core::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

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
        session.bind(uid).map_err(|err| HandlerError::bad_request(err.to_string()))
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
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        let app = runtime.block_on(async {
            App::builder()
                .register(Target { room: Group::new("room") })
                .push_routes(["onJoin", "onLater"])
                .handshake_validator(|handshake, _session| async move {
                    match handshake.user.get("deny") {
                        Some(_) => Err(HandshakeRejection::refused()),
                        None => Ok(()),
                    }
                })
                .heartbeat_interval(Duration::from_secs(1))
                .max_body_len(4096)
                .send_queue_capacity(8)
                .build()
                .unwrap()
        });
        Harness { runtime, app }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, input)) = data.split_first() else { return };
    let chunk = usize::from(chunk % 64) + 1;
    let harness = harness();
    harness.runtime.block_on(async {
        let (client, server) = tokio::io::duplex(1 << 16);
        harness.app.serve_stream(server, None);
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
            let mut sink = vec![0u8; 8192];
            while let Ok(n) = reader.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        };
        // The connection must end on its own (EOF, a protocol error, or a timeout).
        let both = async { tokio::join!(write, read) };
        tokio::time::timeout(Duration::from_secs(3600), both).await.expect("the connection never ended");
    });
});
