//! The rules of tic-tac-toe, apart from the network: the board, whose turn it is, and how a
//! game ends. Every refused move is a [`GameError`] with its own code.

use schemars::JsonSchema;
use serde::Serialize;

/// Cells on the board, numbered 0 to 8 row by row from the top left.
pub(crate) const CELLS: usize = 9;

/// The rows, columns and diagonals that win.
const LINES: [[usize; 3]; 8] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6],
];

/// A player's mark: X joined first, O second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub(crate) enum Mark {
    /// The first player of a room.
    X,
    /// The second.
    O,
}

impl Mark {
    /// The opponent's mark.
    pub(crate) fn other(self) -> Mark {
        match self {
            Mark::X => Mark::O,
            Mark::O => Mark::X,
        }
    }

    /// 0 for X, 1 for O: the player's seat.
    pub(crate) fn seat(self) -> usize {
        match self {
            Mark::X => 0,
            Mark::O => 1,
        }
    }
}

/// How a game ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum Outcome {
    /// `mark` has three in a row: the cells of `line`.
    Win {
        /// The winner.
        mark: Mark,
        /// The winning row, column or diagonal.
        line: [usize; 3],
    },
    /// The board is full and nobody has three in a row.
    Draw,
    /// The other player left before the end: `mark` wins.
    Forfeit {
        /// The player who stayed.
        mark: Mark,
    },
}

/// Why a move (or a rematch) was refused. Each has a code of its own, sent as the error
/// response's `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GameError {
    /// The room has one player: wait for an opponent (or find a new one).
    NoOpponent,
    /// It is the other player's turn.
    NotYourTurn,
    /// The cell is not 0 to 8.
    OutOfRange,
    /// The cell already has a mark.
    Taken,
    /// The game has ended: ask for a rematch.
    GameOver,
    /// A rematch was asked while the game is still being played.
    StillPlaying,
    /// The session has no seat in the room.
    NotAPlayer,
}

impl GameError {
    /// The error response's code.
    pub(crate) fn code(self) -> i32 {
        match self {
            GameError::NoOpponent => 4001,
            GameError::NotYourTurn => 4002,
            GameError::OutOfRange => 4003,
            GameError::Taken => 4004,
            GameError::GameOver => 4005,
            GameError::StillPlaying => 4006,
            GameError::NotAPlayer => 4007,
        }
    }

    /// The error response's message, for people.
    pub(crate) fn message(self) -> &'static str {
        match self {
            GameError::NoOpponent => "no opponent yet",
            GameError::NotYourTurn => "not your turn",
            GameError::OutOfRange => "cell out of range (0 to 8)",
            GameError::Taken => "cell already taken",
            GameError::GameOver => "the game is over",
            GameError::StillPlaying => "the game is still being played",
            GameError::NotAPlayer => "not a player of this room",
        }
    }
}

/// One game: nine cells, the mark to play, the outcome once there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Board {
    cells: [Option<Mark>; CELLS],
    next: Mark,
    outcome: Option<Outcome>,
}

impl Board {
    /// An empty board on which `first` plays first.
    pub(crate) fn new(first: Mark) -> Self {
        Self {
            cells: [None; CELLS],
            next: first,
            outcome: None,
        }
    }

    /// The cells, row by row.
    pub(crate) fn cells(&self) -> [Option<Mark>; CELLS] {
        self.cells
    }

    /// The mark to play; `None` once the game is over.
    pub(crate) fn turn(&self) -> Option<Mark> {
        self.outcome.is_none().then_some(self.next)
    }

