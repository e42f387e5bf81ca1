//! The `lobby` component: pairs players into matches and takes them out again. Joins and
//! leaves go through the kind's handle ([`Rooms`]), not through the room's own routes: a
//! session that is in no room has no room to call, and a room's handler must not await a
//! join or leave of its own room (they wait on its mailbox).

use nano_core::prelude::*;
use nano_core::{RoomId, RoomInfo, Rooms};

use crate::room::Match;

/// The matchmaking filter of every match: one board size, one mode, so any two players pair.
pub(crate) const FILTER: &str = "classic";

/// Pairs players: the first waits in a new match, the second joins it.
pub(crate) struct Lobby {
    /// The matches.
    pub(crate) matches: Rooms<Match>,
}

#[component(name = "lobby")]
impl Lobby {
    /// Joins a match waiting for a player, or opens one and waits there; answers its id.
    /// Refused with 412 when the session already plays in one.
    #[handler]
    async fn play(&self, session: &Session) -> Result<RoomId, HandlerError> {
        let room = self.matches.join_or_create(FILTER, session, || ()).await?;
        Ok(room.id())
    }

    /// Leaves the session's match (its opponent, if any, wins by forfeit); answers its id.
    /// Refused with 409 when the session is in none.
    #[handler]
    async fn leave(&self, session: &Session) -> Result<RoomId, HandlerError> {
        Ok(self.matches.leave(session).await?)
    }

    /// The live matches: id, members, whether locked.
    #[handler]
    fn rooms(&self, _session: &Session) -> Vec<RoomInfo> {
        self.matches.list()
    }
}
