//! The `match` room kind: one instance per game of two, on its own actor. It seats its
//! members as X and O, validates moves, pushes `onState` to both players after every change
//! and `onOpponentLeft` to the one who stays.

use nano_core::prelude::*;
use nano_core::{Room, RoomId, RoomRef};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::game::{Board, CELLS, GameError, Mark, Outcome};

/// Players in a match.
pub(crate) const SEATS: usize = 2;

/// `match.move`'s payload.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct MoveRequest {
    /// 0 to 8, row by row from the top left.
    pub(crate) cell: usize,
}

/// `match.move`'s answer: the move as played.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Played {
    /// The cell.
    pub(crate) cell: usize,
    /// The mover's mark.
    pub(crate) mark: Mark,
}

/// Where a match stands.
#[derive(Clone, Copy, Serialize, JsonSchema, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// One player: waiting for the second.
    Waiting,
    /// Two players, the game is on.
    Playing,
    /// The game has ended (see `outcome`).
    Over,
}

/// The `onState` push: the match as one player sees it.
#[derive(Serialize, JsonSchema)]
pub(crate) struct StateView {
    /// The room's id.
    pub(crate) room: RoomId,
    /// This player's mark.
    pub(crate) you: Mark,
    /// The cells, row by row: `"X"`, `"O"` or `null`.
    pub(crate) board: [Option<Mark>; CELLS],
    /// The mark to play; `null` while waiting or once the game is over.
    pub(crate) turn: Option<Mark>,
    /// The marks with a player in the room.
    pub(crate) players: Vec<Mark>,
    /// Waiting, playing or over.
    pub(crate) status: Status,
    /// How the game ended, once it has.
    pub(crate) outcome: Option<Outcome>,
    /// The players who asked for a rematch.
    pub(crate) rematch: Vec<Mark>,
    /// The game's number in this room, from 1.
    pub(crate) game: u32,
}

/// The `onOpponentLeft` push, to the player who stays.
#[derive(Serialize, JsonSchema)]
pub(crate) struct OpponentLeft {
    /// The leaver's mark.
    pub(crate) mark: Mark,
    /// Whether the leave ended the game (a forfeit: the one who stays wins).
    pub(crate) forfeit: bool,
}

/// One match: the board and its two seats.
pub(crate) struct Match {
    board: Board,
    /// Indexed by [`Mark::seat`].
    seats: [Option<Session>; SEATS],
    rematch: [bool; SEATS],
    /// Who played first in the current game (the other starts the next).
    first: Mark,
    game: u32,
}

#[component(name = "match", room, pushes(onState = StateView, onOpponentLeft = OpponentLeft))]
impl Match {
    /// Plays `cell` for the caller.
    #[handler(name = "move")]
    fn play(
        &mut self,
        session: &Session,
        request: MoveRequest,
        ctx: &Context<Self>,
    ) -> Result<Played, HandlerError> {
        let mark = self.mark_of(session).ok_or(GameError::NotAPlayer)?;
        if !self.full() && self.board.outcome().is_none() {
            return Err(GameError::NoOpponent.into());
        }
        self.board.play(mark, request.cell)?;
        self.push_state(ctx.room());
        Ok(Played {
            cell: request.cell,
            mark,
        })
    }

    /// Asks for another game once this one is over; it starts when both players asked, with
    /// the other player first. Answers the players who asked so far.
    #[handler]
    fn rematch(
        &mut self,
        session: &Session,
        ctx: &Context<Self>,
    ) -> Result<Vec<Mark>, HandlerError> {
        let mark = self.mark_of(session).ok_or(GameError::NotAPlayer)?;
        if self.board.outcome().is_none() {
            return Err(GameError::StillPlaying.into());
        }
        if !self.full() {
            return Err(GameError::NoOpponent.into());
        }
        self.rematch[mark.seat()] = true;
        let asked = self.rematch_marks();
        if self.rematch.iter().all(|asked| *asked) {
            self.first = self.first.other();
            self.board = Board::new(self.first);
            self.rematch = [false; SEATS];
            self.game += 1;
        }
        self.push_state(ctx.room());
        Ok(asked)
    }
}

impl From<GameError> for HandlerError {
    fn from(error: GameError) -> Self {
        HandlerError::new(error.code(), error.message())
    }
}

impl Room for Match {
    type Init = ();
    type Input = ();

    fn create((): &(), _room: &RoomRef<Self>) -> Self {
        Match {
            board: Board::new(Mark::X),
            seats: [None, None],
            rematch: [false; SEATS],
            first: Mark::X,
            game: 1,
        }
    }

    /// Seats the newcomer on the first free seat; once both are taken, the room is locked
    /// and the game starts.
    fn joined(&mut self, session: &Session, room: &RoomRef<Self>) {
        if let Some(seat) = self.seats.iter_mut().find(|seat| seat.is_none()) {
            *seat = Some(session.clone());
        }
        if self.full() {
            room.lock();
        }
        self.push_state(Some(room));
    }

    /// Frees the leaver's seat. A game in progress is won by the player who stays, who is
    /// told; a room that was ever full stays locked (its game is over) and is disposed
    /// once its last player leaves. A room that was waiting (never full, so nothing was
    /// played) stays open for the next player, until the kind's empty timer disposes of it.
    fn left(&mut self, session: &Session, room: &RoomRef<Self>) {
        let Some(mark) = self.mark_of(session) else {
            return;
        };
        self.seats[mark.seat()] = None;
        self.rematch = [false; SEATS];
        let stays = mark.other();
        if let Some(player) = &self.seats[stays.seat()] {
            let forfeit = self.board.outcome().is_none();
            self.board.forfeit(stays);
            let _ = player.push("onOpponentLeft", &OpponentLeft { mark, forfeit });
            self.push_state(Some(room));
        } else if room.is_locked() {
            room.dispose();
        }
    }
}

impl Match {
    fn mark_of(&self, session: &Session) -> Option<Mark> {
        [Mark::X, Mark::O].into_iter().find(|mark| {
            self.seats[mark.seat()]
                .as_ref()
                .is_some_and(|seated| seated.id() == session.id())
        })
    }

    fn full(&self) -> bool {
        self.seats.iter().all(Option::is_some)
    }

    fn rematch_marks(&self) -> Vec<Mark> {
        [Mark::X, Mark::O]
            .into_iter()
            .filter(|mark| self.rematch[mark.seat()])
            .collect()
    }

    fn status(&self) -> Status {
        match (self.board.outcome(), self.full()) {
            (Some(_), _) => Status::Over,
            (None, true) => Status::Playing,
            (None, false) => Status::Waiting,
        }
    }

    /// Pushes `onState` to each seated player, with their own mark.
    fn push_state(&self, room: Option<&RoomRef<Self>>) {
        let Some(room) = room else { return };
        let players: Vec<Mark> = [Mark::X, Mark::O]
            .into_iter()
            .filter(|mark| self.seats[mark.seat()].is_some())
            .collect();
        let status = self.status();
        for (mark, player) in [Mark::X, Mark::O].into_iter().zip(&self.seats) {
            let Some(player) = player else { continue };
            let view = StateView {
                room: room.id(),
                you: mark,
                board: self.board.cells(),
                turn: (status == Status::Playing)
                    .then(|| self.board.turn())
                    .flatten(),
                players: players.clone(),
                status,
                outcome: self.board.outcome(),
                rematch: self.rematch_marks(),
                game: self.game,
            };
            let _ = player.push("onState", &view);
        }
    }
}
