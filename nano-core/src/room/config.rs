//! [`RoomConfig`]: the limits and policies of one room kind, each with its default, and
//! their validation.

use std::time::Duration;

use crate::config::DEFAULT_ACTOR_MAILBOX_CAPACITY;

/// Default largest number of members of one room: 16.
pub const DEFAULT_MAX_MEMBERS: usize = 16;
/// Default largest number of live rooms of one kind: 10,000.
pub const DEFAULT_MAX_ROOMS: usize = 10_000;
/// Default time an empty room lives before it is disposed: 15 s (as long as Colyseus keeps a
/// seat reserved, so a room created for players who have not joined yet survives their join).
pub const DEFAULT_DISPOSE_WHEN_EMPTY: Duration = Duration::from_secs(15);
/// Default time a reserved seat is held for its player to join: 15 s (Colyseus's
/// `seatReservationTime`).
pub const DEFAULT_SEAT_RESERVATION_TIMEOUT: Duration = Duration::from_secs(15);
/// Default number of inputs a room with a tick loop queues between two ticks: 128 (Nakama's
/// `input_queue_size`).
pub const DEFAULT_INPUT_QUEUE_CAPACITY: usize = 128;
/// The slowest tick loop: 1 tick a second.
pub const MIN_TICK_RATE: u32 = 1;
/// The fastest tick loop: 60 ticks a second.
pub const MAX_TICK_RATE: u32 = 60;

/// What a room does when one of its handlers, hooks, timers or ticks panics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PanicPolicy {
    /// Carry on with the state as the panic left it (half-done changes stay).
    KeepGoing,
    /// Re-create the state from the room's init data ([`Room::create`](crate::Room::create)),
    /// drop its timers and queued inputs, and run [`Room::joined`](crate::Room::joined) again
    /// for every member; the members stay.
    Reset,
    /// Dispose of the room and tell its members with a push on
    /// [`ROOM_CLOSED_ROUTE`](crate::ROOM_CLOSED_ROUTE) (reason `"panicked"`). The default:
    /// nothing runs on a state a panic may have left half changed, and the clients know.
    #[default]
    Dispose,
}

/// The limits and policies of one room kind. Every field has a default; give it to
/// [`Rooms::new`](crate::Rooms::new), which checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomConfig {
    /// Members a room takes; a join beyond that is refused with
    /// [`RoomError::Full`](crate::RoomError::Full). At least 1.
    /// Default: [`DEFAULT_MAX_MEMBERS`] (16).
    pub max_members: usize,
    /// Live rooms of this kind; a create beyond that is refused with
    /// [`RoomError::TooManyRooms`](crate::RoomError::TooManyRooms). At least 1.
    /// Default: [`DEFAULT_MAX_ROOMS`] (10,000).
    pub max_rooms: usize,
    /// Calls a room can have waiting; callers wait for room beyond that. At least 1.
    /// Default: [`DEFAULT_ACTOR_MAILBOX_CAPACITY`] (1,024).
    pub mailbox_capacity: usize,
    /// How long a room stays once it is empty (just created, or its last member left) before
    /// it is disposed; `None` keeps empty rooms until they are disposed explicitly.
    /// Default: `Some(`[`DEFAULT_DISPOSE_WHEN_EMPTY`]`)` (15 s).
    pub dispose_when_empty: Option<Duration>,
    /// Ticks a second of the room's tick loop ([`Room::tick`](crate::Room::tick)), from
    /// [`MIN_TICK_RATE`] to [`MAX_TICK_RATE`]; `None` runs no tick loop. Ticks keep a fixed
    /// rate: a tick (or handler) that overruns delays the next ones, which then run back to
    /// back until the loop has caught up. Default: `None`.
    pub tick_rate: Option<u32>,
    /// Inputs ([`RoomRef::input`](crate::RoomRef::input)) queued for the next tick; one more
    /// is refused with [`RoomError::InputQueueFull`](crate::RoomError::InputQueueFull).
    /// At least 1. Default: [`DEFAULT_INPUT_QUEUE_CAPACITY`] (128).
    pub input_queue_capacity: usize,
    /// What a panic does to a room. Default: [`PanicPolicy::Dispose`].
    pub on_panic: PanicPolicy,
    /// How long a reserved seat ([`Rooms::reserve`](crate::Rooms::reserve),
    /// [`Rooms::join_or_create`](crate::Rooms::join_or_create)) is held for its player; then
    /// it frees itself and its token is refused with
    /// [`RoomError::NoReservation`](crate::RoomError::NoReservation). More than zero.
    /// Default: [`DEFAULT_SEAT_RESERVATION_TIMEOUT`] (15 s).
    pub seat_reservation_timeout: Duration,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            max_members: DEFAULT_MAX_MEMBERS,
            max_rooms: DEFAULT_MAX_ROOMS,
            mailbox_capacity: DEFAULT_ACTOR_MAILBOX_CAPACITY,
            dispose_when_empty: Some(DEFAULT_DISPOSE_WHEN_EMPTY),
            tick_rate: None,
            input_queue_capacity: DEFAULT_INPUT_QUEUE_CAPACITY,
            on_panic: PanicPolicy::default(),
            seat_reservation_timeout: DEFAULT_SEAT_RESERVATION_TIMEOUT,
        }
    }
}

