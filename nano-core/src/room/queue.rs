//! [`Matchmaker`]: an optional building block on top of [`Rooms`] — a queue that groups
//! players of close ratings, widening the tolerance while they wait, and puts each group in a
//! new room.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::oneshot;

use super::{Room, RoomError, RoomId, RoomRef, Rooms};
use crate::sync::lock;
use crate::{HandlerError, Session};

/// Default players per group: 2.
pub const DEFAULT_GROUP_SIZE: usize = 2;
/// Default rating difference a group may span when its players start waiting: 100.
pub const DEFAULT_INITIAL_RANGE: u64 = 100;
/// Default widening of a waiting player's tolerance each [`QueueConfig::every`]: 50.
pub const DEFAULT_WIDEN_BY: u64 = 50;
/// Default time between two widenings (and matching passes): 5 s.
pub const DEFAULT_WIDEN_EVERY: Duration = Duration::from_secs(5);
/// Default widest tolerance: 1,000.
pub const DEFAULT_MAX_RANGE: u64 = 1_000;
/// Default largest number of players waiting: 10,000.
pub const DEFAULT_MAX_QUEUED: usize = 10_000;

/// The limits of a [`Matchmaker`]; every field has a default.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueConfig {
    /// Players per group (and so per room). At least 1. Default: [`DEFAULT_GROUP_SIZE`] (2).
    pub group_size: usize,
    /// Rating difference (highest minus lowest) a group may span when its players just
    /// started waiting. Default: [`DEFAULT_INITIAL_RANGE`] (100).
    pub initial_range: u64,
    /// What a waiting player's tolerance grows by each [`every`](Self::every); a group forms
    /// when its spread is within every member's tolerance. Default: [`DEFAULT_WIDEN_BY`] (50).
    pub widen_by: u64,
    /// Time between two widenings and matching passes (a pass also runs at each enqueue).
    /// More than zero. Default: [`DEFAULT_WIDEN_EVERY`] (5 s).
    pub every: Duration,
    /// The widest a tolerance grows. Default: [`DEFAULT_MAX_RANGE`] (1,000).
    pub max_range: u64,
    /// Players waiting at once; one more is refused with [`QueueError::Full`]. At least 1.
    /// Default: [`DEFAULT_MAX_QUEUED`] (10,000).
    pub max_queued: usize,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            group_size: DEFAULT_GROUP_SIZE,
            initial_range: DEFAULT_INITIAL_RANGE,
            widen_by: DEFAULT_WIDEN_BY,
            every: DEFAULT_WIDEN_EVERY,
            max_range: DEFAULT_MAX_RANGE,
            max_queued: DEFAULT_MAX_QUEUED,
        }
    }
}

impl QueueConfig {
    /// See [`group_size`](Self::group_size).
    #[must_use]
    pub fn group_size(mut self, size: usize) -> Self {
        self.group_size = size;
        self
    }

    /// Sets [`initial_range`](Self::initial_range), [`widen_by`](Self::widen_by) and
    /// [`every`](Self::every).
    #[must_use]
    pub fn widening(mut self, initial_range: u64, widen_by: u64, every: Duration) -> Self {
        (self.initial_range, self.widen_by, self.every) = (initial_range, widen_by, every);
        self
    }

    /// See [`max_range`](Self::max_range).
    #[must_use]
    pub fn max_range(mut self, max: u64) -> Self {
        self.max_range = max;
        self
    }

    /// See [`max_queued`](Self::max_queued).
    #[must_use]
    pub fn max_queued(mut self, max: usize) -> Self {
        self.max_queued = max;
        self
    }

    /// The first field out of range, by name.
    fn invalid(&self) -> Option<&'static str> {
        [
            ("group_size", self.group_size == 0),
            ("every", self.every.is_zero()),
            ("max_queued", self.max_queued == 0),
        ]
        .into_iter()
        .find_map(|(field, bad)| bad.then_some(field))
    }
}

