//! What nodes say to each other about rooms, as JSON: asks for a kind's load and seats, the
//! answers, and a member's departure told to its client's node.

use nano_core::{ReservationToken, RoomId};
use serde::{Deserialize, Serialize};

/// The prefix of the internal call routes a room kind's node serves for other nodes'
/// clients: `@rooms.<kind>.join` and `@rooms.<kind>.leave` (no component route starts with
/// `@`).
pub(super) const ROUTE_PREFIX: &str = "@rooms.";

/// A placement, a load probe or a reservation for a room made with `filter`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Ask {
    pub(super) filter: String,
}

/// A node's answer to a probe: its rooms of the kind, their members and reserved seats, and
/// whether one made with the probe's filter has a free seat.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Load {
    pub(super) rooms: usize,
    pub(super) sessions: usize,
    pub(super) free: bool,
}

/// A reserved seat.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Seat {
    pub(super) node: String,
    pub(super) room: RoomId,
    pub(super) token: ReservationToken,
    /// How long the seat stays held, from when it was reserved.
    pub(super) expires_in_ms: u64,
}

/// The answer to a placement or a reservation.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Answer {
    /// The seat.
    Seat(Seat),
    /// This node does not place rooms of the kind; it believes this one does.
    Redirect(String),
    /// Refused, with a code and a message.
    Error { code: i32, msg: String },
}

/// The body of a join call: the seat's token.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Join {
    pub(super) token: ReservationToken,
}

/// The answer to a join or a leave: the room.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct InRoom {
    pub(super) room: RoomId,
}

/// A client of the receiving node is no longer in room `room` of `kind` on `node`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Left {
    pub(super) kind: String,
    pub(super) session: u64,
    pub(super) node: String,
    pub(super) room: RoomId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_have_a_stable_shape() {
        let token: ReservationToken = "0123456789abcdef0123456789abcdef".parse().unwrap();
        let seat = Answer::Seat(Seat {
            node: "b1".into(),
            room: RoomId(2),
            token,
            expires_in_ms: 15_000,
        });
        assert_eq!(
            serde_json::to_string(&seat).unwrap(),
            r#"{"seat":{"node":"b1","room":2,"token":"0123456789abcdef0123456789abcdef","expires_in_ms":15000}}"#
        );
        let refused = Answer::Error {
            code: 503,
            msg: "busy".into(),
        };
        assert_eq!(
            serde_json::to_string(&refused).unwrap(),
            r#"{"error":{"code":503,"msg":"busy"}}"#
        );
        assert_eq!(
            serde_json::to_string(&Answer::Redirect("b0".into())).unwrap(),
            r#"{"redirect":"b0"}"#
        );
    }
}
