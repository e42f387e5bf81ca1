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
//! - [`Serializer`]: payload formats (JSON, MessagePack).
//! - [`ErrorBody`]: the payload of an error response (`{"code":404,"msg":"..."}`).
//! - [`transport`]: the packet transport trait connections run over.

mod error_body;
pub mod protocol;
mod serializer;
pub mod transport;

pub use error_body::ErrorBody;
pub use serializer::{BoxError, Serializer, SerializerError};