    /// How the game ended, once it has.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// `mark` plays `cell`; the game may end with it.
    ///
    /// # Errors
    ///
    /// Checked in this order: [`GameError::GameOver`], [`GameError::NotYourTurn`],
    /// [`GameError::OutOfRange`], [`GameError::Taken`]; the board is unchanged then.
    pub(crate) fn play(&mut self, mark: Mark, cell: usize) -> Result<(), GameError> {
        if self.outcome.is_some() {
            return Err(GameError::GameOver);
        }
        if mark != self.next {
            return Err(GameError::NotYourTurn);
        }
        let slot = self.cells.get_mut(cell).ok_or(GameError::OutOfRange)?;
        if slot.is_some() {
            return Err(GameError::Taken);
        }
        *slot = Some(mark);
        self.next = mark.other();
        self.outcome = self.judge();
        Ok(())
    }

    /// `winner`'s opponent left: `winner` wins, unless the game had already ended.
    pub(crate) fn forfeit(&mut self, winner: Mark) {
        if self.outcome.is_none() {
            self.outcome = Some(Outcome::Forfeit { mark: winner });
        }
    }

    /// A win, a draw, or nothing yet.
    fn judge(&self) -> Option<Outcome> {
        let won = LINES.iter().find_map(|line| {
            let [a, b, c] = line.map(|cell| self.cells[cell]);
            match a {
                Some(mark) if a == b && b == c => Some(Outcome::Win { mark, line: *line }),
                _ => None,
            }
        });
        let full = self.cells.iter().all(Option::is_some);
        won.or(full.then_some(Outcome::Draw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A board after `moves`, played alternately from X.
    fn played(moves: &[usize]) -> Board {
        let mut board = Board::new(Mark::X);
        let mut mark = Mark::X;
        for &cell in moves {
            board.play(mark, cell).unwrap();
            mark = mark.other();
        }
        board
    }

    #[test]
    fn every_line_wins() {
        // Written out again: a line missing from `LINES` must fail this test.
        let lines = [
            [0, 1, 2],
            [3, 4, 5],
            [6, 7, 8],
            [0, 3, 6],
            [1, 4, 7],
            [2, 5, 8],
            [0, 4, 8],
            [2, 4, 6],
        ];
        for line in lines {
            // X takes the line; O plays elsewhere, never completing a line of its own.
            let others: Vec<usize> = (0..CELLS).filter(|cell| !line.contains(cell)).collect();
            let mut board = Board::new(Mark::X);
            for (turn, &cell) in line.iter().enumerate() {
                board.play(Mark::X, cell).unwrap();
                if turn < 2 {
                    board.play(Mark::O, others[turn * 3]).unwrap();
                }
            }
            assert_eq!(
                board.outcome(),
                Some(Outcome::Win {
                    mark: Mark::X,
                    line
                }),
                "{line:?}"
            );
            assert_eq!(board.turn(), None);
        }
    }

    #[test]
    fn a_full_board_without_a_line_is_a_draw() {
        let board = played(&[0, 1, 2, 4, 3, 5, 7, 6, 8]);
        assert_eq!(board.outcome(), Some(Outcome::Draw));
        assert!(board.cells().iter().all(Option::is_some));
    }

    #[test]
    fn refused_moves_leave_the_board_as_it_was() {
        let mut board = played(&[4]);
        let before = board.clone();
        assert_eq!(board.play(Mark::X, 0), Err(GameError::NotYourTurn));
        assert_eq!(board.play(Mark::O, 9), Err(GameError::OutOfRange));
        assert_eq!(board.play(Mark::O, 4), Err(GameError::Taken));
        assert_eq!(board, before);
        let mut over = played(&[0, 3, 1, 4, 2]);
        assert_eq!(over.play(Mark::O, 8), Err(GameError::GameOver));
    }

    #[test]
    fn a_forfeit_ends_only_a_game_in_progress() {
        let mut board = played(&[4]);
        board.forfeit(Mark::O);
        assert_eq!(board.outcome(), Some(Outcome::Forfeit { mark: Mark::O }));
        let mut drawn = played(&[0, 1, 2, 4, 3, 5, 7, 6, 8]);
        drawn.forfeit(Mark::X);
        assert_eq!(drawn.outcome(), Some(Outcome::Draw));
    }
}
