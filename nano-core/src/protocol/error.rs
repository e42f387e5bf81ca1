//! The error type of the wire-protocol codec.

use std::io;

/// Every way bytes on the wire can fail to be a valid packet or message, and every way a value
/// can fail to be encoded.
///
/// The decoder never panics and never allocates more than the configured maximum body length on
/// any input; every malformed input maps to exactly one of these variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The packet header names a type other than 1..=5.
    #[error("unknown packet type 0x{0:02x}")]
    UnknownPacketType(u8),

    /// The packet header announces a body longer than the configured maximum.
    ///
    /// Raised as soon as the 4-byte header is read, before any of the body is buffered.
    #[error("packet body of {len} bytes exceeds the limit of {max} bytes")]
    BodyTooLong {
        /// Length announced by the header (or of the body being encoded).
        len: usize,
        /// The limit in force.
        max: usize,
    },

    /// A Data packet's body is empty: a message needs at least its flag byte.
    #[error("empty message: a data packet needs at least a flag byte")]
    EmptyMessage,

    /// Bits 1..=3 of the flag byte hold a message type greater than 3 (Push).
    #[error("invalid message type {0} (expected 0..=3)")]
    InvalidMessageType(u8),

    /// The flag byte sets bits nano-rs does not accept: bits 4, 6 and 7 always, bit 5 (the
    /// pitaya error flag) on anything but a Response.
    #[error("unsupported flag bits set in message flag 0x{0:02x}")]
    ReservedFlagBits(u8),

    /// The message ended in the middle of the id varint.
    #[error("message truncated inside the message id")]
    TruncatedId,

    /// The message id varint is longer than 10 bytes or does not fit in a `u64`.
    #[error("message id varint overflows u64")]
    VarintOverflow,

    /// The message ended before the route length byte.
    #[error("message truncated before the route length")]
    MissingRouteLength,

    /// The route length byte points past the end of the message.
    #[error("route of {len} bytes runs past the end of the message ({available} bytes left)")]
    RoutePastEnd {
        /// Route length announced by the length byte.
        len: usize,
        /// Bytes actually left in the message.
        available: usize,
    },

    /// A compressed route needs 2 bytes, but fewer are left in the message.
    #[error("message truncated inside the 2-byte compressed route")]
    TruncatedRouteCode,

    /// The route bytes are not valid UTF-8.
    #[error("route is not valid UTF-8")]
    InvalidRouteUtf8,

    /// A compressed route's code is not in the route dictionary.
    #[error("unknown route dictionary code {0}")]
    UnknownRouteCode(u16),

    /// A route longer than 255 bytes cannot be encoded (its length is a single byte).
    #[error("route of {0} bytes is longer than the 255-byte limit")]
    RouteTooLong(usize),

    /// A WebSocket peer sent a text message; packets travel in binary messages only.
    #[error("text WebSocket message: packets must be sent as binary messages")]
    TextMessage,

    /// The handshake body is not the JSON the protocol expects.
    #[error("invalid handshake JSON: {0}")]
    InvalidHandshake(#[source] serde_json::Error),

    /// The kick body is not the JSON the protocol expects.
    #[error("invalid kick JSON: {0}")]
    InvalidKick(#[source] serde_json::Error),

    /// The underlying transport failed (used by the `tokio_util` codec).
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}
