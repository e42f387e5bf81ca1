//! Errors of the client, and why a connection ended.

use std::fmt;
use std::io;
use std::time::Duration;

use nano_core::SerializerError;
use nano_core::protocol::{HandshakeResponse, PacketType, ProtocolError};

/// Why a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The server sent a Kick packet; `reason` is its `{"reason": ...}` field.
    Kicked {
        /// The server's reason.
        reason: String,
    },
    /// The server closed the connection.
    ServerClosed,
    /// Nothing arrived from the server for two heartbeat intervals.
    HeartbeatTimeout,
    /// [`Client::close`](crate::Client::close) was called, or every handle was dropped.
    ClosedByClient,
    /// The server sent bytes that are not the protocol, or the transport failed.
    Error(String),
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Kicked { reason } => write!(f, "kicked by the server: {reason}"),
            CloseReason::ServerClosed => f.write_str("closed by the server"),
            CloseReason::HeartbeatTimeout => {
                f.write_str("server silent for two heartbeat intervals")
            }
            CloseReason::ClosedByClient => f.write_str("closed by the client"),
            CloseReason::Error(error) => write!(f, "connection error: {error}"),
        }
    }
}

/// Everything that can go wrong in the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Connecting and completing the handshake took longer than the connect timeout.
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The target is neither `host:port` nor a `ws://` or `wss://` URL (`wss://` needs the
    /// `tls` feature).
    #[error(
        "invalid target `{0}`: expected `host:port`, `ws://host:port/path` or `wss://host:port/path` (`wss://` needs nano-client's `tls` feature)"
    )]
    InvalidTarget(String),
    /// The TLS handshake of a `wss://` connection failed (an untrusted certificate, a name that
    /// does not match it, ...), or no root certificate could be loaded.
    #[error("tls error: {0}")]
    Tls(#[source] io::Error),
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The WebSocket handshake or connection failed.
    #[error("websocket error: {0}")]
    WebSocket(#[source] Box<tokio_tungstenite::tungstenite::Error>),
    /// The server answered the handshake with a code other than 200.
    #[error("handshake rejected with code {code}")]
    HandshakeRejected {
        /// The server's code (500: failure, 501: client too old, ...).
        code: u16,
        /// The whole reply, for its `user` data.
        response: Box<HandshakeResponse>,
    },
    /// The server announced a `sys.serializer` this client does not know (and none was forced
    /// with [`ClientBuilder::serializer`](crate::ClientBuilder::serializer) or accepted with
    /// [`ClientBuilder::accept_serializer`](crate::ClientBuilder::accept_serializer)). The
    /// handshake is not acknowledged: no payload is ever sent in a format the server does not
    /// expect.
    #[error(
        "the server's serializer `{name}` is not supported by this client (built in: json, msgpack)"
    )]
    UnsupportedSerializer {
        /// The server's `sys.serializer`.
        name: String,
    },
    /// A reconnect reached a server that settled on another serializer than the first
    /// connection did (the application's payload types are bound to one format).
    #[error("the server's serializer changed from `{before}` to `{now}` on reconnecting")]
    SerializerChanged {
        /// The serializer of the first connection.
        before: String,
        /// The serializer the new connection would use.
        now: String,
    },
    /// The server sent a packet the handshake does not allow.
    #[error("unexpected {0:?} packet during the handshake")]
    UnexpectedPacket(PacketType),
    /// The server sent bytes that are not the protocol.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// A request got no response within the request timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The server answered with an error body (`{"code":..,"msg":..}`) or an error flag.
    #[error("server error {code}: {message}")]
    Server {
        /// The error code from the body.
        code: i32,
        /// The error message from the body.
        message: String,
    },
    /// A payload could not be serialized, or a response not deserialized.
    #[error(transparent)]
    Serializer(#[from] SerializerError),
    /// The connection has ended, and the client with it.
    #[error("connection closed: {0}")]
    Closed(CloseReason),
    /// The connection was lost and the client is reconnecting
    /// ([`ClientBuilder::reconnect`](crate::ClientBuilder::reconnect)): a request in flight was
    /// lost with the connection (it is not sent again), or one was made before the new
    /// connection was up. Retry once [`ConnectionEvent::Reconnected`](crate::ConnectionEvent)
    /// arrives, if the operation is safe to repeat.
    #[error("connection lost, reconnecting: {0}")]
    Disconnected(CloseReason),
}
