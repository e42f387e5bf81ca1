//! [`Registry`]: the live rooms of one kind, and the room each session is in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::reservation::Seats;
use super::{Room, RoomError, RoomId, RoomRef};
use crate::Session;
use crate::service::ActorLink;

/// A live room: its handle, and what its routes' calls are posted through.
pub(crate) struct Entry<C: Room> {
    pub(crate) room: RoomRef<C>,
    pub(crate) link: Arc<ActorLink<C>>,
}

/// The rooms of one kind. Lives behind the kind's lock; nothing here runs user code.
pub(crate) struct Registry<C: Room> {
    /// The last id handed out (ids count up from 1).
    last_id: u64,
    rooms: BTreeMap<RoomId, Entry<C>>,
    /// Session id → the room it is in.
    sessions: HashMap<u64, RoomId>,
    /// Sessions whose close already leaves their room (one callback per session).
    hooked: HashSet<u64>,
    /// Seats reserved in the rooms.
    pub(crate) seats: Seats,
}

impl<C: Room> Default for Registry<C> {
    fn default() -> Self {
        Self {
            last_id: 0,
            rooms: BTreeMap::new(),
            sessions: HashMap::new(),
            hooked: HashSet::new(),
            seats: Seats::default(),
        }
    }
}

impl<C: Room> Registry<C> {
    /// A fresh id, when fewer than `max_rooms` rooms live.
    pub(crate) fn reserve(&mut self, max_rooms: usize) -> Result<RoomId, RoomError> {
        if self.rooms.len() >= max_rooms {
            return Err(RoomError::TooManyRooms);
        }
        self.last_id += 1;
        Ok(RoomId(self.last_id))
    }

    pub(crate) fn insert(&mut self, entry: Entry<C>) {
        self.rooms.insert(entry.room.id(), entry);
    }

    /// The error for a room that is not live: gone if it ever was, else not found.
    pub(crate) fn missing(&self, id: RoomId) -> RoomError {
        if (1..=self.last_id).contains(&id.0) {
            RoomError::Gone(id)
        } else {
            RoomError::NotFound(id)
        }
    }

    pub(crate) fn get(&self, id: RoomId) -> Option<&Entry<C>> {
        self.rooms.get(&id)
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry<C>> {
        self.rooms.values()
    }

    /// The room `session` is in.
    pub(crate) fn room_of(&self, session: u64) -> Option<&Entry<C>> {
        self.rooms.get(self.sessions.get(&session)?)
    }

    /// A room made with `filter` that takes one more (not locked, members and reserved seats
    /// below its limit), the lowest id first.
    pub(crate) fn find_free(&self, filter: &str) -> Option<&RoomRef<C>> {
        self.rooms
            .values()
            .map(|entry| &entry.room)
            .find(|room| room.filter() == Some(filter) && !room.is_locked() && self.has_seat(room))
    }

    /// Whether `room`'s members and reserved seats are below its limit.
    pub(crate) fn has_seat(&self, room: &RoomRef<C>) -> bool {
        room.members().count() + self.seats.held(room.id()) < room.max_members()
    }

    /// Adds `session` to room `id` after every check; returns the room, and whether the
    /// session still needs its close callback. A `reserved` join (its seat just freed for it)
    /// is not refused for a lock set since the seat was reserved.
    pub(crate) fn admit(
        &mut self,
        id: RoomId,
        session: &Session,
        reserved: bool,
    ) -> Result<(RoomRef<C>, bool), RoomError> {
        let Some(entry) = self.rooms.get(&id) else {
            return Err(self.missing(id));
        };
        if let Some(current) = self.sessions.get(&session.id()) {
            return Err(RoomError::AlreadyInRoom(*current));
        }
        let room = &entry.room;
        if room.is_locked() && !reserved {
            return Err(RoomError::Locked(id));
        }
        if !self.has_seat(room) {
            return Err(RoomError::Full(id));
        }
        if room.members().add(session).is_err() {
            // Closed session or group: the room is as good as gone for it.
            return Err(RoomError::Gone(id));
        }
        self.sessions.insert(session.id(), id);
        let hook = self.hooked.insert(session.id());
        Ok((room.clone(), hook))
    }

    /// Takes `session` out of its room; returns the room.
    pub(crate) fn release(&mut self, session: &Session) -> Option<RoomRef<C>> {
        let id = self.sessions.remove(&session.id())?;
        let room = self.rooms.get(&id)?.room.clone();
        let _ = room.members().leave(session);
        Some(room)
    }

    /// A closed session: out of its room, and forgotten.
    pub(crate) fn closed(&mut self, session: &Session) -> Option<RoomRef<C>> {
        self.hooked.remove(&session.id());
        self.release(session)
    }

    /// Removes room `id` and its members' places in it.
    pub(crate) fn remove(&mut self, id: RoomId) -> Option<Entry<C>> {
        let entry = self.rooms.remove(&id)?;
        self.seats.forget_room(id);
        for member in entry.room.members().members() {
            if self.sessions.get(&member.id()) == Some(&id) {
                self.sessions.remove(&member.id());
            }
        }
        Some(entry)
    }

    /// Removes every room (the app stops).
    pub(crate) fn clear(&mut self) -> Vec<Entry<C>> {
        self.sessions.clear();
        self.seats.clear();
        std::mem::take(&mut self.rooms).into_values().collect()
    }
}
