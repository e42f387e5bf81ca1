//! Matchmaking on one node: rooms made with a filter, [`Rooms::join_or_create`] (never two
//! rooms where one would do, under concurrent requests), and seat reservations with a timeout.

use std::sync::Arc;

use tokio::time::Instant;

use super::reservation::{Reservation, ReservationToken};
use super::rooms::RoomsShared;
use super::{Room, RoomError, RoomId, RoomRef, Rooms};
use crate::Session;
use crate::sync::{lock, write};

impl<C: Room> Rooms<C> {
    /// Creates a room as [`create`](Self::create) does, made with matchmaking `filter`:
    /// [`join_or_create`](Self::join_or_create) and
    /// [`reserve_or_create`](Self::reserve_or_create) with the same filter fill it.
    ///
    /// # Errors
    ///
    /// As [`create`](Self::create).
    pub fn create_with_filter(
        &self,
        filter: impl Into<String>,
        init: C::Init,
    ) -> Result<RoomRef<C>, RoomError> {
        self.create_as(init, Some(Arc::from(filter.into())))
    }

    /// Joins `session` to a room made with `filter` that has a free seat and is not locked
    /// (the lowest id first); when there is none, creates one from `init()` with that filter
    /// and joins it. Concurrent calls never create a room while another of the filter has a
    /// seat: finding (or creating) the room and reserving the seat happen under the kind's
    /// matchmaking lock, and the join that follows takes the reserved seat.
    ///
    /// # Errors
    ///
    /// [`RoomError::AlreadyInRoom`], the errors of [`create`](Self::create) when a room had
    /// to be created, and those of [`join_reserved`](Self::join_reserved).
    pub async fn join_or_create(
        &self,
        filter: impl Into<String>,
        session: &Session,
        init: impl FnOnce() -> C::Init,
    ) -> Result<RoomRef<C>, RoomError> {
        if let Some(room) = self.room_of(session) {
            return Err(RoomError::AlreadyInRoom(room.id()));
        }
        let seat = self.reserve_or_create(filter, init)?;
        self.join_reserved(seat.token, session).await
    }

    /// Reserves a seat in a room made with `filter` that has one and is not locked, or in a
    /// new one created from `init()` with that filter: the matchmaking half of
    /// [`join_or_create`](Self::join_or_create), for a player who joins in a moment (e.g.
    /// from another connection) with [`join_reserved`](Self::join_reserved).
    ///
    /// # Errors
    ///
    /// As [`create`](Self::create) when a room had to be created.
    pub fn reserve_or_create(
        &self,
        filter: impl Into<String>,
        init: impl FnOnce() -> C::Init,
    ) -> Result<Reservation, RoomError> {
        let filter = filter.into();
        let shared = self.shared();
        let _matching = lock(&shared.matchmaking);
        let found = write(&shared.registry).find_free(&filter).cloned();
        let room = match found {
            Some(room) => room,
            None => self.create_as(init(), Some(Arc::from(filter)))?,
        };
        self.reserve(room.id())
    }

    /// Holds a seat in room `id` for
    /// [`seat_reservation_timeout`](crate::RoomConfig::seat_reservation_timeout): it counts
    /// against the room's member limit until a session takes it with
    /// [`join_reserved`](Self::join_reserved), it is cancelled, or it expires (then it frees
    /// itself, and the room's empty timer starts if nobody is in it).
    ///
    /// # Errors
    ///
    /// [`RoomError::NotFound`], [`RoomError::Gone`], [`RoomError::Locked`],
    /// [`RoomError::Full`] (members and reserved seats), [`RoomError::NotRunning`].
    pub fn reserve(&self, id: RoomId) -> Result<Reservation, RoomError> {
        let shared = self.shared();
        shared.running()?;
        let timeout = shared.config.seat_reservation_timeout;
        let seat = {
            let mut registry = write(&shared.registry);
            let Some(room) = registry.get(id).map(|entry| entry.room.clone()) else {
                return Err(registry.missing(id));
            };
            if room.is_locked() {
                return Err(RoomError::Locked(id));
            }
            if !registry.has_seat(&room) {
                return Err(RoomError::Full(id));
            }
            let seat = registry.seats.hold(id, Instant::now() + timeout);
            (seat, room)
        };
        let (reservation, room) = seat;
        let rooms = Arc::downgrade(shared);
        room.actor().after(timeout, move |_: &mut C| {
            if let Some(rooms) = rooms.upgrade() {
                rooms.free_seat(reservation.token);
            }
        });
        Ok(reservation)
    }

    /// Joins `session` to the room of reservation `token`, taking its seat (a room locked
    /// since the seat was reserved still takes it). The seat is used up, whether the join
    /// succeeds or not.
    ///
    /// # Errors
    ///
    /// [`RoomError::NoReservation`] for a token unknown, expired, cancelled or used, or
    /// whose room was disposed; [`RoomError::AlreadyInRoom`], and the other errors of
    /// [`join`](Self::join).
    pub async fn join_reserved(
        &self,
        token: ReservationToken,
        session: &Session,
    ) -> Result<RoomRef<C>, RoomError> {
        let shared = self.shared();
        shared.running()?;
        let (room, admitted) = {
            let mut registry = write(&shared.registry);
            let seat = registry.seats.take(token).ok_or(RoomError::NoReservation)?;
            if seat.expires_at <= Instant::now() {
                (seat.room, Err(RoomError::NoReservation))
            } else {
                (seat.room, registry.admit(seat.room, session, true))
            }
        };
        match admitted {
            Ok(admitted) => self.joined(admitted, session).await,
            Err(error) => {
                shared.seat_freed(room);
                Err(error)
            }
        }
    }

    /// Frees reservation `token`'s seat now; `false` if it was not held (unknown, used,
    /// expired).
    pub fn cancel_reservation(&self, token: ReservationToken) -> bool {
        self.shared().free_seat(token)
    }
}

impl<C: Room> RoomsShared<C> {
    /// Frees `token`'s seat, if still held, and starts its room's empty timer if that left
    /// the room without members or seats.
    pub(super) fn free_seat(&self, token: ReservationToken) -> bool {
        let Some(seat) = write(&self.registry).seats.take(token) else {
            return false;
        };
        self.seat_freed(seat.room);
        true
    }

    /// A seat in room `id` was freed unused: an empty room starts its empty timer.
    pub(super) fn seat_freed(&self, id: RoomId) {
        let room = {
            let registry = write(&self.registry);
            registry.get(id).map(|entry| entry.room.clone())
        };
        if let Some(room) = room {
            self.after_leave(&room);
        }
    }
}
