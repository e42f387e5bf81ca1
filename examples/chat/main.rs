//! # chat: a chat room for browsers and game clients
//!
//! ```sh
//! cargo run --example chat
//! ```
//!
//! Then open <http://127.0.0.1:3250/> in two browser tabs, pick two names, and talk. The same
//! port serves the web page at `/` and the WebSocket endpoint at `/nano`; TCP clients (nano,
//! Unity, `nano-client`) join the same room on 127.0.0.1:3251.
//!
//! Flags: `--http ADDR` (default 127.0.0.1:3250), `--tcp ADDR` (default 127.0.0.1:3251),
//! `--heartbeat SECONDS` (default 30), `--smoke` (serve on free ports, run one WebSocket and
//! one TCP client through a conversation, exit 0), `--typescript PATH` (write the TypeScript
//! declarations of the routes and pushes below, from `App::manifest()`, to PATH and exit),
//! `--admin ADDR --admin-token TOKEN` (serve the admin page, its JSON API and `/metrics` on
//! ADDR, behind the bearer token TOKEN; see docs/OPERATIONS.md).
//!
//! Routes, as in nano's chat demo so its clients work too:
//! - `room.join` (request `{"name": ...}`): answers `{"code":0,"result":"success"}`, pushes
//!   `onMembers` `{"members": [names]}` to the joiner, and broadcasts `onNewUser`
//!   `{"content": "...", "name": ...}` to the room;
//! - `room.message` (notify `{"name", "content"}`): broadcast as `onMessage`, same body;
//! - `onLeave` `{"name"}` is broadcast when a member disconnects.
//!
//! Joining with a name already in the room takes it over: the older session is kicked with the
//! reason `"logged in elsewhere"` (pomelo clients emit `onKick`), as games do on a second
//! login.

#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::time::Duration;

use nano_core::prelude::*;
use nano_examples::{Args, Flag, admin_flags, http_get, init_logging, serve_chat_page};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Longest accepted name and message, in characters.
const MAX_NAME: usize = 24;
const MAX_CONTENT: usize = 500;

#[derive(Deserialize, JsonSchema)]
struct JoinRequest {
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct JoinResponse {
    code: i32,
    result: &'static str,
}

#[derive(Serialize, JsonSchema)]
struct Members {
    members: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
struct NewUser {
    content: String,
    name: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct UserMessage {
    name: String,
    content: String,
}

#[derive(Serialize, JsonSchema)]
struct Leave {
    name: String,
}

struct Room {
    members: Group,
}

#[component(
    name = "room",
    rename_all = "lowercase",
    pushes(onMembers = Members, onNewUser = NewUser, onMessage = UserMessage, onLeave = Leave)
)]
impl Room {
    #[handler]
    fn join(&self, session: &Session, request: JoinRequest) -> Result<JoinResponse, HandlerError> {
        let name = request.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(HandlerError::bad_request(format!(
                "a name has 1 to {MAX_NAME} characters"
            )));
        }
        if self.members.contains_session(session) {
            return Err(HandlerError::new(409, "already in the room"));
        }
        // A second login with the same name wins: the first leaves the room now and is
        // kicked once the newcomer is in (so its departure is not announced as a leave).
        let mut taken_over = Vec::new();
        for older in self.members.members() {
            if older.get::<String>("name").as_deref() == Some(&name) {
                let _ = self.members.leave(&older);
                taken_over.push(older);
            }
        }
        let _ = self.members.broadcast(
            "onNewUser",
            &NewUser {
                content: format!("{name} joined the room"),
                name: name.clone(),
            },
        );
        session.set("name", name.clone());
        self.members.add(session)?;
        for older in taken_over {
            older.kick("logged in elsewhere");
        }
        let members = self.members.clone();
        session.on_close(move |_| {
            // Unless the name logged in again elsewhere, tell the room.
            let taken_over = members
                .members()
                .iter()
                .any(|m| m.get::<String>("name").as_deref() == Some(&name));
            if !taken_over {
                let _ = members.broadcast("onLeave", &Leave { name });
            }
        });
        session.push(
            "onMembers",
            &Members {
                members: self.names(),
            },
        )?;
        Ok(JoinResponse {
            code: 0,
            result: "success",
        })
    }

