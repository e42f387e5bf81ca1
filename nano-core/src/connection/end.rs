//! [`End`]: why a connection ended.

use std::fmt;

use crate::prometheus::{EndReason, KickCause};
use crate::protocol::ProtocolError;

/// Why a connection ended (for the logs, and for what is still written before closing).
#[derive(Debug)]
pub(super) enum End {
    ClientClosed,
    Protocol(ProtocolError),
    Violation(&'static str),
    HandshakeRejected(u16),
    HandshakeTimeout,
    HeartbeatTimeout,
    Kicked(String, KickCause),
    Closed,
    Forced,
    Io(ProtocolError),
}

impl End {
    /// The client broke the protocol (counted as an error, logged at INFO).
    pub(super) fn is_protocol_error(&self) -> bool {
        matches!(self, End::Protocol(_) | End::Violation(_))
    }

    /// The `reason` label this end is counted under.
    pub(super) fn reason(&self) -> EndReason {
        match self {
            End::ClientClosed => EndReason::ClientClosed,
            End::Protocol(_) | End::Violation(_) => EndReason::ProtocolError,
            End::HandshakeRejected(_) => EndReason::HandshakeRejected,
            End::HandshakeTimeout => EndReason::HandshakeTimeout,
            End::HeartbeatTimeout => EndReason::HeartbeatTimeout,
            End::Kicked(_, cause) => EndReason::Kicked(*cause),
            End::Closed => EndReason::Closed,
            End::Forced => EndReason::Forced,
            End::Io(_) => EndReason::TransportError,
        }
    }

    /// Whether the client may still be written to: what was queued and a Kick go out first.
    pub(super) fn can_write(&self) -> bool {
        !matches!(self, End::Forced | End::Io(_))
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::ClientClosed => f.write_str("closed by the client"),
            End::Protocol(err) => write!(f, "protocol error: {err}"),
            End::Violation(what) => write!(f, "protocol violation: {what}"),
            End::HandshakeRejected(code) => write!(f, "handshake rejected with code {code}"),
            End::HandshakeTimeout => f.write_str("handshake timeout"),
            End::HeartbeatTimeout => f.write_str("heartbeat timeout"),
            End::Kicked(reason, _) => write!(f, "kicked: {reason}"),
            End::Closed => f.write_str("closed by the server"),
            End::Forced => f.write_str("closed at the end of the shutdown deadline"),
            End::Io(err) => write!(f, "transport error: {err}"),
        }
    }
}
