//! [`RoomRef`]: one room instance — its id, members, lock, input queue and actor.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio_util::sync::CancellationToken;

use super::config::RoomConfig;
use super::rooms::RoomsShared;
use super::{CloseReason, Room, RoomError, RoomId, RoomInput};
use crate::actor::ActorHandle;
use crate::{Group, Session};

/// A handle to one room instance. Cheap to clone; clones are the same room.
///
/// Handlers get it with `ctx.room()`, hooks and ticks as a parameter, and other code from
/// [`Rooms::get`](crate::Rooms::get) or [`Rooms::join`](crate::Rooms::join).
pub struct RoomRef<C: Room> {
    inner: Arc<Instance<C>>,
}

struct Instance<C: Room> {
    id: RoomId,
    init: C::Init,
    /// The matchmaking filter it was created with, if any.
    filter: Option<Arc<str>>,
    members: Group,
    locked: AtomicBool,
    max_members: AtomicUsize,
    /// `None` when the kind has no tick loop.
    inputs: Option<Mutex<VecDeque<RoomInput<C::Input>>>>,
    input_capacity: usize,
    actor: ActorHandle<C>,
    stop: CancellationToken,
    rooms: Weak<RoomsShared<C>>,
    /// Counts the times the room became empty, so that only the latest empty timer disposes.
    emptied: AtomicU64,
}

impl<C: Room> Clone for RoomRef<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C: Room> fmt::Debug for RoomRef<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomRef")
            .field("kind", &C::META.name)
            .field("id", &self.inner.id)
            .field("members", &self.inner.members.count())
            .finish_non_exhaustive()
    }
}

impl<C: Room> RoomRef<C> {
    pub(crate) fn new(
        id: RoomId,
        (init, filter): (C::Init, Option<Arc<str>>),
        actor: ActorHandle<C>,
        stop: CancellationToken,
        rooms: Weak<RoomsShared<C>>,
        config: &RoomConfig,
    ) -> Self {
        let ticking = config.tick_rate.is_some();
        Self {
            inner: Arc::new(Instance {
                id,
                init,
                filter,
                members: Group::new(format!("{}.{id}", C::META.name)),
                locked: AtomicBool::new(false),
                max_members: AtomicUsize::new(config.max_members),
                inputs: ticking.then(|| Mutex::new(VecDeque::new())),
                input_capacity: config.input_queue_capacity,
                actor,
                stop,
                rooms,
                emptied: AtomicU64::new(0),
            }),
        }
    }

    /// The room's id, unique within its kind.
    pub fn id(&self) -> RoomId {
        self.inner.id
    }

    /// The data the room was created from.
    pub fn init(&self) -> &C::Init {
        &self.inner.init
    }

    /// The matchmaking filter the room was created with
    /// ([`Rooms::join_or_create`](crate::Rooms::join_or_create),
    /// [`Rooms::create_with_filter`](crate::Rooms::create_with_filter)); `None` for
    /// [`Rooms::create`](crate::Rooms::create).
    pub fn filter(&self) -> Option<&str> {
        self.inner.filter.as_deref()
    }

    /// The room's members: broadcast to them, list them. Join and leave through
    /// [`Rooms::join`](crate::Rooms::join) and [`Rooms::leave`](crate::Rooms::leave), not
    /// through this group.
    pub fn members(&self) -> &Group {
        &self.inner.members
    }

    /// The most members the room takes: [`RoomConfig::max_members`] unless
    /// [`set_max_members`](Self::set_max_members) changed it.
    pub fn max_members(&self) -> usize {
        self.inner.max_members.load(Ordering::Acquire)
    }

    /// Changes this room's member limit (at least 1); members beyond it stay, joins are
    /// refused until they are fewer.
    pub fn set_max_members(&self, max: usize) {
        self.inner.max_members.store(max.max(1), Ordering::Release);
    }

    /// Refuses further joins ([`RoomError::Locked`]) until [`unlock`](Self::unlock); members
    /// stay.
    pub fn lock(&self) {
        self.inner.locked.store(true, Ordering::Release);
    }

    /// Accepts joins again.
    pub fn unlock(&self) {
        self.inner.locked.store(false, Ordering::Release);
    }

    /// Whether joins are refused.
    pub fn is_locked(&self) -> bool {
        self.inner.locked.load(Ordering::Acquire)
    }

    /// The room's actor: post closures to it, start timers on it (they stop with the room).
    pub fn actor(&self) -> &ActorHandle<C> {
        &self.inner.actor
    }

    /// Whether the room has been disposed.
    pub fn is_disposed(&self) -> bool {
        self.inner.stop.is_cancelled()
    }

    /// Disposes of the room: its members leave it and get a push on
    /// [`ROOM_CLOSED_ROUTE`](crate::ROOM_CLOSED_ROUTE) (reason `"disposed"`), its task and
    /// timers stop. Called from one of its own handlers, the handler finishes first.
    /// Nothing happens if it was already disposed.
    pub fn dispose(&self) {
        self.close(CloseReason::Disposed);
    }

    /// Disposes of the room for `reason` (see [`RoomsShared::dispose_room`]).
    pub(crate) fn close(&self, reason: CloseReason) {
        match self.inner.rooms.upgrade() {
            Some(rooms) => {
                let _ = rooms.dispose_room(self.id(), reason);
            }
            None => self.inner.stop.cancel(),
        }
    }

    /// Queues `input` from `session` for the next tick ([`Room::tick`] sees the inputs in
    /// arrival order).
    ///
    /// # Errors
    ///
    /// [`RoomError::InputQueueFull`] when [`RoomConfig::input_queue_capacity`] inputs wait,
    /// [`RoomError::NoTickLoop`] when the kind has no tick loop, [`RoomError::Gone`] once
    /// disposed.
    pub fn input(&self, session: &Session, input: C::Input) -> Result<(), RoomError> {
        let queue = self.inner.inputs.as_ref().ok_or(RoomError::NoTickLoop)?;
        if self.is_disposed() {
            return Err(RoomError::Gone(self.id()));
        }
        let mut queue = crate::sync::lock(queue);
        if queue.len() >= self.inner.input_capacity {
            return Err(RoomError::InputQueueFull(self.id()));
        }
        queue.push_back(RoomInput {
            session: session.clone(),
            input,
        });
        Ok(())
    }

    /// The inputs queued since the last tick, oldest first.
    pub(crate) fn take_inputs(&self) -> Vec<RoomInput<C::Input>> {
        match &self.inner.inputs {
            Some(queue) => crate::sync::lock(queue).drain(..).collect(),
            None => Vec::new(),
        }
    }

    /// The token that stops the room's task.
    pub(crate) fn stop_token(&self) -> &CancellationToken {
        &self.inner.stop
    }

    /// Records that the room became empty; returns the mark its empty timer checks.
    pub(crate) fn mark_emptied(&self) -> u64 {
        self.inner.emptied.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Whether the room is empty and has not been emptied again since `mark`.
    pub(crate) fn still_empty_since(&self, mark: u64) -> bool {
        self.inner.emptied.load(Ordering::Acquire) == mark && self.inner.members.count() == 0
    }
}
