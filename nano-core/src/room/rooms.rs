//! [`Rooms`]: the handle of one room kind — create, look up, list and dispose of its rooms,
//! and move sessions in and out of them.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::{RoomConfig, RoomConfigError};
use super::registry::{Entry, Registry};
use super::task;
use super::{
    CloseReason, ROOM_CLOSED_ROUTE, Room, RoomClosed, RoomError, RoomId, RoomInfo, RoomRef,
};
use crate::Session;
use crate::scheduler::Scheduler;
use crate::service::ActorLink;
use crate::sync::{read, write};

/// The rooms of kind `C`: create them (each from its init data), look them up, list and
/// dispose of them, and let sessions join and leave them. Cheap to clone; clones are the same
/// kind.
///
/// Make one with [`Rooms::new`], give a clone to [`AppBuilder::rooms`](crate::AppBuilder::rooms)
/// (which serves `C`'s routes) and keep others where rooms are managed, e.g. in a lobby
/// component; [`App::rooms`](crate::App::rooms) finds it too. Rooms can be created once the
/// app is built, until it shuts down. A `Rooms` serves one app.
///
/// A session is in at most one room of a kind; its requests to `C`'s routes go to that room
/// (a request while in none is answered [`RoomError::NotInRoom`], 409), and its close leaves
/// it.
pub struct Rooms<C: Room> {
    shared: Arc<RoomsShared<C>>,
}

impl<C: Room> Clone for Rooms<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C: Room> fmt::Debug for Rooms<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rooms")
            .field("kind", &C::META.name)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// What a running app lends the kind: where room tasks run and what stops them.
pub(crate) struct Runtime {
    pub(crate) scheduler: Scheduler,
    pub(crate) stop: CancellationToken,
    pub(crate) tasks: TaskTracker,
}

/// What every clone of a [`Rooms`] (and every room of the kind) shares.
pub(crate) struct RoomsShared<C: Room> {
    pub(crate) config: RoomConfig,
    /// Given to an app builder ([`Rooms::claim`]).
    claimed: AtomicBool,
    runtime: OnceLock<Runtime>,
    pub(super) registry: RwLock<Registry<C>>,
    /// Held across find-or-create-and-reserve ([`Rooms::join_or_create`]), so that two
    /// requests never both create a room for the same filter. Nothing under it awaits.
    pub(super) matchmaking: Mutex<()>,
    /// Told of every member leaving a room ([`Rooms::on_member_left`]).
    left_watchers: RwLock<Vec<LeftWatcher>>,
}

/// What [`Rooms::on_member_left`] calls.
type LeftWatcher = Arc<dyn Fn(&Session, RoomId) + Send + Sync>;

impl<C: Room> Rooms<C> {
    /// A room kind with `config`.
    ///
    /// # Errors
    ///
    /// A [`RoomConfigError`] for a field out of range (a tick rate outside 1-60, a zero
    /// count).
    pub fn new(config: RoomConfig) -> Result<Self, RoomConfigError> {
        config.validate()?;
        Ok(Self {
            shared: Arc::new(RoomsShared {
                config,
                claimed: AtomicBool::new(false),
                runtime: OnceLock::new(),
                registry: RwLock::new(Registry::default()),
                matchmaking: Mutex::new(()),
                left_watchers: RwLock::new(Vec::new()),
            }),
        })
    }

