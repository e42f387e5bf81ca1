//! # nano-core
//!
//! The runtime of nano-rs, a game-server framework in the style of nano (Go) that speaks the
//! nano/Pomelo wire protocol, so the existing JavaScript, Unity and Cocos client SDKs work
//! against it unmodified.
//!
//! This crate grows into the whole runtime (components, sessions, groups, timers, transports);
//! today it holds the foundation everything else stands on:
//!
//! - [`protocol`]: the wire codec — packets, messages, the route dictionary, and the handshake
//!   and kick bodies.

pub mod protocol;
