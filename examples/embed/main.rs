//! # embed: nano-rs inside an existing axum application
//!
//! ```sh
//! cargo run --example embed
//! ```
//!
//! An HTTP service you already have — REST routes and a static page on 127.0.0.1:3280 — gains a
//! game endpoint: nano-rs is mounted on `/game` (WebSocket), next to `/api/health`,
//! `/api/stats` and `/`. Ctrl-C shuts both down gracefully, together: nano-rs kicks its players
//! with a reason and drains, then axum finishes its requests. Flags: `--http ADDR`, `--smoke`.

#![allow(clippy::print_stdout)]

use std::net::SocketAddr;

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use nano_core::prelude::*;
use nano_examples::{Args, Flag, http_get, init_logging};
use nano_ws::WsConfig;
use serde_json::{Value, json};

/// The game side: a lobby that counts its players.
#[derive(Default)]
struct Lobby {
    players: Group,
}

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    fn enter(&self, session: &Session) -> Result<usize, HandlerError> {
        self.players.add(session)?;
        Ok(self.players.count())
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn stats(State(app): State<App>) -> Json<Value> {
    let metrics = app.metrics();
    Json(json!({ "players_online": metrics.sessions_open, "messages_in": metrics.messages_in }))
}

const FLAGS: &[Flag] = &[
    Flag::value(
        "--http",
        "ADDR",
        "address of the HTTP service (REST, page, /game)",
    )
    .default_value("127.0.0.1:3280"),
    Flag::switch(
        "--smoke",
        "a free port, one player and the REST routes, a graceful shutdown, exit 0",
    ),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let args = Args::from_env("embed", FLAGS);
    let app = App::builder().register(Lobby::default()).build()?;

    let router = axum::Router::new()
        .route(
            "/",
            get(|| async { Html(include_str!("static/index.html")) }),
        )
        .route("/api/health", get(health))
        .route("/api/stats", get(stats))
        .route("/game", nano_ws::axum::route(app.clone(), WsConfig::new()))
        .with_state(app.clone());
    let listener = tokio::net::TcpListener::bind(args.addr("--http")).await?;
    let addr = listener.local_addr()?;
    // axum stops accepting when nano-rs starts shutting down; nano-rs drives the shutdown.
    let server = tokio::spawn({
        let app = app.clone();
        async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { app.accepting_stopped().await })
            .await
        }
    });
    tracing::info!("embed: http://{addr}/ (REST /api/*, game ws://{addr}/game)");
    println!("embed listening http={addr}");

    if args.smoke() {
        let health = http_get(addr, "/api/health").await?;
        assert!(
            health.starts_with("HTTP/1.1 200") && health.ends_with("ok"),
            "{health}"
        );
        let player = nano_client::Client::connect(&format!("ws://{addr}/game")).await?;
        assert_eq!(player.request::<_, usize>("lobby.enter", &()).await?, 1);
        let stats = http_get(addr, "/api/stats").await?;
        assert!(stats.contains("\"players_online\":1"), "{stats}");
        app.shutdown().await;
        let reason = player.closed().await;
        assert!(
            matches!(reason, nano_client::CloseReason::Kicked { .. }),
            "{reason}"
        );
        server.await??;
        println!("embed smoke test passed");
        return Ok(());
    }
    app.run().await?;
    server.await??;
    Ok(())
}
