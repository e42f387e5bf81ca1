//! # nano-core
//!
//! The runtime of nano-rs, a game-server framework in the style of nano (Go) that speaks the
//! nano/Pomelo wire protocol, so the existing JavaScript, Unity and Cocos client SDKs work
//! against it unmodified.
//!
//! Register *components*; their `#[handler]` methods become routes that clients call as
//! `"component.method"`. Each handler gets the client's [`Session`] and a payload decoded by the
//! app's [`Serializer`]. The runtime does the framing, handshake, heartbeats, [`Group`]s with
//! broadcast, [`Pipeline`]s, timers and shutdown, over TCP (and WebSocket with `nano-ws`).
//!
//! # Quick start
//!
//! ```no_run
//! use nano_core::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Join { name: String }
//!
//! #[derive(Serialize)]
//! struct Joined { code: i32, result: &'static str }
//!
//! #[derive(Deserialize, Serialize)]
//! struct Chat { name: String, content: String }
//!
//! struct Room { members: Group }
//!
//! #[component(name = "room")]                 // routes: room.join, room.message
//! impl Room {
//!     #[handler]                               // a request: the return value answers it
//!     fn join(&self, session: &Session, join: Join) -> Result<Joined, HandlerError> {
//!         session.set("name", join.name);
//!         self.members.add(session)?;
//!         Ok(Joined { code: 0, result: "success" })
//!     }
//!
//!     #[handler]                               // a notify: no response
//!     fn message(&self, _session: &Session, chat: Chat) {
//!         let _ = self.members.broadcast("onMessage", &chat);
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), nano_core::Error> {
//!     let app = App::builder().register(Room { members: Group::new("room") }).build()?;
//!     app.listen_tcp("127.0.0.1:3250").await?;
//!     app.run().await
//! }
//! ```
//!
//! # Execution model
//!
//! - Messages of one session are handled one at a time, in arrival order; different sessions
//!   run in parallel on tokio's worker threads.
//! - A component whose handlers all take `&self` is *shared*: its handlers run concurrently.
//! - A component with a `&mut self` handler is an *actor*: its handlers, timers and
//!   [`invoke`](ActorHandle::invoke)d closures run one at a time on its own task, so its state
//!   needs no lock.
//! - A `#[component(room)]` is a *room kind*: [`Rooms`] creates its instances at run time,
//!   each an actor of its own with its members, timers and optional tick loop; a session's
//!   requests go to the room it joined (see [`Room`]).
//! - Every request gets a response: a handler error, an unknown route, an undecodable payload
//!   or a panic becomes an error response (`{"code":..,"msg":..}`), and the connection stays.
//!
//! # Modules
//!
//! - [`protocol`]: the wire codec — packets, messages, the route dictionary, handshake bodies.
//! - [`transport`]: the packet transport trait connections run over.
//! - [`testing`]: calling handlers without a network.
//! - [`manifest`]: the app's routes and push routes with their types ([`App::manifest`]), and
//!   TypeScript declarations from them.
//!
//! # Features
//!
//! - `macros` (default): `#[component]` and `#[handler]`.
//! - `protobuf`: protobuf payloads — prost messages wrapped in [`Proto`] and
//!   `Serializer::Protobuf`; re-exports `prost`.
//! - `schema`: JSON Schemas (`schemars`) of the payload, response and push types that
//!   implement `schemars::JsonSchema`, in [`App::manifest`] and its TypeScript declarations.

mod actor;
mod app;
mod call;
mod component;
mod config;
mod connection;
mod core;
#[cfg(test)]
mod counting_waker;
mod dispatch;
mod error;
mod error_body;
mod group;
mod handler;
mod handshake;
mod host;
mod inline_queue;
pub mod inspect;
pub mod manifest;
mod metrics;
mod open_files;
#[cfg(feature = "otel")]
pub mod otel;
mod outbox;
mod payload;
mod pipeline;
mod prometheus;
/// The Prometheus client library nano-core records its metrics with, for
/// [`AppBuilder::register_metrics`].
pub use prometheus_client;
#[cfg(feature = "protobuf")]
mod proto;
pub mod protocol;
pub mod remote;
mod resume;
mod room;
mod routes;
mod scheduler;
mod serializer;
mod service;
mod session;
mod shutdown_signal;
mod sync;
pub mod testing;
mod timer;
mod trace;
pub mod transport;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use actor::{ActorHandle, InvokeError};
pub use app::{App, AppBuilder, ShutdownHandle};
pub use component::{
    Component, ComponentMeta, Context, Encoding, Execution, HandlerKind, Lifecycle, PayloadKind,
    PushMeta, RouteMeta, TypeMeta,
};
pub use config::{
    Config, DEFAULT_ACTOR_MAILBOX_CAPACITY, DEFAULT_FINAL_WRITE_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_MAX_CONNECTIONS, DEFAULT_OPEN_FILE_RESERVE,
    DEFAULT_RATE_LIMIT, DEFAULT_SEND_QUEUE_CAPACITY, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_SPAN_LEVEL,
    RateLimit,
};
pub use error::Error;
pub use error_body::ErrorBody;
pub use group::{Broadcast, Group, GroupError};
pub use handler::{Deferred, HandlerError};
pub use handshake::HandshakeRejection;
pub use manifest::Manifest;
pub use metrics::Metrics;
pub use open_files::raise_open_file_limit;
pub use outbox::SlowConsumerPolicy;
pub use payload::{DecodePayload, EncodePayload};
pub use pipeline::Pipeline;
#[cfg(feature = "protobuf")]
pub use proto::{Proto, ProtoMessage};
pub use resume::{
    DEFAULT_REPLAY_BYTES, DEFAULT_REPLAY_CAPACITY, DEFAULT_RESPONSE_CACHE, DEFAULT_RESUME_GRACE,
    RESPONSE_GONE, ResumeConfig, ResumeRefusal,
};
pub use room::{
    BadToken, CloseReason, DEFAULT_DISPOSE_WHEN_EMPTY, DEFAULT_GROUP_SIZE, DEFAULT_INITIAL_RANGE,
    DEFAULT_INPUT_QUEUE_CAPACITY, DEFAULT_MAX_MEMBERS, DEFAULT_MAX_QUEUED, DEFAULT_MAX_RANGE,
    DEFAULT_MAX_ROOMS, DEFAULT_SEAT_RESERVATION_TIMEOUT, DEFAULT_WIDEN_BY, DEFAULT_WIDEN_EVERY,
    MATCHED_ROUTE, MAX_TICK_RATE, MIN_TICK_RATE, Matched, Matchmaker, PanicPolicy, QueueConfig,
    QueueConfigError, QueueError, ROOM_CLOSED_ROUTE, Reservation, ReservationToken, Room,
    RoomClosed, RoomConfig, RoomConfigError, RoomError, RoomId, RoomInfo, RoomInput, RoomRef,
    Rooms,
};
pub use scheduler::Scheduler;
pub use serializer::{BoxError, PayloadFormat, Serializer, SerializerError};
pub use session::{Session, SessionError, TransportKind};
pub use timer::TimerHandle;

#[cfg(feature = "macros")]
pub use nano_macros::{component, handler};

// Crates whose types appear in nano-core's API, so that users need no matching versions.
pub use bytes;
pub use futures_util;
#[cfg(feature = "protobuf")]
pub use prost;
pub use serde_json;
pub use tokio_util;

/// The names most apps need: `use nano_core::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "protobuf")]
    pub use crate::Proto;
    pub use crate::{
        App, Context, Deferred, Group, HandlerError, HandshakeRejection, Lifecycle, Scheduler,
        Session,
    };
    #[cfg(feature = "macros")]
    pub use crate::{component, handler};
}
