//! [`End`]: why a connection ended.

use std::fmt;

use super::resume::{Elsewhere, ResumeTicket};
use crate::prometheus::{EndReason, KickCause};
use crate::protocol::ProtocolError;
use crate::transport::PacketTransport;

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
    /// Another connection resumed the session: this one is dropped.
    Replaced,
    /// This connection resumes an earlier session: its transport is handed to that one.
    Resume(Box<ResumeTicket>),
    /// This connection resumes a session another node holds: its transport is relayed there.
    ResumedElsewhere(Elsewhere),
    /// The session was dropped and its client did not come back within the grace window.
    GraceExpired,
    /// The session was dropped and pushes its client missed no longer fit the replay buffer.
    Overflow,
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
            End::Io(_) | End::Replaced => EndReason::TransportError,
            End::Resume(_) | End::ResumedElsewhere(_) => EndReason::Resumed,
            End::GraceExpired => EndReason::ResumeExpired,
            End::Overflow => EndReason::ReplayOverflow,
        }
    }

    /// Whether the session may wait for its client to resume it (resume on): its connection
    /// dropped, rather than the app or the server ending it.
    pub(super) fn is_drop(&self) -> bool {
        matches!(
            self,
            End::ClientClosed
                | End::Protocol(_)
                | End::HeartbeatTimeout
                | End::Io(_)
                | End::Replaced
        )
    }

    /// Gives the connection's transport to the session this connection resumes (here or on
    /// another node), if it ended for that; otherwise the transport is dropped (closed).
    pub(super) fn take_transport<T: PacketTransport>(&mut self, transport: T) {
        match self {
            End::Resume(ticket) => ticket.hand_over(Box::new(transport)),
            End::ResumedElsewhere(Elsewhere(pipe)) => {
                if let Some(pipe) = pipe.take() {
                    pipe(Box::new(transport));
                }
            }
            _ => drop(transport),
        }
    }

    /// Whether the client may still be written to: what was queued and a Kick go out first.
    pub(super) fn can_write(&self) -> bool {
        !matches!(
            self,
            End::Forced | End::Io(_) | End::Replaced | End::Resume(_) | End::ResumedElsewhere(_)
        )
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
            End::Replaced => f.write_str("replaced by a connection that resumed the session"),
            End::Resume(ticket) => write!(f, "resumed session {}", ticket.session.id()),
            End::ResumedElsewhere(_) => f.write_str("resumed a session held by another node"),
            End::GraceExpired => f.write_str("dropped, and not resumed within the grace window"),
            End::Overflow => {
                f.write_str("dropped, and missed more pushes than the replay buffer holds")
            }
        }
    }
}