/// Why a player left the queue without a room. Converts into a [`HandlerError`]:
///
/// | variant | code |
/// |---|---|
/// | [`AlreadyQueued`](Self::AlreadyQueued) | 412 |
/// | [`Full`](Self::Full) | 503 |
/// | [`Cancelled`](Self::Cancelled) | 410 |
/// | [`Room`](Self::Room) | the [`RoomError`]'s |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueError {
    /// The session is waiting already.
    AlreadyQueued,
    /// [`QueueConfig::max_queued`] players wait.
    Full,
    /// Taken out of the queue ([`Matchmaker::cancel`]) or its session closed.
    Cancelled,
    /// Creating the group's room, or joining it, failed.
    Room(RoomError),
}

impl QueueError {
    /// The code a client gets.
    pub fn code(&self) -> i32 {
        match self {
            Self::AlreadyQueued => RoomError::ALREADY_IN_ROOM,
            Self::Full => RoomError::UNAVAILABLE,
            Self::Cancelled => RoomError::GONE,
            Self::Room(error) => error.code(),
        }
    }
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyQueued => f.write_str("already waiting for a match"),
            Self::Full => f.write_str("too many players waiting"),
            Self::Cancelled => f.write_str("no longer waiting for a match"),
            Self::Room(error) => error.fmt(f),
        }
    }
}

impl From<QueueError> for HandlerError {
    fn from(error: QueueError) -> Self {
        HandlerError::new(error.code(), error.to_string())
    }
}

/// A [`QueueConfig`] field out of range (its name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("queue config: {0} must be more than zero")]
pub struct QueueConfigError(pub &'static str);

/// The push route on which [`Matchmaker::enqueue_and_push`] tells a player its match; its
/// body is a [`Matched`].
pub const MATCHED_ROUTE: &str = "onMatched";

/// The body of a push on [`MATCHED_ROUTE`], e.g. `{"kind":"match","room":3,"error":null}`
/// or `{"kind":"match","room":null,"error":410}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Matched {
    /// The room kind's component name.
    pub kind: String,
    /// The room the player joined, if it did.
    pub room: Option<RoomId>,
    /// Otherwise the code of why not ([`QueueError::code`]).
    pub error: Option<i32>,
}

type Answer<C> = oneshot::Receiver<Result<RoomRef<C>, QueueError>>;

type MakeInit<C> = dyn Fn(&[Session]) -> <C as Room>::Init + Send + Sync;

/// One player waiting.
struct Waiting<C: Room> {
    session: Session,
    rating: i64,
    /// Widenings since it started waiting.
    widened: u64,
    reply: oneshot::Sender<Result<RoomRef<C>, QueueError>>,
}

struct Shared<C: Room> {
    rooms: Rooms<C>,
    config: QueueConfig,
    init: Box<MakeInit<C>>,
    waiting: Mutex<Vec<Waiting<C>>>,
    /// Sessions whose close already takes them out of the queue.
    hooked: Mutex<HashSet<u64>>,
    ticking: AtomicBool,
}

/// A simple queue matchmaker, an optional building block over a [`Rooms`]: players wait with
/// a rating; [`group_size`](QueueConfig::group_size) of them whose ratings span no more than
/// each one's tolerance (which starts at [`initial_range`](QueueConfig::initial_range) and
/// widens by [`widen_by`](QueueConfig::widen_by) every [`every`](QueueConfig::every)) form a
/// group, a room is created for it (its init data from the group's sessions) and they join
/// it. Each player learns its room from [`enqueue`](Self::enqueue)'s future, or from a push
/// on [`MATCHED_ROUTE`] ([`enqueue_and_push`](Self::enqueue_and_push)). Cheap to clone.
///
/// Games with other criteria (regions, modes) run one matchmaker per criterion, or build
/// their own on [`Rooms::create`] and [`Rooms::join`]. A member whose join fails (its session
/// closed meanwhile) is told so; the others keep the room.
pub struct Matchmaker<C: Room> {
    shared: Arc<Shared<C>>,
}

