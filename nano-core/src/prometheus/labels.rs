//! The label sets of the metric families, and the reasons counted under `reason` labels.

use prometheus_client::encoding::EncodeLabelSet;

/// `{route, kind}`: a route and whether it is a request or a notify route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RouteLabels {
    pub(super) route: &'static str,
    pub(super) kind: &'static str,
}

/// `{route, code}`: an error response's route and code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct CodeLabels {
    pub(super) route: &'static str,
    pub(super) code: i32,
}

/// `{transport}`: `tcp`, `websocket`, ...
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TransportLabels {
    pub(super) transport: &'static str,
}

/// `{reason}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ReasonLabels {
    pub(super) reason: &'static str,
}

/// `{actor}`: an actor component's name, or `scheduler`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ActorLabels {
    pub(super) actor: &'static str,
}

/// Who kicked a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KickCause {
    /// The app (`Session::kick`).
    App,
    /// It sent faster than the rate limit.
    RateLimit,
    /// Its send queue filled up under `SlowConsumerPolicy::Kick`.
    SlowConsumer,
    /// The server is shutting down.
    Shutdown,
}

impl KickCause {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            KickCause::App => "app",
            KickCause::RateLimit => "rate_limit",
            KickCause::SlowConsumer => "slow_consumer",
            KickCause::Shutdown => "shutdown",
        }
    }
}

/// Why a session ended, as the `reason` label of `nano_sessions_closed_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndReason {
    ClientClosed,
    ProtocolError,
    HandshakeRejected,
    HandshakeTimeout,
    HeartbeatTimeout,
    Kicked(KickCause),
    Closed,
    Forced,
    TransportError,
    /// The connection resumed an earlier session (which it now serves).
    Resumed,
    /// A dropped session's grace window ended without a resume.
    ResumeExpired,
    /// A dropped session missed more pushes than its replay buffer holds.
    ReplayOverflow,
}

impl EndReason {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            EndReason::ClientClosed => "client_closed",
            EndReason::ProtocolError => "protocol_error",
            EndReason::HandshakeRejected => "handshake_rejected",
            EndReason::HandshakeTimeout => "handshake_timeout",
            EndReason::HeartbeatTimeout => "heartbeat_timeout",
            EndReason::Kicked(_) => "kicked",
            EndReason::Closed => "closed_by_app",
            EndReason::Forced => "shutdown_deadline",
            EndReason::TransportError => "transport_error",
            EndReason::Resumed => "resumed_earlier_session",
            EndReason::ResumeExpired => "resume_expired",
            EndReason::ReplayOverflow => "replay_overflow",
        }
    }

    /// The kick this end counts as: kicks proper, and a heartbeat timeout (pitaya and nano
    /// count the server dropping a silent client among kicks).
    pub(super) fn kick(self) -> Option<KickReason> {
        match self {
            EndReason::Kicked(cause) => Some(KickReason::Kicked(cause)),
            EndReason::HeartbeatTimeout => Some(KickReason::HeartbeatTimeout),
            _ => None,
        }
    }

    /// The refused handshake this end counts as.
    pub(super) fn handshake_refusal(self) -> Option<&'static str> {
        match self {
            EndReason::HandshakeRejected => Some("rejected"),
            EndReason::HandshakeTimeout => Some("timeout"),
            _ => None,
        }
    }
}

/// The `reason` of `nano_kicks_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KickReason {
    Kicked(KickCause),
    HeartbeatTimeout,
}

impl KickReason {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            KickReason::Kicked(cause) => cause.as_str(),
            KickReason::HeartbeatTimeout => "heartbeat_timeout",
        }
    }
}
