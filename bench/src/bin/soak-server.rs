//! # soak-server: a chat server with many rooms, for long runs
//!
//! ```sh
//! cargo run --release -p nano-bench --bin soak-server -- --tcp 127.0.0.1:3300
//! ```
//!
//! Routes: `room.join` (request `{"room": n}`), `room.message` (notify, broadcast as
//! `onMessage` to the room), `room.ping` (request, answered with its body), `admin.stats`
//! (request: the app's counters, rooms and members). Heartbeat every 5 s. SIGTERM or Ctrl-C
//! starts a graceful shutdown.

#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use nano_core::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Join {
    room: u32,
}

#[derive(Default, Clone)]
struct Rooms(Arc<Mutex<HashMap<u32, Group>>>);

impl Rooms {
    fn stats(&self) -> (usize, usize) {
        let rooms = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (rooms.len(), rooms.values().map(Group::count).sum())
    }
}

struct Room {
    rooms: Rooms,
}

#[component(name = "room")]
impl Room {
    #[handler]
    fn join(&self, session: &Session, join: Join) -> Result<usize, HandlerError> {
        let group = {
            let mut rooms = self
                .rooms
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            rooms
                .entry(join.room)
                .or_insert_with(|| Group::new(format!("room-{}", join.room)))
                .clone()
        };
        group.add(session)?;
        session.set("room", join.room);
        // Empty rooms are removed, so a finished run leaves nothing behind.
        let rooms = self.rooms.clone();
        session.on_close(move |_| {
            let mut rooms = rooms
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if rooms
                .get(&join.room)
                .is_some_and(|group| group.count() == 0)
            {
                rooms.remove(&join.room);
            }
        });
        Ok(group.count())
    }

    #[handler]
    fn message(&self, session: &Session, body: Bytes) {
        let Some(room) = session.get::<u32>("room") else {
            return;
        };
        let group = self
            .rooms
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&room)
            .cloned();
        if let Some(group) = group {
            let _ = group.broadcast_raw("onMessage", body);
        }
    }

    #[handler]
    fn ping(&self, _session: &Session, body: Bytes) -> Bytes {
        body
    }
}

struct Admin {
    rooms: Rooms,
    app: Arc<Mutex<Option<App>>>,
}

#[component(name = "admin")]
impl Admin {
    #[handler]
    fn stats(&self, _session: &Session) -> Value {
        let metrics = self
            .app
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(App::metrics);
        let (rooms, members) = self.rooms.stats();
        json!({
            "sessions_open": metrics.map(|m| m.sessions_open),
            "sessions_total": metrics.map(|m| m.sessions_total),
            "pushes_dropped": metrics.map(|m| m.pushes_dropped),
            "kicks": metrics.map(|m| m.kicks),
            "rooms": rooms,
            "members": members,
        })
    }
}

/// A chat server with many rooms, the target of `nano-bench soak`.
#[derive(Parser)]
#[command(name = "soak-server")]
struct Flags {
    /// Address to listen on
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:3300")]
    tcp: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let flags = Flags::parse();
    let rooms = Rooms::default();
    let slot = Arc::new(Mutex::new(None));
    let app = App::builder()
        .register(Room {
            rooms: rooms.clone(),
        })
        .register(Admin {
            rooms,
            app: slot.clone(),
        })
        .push_routes(["onMessage"])
        .heartbeat_interval(Duration::from_secs(5))
        .shutdown_timeout(Duration::from_secs(30))
        .build()?;
    *slot
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(app.clone());
    let tcp = app.listen_tcp(flags.tcp).await?;
    println!("soak-server listening tcp={tcp}");
    app.run().await?;
    println!("soak-server shut down cleanly");
    Ok(())
}