impl<C: Room> Clone for Matchmaker<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: Room> fmt::Debug for Matchmaker<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matchmaker")
            .field("kind", &C::META.name)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<C: Room> Matchmaker<C> {
    /// A matchmaker putting groups in rooms of `rooms`, each created from `init(sessions)`.
    ///
    /// # Errors
    ///
    /// A [`QueueConfigError`] for a zero `group_size`, `every` or `max_queued`.
    pub fn new(
        rooms: Rooms<C>,
        config: QueueConfig,
        init: impl Fn(&[Session]) -> C::Init + Send + Sync + 'static,
    ) -> Result<Self, QueueConfigError> {
        if let Some(field) = config.invalid() {
            return Err(QueueConfigError(field));
        }
        Ok(Self {
            shared: Arc::new(Shared {
                rooms,
                config,
                init: Box::new(init),
                waiting: Mutex::new(Vec::new()),
                hooked: Mutex::new(HashSet::new()),
                ticking: AtomicBool::new(false),
            }),
        })
    }

    /// Waits in the queue with `rating` until a group forms, then joins its room; answers
    /// the room. Dropping the future leaves the queue (at the next pass), as does
    /// [`cancel`](Self::cancel) or the session's close. Call it from a tokio runtime. A
    /// connection runs one handler at a time, so a handler awaiting this holds its session's
    /// later requests (a cancel among them) until the match: from a handler, use
    /// [`enqueue_and_push`](Self::enqueue_and_push).
    ///
    /// # Errors
    ///
    /// [`QueueError::AlreadyQueued`], [`QueueError::Full`], [`QueueError::Cancelled`], or
    /// [`QueueError::Room`] for a session already in a room of the kind, or when the room
    /// could not be created or joined.
    pub async fn enqueue(&self, session: &Session, rating: i64) -> Result<RoomRef<C>, QueueError> {
        let answer = self.queue_up(session, rating)?;
        answer.await.unwrap_or(Err(QueueError::Cancelled))
    }

    /// Puts `session` in the queue with `rating` and returns at once; the outcome is pushed to
    /// the session on [`MATCHED_ROUTE`] (a [`Matched`]): its room once joined, or the code of
    /// why not ([`QueueError::code`]: cancelled, the room could not be created or joined).
    ///
    /// # Errors
    ///
    /// [`QueueError::AlreadyQueued`], [`QueueError::Full`], [`QueueError::Room`] with
    /// [`RoomError::AlreadyInRoom`] for a session in a room of the kind.
    pub fn enqueue_and_push(&self, session: &Session, rating: i64) -> Result<(), QueueError> {
        let answer = self.queue_up(session, rating)?;
        let session = session.clone();
        tokio::spawn(async move {
            let outcome = answer.await.unwrap_or(Err(QueueError::Cancelled));
            let matched = Matched {
                kind: C::META.name.to_owned(),
                room: outcome.as_ref().ok().map(RoomRef::id),
                error: outcome.err().map(|error| error.code()),
            };
            let _ = session.push(MATCHED_ROUTE, &matched);
        });
        Ok(())
    }

    /// Adds `session` to the queue and runs a pass; the receiver gets its outcome.
    fn queue_up(&self, session: &Session, rating: i64) -> Result<Answer<C>, QueueError> {
        if let Some(room) = self.shared.rooms.room_of(session) {
            return Err(QueueError::Room(RoomError::AlreadyInRoom(room.id())));
        }
        let (reply, answer) = oneshot::channel();
        {
            let mut waiting = lock(&self.shared.waiting);
            if waiting
                .iter()
                .any(|queued| queued.session.id() == session.id())
            {
                return Err(QueueError::AlreadyQueued);
            }
            if waiting.len() >= self.shared.config.max_queued {
                return Err(QueueError::Full);
            }
            let session = session.clone();
            waiting.push(Waiting {
                session,
                rating,
                widened: 0,
                reply,
            });
        }
        self.hook_close(session);
        self.start_ticking();
        self.shared.pass();
        Ok(answer)
    }

    /// Takes `session` out of the queue (its [`enqueue`](Self::enqueue) answers
    /// [`QueueError::Cancelled`]); `false` if it was not waiting.
    pub fn cancel(&self, session: &Session) -> bool {
        self.shared.remove(session.id())
    }

    /// Players waiting now.
    pub fn len(&self) -> usize {
        let mut waiting = lock(&self.shared.waiting);
        waiting.retain(|queued| !queued.reply.is_closed());
        waiting.len()
    }

    /// Whether nobody waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn hook_close(&self, session: &Session) {
        if !lock(&self.shared.hooked).insert(session.id()) {
            return;
        }
        let queue: Weak<Shared<C>> = Arc::downgrade(&self.shared);
        session.on_close(move |session| {
            if let Some(queue) = queue.upgrade() {
                lock(&queue.hooked).remove(&session.id());
                queue.remove(session.id());
            }
        });
    }

    /// Starts the widening timer once; it stops when the last clone is dropped.
    fn start_ticking(&self) {
        if self.shared.ticking.swap(true, Ordering::AcqRel) {
            return;
        }
        let queue = Arc::downgrade(&self.shared);
        let every = self.shared.config.every;
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut ticks = tokio::time::interval_at(start, every);
            loop {
                ticks.tick().await;
                let Some(queue) = queue.upgrade() else { return };
                for queued in lock(&queue.waiting).iter_mut() {
                    queued.widened = queued.widened.saturating_add(1);
                }
                queue.pass();
            }
        });
    }
}

