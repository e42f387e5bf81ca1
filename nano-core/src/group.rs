//! [`Group`]: a set of sessions (a room, a match, a guild) with broadcast.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;

use crate::payload::EncodePayload;
use crate::protocol::{EncodedPacket, Message, ProtocolError, Route, RouteName};
use crate::{Serializer, SerializerError, Session, SessionError};

/// Why a group operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// The group was closed with [`Group::close`].
    #[error("group closed")]
    Closed,
    /// The session is already a member.
    #[error("session {0} is already a member")]
    AlreadyMember(u64),
    /// The session is not a member.
    #[error("session {0} is not a member")]
    NotMember(u64),
    /// The session has closed; closed sessions cannot join.
    #[error("session {0} is closed")]
    SessionClosed(u64),
    /// The payload could not be serialized.
    #[error(transparent)]
    Serializer(#[from] SerializerError),
    /// The push could not be encoded (a route over 255 bytes).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// What a broadcast achieved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Broadcast {
    /// Members the push was queued for.
    pub delivered: usize,
    /// Members that could not take it: send queue full (slow consumers) or closing.
    pub failed: usize,
}

pub(crate) struct GroupShared {
    name: String,
    /// Keyed by [`Session::key`].
    members: RwLock<HashMap<usize, Session>>,
    closed: AtomicBool,
}

impl GroupShared {
    fn read(&self) -> RwLockReadGuard<'_, HashMap<usize, Session>> {
        crate::sync::read(&self.members)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<usize, Session>> {
        crate::sync::write(&self.members)
    }

    /// Called by a closing session.
    pub(crate) fn remove_member(&self, session: &Session) {
        self.write().remove(&session.key());
    }
}

/// A named set of sessions with broadcast, like nano's `Group`.
///
/// Cheap to clone (clones share the members). Sessions leave every group automatically when
/// they close. A broadcast serializes and encodes the payload once and queues the same bytes
/// to every member; members whose send queue is full are skipped (and counted) rather than
/// slowing the others down.
///
/// # Examples
///
/// ```
/// use nano_core::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize, Serialize)]
/// struct Chat { name: String, content: String }
///
/// struct Room { members: Group }
///
/// #[component(name = "room")]
/// impl Room {
///     #[handler]
///     fn join(&self, session: &Session) -> Result<(), HandlerError> {
///         self.members.add(session)?;
///         Ok(())
///     }
///
///     #[handler]
///     fn message(&self, _session: &Session, chat: Chat) {
///         let _ = self.members.broadcast("onMessage", &chat);
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Group {
    shared: Arc<GroupShared>,
}

impl Group {
    /// An empty group.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            shared: Arc::new(GroupShared {
                name: name.into(),
                members: RwLock::new(HashMap::new()),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// A handle on an existing group's members.
    pub(crate) fn from_shared(shared: Arc<GroupShared>) -> Self {
        Self { shared }
    }

