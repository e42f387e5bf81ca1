//! # nano-ws
//!
//! The WebSocket transport of nano-rs (on tokio-tungstenite): every packet is one binary
//! WebSocket message, and inbound messages are read as a byte stream, as nano/Pomelo clients
//! expect. It also mounts a nano-rs app on one route of an existing HTTP server.
//!
//! The transport arrives with the runtime; this crate currently exports nothing.
