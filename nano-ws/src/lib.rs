//! # nano-ws
//!
//! The WebSocket transport of nano-rs, on tokio-tungstenite. Browser games and most
//! Pomelo/nano SDKs connect over WebSocket; with nano-ws, one [`App`](nano_core::App) serves
//! TCP and WebSocket clients at once, and a handler cannot tell them apart except by asking
//! [`Session::transport`](nano_core::Session::transport).
//!
//! - [`listen`] / [`serve`]: a standalone WebSocket endpoint (path, Origin check, message size
//!   limit, optional TLS with the `tls` feature).
//! - [`upgrade`]: answer an upgrade request inside any hyper-based HTTP server.
//! - [`axum`] (feature `axum`): mount nano-rs on one route of an axum app, next to
//!   its own routes and static files.
//! - [`admin`] (feature `admin`): a live admin page and JSON API (sessions, groups, routes'
//!   rates and latencies, kick, broadcast) behind a bearer token, on its own address.
//! - [`serve_websocket`]: hand over a WebSocket someone else upgraded.
//! - [`WsTransport`]: the framing itself (one packet per binary message out; inbound messages
//!   read as a byte stream), for servers and clients.
//!
//! # Examples
//!
//! ```no_run
//! use nano_core::prelude::*;
//! use nano_ws::WsConfig;
//!
//! struct Echo;
//!
//! #[component(name = "echo")]
//! impl Echo {
//!     #[handler]
//!     fn say(&self, _session: &Session, text: String) -> String { text }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let app = App::builder().register(Echo).build()?;
//!     app.listen_tcp("127.0.0.1:3250").await?;
//!     nano_ws::listen(&app, "127.0.0.1:3251", WsConfig::new().path("/nano")).await?;
//!     app.run().await?;
//!     Ok(())
//! }
//! ```
//!
//! Bad input: an oversized message closes the connection with code 1009, a text message with
//! 1002; a refused Origin gets 403 and a plain HTTP request to the endpoint 426, without
//! upgrading (see [`upgrade`] for every refusal); a client of the standalone listener that
//! does not send its HTTP headers within [`WsConfig::header_read_timeout`] is disconnected.

#[cfg(feature = "admin")]
pub mod admin;
#[cfg(feature = "axum")]
pub mod axum;
mod config;
mod framing;
mod listener;
mod metrics;
mod upgrade;

pub use config::{DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_MESSAGE_SIZE, OriginCheck, WsConfig};
pub use framing::WsTransport;
pub use listener::{listen, serve};
pub use metrics::{METRICS_CONTENT_TYPE, listen_metrics, metrics_response};
// Crates whose types appear in nano-ws's API, so that users need no matching versions.
pub use http;
pub use hyper;
#[cfg(feature = "tls")]
pub use rustls;
pub use tokio_tungstenite;
pub use upgrade::{serve_websocket, upgrade};
