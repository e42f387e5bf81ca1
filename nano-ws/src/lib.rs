//! # nano-ws
//!
//! The WebSocket transport of nano-rs (on tokio-tungstenite): every packet is one binary
//! WebSocket message, and inbound messages are read as a byte stream, as nano/Pomelo clients
//! expect.
//!
//! - [`WsTransport`]: a packet transport over any established WebSocket (server or client side).
//!
//! The WebSocket listener and mounting into an existing HTTP server arrive with the runtime.

mod framing;

pub use framing::WsTransport;
pub use tokio_tungstenite;