    /// The kind's name: its component name, the part of its routes before the dot.
    pub fn kind(&self) -> &'static str {
        C::META.name
    }

    /// Marks the kind as given to an app builder; `false` if it already was (a `Rooms`
    /// serves one app).
    pub(crate) fn claim(&self) -> bool {
        !self.shared.claimed.swap(true, Ordering::AcqRel)
    }

    /// The kind's configuration.
    pub fn config(&self) -> &RoomConfig {
        &self.shared.config
    }

    /// Creates a room from `init` ([`Room::create`]) and starts its task. The room is empty:
    /// unless someone joins, it is disposed after
    /// [`dispose_when_empty`](RoomConfig::dispose_when_empty).
    ///
    /// # Errors
    ///
    /// [`RoomError::NotRunning`] before the app is built or after it shut down,
    /// [`RoomError::TooManyRooms`] at [`max_rooms`](RoomConfig::max_rooms),
    /// [`RoomError::Panicked`] when `create` panicked.
    pub fn create(&self, init: C::Init) -> Result<RoomRef<C>, RoomError> {
        self.create_as(init, None)
    }

    /// [`create`](Self::create), with the room's matchmaking filter.
    pub(super) fn create_as(
        &self,
        init: C::Init,
        filter: Option<Arc<str>>,
    ) -> Result<RoomRef<C>, RoomError> {
        let runtime = self.shared.running()?;
        let max_rooms = self.shared.config.max_rooms;
        let id = write(&self.shared.registry).reserve(max_rooms)?;
        let entry = task::start(&self.shared, runtime, id, (init, filter))?;
        let room = entry.room.clone();
        write(&self.shared.registry).insert(entry);
        task::arm_new(&room, &self.shared.config);
        Ok(room)
    }

    /// Room `id`, while it lives.
    pub fn get(&self, id: RoomId) -> Option<RoomRef<C>> {
        read(&self.shared.registry)
            .get(id)
            .map(|entry| entry.room.clone())
    }

    /// The live rooms, by id.
    pub fn list(&self) -> Vec<RoomInfo> {
        let registry = read(&self.shared.registry);
        registry
            .entries()
            .map(|entry| RoomInfo {
                id: entry.room.id(),
                members: entry.room.members().count(),
                max_members: entry.room.max_members(),
                locked: entry.room.is_locked(),
                filter: entry.room.filter().map(str::to_owned),
                reserved: registry.seats.held(entry.room.id()),
            })
            .collect()
    }

    /// How many rooms live.
    pub fn len(&self) -> usize {
        read(&self.shared.registry).entries().count()
    }

    /// Whether no room lives.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Disposes of room `id` (see [`RoomRef::dispose`]).
    ///
    /// # Errors
    ///
    /// [`RoomError::Gone`] if it was disposed already, [`RoomError::NotFound`] if it never
    /// existed.
    pub fn dispose(&self, id: RoomId) -> Result<(), RoomError> {
        self.shared.dispose_room(id, CloseReason::Disposed)
    }

    /// Adds `session` to room `id`, then runs [`Room::joined`] on the room's task and waits
    /// for it: the session's next request to the room finds it a member.
    ///
    /// # Errors
    ///
    /// [`RoomError::NotFound`], [`RoomError::Gone`], [`RoomError::AlreadyInRoom`] (this
    /// room or another of the kind), [`RoomError::Locked`], [`RoomError::Full`],
    /// [`RoomError::Panicked`] when `joined` panicked, [`RoomError::NotRunning`].
    pub async fn join(&self, id: RoomId, session: &Session) -> Result<RoomRef<C>, RoomError> {
        self.shared.running()?;
        let admitted = write(&self.shared.registry).admit(id, session, false)?;
        self.joined(admitted, session).await
    }

    /// The second half of a join: the close callback, then [`Room::joined`] on the room's task.
    pub(super) async fn joined(
        &self,
        (room, hook): (RoomRef<C>, bool),
        session: &Session,
    ) -> Result<RoomRef<C>, RoomError> {
        let id = room.id();
        if hook {
            let rooms = Arc::downgrade(&self.shared);
            session.on_close(move |session| {
                if let Some(rooms) = rooms.upgrade() {
                    rooms.session_closed(session);
                }
            });
        }
        let (member, target) = (session.clone(), room.clone());
        let joined = room
            .actor()
            .call(move |state: &mut C| state.joined(&member, &target))
            .await;
        match joined {
            Ok(()) => Ok(room),
            Err(_) if room.is_disposed() => Err(RoomError::Gone(id)),
            Err(_) => Err(RoomError::Panicked),
        }
    }

    /// Takes `session` out of its room of this kind, then runs [`Room::left`] on the room's
    /// task (posted before this returns, so it runs before anything the session asks next).
    /// The room's empty timer starts if it is now empty.
    ///
    /// # Errors
    ///
    /// [`RoomError::NotInRoom`] when the session is in none.
    pub async fn leave(&self, session: &Session) -> Result<RoomId, RoomError> {
        let room = write(&self.shared.registry)
            .release(session)
            .ok_or(RoomError::NotInRoom)?;
        let (member, target) = (session.clone(), room.clone());
        let _ = room
            .actor()
            .invoke(move |state: &mut C| state.left(&member, &target))
            .await;
        self.shared.after_leave(&room);
        self.shared.member_left(session, room.id());
        Ok(room.id())
    }

    /// Calls `watcher` each time a session stops being a member of a room of this kind: it
    /// left, its session closed, or its room was disposed (not when the app stops). It runs
    /// where that happened (a close callback, the disposing call), after the registry was
    /// updated; keep it short and do not block. Each call adds a watcher, kept as long as the
    /// kind. Cluster mode uses it to stop routing a client's requests to the room's node.
    pub fn on_member_left(&self, watcher: impl Fn(&Session, RoomId) + Send + Sync + 'static) {
        write(&self.shared.left_watchers).push(Arc::new(watcher));
    }

    /// The room `session` is in.
    pub fn room_of(&self, session: &Session) -> Option<RoomRef<C>> {
        read(&self.shared.registry)
            .room_of(session.id())
            .map(|entry| entry.room.clone())
    }

    pub(crate) fn shared(&self) -> &Arc<RoomsShared<C>> {
        &self.shared
    }
}

