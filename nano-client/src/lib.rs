//! # nano-client
//!
//! An async Rust client for servers speaking the nano/Pomelo protocol (nano-rs, nano, pomelo,
//! pinus), over TCP or WebSocket. It behaves like a Pomelo game client: it sends the handshake
//! and its ack, keeps heartbeats going both ways, matches responses to requests by id, uses the
//! server's route dictionary, and reports kicks and dead connections. Tests, bots and the load
//! generator of nano-rs use it.
//!
//! # Examples
//!
//! ```no_run
//! use nano_client::{Client, ClientError};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize)]
//! struct Join<'a> { name: &'a str }
//!
//! #[derive(Deserialize)]
//! struct Joined { code: i32, result: String }
//!
//! # async fn run() -> Result<(), ClientError> {
//! // TCP; "ws://127.0.0.1:3250/nano" for WebSocket, "wss://..." with the `tls` feature.
//! let client = Client::connect("127.0.0.1:3251").await?;
//!
//! // Pushes: subscribe first, then trigger them.
//! let mut new_users = client.subscribe("onNewUser");
//!
//! // A request: typed in, typed out; an error body from the server is an `Err`.
//! let joined: Joined = client.request("room.join", &Join { name: "ann" }).await?;
//! assert_eq!(joined.result, "success");
//!
//! // A notify: no response.
//! client.notify("room.message", &serde_json::json!({ "name": "ann", "content": "hi" })).await?;
//!
//! if let Some(push) = new_users.recv().await {
//!     let body: serde_json::Value = push.decode()?;
//!     println!("{}: {body}", push.route);
//! }
//!
//! // Why the connection ended: a kick with its reason, a heartbeat timeout, ...
//! let reason = client.closed().await;
//! # Ok(()) }
//! ```
//!
//! Several tasks can share one [`Client`] (it is cheap to clone) and run requests concurrently.
//!
//! # Features
//!
//! - `tls`: `wss://` targets, over rustls. The server's certificate is checked against the
//!   system's root certificates, or against the configuration given to
//!   `ClientBuilder::tls_config` (a self-signed certificate in development, say).
//!
//! # Serializers
//!
//! The payload format is the one the server names in its handshake's `sys.serializer`: `json`
//! (also when it names none) or `msgpack`. A name the client does not know fails
//! [`connect`](ClientBuilder::connect) with [`ClientError::UnsupportedSerializer`] before the
//! handshake is acknowledged; [`ClientBuilder::serializer`] forces a format and
//! [`ClientBuilder::accept_serializer`] accepts more names.
//!
//! # Reconnecting
//!
//! Off by default: the client ends with its connection. With
//! [`ClientBuilder::reconnect`] and a [`Reconnect`] policy (first delay, maximum delay, jitter,
//! maximum attempts), a lost connection (the server closing, a transport error, a heartbeat
//! timeout) is dialed again with exponential backoff; a kick, [`Client::close`] and dropping
//! every handle are final. [`Client::events`] reports each loss, attempt and reconnect, and
//! last the client's end.
//!
//! - Requests in flight when the connection is lost fail with [`ClientError::Disconnected`];
//!   they are not sent again (the server may have run them). Requests and notifies made while
//!   reconnecting fail the same way at once.
//! - Push subscriptions ([`Client::subscribe`], [`Client::pushes`]) carry on over the new
//!   connection; pushes sent while no connection was up are lost. The streams end only with
//!   the client.
//! - The new connection is a new session on the server: log in and join rooms again on
//!   [`ConnectionEvent::Reconnected`]. Its dictionary and heartbeat are its own; the
//!   serializer must stay the same ([`ClientError::SerializerChanged`] ends the client).

mod builder;
mod client;
mod connect;
mod connection;
mod error;
mod negotiate;
mod push;
mod reconnect;
mod resume;
mod shared;
#[cfg(feature = "tls")]
mod tls;

pub use builder::ClientBuilder;
pub use client::Client;
pub use error::{ClientError, CloseReason};
#[cfg(feature = "protobuf")]
pub use nano_core::Proto;
pub use nano_core::{DecodePayload, EncodePayload, Serializer};

// Crates whose types appear in nano-client's API, so that users need no matching versions.
pub use bytes;
pub use nano_core;
pub use push::{Push, Pushes};
pub use reconnect::{ConnectionEvent, Events, Reconnect};
#[cfg(feature = "tls")]
pub use rustls;