    #[handler]
    fn message(&self, session: &Session, message: UserMessage) {
        let joined = self.members.contains_session(session);
        if joined
            && !message.content.trim().is_empty()
            && message.content.chars().count() <= MAX_CONTENT
        {
            let _ = self.members.broadcast("onMessage", &message);
        }
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .members
            .members()
            .iter()
            .filter_map(|member| member.get::<String>("name"))
            .collect();
        names.sort();
        names
    }
}

const FLAGS: &[Flag] = &[
    Flag::value(
        "--http",
        "ADDR",
        "address of the page and the WebSocket endpoint /nano",
    )
    .default_value("127.0.0.1:3250"),
    Flag::value("--tcp", "ADDR", "TCP address to listen on").default_value("127.0.0.1:3251"),
    Flag::value("--heartbeat", "SECONDS", "heartbeat interval (0: none)").default_value("30"),
    Flag::value(
        "--typescript",
        "PATH",
        "write the routes' TypeScript declarations to PATH and exit",
    ),
    admin_flags::ADMIN,
    admin_flags::ADMIN_TOKEN,
    Flag::switch(
        "--smoke",
        "free ports, a WebSocket and a TCP client through a conversation, exit 0",
    ),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_logging();
    let args = Args::from_env("chat", FLAGS);
    let http_addr = args.addr("--http");
    let tcp_addr = args.addr("--tcp");
    let heartbeat: u64 = args.value("--heartbeat");
    let admin = admin_flags::admin_config(&args)?;

    let app = App::builder()
        .register(Room {
            members: Group::new("room"),
        })
        .heartbeat_interval(Duration::from_secs(heartbeat))
        .build()?;
    if let Some(path) = args.get("--typescript") {
        std::fs::write(path, app.manifest().typescript())?;
        return Ok(());
    }
    let tcp = app.listen_tcp(tcp_addr).await?;

    let (http, server) = serve_chat_page(&app, http_addr).await?;
    tracing::info!(
        "chat: open http://{http}/ in a browser (WebSocket ws://{http}/nano, TCP {tcp})"
    );
    let admin = match admin {
        Some(config) => {
            let admin = nano_ws::admin::listen_admin(&app, config).await?;
            tracing::info!("chat: admin page on http://{admin}/");
            format!(" admin={admin}")
        }
        None => String::new(),
    };
    println!("chat listening http={http} tcp={tcp}{admin}");

    if args.smoke() {
        smoke(http, tcp).await?;
        app.shutdown().await;
    } else {
        app.run().await?;
    }
    server.await??;
    Ok(())
}

/// One real conversation: a WebSocket and a TCP client join, talk, and one leaves.
async fn smoke(http: SocketAddr, tcp: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let page = http_get(http, "/").await?;
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("<title>"),
        "the page is served"
    );

    let ws = nano_client::Client::connect(&format!("ws://{http}/nano")).await?;
    let mut ws_members = ws.subscribe("onMembers");
    let mut ws_messages = ws.subscribe("onMessage");
    let mut ws_leaves = ws.subscribe("onLeave");
    let joined: Value = ws.request("room.join", &json!({ "name": "web" })).await?;
    assert_eq!(joined, json!({ "code": 0, "result": "success" }));
    assert_eq!(
        ws_members
            .recv()
            .await
            .ok_or("onMembers")?
            .decode::<Value>()?,
        json!({ "members": ["web"] })
    );

    let tcp = nano_client::Client::connect(&tcp.to_string()).await?;
    let _: Value = tcp.request("room.join", &json!({ "name": "tcp" })).await?;
    tcp.notify(
        "room.message",
        &json!({ "name": "tcp", "content": "hello from TCP" }),
    )
    .await?;
    let message: Value = ws_messages.recv().await.ok_or("onMessage")?.decode()?;
    assert_eq!(
        message,
        json!({ "name": "tcp", "content": "hello from TCP" })
    );
    tcp.close().await;
    let left: Value = ws_leaves.recv().await.ok_or("onLeave")?.decode()?;
    assert_eq!(left, json!({ "name": "tcp" }));
    println!("chat smoke test passed");
    Ok(())
}