impl<C: Room> RoomsShared<C> {
    /// Lends the kind an app's runtime; `false` if it already serves one.
    pub(crate) fn attach(&self, runtime: Runtime) -> bool {
        self.runtime.set(runtime).is_ok()
    }

    pub(super) fn running(&self) -> Result<&Runtime, RoomError> {
        match self.runtime.get() {
            Some(runtime) if !runtime.stop.is_cancelled() => Ok(runtime),
            _ => Err(RoomError::NotRunning),
        }
    }

    /// Where a call from `session` to the kind's routes goes: its room's actor.
    pub(crate) fn link_of(&self, session: &Session) -> Option<Arc<ActorLink<C>>> {
        let registry = read(&self.registry);
        registry
            .room_of(session.id())
            .map(|entry| Arc::clone(&entry.link))
    }

    /// Removes room `id`, tells its members why (unless it closed empty), stops its task.
    /// A room closing empty that someone joined (or reserved a seat in) meanwhile stays
    /// (joins and reservations take the same lock).
    pub(crate) fn dispose_room(&self, id: RoomId, reason: CloseReason) -> Result<(), RoomError> {
        let entry = {
            let mut registry = write(&self.registry);
            let seats = registry.seats.held(id);
            let joined = |entry: &Entry<C>| entry.room.members().count() + seats > 0;
            if reason == CloseReason::Empty && registry.get(id).is_some_and(joined) {
                return Ok(());
            }
            let missing = registry.missing(id);
            registry.remove(id).ok_or(missing)?
        };
        let room = entry.room;
        if reason != CloseReason::Empty {
            let closed = RoomClosed {
                kind: C::META.name.to_owned(),
                room: id.0,
                reason,
            };
            let _ = room.members().broadcast(ROOM_CLOSED_ROUTE, &closed);
        }
        let members = room.members().members();
        let _ = room.members().leave_all();
        for member in &members {
            self.member_left(member, id);
        }
        room.stop_token().cancel();
        tracing::debug!(kind = C::META.name, room = %id, ?reason, "room disposed");
        Ok(())
    }

    /// Every room stops (the app shuts down).
    pub(crate) fn stop_all(&self) {
        let entries = write(&self.registry).clear();
        for entry in entries {
            entry.room.stop_token().cancel();
        }
    }

    /// A member's session closed: it leaves its room, whose `left` hook runs.
    fn session_closed(&self, session: &Session) {
        let Some(room) = write(&self.registry).closed(session) else {
            return;
        };
        let (member, target) = (session.clone(), room.clone());
        let left = move |state: &mut C| state.left(&member, &target);
        // A full mailbox: wait for room on a task of the kind's (this runs in a close callback).
        if let Err(crate::InvokeError::Full) = room.actor().try_invoke(left.clone())
            && let Ok(runtime) = self.running()
        {
            let actor = room.actor().clone();
            runtime.tasks.spawn(async move { actor.invoke(left).await });
        }
        self.after_leave(&room);
        self.member_left(session, room.id());
    }

    /// Tells the [`Rooms::on_member_left`] watchers that `session` left room `id`.
    fn member_left(&self, session: &Session, id: RoomId) {
        let watchers = read(&self.left_watchers).clone();
        for watcher in watchers {
            watcher(session, id);
        }
    }

    /// Starts the empty timer of a room its last member left.
    pub(super) fn after_leave(&self, room: &RoomRef<C>) {
        if room.members().count() == 0 {
            task::arm_empty(room, self.config.dispose_when_empty);
        }
    }
}