impl<C: Room> Shared<C> {
    /// Takes session `id` out of the queue, telling it.
    fn remove(&self, id: u64) -> bool {
        let mut waiting = lock(&self.waiting);
        let Some(at) = waiting.iter().position(|queued| queued.session.id() == id) else {
            return false;
        };
        let queued = waiting.remove(at);
        let _ = queued.reply.send(Err(QueueError::Cancelled));
        true
    }

    /// A player's tolerance now.
    fn tolerance(&self, queued: &Waiting<C>) -> u64 {
        let config = &self.config;
        let widened = config.widen_by.saturating_mul(queued.widened);
        config
            .initial_range
            .saturating_add(widened)
            .min(config.max_range)
    }

    /// Forms every group it can, lowest ratings first, and starts each in a room.
    fn pass(self: &Arc<Self>) {
        for group in self.form_groups() {
            let queue = Arc::clone(self);
            tokio::spawn(async move { queue.start_group(group).await });
        }
    }

    /// Takes the groups out of the queue: `group_size` neighbours by rating whose spread is
    /// within each one's tolerance.
    fn form_groups(&self) -> Vec<Vec<Waiting<C>>> {
        let size = self.config.group_size;
        let mut waiting = lock(&self.waiting);
        waiting.retain(|queued| !queued.reply.is_closed());
        waiting.sort_by_key(|queued| queued.rating);
        let mut pending: VecDeque<Waiting<C>> = waiting.drain(..).collect();
        let (mut groups, mut rest) = (Vec::new(), Vec::new());
        while pending.len() >= size {
            let window = || pending.iter().take(size);
            let low = window().map(|queued| queued.rating).min().unwrap_or(0);
            let high = window().map(|queued| queued.rating).max().unwrap_or(0);
            let fits = window().all(|queued| high.abs_diff(low) <= self.tolerance(queued));
            if fits {
                groups.push(pending.drain(..size).collect());
            } else if let Some(first) = pending.pop_front() {
                rest.push(first);
            }
        }
        rest.extend(pending);
        *waiting = rest;
        groups
    }

    /// Creates the group's room and joins its players, telling each.
    async fn start_group(&self, group: Vec<Waiting<C>>) {
        let sessions: Vec<Session> = group.iter().map(|queued| queued.session.clone()).collect();
        let room = match self.rooms.create((self.init)(&sessions)) {
            Ok(room) => room,
            Err(error) => {
                for queued in group {
                    let _ = queued.reply.send(Err(QueueError::Room(error)));
                }
                return;
            }
        };
        for queued in group {
            let joined = self.rooms.join(room.id(), &queued.session).await;
            let _ = queued.reply.send(joined.map_err(QueueError::Room));
        }
    }
}
