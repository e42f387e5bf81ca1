//! Seat reservations: a seat in a room held for a session that joins in a moment (e.g. from
//! another connection), by an unguessable token, until it expires.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::time::Instant;

use super::RoomId;

/// The token of a seat reservation: 128 random bits from the operating system's generator
/// (through `rand`'s thread-local CSPRNG), written as 32 lowercase hex digits. Whoever holds
/// it can take the seat ([`Rooms::join_reserved`](crate::Rooms::join_reserved)), so hand it
/// only to the player it is for.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReservationToken(u128);

impl ReservationToken {
    /// A fresh random token.
    pub(crate) fn random() -> Self {
        Self(rand::random())
    }
}

impl fmt::Display for ReservationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for ReservationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the token itself: logs must not hand seats out.
        f.write_str("ReservationToken(..)")
    }
}

/// A string that is not 32 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a reservation token is 32 hex digits")]
pub struct BadToken;

impl FromStr for ReservationToken {
    type Err = BadToken;

    fn from_str(text: &str) -> Result<Self, BadToken> {
        let hex = text.len() == 32 && text.bytes().all(|byte| byte.is_ascii_hexdigit());
        if !hex {
            return Err(BadToken);
        }
        u128::from_str_radix(text, 16)
            .map(Self)
            .map_err(|_| BadToken)
    }
}

impl Serialize for ReservationToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ReservationToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A seat held in a room until [`expires_at`](Self::expires_at)
/// ([`RoomConfig::seat_reservation_timeout`](crate::RoomConfig::seat_reservation_timeout)
/// after it was made); it counts against the room's
/// [`max_members`](crate::RoomRef::max_members) until it is taken, cancelled or expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reservation {
    /// What takes the seat ([`Rooms::join_reserved`](crate::Rooms::join_reserved)).
    pub token: ReservationToken,
    /// The room the seat is in.
    pub room: RoomId,
    /// When the seat frees itself (tokio's clock).
    pub expires_at: Instant,
}

/// The seats held in a kind's rooms. Lives in the kind's registry, behind its lock.
#[derive(Default)]
pub(crate) struct Seats {
    by_token: HashMap<ReservationToken, Reservation>,
    /// Room → seats held in it.
    held: HashMap<RoomId, usize>,
}

impl Seats {
    /// Holds a seat in `room` until `expires_at`.
    pub(crate) fn hold(&mut self, room: RoomId, expires_at: Instant) -> Reservation {
        let mut token = ReservationToken::random();
        while self.by_token.contains_key(&token) {
            token = ReservationToken::random();
        }
        let reservation = Reservation {
            token,
            room,
            expires_at,
        };
        self.by_token.insert(token, reservation);
        *self.held.entry(room).or_default() += 1;
        reservation
    }

    /// Seats held in `room`.
    pub(crate) fn held(&self, room: RoomId) -> usize {
        self.held.get(&room).copied().unwrap_or(0)
    }

    /// Frees the seat of `token`; returns it, expired or not.
    pub(crate) fn take(&mut self, token: ReservationToken) -> Option<Reservation> {
        let reservation = self.by_token.remove(&token)?;
        if let Some(count) = self.held.get_mut(&reservation.room) {
            *count -= 1;
            if *count == 0 {
                self.held.remove(&reservation.room);
            }
        }
        Some(reservation)
    }

    /// Forgets every seat in `room` (it was disposed).
    pub(crate) fn forget_room(&mut self, room: RoomId) {
        if self.held.remove(&room).is_some() {
            self.by_token.retain(|_, seat| seat.room != room);
        }
    }

    /// Forgets every seat (the app stops).
    pub(crate) fn clear(&mut self) {
        self.by_token.clear();
        self.held.clear();
    }
}
