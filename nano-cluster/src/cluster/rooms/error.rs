//! [`PlacementError`]: what a cluster-wide join or reservation can fail with, and its code.

use std::fmt;

use nano_core::{HandlerError, RoomId};

use crate::ClusterError;

/// Why a cluster-wide placement, join or leave failed. Each has a [`code`](Self::code) in the
/// 4xx/5xx style of nano-core's `RoomError`, and converts into a [`HandlerError`] with it, so
/// a lobby handler can answer its client with `?`.
///
/// Like `RoomError`, it does not implement `std::error::Error` on purpose: that would make
/// `?` in a handler a 500.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlacementError {
    /// No live node serves the kind (or none of them answered): **503**.
    NoNode(String),
    /// The placement node, or the room's node, did not answer within the request timeout:
    /// **504**. The seat may have been reserved all the same; it expires by itself.
    Timeout(String),
    /// The nodes disagree about which of them places rooms (a node is joining or leaving
    /// right now); asking again in a moment works: **503**.
    Unsettled,
    /// The room's node refused, with the code and message of its `RoomError` (403 full, 408
    /// no such reservation, 410 disposed, 412 already in a room, ...); or the placement node
    /// did: 503 when [`max_pending`](crate::PlacementConfig::max_pending) placements wait
    /// already or no node could reserve a seat, 504 when the placement waited past its
    /// caller's timeout for its turn.
    Refused {
        /// The `RoomError`'s code.
        code: i32,
        /// Its message.
        message: String,
    },
    /// The session is in a room of the kind already (on `node`): **412**.
    AlreadyInRoom {
        /// The node of that room.
        node: String,
        /// The room.
        room: RoomId,
    },
    /// A join for a session that is not a client of this node (a stand-in session: join
    /// from a handler on the client's own node), or on a node that serves the kind itself
    /// (its own app answers the kind's routes; use `Rooms` there): **400**.
    NotHere,
    /// The kind's name is not one NATS subject token: **400**.
    InvalidKind(String),
    /// The cluster failed (not started, shut down, NATS): **503**.
    Cluster(String),
}

impl PlacementError {
    /// The error's code (see each variant).
    pub fn code(&self) -> i32 {
        match self {
            PlacementError::NoNode(_) | PlacementError::Unsettled | PlacementError::Cluster(_) => {
                503
            }
            PlacementError::Timeout(_) => 504,
            PlacementError::Refused { code, .. } => *code,
            PlacementError::AlreadyInRoom { .. } => 412,
            PlacementError::NotHere | PlacementError::InvalidKind(_) => 400,
        }
    }
}

impl fmt::Display for PlacementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlacementError::NoNode(kind) => write!(f, "no node can place a room of `{kind}`"),
            PlacementError::Timeout(node) => write!(f, "node `{node}` did not answer in time"),
            PlacementError::Unsettled => f.write_str("the placement node is changing"),
            PlacementError::Refused { message, .. } => f.write_str(message),
            PlacementError::AlreadyInRoom { node, room } => {
                write!(f, "already in room {room} on node `{node}`")
            }
            PlacementError::NotHere => f.write_str("join from the client's own node"),
            PlacementError::InvalidKind(kind) => write!(f, "invalid room kind `{kind}`"),
            PlacementError::Cluster(why) => write!(f, "cluster unavailable: {why}"),
        }
    }
}

impl From<ClusterError> for PlacementError {
    fn from(error: ClusterError) -> Self {
        match error {
            ClusterError::Timeout(node) => PlacementError::Timeout(node),
            ClusterError::Unavailable(node) => PlacementError::NoNode(node),
            ClusterError::Remote { code, message } => PlacementError::Refused { code, message },
            other => PlacementError::Cluster(other.to_string()),
        }
    }
}

impl From<PlacementError> for HandlerError {
    fn from(error: PlacementError) -> Self {
        HandlerError::new(error.code(), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_documented_table() {
        let cases = [
            (PlacementError::NoNode("match".into()), 503),
            (PlacementError::Timeout("b1".into()), 504),
            (PlacementError::Unsettled, 503),
            (
                PlacementError::Refused {
                    code: 408,
                    message: "no reservation".into(),
                },
                408,
            ),
            (
                PlacementError::AlreadyInRoom {
                    node: "b1".into(),
                    room: RoomId(3),
                },
                412,
            ),
            (PlacementError::NotHere, 400),
        ];
        for (error, code) in cases {
            assert_eq!(HandlerError::from(error.clone()).code(), code, "{error}");
        }
    }
}
