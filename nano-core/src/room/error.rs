//! [`RoomError`]: why a room operation was refused, with the code a client gets; and the
//! [`RoomClosed`] push that tells members their room is gone.

use std::fmt;

use serde::Serialize;

use super::RoomId;
use crate::HandlerError;

/// The push route that tells a room's members it was disposed (explicitly, or after a panic
/// under [`PanicPolicy::Dispose`](crate::PanicPolicy::Dispose)). Its body is a
/// [`RoomClosed`]. Every `#[component(room)]` declares it, so it is in the route dictionary
/// and the manifest.
pub const ROOM_CLOSED_ROUTE: &str = "onRoomClosed";

/// The body of a push on [`ROOM_CLOSED_ROUTE`], e.g.
/// `{"kind":"match","room":3,"reason":"panicked"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomClosed {
    /// The room kind's component name.
    pub kind: String,
    /// The room's id.
    pub room: u64,
    /// Why it closed.
    pub reason: CloseReason,
}

/// Why a room closed, as told to its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CloseReason {
    /// [`RoomRef::dispose`](crate::RoomRef::dispose) or [`Rooms::dispose`](crate::Rooms::dispose).
    Disposed,
    /// A handler, hook, timer or tick panicked and the kind's policy disposes.
    Panicked,
    /// The room stayed empty (nobody is told: it has no members).
    Empty,
}

/// Why a room operation was refused. Converts into a [`HandlerError`] with the code below, so
/// `?` in a handler answers the client with it.
///
/// | variant | code |
/// |---|---|
/// | [`NotFound`](Self::NotFound), [`UnknownKind`](Self::UnknownKind) | 404 |
/// | [`NotInRoom`](Self::NotInRoom) | 409 |
/// | [`Gone`](Self::Gone) | 410 |
/// | [`AlreadyInRoom`](Self::AlreadyInRoom) | 412 |
/// | [`Full`](Self::Full) | 403 |
/// | [`Locked`](Self::Locked) | 423 |
/// | [`NoReservation`](Self::NoReservation) | 408 |
/// | [`InputQueueFull`](Self::InputQueueFull) | 429 |
/// | [`NoTickLoop`](Self::NoTickLoop), [`Panicked`](Self::Panicked) | 500 |
/// | [`NotRunning`](Self::NotRunning), [`TooManyRooms`](Self::TooManyRooms) | 503 |
///
/// It deliberately does not implement `std::error::Error`: that would make `?` turn it into a
/// 500 "internal error" (see [`HandlerError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoomError {
    /// No room of this kind has this id, nor ever had.
    NotFound(RoomId),
    /// No room kind of this type or name is registered.
    UnknownKind,
    /// The session called a room route without being in a room of that kind.
    NotInRoom,
    /// The room was disposed.
    Gone(RoomId),
    /// The session is already in a room of this kind (leave it first).
    AlreadyInRoom(RoomId),
    /// The room has [`max_members`](crate::RoomConfig::max_members) members.
    Full(RoomId),
    /// The room is locked ([`RoomRef::lock`](crate::RoomRef::lock)).
    Locked(RoomId),
    /// The reservation token is unknown, expired, cancelled or already used (all alike, so
    /// that a guess learns nothing), or its room was disposed.
    NoReservation,
    /// The room's input queue holds [`input_queue_capacity`](crate::RoomConfig::input_queue_capacity) inputs.
    InputQueueFull(RoomId),
    /// [`RoomRef::input`](crate::RoomRef::input) on a kind without a tick loop.
    NoTickLoop,
    /// [`Room::create`](crate::Room::create) or [`Room::joined`](crate::Room::joined) panicked.
    Panicked,
    /// The app serving this kind is not built yet, or has shut down.
    NotRunning,
    /// The kind has [`max_rooms`](crate::RoomConfig::max_rooms) live rooms.
    TooManyRooms,
}

impl RoomError {
    /// The room is not here (unknown id or kind).
    pub const NOT_FOUND: i32 = 404;
    /// A room route called while in no room of its kind.
    pub const NOT_IN_ROOM: i32 = 409;
    /// The room was disposed.
    pub const GONE: i32 = 410;
    /// Already in a room of this kind.
    pub const ALREADY_IN_ROOM: i32 = 412;
    /// The room is full.
    pub const FULL: i32 = 403;
    /// The room is locked.
    pub const LOCKED: i32 = 423;
    /// The seat reservation is unknown or expired.
    pub const NO_RESERVATION: i32 = 408;
    /// The room's input queue is full.
    pub const INPUT_QUEUE_FULL: i32 = 429;
    /// No rooms can be created now.
    pub const UNAVAILABLE: i32 = 503;

    /// The code a client gets.
    pub fn code(&self) -> i32 {
        match self {
            Self::NotFound(_) | Self::UnknownKind => Self::NOT_FOUND,
            Self::NotInRoom => Self::NOT_IN_ROOM,
            Self::Gone(_) => Self::GONE,
            Self::AlreadyInRoom(_) => Self::ALREADY_IN_ROOM,
            Self::Full(_) => Self::FULL,
            Self::Locked(_) => Self::LOCKED,
            Self::NoReservation => Self::NO_RESERVATION,
            Self::InputQueueFull(_) => Self::INPUT_QUEUE_FULL,
            Self::NoTickLoop | Self::Panicked => HandlerError::INTERNAL,
            Self::NotRunning | Self::TooManyRooms => Self::UNAVAILABLE,
        }
    }
}

impl fmt::Display for RoomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(id) => write!(f, "room {id} not found"),
            Self::UnknownKind => f.write_str("unknown room kind"),
            Self::NotInRoom => f.write_str("not in a room: join one first"),
            Self::Gone(id) => write!(f, "room {id} was disposed"),
            Self::AlreadyInRoom(id) => write!(f, "already in room {id}"),
            Self::Full(id) => write!(f, "room {id} is full"),
            Self::Locked(id) => write!(f, "room {id} is locked"),
            Self::NoReservation => f.write_str("no such seat reservation (unknown or expired)"),
            Self::InputQueueFull(id) => write!(f, "room {id} has too many inputs queued"),
            Self::NoTickLoop => f.write_str("this room kind has no tick loop"),
            Self::Panicked => f.write_str("the room panicked"),
            Self::NotRunning => f.write_str("rooms are not running"),
            Self::TooManyRooms => f.write_str("too many rooms"),
        }
    }
}

impl From<RoomError> for HandlerError {
    fn from(error: RoomError) -> Self {
        HandlerError::new(error.code(), error.to_string())
    }
}
