//! # pingpong: the smallest server, and the load generator's target
//!
//! ```sh
//! cargo run --release --example pingpong
//! ```
//!
//! Serves TCP on 127.0.0.1:3260 and WebSocket on 127.0.0.1:3261 (path `/`):
//! - `pingpong.ping` (request): answers with the request body, byte for byte;
//! - `pingpong.notify` (notify): pushes `pong` with the same body to the sender;
//! - `pingpong.join` (request): joins the group `all`, answers its size;
//! - `pingpong.broadcast` (notify): pushes `pong` with the same body to every member of `all`
//!   (the broadcast benchmark).
//!
//! Bodies are raw bytes (no serializer in the way), so any payload works. Flags: `--tcp ADDR`,
//! `--ws ADDR`, `--heartbeat SECONDS` (default 30), `--max-connections N` (default 100,000),
//! `--no-metrics` (no Prometheus metrics, for measuring what they cost), `--resume` (session
//! resume on, for measuring what it costs),
//! `--smoke` (free ports, one exchange over each transport, exit 0).

#![allow(clippy::print_stdout)]

use std::time::Duration;

use bytes::Bytes;
use nano_core::prelude::*;
use nano_examples::{Args, Flag, init_logging};
use nano_ws::WsConfig;

struct PingPong {
    all: Group,
}

#[component(name = "pingpong")]
impl PingPong {
    #[handler]
    fn ping(&self, _session: &Session, body: Bytes) -> Bytes {
        body
    }

    #[handler]
    fn notify(&self, session: &Session, body: Bytes) {
        let _ = session.push_raw("pong", body);
    }

    #[handler]
    fn join(&self, session: &Session) -> Result<usize, HandlerError> {
        self.all.add(session)?;
        Ok(self.all.count())
    }

    #[handler]
    fn broadcast(&self, _session: &Session, body: Bytes) {
        let _ = self.all.broadcast_raw("pong", body);
    }
}

const FLAGS: &[Flag] = &[
    Flag::value("--tcp", "ADDR", "TCP address to listen on").default_value("127.0.0.1:3260"),
    Flag::value("--ws", "ADDR", "WebSocket address to listen on (path /)")
        .default_value("127.0.0.1:3261"),
    Flag::value("--heartbeat", "SECONDS", "heartbeat interval (0: none)").default_value("30"),
    Flag::value("--max-connections", "N", "most sessions at once").default_value("100000"),
    Flag::switch(
        "--no-metrics",
        "do not record Prometheus metrics (for A/B runs)",
    ),
    Flag::switch(
        "--resume",
        "session resume on (docs/PROTOCOL-EXTENSIONS.md; for A/B runs)",
    ),
    Flag::switch(
        "--smoke",
        "free ports, one exchange over each transport, exit 0",
    ),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let args = Args::from_env("pingpong", FLAGS);
    let heartbeat: u64 = args.value("--heartbeat");
    // As Go does at start: the soft open-file limit up to the hard one, before the app is
    // built (max_connections is bounded by it then).
    let open_files = nano_core::raise_open_file_limit()?;
    tracing::info!(?open_files, "open-file limit");
    let mut builder = App::builder();
    if args.flag("--resume") {
        builder = builder.resume(nano_core::ResumeConfig::default());
    }
    let app = builder
        .register(PingPong {
            all: Group::new("all"),
        })
        .push_routes(["pong"])
        .heartbeat_interval(Duration::from_secs(heartbeat))
        .max_connections(args.value("--max-connections"))
        // Load generators send far faster than players.
        .rate_limit(None)
        .prometheus(!args.flag("--no-metrics"))
        .build()?;
    let tcp = app.listen_tcp(args.addr("--tcp")).await?;
    let ws = nano_ws::listen(&app, args.addr("--ws"), WsConfig::new()).await?;
    tracing::info!("pingpong: TCP {tcp}, WebSocket ws://{ws}/");
    println!("pingpong listening tcp={tcp} ws={ws}");

    if args.smoke() {
        for target in [tcp.to_string(), format!("ws://{ws}/")] {
            let client = nano_client::Client::connect(&target).await?;
            let echoed = client
                .request_raw("pingpong.ping", &b"{\"n\":1}"[..])
                .await?;
            assert_eq!(&echoed[..], b"{\"n\":1}");
            let mut pongs = client.subscribe("pong");
            client.notify_raw("pingpong.notify", &b"\"hi\""[..]).await?;
            assert_eq!(&pongs.recv().await.ok_or("pong")?.payload[..], b"\"hi\"");
            client.close().await;
        }
        println!("pingpong smoke test passed");
        app.shutdown().await;
        return Ok(());
    }
    app.run().await?;
    Ok(())
}