impl RoomConfig {
    /// See [`max_members`](Self::max_members).
    #[must_use]
    pub fn max_members(mut self, max: usize) -> Self {
        self.max_members = max;
        self
    }

    /// See [`max_rooms`](Self::max_rooms).
    #[must_use]
    pub fn max_rooms(mut self, max: usize) -> Self {
        self.max_rooms = max;
        self
    }

    /// See [`mailbox_capacity`](Self::mailbox_capacity).
    #[must_use]
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = capacity;
        self
    }

    /// See [`dispose_when_empty`](Self::dispose_when_empty).
    #[must_use]
    pub fn dispose_when_empty(mut self, delay: Option<Duration>) -> Self {
        self.dispose_when_empty = delay;
        self
    }

    /// See [`tick_rate`](Self::tick_rate).
    #[must_use]
    pub fn tick_rate(mut self, per_second: u32) -> Self {
        self.tick_rate = Some(per_second);
        self
    }

    /// See [`input_queue_capacity`](Self::input_queue_capacity).
    #[must_use]
    pub fn input_queue_capacity(mut self, capacity: usize) -> Self {
        self.input_queue_capacity = capacity;
        self
    }

    /// See [`on_panic`](Self::on_panic).
    #[must_use]
    pub fn on_panic(mut self, policy: PanicPolicy) -> Self {
        self.on_panic = policy;
        self
    }

    /// See [`seat_reservation_timeout`](Self::seat_reservation_timeout).
    #[must_use]
    pub fn seat_reservation_timeout(mut self, timeout: Duration) -> Self {
        self.seat_reservation_timeout = timeout;
        self
    }

    /// Checks every field's range.
    ///
    /// # Errors
    ///
    /// The first field out of range.
    pub fn validate(&self) -> Result<(), RoomConfigError> {
        if let Some(rate) = self.tick_rate
            && !(MIN_TICK_RATE..=MAX_TICK_RATE).contains(&rate)
        {
            return Err(RoomConfigError::TickRate(rate));
        }
        if self.seat_reservation_timeout.is_zero() {
            return Err(RoomConfigError::Zero("seat_reservation_timeout"));
        }
        let counts = [
            ("max_members", self.max_members),
            ("max_rooms", self.max_rooms),
            ("mailbox_capacity", self.mailbox_capacity),
            ("input_queue_capacity", self.input_queue_capacity),
        ];
        match counts.into_iter().find(|(_, value)| *value == 0) {
            Some((field, _)) => Err(RoomConfigError::Zero(field)),
            None => Ok(()),
        }
    }

    /// The time between two ticks, when there is a tick loop.
    pub(crate) fn tick_period(&self) -> Option<Duration> {
        self.tick_rate
            .map(|rate| Duration::from_secs(1) / rate.clamp(MIN_TICK_RATE, MAX_TICK_RATE))
    }
}

/// A [`RoomConfig`] field out of range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RoomConfigError {
    /// `tick_rate` is not between [`MIN_TICK_RATE`] and [`MAX_TICK_RATE`].
    #[error("tick_rate {0} is out of range: a tick loop runs 1 to 60 times a second")]
    TickRate(u32),
    /// A count that must be at least 1 is 0.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}
