//! # nano-client
//!
//! An async Rust client for servers speaking the nano/Pomelo protocol (nano-rs, nano, pomelo,
//! pinus): handshake, heartbeats, requests, notifies and pushes, over TCP or WebSocket. Tests,
//! bots and the load generator use it.
//!
//! The client arrives on top of the protocol codec in `nano-core`; this crate currently exports
//! nothing.