    /// The group's identity within the process.
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.shared) as usize
    }

    /// Whether `self` and `other` are handles on the same group.
    pub fn same_group(&self, other: &Group) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The group's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    fn check_open(&self) -> Result<(), GroupError> {
        if self.shared.closed.load(Ordering::Acquire) {
            Err(GroupError::Closed)
        } else {
            Ok(())
        }
    }

    /// Adds `session`.
    ///
    /// # Errors
    ///
    /// [`GroupError::Closed`], [`GroupError::AlreadyMember`], [`GroupError::SessionClosed`].
    pub fn add(&self, session: &Session) -> Result<(), GroupError> {
        self.check_open()?;
        if session.is_closed() {
            return Err(GroupError::SessionClosed(session.id()));
        }
        {
            let mut members = self.shared.write();
            if members.contains_key(&session.key()) {
                return Err(GroupError::AlreadyMember(session.id()));
            }
            members.insert(session.key(), session.clone());
        }
        session.joined_group(Arc::downgrade(&self.shared));
        // A session that closed meanwhile may have missed this group in its cleanup.
        if session.is_closed() {
            self.shared.remove_member(session);
        }
        Ok(())
    }

    /// Removes `session`.
    ///
    /// # Errors
    ///
    /// [`GroupError::Closed`], [`GroupError::NotMember`].
    pub fn leave(&self, session: &Session) -> Result<(), GroupError> {
        self.check_open()?;
        if self.shared.write().remove(&session.key()).is_none() {
            return Err(GroupError::NotMember(session.id()));
        }
        session.left_group(&self.shared);
        Ok(())
    }

    /// Removes every member.
    ///
    /// # Errors
    ///
    /// [`GroupError::Closed`].
    pub fn leave_all(&self) -> Result<(), GroupError> {
        self.check_open()?;
        self.clear();
        Ok(())
    }

    fn clear(&self) {
        let members = std::mem::take(&mut *self.shared.write());
        for session in members.values() {
            session.left_group(&self.shared);
        }
    }

    /// Removes every member and refuses further use.
    pub fn close(&self) {
        if !self.shared.closed.swap(true, Ordering::AcqRel) {
            self.clear();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Number of members.
    pub fn count(&self) -> usize {
        self.shared.read().len()
    }

    /// Whether a member is bound to `uid`.
    pub fn contains(&self, uid: i64) -> bool {
        self.member(uid).is_some()
    }

    /// Whether `session` is a member.
    pub fn contains_session(&self, session: &Session) -> bool {
        self.shared.read().contains_key(&session.key())
    }

    /// The member bound to `uid`, if any.
    pub fn member(&self, uid: i64) -> Option<Session> {
        self.shared
            .read()
            .values()
            .find(|session| session.uid() == Some(uid))
            .cloned()
    }

    /// Every member.
    pub fn members(&self) -> Vec<Session> {
        self.shared.read().values().cloned().collect()
    }

    /// The uids of the members that are bound.
    pub fn uids(&self) -> Vec<i64> {
        self.shared
            .read()
            .values()
            .filter_map(Session::uid)
            .collect()
    }

    /// Pushes `value` on `route` to every member, serializing it once.
    ///
    /// # Errors
    ///
    /// [`GroupError::Closed`], [`GroupError::Serializer`], [`GroupError::Protocol`]. Members
    /// that cannot take the push are counted in [`Broadcast::failed`], not errors.
    pub fn broadcast<T: EncodePayload + ?Sized>(
        &self,
        route: impl Into<RouteName>,
        value: &T,
    ) -> Result<Broadcast, GroupError> {
        self.multicast(route, value, |_| true)
    }

    /// Pushes `value` on `route` to the members for which `filter` returns `true`.
    ///
    /// # Errors
    ///
    /// As [`broadcast`](Self::broadcast).
    pub fn multicast<T: EncodePayload + ?Sized>(
        &self,
        route: impl Into<RouteName>,
        value: &T,
        filter: impl Fn(&Session) -> bool,
    ) -> Result<Broadcast, GroupError> {
        self.check_open()?;
        let route = route.into();
        let mut encoder = Encoder::new(&route, Payload::Value(value));
        self.send_each(&mut encoder, filter)
    }

    /// Pushes an already-serialized payload on `route` to every member.
    ///
    /// # Errors
    ///
    /// [`GroupError::Closed`], [`GroupError::Protocol`].
    pub fn broadcast_raw(
        &self,
        route: impl Into<RouteName>,
        payload: Bytes,
    ) -> Result<Broadcast, GroupError> {
        self.check_open()?;
        let route = route.into();
        let mut encoder = Encoder::<()>::new(&route, Payload::Raw(payload));
        self.send_each(&mut encoder, |_| true)
    }

    fn send_each<T: EncodePayload + ?Sized>(
        &self,
        encoder: &mut Encoder<'_, T>,
        filter: impl Fn(&Session) -> bool,
    ) -> Result<Broadcast, GroupError> {
        let mut report = Broadcast::default();
        let members = self.shared.read();
        for session in members.values().filter(|session| filter(session)) {
            let sent = if session.core().outbound.is_empty() {
                let packet = encoder.packet_for(session)?;
                session.push_encoded(packet)
            } else {
                // Outbound pipeline stages may change the message per member.
                let payload = encoder.payload_for(session)?;
                session.push_raw(encoder.route.clone(), payload)
            };
            match sent {
                Ok(()) => report.delivered += 1,
                Err(SessionError::QueueFull | SessionError::Closed | SessionError::Rejected(_)) => {
                    report.failed += 1;
                }
                Err(SessionError::Serializer(err)) => return Err(err.into()),
                Err(SessionError::Protocol(err)) => return Err(err.into()),
                Err(other) => {
                    tracing::debug!(error = %other, "broadcast to a member failed");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }
}

enum Payload<'a, T: ?Sized> {
    Value(&'a T),
    Raw(Bytes),
}

/// Serializes and encodes a broadcast once per distinct app among the members (almost always
/// exactly once): the serializer and dictionary come from each member's app.
struct Encoder<'a, T: ?Sized> {
    route: &'a RouteName,
    payload: Payload<'a, T>,
    serialized: Option<(Serializer, Bytes)>,
    encoded: Option<(*const crate::core::Core, EncodedPacket)>,
}

impl<'a, T: EncodePayload + ?Sized> Encoder<'a, T> {
    fn new(route: &'a RouteName, payload: Payload<'a, T>) -> Self {
        Self {
            route,
            payload,
            serialized: None,
            encoded: None,
        }
    }

    fn payload_for(&mut self, session: &Session) -> Result<Bytes, GroupError> {
        let serializer = &session.core().serializer;
        match &self.payload {
            Payload::Raw(bytes) => Ok(bytes.clone()),
            Payload::Value(value) => match &self.serialized {
                Some((cached, bytes)) if cached == serializer => Ok(bytes.clone()),
                _ => {
                    let bytes = value.encode_payload(serializer)?;
                    self.serialized = Some((serializer.clone(), bytes.clone()));
                    Ok(bytes)
                }
            },
        }
    }

    fn packet_for(&mut self, session: &Session) -> Result<EncodedPacket, GroupError> {
        let core = Arc::as_ptr(session.core());
        if let Some((cached, packet)) = &self.encoded
            && std::ptr::eq(*cached, core)
        {
            return Ok(packet.clone());
        }
        let payload = self.payload_for(session)?;
        let message = Message::Push {
            route: Route::Name(self.route.clone()),
            payload,
        };
        let packet = EncodedPacket::from_message(&message, Some(&session.core().dict))?;
        self.encoded = Some((core, packet.clone()));
        Ok(packet)
    }
}

impl Default for Group {
    /// An empty group with an empty name.
    fn default() -> Self {
        Self::new("")
    }
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("name", &self.shared.name)
            .field("members", &self.count())
            .field("closed", &self.is_closed())
            .finish()
    }
}
