//! [`KindServer`]: a room kind this node serves, as the cluster side sees it (no type
//! parameter): its load, reservations, joins and leaves, made from a [`Rooms`] and the
//! function that gives a new room its init data.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use nano_core::{Reservation, ReservationToken, Room, RoomError, RoomId, Rooms, Session};

use super::config::PlacementConfig;
use super::wire::Load;

/// What makes the init data of a room that a placement creates, from its filter.
pub(super) type InitFn<C> = Arc<dyn Fn(&str) -> <C as Room>::Init + Send + Sync>;

/// A room kind served here.
pub(super) trait KindServer: Send + Sync {
    /// How to place its rooms when this node is the placement node.
    fn config(&self) -> &PlacementConfig;
    /// Rooms, members and reserved seats, and whether a room made with `filter` has a seat.
    fn load(&self, filter: &str) -> Load;
    /// A seat in a room made with `filter`, in a new one if none has a seat.
    fn reserve(&self, filter: &str) -> Result<Reservation, RoomError>;
    /// Takes reservation `token`'s seat for `session` (a stand-in for another node's client).
    fn join(
        &self,
        session: Session,
        token: ReservationToken,
    ) -> BoxFuture<'static, Result<RoomId, RoomError>>;
    /// Takes `session` out of its room.
    fn leave(&self, session: Session) -> BoxFuture<'static, Result<RoomId, RoomError>>;
}

/// A [`Rooms`] served to the cluster.
pub(super) struct Served<C: Room> {
    pub(super) rooms: Rooms<C>,
    pub(super) init: InitFn<C>,
    pub(super) config: PlacementConfig,
}

impl<C: Room> KindServer for Served<C> {
    fn config(&self) -> &PlacementConfig {
        &self.config
    }

    fn load(&self, filter: &str) -> Load {
        let rooms = self.rooms.list();
        let free = rooms.iter().any(|room| {
            room.filter.as_deref() == Some(filter)
                && !room.locked
                && room.members + room.reserved < room.max_members
        });
        Load {
            rooms: rooms.len(),
            sessions: rooms.iter().map(|room| room.members + room.reserved).sum(),
            free,
        }
    }

    fn reserve(&self, filter: &str) -> Result<Reservation, RoomError> {
        let init = self.init.clone();
        self.rooms.reserve_or_create(filter, || init(filter))
    }

    fn join(
        &self,
        session: Session,
        token: ReservationToken,
    ) -> BoxFuture<'static, Result<RoomId, RoomError>> {
        let rooms = self.rooms.clone();
        Box::pin(async move {
            rooms
                .join_reserved(token, &session)
                .await
                .map(|room| room.id())
        })
    }

    fn leave(&self, session: Session) -> BoxFuture<'static, Result<RoomId, RoomError>> {
        let rooms = self.rooms.clone();
        Box::pin(async move { rooms.leave(&session).await })
    }
}
