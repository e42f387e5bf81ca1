//! [`Session`]: one connected client, as handlers and the rest of the app see it.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::Notify;

use crate::core::{Core, SessionHook, SessionHooks};
use crate::group::GroupShared;
use crate::metrics::Counters;
use crate::outbox::{CloseRequest, Outbox, Refused};
use crate::payload::EncodePayload;
use crate::prometheus::KickCause;
use crate::protocol::{EncodedPacket, Message, ProtocolError, Route, RouteName};
use crate::sync::lock;
use crate::trace;
use crate::{Group, HandlerError, SerializerError};

/// The transport a session came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// Plain TCP.
    Tcp,
    /// WebSocket (or secure WebSocket).
    WebSocket,
    /// An in-process stream handed over by the embedding application, or a test pipe.
    Stream,
    /// The client is connected to another node of a cluster; this is its stand-in.
    Remote,
}

impl TransportKind {
    /// The lowercase name: `tcp`, `websocket`, `stream`, `remote` (the `transport` label of
    /// the metrics).
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Tcp => "tcp",
            TransportKind::WebSocket => "websocket",
            TransportKind::Stream => "stream",
            TransportKind::Remote => "remote",
        }
    }
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session has closed (or is closing).
    #[error("session closed")]
    Closed,
    /// A response was addressed to message id 0: notifies have no response.
    #[error("notify messages have no response")]
    NotifyHasNoResponse,
    /// The session's send queue is full (its client reads too slowly); the push was dropped,
    /// or the session kicked, as the slow-consumer policy says.
    #[error("send queue full")]
    QueueFull,
    /// A uid must be at least 1.
    #[error("invalid uid {0}: uids start at 1")]
    InvalidUid(i64),
    /// The value could not be serialized.
    #[error(transparent)]
    Serializer(#[from] SerializerError),
    /// The message could not be encoded (a route over 255 bytes).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// An outbound pipeline stage rejected the message.
    #[error("rejected by the outbound pipeline: {0}")]
    Rejected(HandlerError),
}

impl From<Refused> for SessionError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Closed => SessionError::Closed,
            Refused::Full => SessionError::QueueFull,
        }
    }
}

type CloseCallback = Box<dyn FnOnce(&Session) + Send>;

pub(crate) struct SessionInner {
    id: u64,
    uid: AtomicI64,
    last_mid: AtomicU64,
    values: Mutex<HashMap<String, Box<dyn Any + Send + Sync>>>,
    synced: Mutex<serde_json::Map<String, serde_json::Value>>,
    /// The client's address and transport: those of its latest connection (a resumed
    /// session may come back from elsewhere, over another transport).
    peer: Mutex<(Option<SocketAddr>, TransportKind)>,
    pub(crate) outbox: Outbox,
    pub(crate) core: Arc<Core>,
    close_callbacks: Mutex<Vec<CloseCallback>>,
    groups: Mutex<Vec<Weak<GroupShared>>>,
    finished: AtomicBool,
    finished_notify: Notify,
    /// The `session` span (`crate::trace`), disabled unless its level is.
    span: tracing::Span,
}

/// One connected client: a cheap-to-clone handle usable from any task.
///
/// Handlers receive the session of the client that sent the message. Keep a clone to push to
/// the client later, from a timer, another session's handler, or a spawned task. Every method
/// takes `&self`; a closed session refuses new work with [`SessionError::Closed`].
///
/// # Examples
///
/// ```
/// use nano_core::prelude::*;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Login { uid: i64 }
///
/// #[derive(Serialize)]
/// struct Welcome<'a> { text: &'a str }
///
/// struct Lobby;
///
/// #[component(name = "lobby")]
/// impl Lobby {
///     #[handler]
///     fn login(&self, session: &Session, login: Login) -> Result<(), HandlerError> {
///         session.bind(login.uid)?;
///         session.set("level", 1u32);
///         session.push("onWelcome", &Welcome { text: "hello" })?;
///         Ok(())
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

impl Session {
    pub(crate) fn new(
        core: Arc<Core>,
        remote_addr: Option<SocketAddr>,
        transport: TransportKind,
    ) -> Self {
        let id = core.next_session_id();
        Self::with_id(core, id, remote_addr, transport)
    }

    pub(crate) fn with_id(
        core: Arc<Core>,
        id: u64,
        remote_addr: Option<SocketAddr>,
        transport: TransportKind,
    ) -> Self {
        let outbox = Outbox::new(core.send_queue_capacity, core.slow_consumer);
        let span = trace::session_span(core.span_level, id, remote_addr, transport);
        Self {
            inner: Arc::new(SessionInner {
                id,
                uid: AtomicI64::new(0),
                last_mid: AtomicU64::new(0),
                values: Mutex::new(HashMap::new()),
                synced: Mutex::new(serde_json::Map::new()),
                peer: Mutex::new((remote_addr, transport)),
                outbox,
                core,
                close_callbacks: Mutex::new(Vec::new()),
                groups: Mutex::new(Vec::new()),
                finished: AtomicBool::new(false),
                finished_notify: Notify::new(),
                span,
            }),
        }
    }

    /// Identity of this session within the process (sessions of different apps may share an
    /// id; they never share a key).
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    pub(crate) fn inner(&self) -> &SessionInner {
        &self.inner
    }

    /// The session's `session` span (disabled unless its level is enabled).
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.inner.span
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.inner.core
    }

    /// The session id: unique within the app, at most 2^53 (JavaScript reads it exactly).
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The user id bound with [`bind`](Self::bind), or `None`.
    pub fn uid(&self) -> Option<i64> {
        match self.inner.uid.load(Ordering::Acquire) {
            0 => None,
            uid => Some(uid),
        }
    }

    /// Binds the session to a user id (at least 1). Binding again replaces the uid.
    ///
    /// # Errors
    ///
    /// [`SessionError::InvalidUid`] for a uid below 1; [`SessionError::Closed`] once closed.
    pub fn bind(&self, uid: i64) -> Result<(), SessionError> {
        if uid < 1 {
            return Err(SessionError::InvalidUid(uid));
        }
        if self.is_closed() {
            return Err(SessionError::Closed);
        }
        self.inner.uid.store(uid, Ordering::Release);
        self.inner.span.record("uid", uid);
        Ok(())
    }

    /// The id of the last request this session sent: inside a request handler, the request
    /// being handled (messages of a session are handled one at a time). Pass it to
    /// [`respond`](Self::respond) to answer later. 0 before any request.
    pub fn last_mid(&self) -> u64 {
        self.inner.last_mid.load(Ordering::Acquire)
    }

    pub(crate) fn set_last_mid(&self, mid: u64) {
        self.inner.last_mid.store(mid, Ordering::Release);
    }

    /// The client's address, when the transport has one (after a resume, the address it
    /// came back from).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        lock(&self.inner.peer).0
    }

    /// The transport the client connected over (after a resume, the one it came back on).
    pub fn transport(&self) -> TransportKind {
        lock(&self.inner.peer).1
    }

    /// The client's new address and transport, after a resume.
    pub(crate) fn set_peer(&self, remote_addr: Option<SocketAddr>, transport: TransportKind) {
        *lock(&self.inner.peer) = (remote_addr, transport);
    }

    /// Whether a connection serves the session now: `false` once it has closed, and while
    /// it waits for its client to resume it (see
    /// [`AppBuilder::resume`](crate::AppBuilder::resume)). Pushes to a dropped session are
    /// kept for replay.
    pub fn is_connected(&self) -> bool {
        self.inner.outbox.is_attached()
    }

    // ---- key/value store ----

    /// Stores `value` under `key`, replacing any previous value.
    pub fn set<T: Any + Send + Sync>(&self, key: impl Into<String>, value: T) {
        lock(&self.inner.values).insert(key.into(), Box::new(value));
    }

    /// A clone of the value under `key`, if there is one of type `T`.
    pub fn get<T: Any + Clone>(&self, key: &str) -> Option<T> {
        lock(&self.inner.values)
            .get(key)?
            .downcast_ref::<T>()
            .cloned()
    }

    /// Runs `f` on the value under `key` (if there is one of type `T`) and returns its result.
    pub fn with_value<T: Any, R>(&self, key: &str, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        lock(&self.inner.values)
            .get_mut(key)?
            .downcast_mut::<T>()
            .map(f)
    }

    /// Removes the value under `key`; returns whether there was one.
    pub fn remove(&self, key: &str) -> bool {
        lock(&self.inner.values).remove(key).is_some()
    }

    /// Whether a value is stored under `key`.
    pub fn contains(&self, key: &str) -> bool {
        lock(&self.inner.values).contains_key(key)
    }

    // ---- synchronized values (cluster mode) ----

    /// Stores a value that travels with the session between cluster nodes: set on a backend,
    /// the client's node sees it; set on the client's node, backends see it. In a standalone
    /// app it is simply a serializable value store.
    ///
    /// # Errors
    ///
    /// [`SessionError::Serializer`] when `value` cannot be represented as JSON.
    pub fn set_synced<T: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        value: &T,
    ) -> Result<(), SessionError> {
        let value = serde_json::to_value(value)
            .map_err(|err| SessionError::Serializer(SerializerError::Serialize(err.into())))?;
        lock(&self.inner.synced).insert(key.into(), value);
        Ok(())
    }

    /// A synchronized value, if present and of type `T`.
    pub fn get_synced<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = lock(&self.inner.synced).get(key)?.clone();
        serde_json::from_value(value).ok()
    }

    /// Every synchronized value (what a cluster carries between nodes).
    pub fn synced(&self) -> serde_json::Map<String, serde_json::Value> {
        lock(&self.inner.synced).clone()
    }

    /// Changes the synchronized values in place, under their lock (see
    /// [`remote::update_synced`](crate::remote::update_synced)).
    pub(crate) fn update_synced(
        &self,
        change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) {
        change(&mut lock(&self.inner.synced));
    }

    // ---- sending ----

    /// Pushes `value` to the client on `route` (e.g. `"onMessage"`).
    ///
    /// # Errors
    ///
    /// [`SessionError::QueueFull`] when the client reads too slowly (see
    /// [`SlowConsumerPolicy`](crate::SlowConsumerPolicy)), [`SessionError::Closed`],
    /// [`SessionError::Serializer`], or [`SessionError::Rejected`] by the outbound pipeline.
    pub fn push<T: EncodePayload + ?Sized>(
        &self,
        route: impl Into<RouteName>,
        value: &T,
    ) -> Result<(), SessionError> {
        let payload = value.encode_payload(&self.core().serializer)?;
        self.push_raw(route, payload)
    }

    /// Pushes an already-serialized payload on `route`.
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push), without the serializer error.
    pub fn push_raw(
        &self,
        route: impl Into<RouteName>,
        payload: Bytes,
    ) -> Result<(), SessionError> {
        let message = Message::Push {
            route: Route::Name(route.into()),
            payload,
        };
        let packet = self.encode_outbound(message)?;
        self.push_encoded(packet)
    }

    /// Queues an already-encoded packet (see
    /// [`remote::push_packet`](crate::remote::push_packet)).
    pub(crate) fn push_packet(&self, packet: EncodedPacket) -> Result<(), SessionError> {
        let Some(mid) = packet.response_id() else {
            return self.push_encoded(packet);
        };
        self.inner.outbox.push_response(mid, packet, true)?;
        Counters::add(&self.core().counters.messages_out, 1);
        Ok(())
    }

    /// Queues an already-encoded push (a group broadcast encodes once for all members).
    pub(crate) fn push_encoded(&self, packet: EncodedPacket) -> Result<(), SessionError> {
        let core = self.core();
        let counters = &core.counters;
        match self.inner.outbox.push(packet) {
            Ok(()) => {
                Counters::add(&counters.messages_out, 1);
                if let Some(telemetry) = &core.telemetry {
                    telemetry.pushes_sent.inc();
                }
                Ok(())
            }
            Err(refused) => {
                if refused == Refused::Full {
                    Counters::add(&counters.pushes_dropped, 1);
                    if let Some(telemetry) = &core.telemetry {
                        telemetry.pushes_dropped.inc();
                    }
                }
                Err(refused.into())
            }
        }
    }

    /// Answers request `mid` with `value`: for handlers that return
    /// [`Deferred`](crate::Deferred) and answer later.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotifyHasNoResponse`] for mid 0, [`SessionError::Closed`],
    /// [`SessionError::Serializer`], [`SessionError::Rejected`].
    pub fn respond<T: EncodePayload + ?Sized>(
        &self,
        mid: u64,
        value: &T,
    ) -> Result<(), SessionError> {
        let payload = value.encode_payload(&self.core().serializer)?;
        self.respond_raw(mid, payload)
    }

    /// Answers request `mid` with an already-serialized payload.
    ///
    /// # Errors
    ///
    /// As [`respond`](Self::respond), without the serializer error.
    pub fn respond_raw(&self, mid: u64, payload: Bytes) -> Result<(), SessionError> {
        self.respond_with(mid, payload, false, true)
    }

    /// Queues a response from the session's own connection task, which drains its outbox
    /// next: waking that task again would only poll it for nothing.
    pub(crate) fn respond_from_connection(
        &self,
        mid: u64,
        payload: Bytes,
    ) -> Result<(), SessionError> {
        self.respond_with(mid, payload, false, false)
    }

    fn respond_with(
        &self,
        mid: u64,
        payload: Bytes,
        error: bool,
        wake: bool,
    ) -> Result<(), SessionError> {
        if mid == 0 {
            return Err(SessionError::NotifyHasNoResponse);
        }
        let message = Message::Response {
            id: mid,
            payload,
            error,
        };
        let packet = self.encode_outbound(message)?;
        self.inner.outbox.push_response(mid, packet, wake)?;
        Counters::add(&self.core().counters.messages_out, 1);
        Ok(())
    }

    /// Answers request `mid` with an error response (the app's error body).
    ///
    /// # Errors
    ///
    /// As [`respond_raw`](Self::respond_raw).
    pub fn respond_error(&self, mid: u64, error: &HandlerError) -> Result<(), SessionError> {
        let core = self.core();
        Counters::add(&core.counters.errors, 1);
        self.respond_with(mid, core.error_payload(error), core.error_flag, true)
    }

    fn encode_outbound(&self, mut message: Message) -> Result<EncodedPacket, SessionError> {
        let core = self.core();
        if !core.outbound.is_empty() {
            core.outbound
                .run(self, &mut message)
                .map_err(SessionError::Rejected)?;
        }
        Ok(EncodedPacket::from_message(&message, Some(&core.dict))?)
    }

    // ---- ending ----

    /// Sends the client a Kick packet with `reason` (pomelo clients emit it as `onKick`), then
    /// closes the connection. Queued packets are sent first.
    pub fn kick(&self, reason: impl Into<String>) {
        self.kick_for(reason.into(), KickCause::App);
    }

    /// Kicks the session for `cause` (counted in `nano_kicks_total` under it).
    pub(crate) fn kick_for(&self, reason: String, cause: KickCause) {
        self.inner
            .outbox
            .request_close(CloseRequest::Kick(reason, cause));
    }

    /// Closes the connection (after sending what is queued) without a Kick.
    pub fn close(&self) {
        self.inner.outbox.request_close(CloseRequest::Close);
    }

    /// Pushes to this session dropped because its send queue was full.
    pub fn dropped_pushes(&self) -> u64 {
        self.inner.outbox.dropped()
    }

    /// Whether the session has closed or is closing.
    pub fn is_closed(&self) -> bool {
        self.inner.outbox.is_closed()
    }

    /// Waits until the session has closed and its close callbacks have run.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) {
        loop {
            let notified = self.inner.finished_notify.notified();
            if self.inner.finished.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// Runs `callback` when the session closes (at once if it already has). Callbacks run in
    /// the order they were added, before the app-wide ones.
    pub fn on_close(&self, callback: impl FnOnce(&Session) + Send + 'static) {
        if self.inner.finished.load(Ordering::Acquire) {
            callback(self);
            return;
        }
        lock(&self.inner.close_callbacks).push(Box::new(callback));
    }

    /// The groups the session is in now (closed groups and dropped ones excluded).
    pub fn groups(&self) -> Vec<Group> {
        lock(&self.inner.groups)
            .iter()
            .filter_map(Weak::upgrade)
            .map(Group::from_shared)
            .filter(|group| !group.is_closed())
            .collect()
    }

    pub(crate) fn joined_group(&self, group: Weak<GroupShared>) {
        let mut groups = lock(&self.inner.groups);
        groups.retain(|existing| existing.strong_count() > 0);
        groups.push(group);
    }

    pub(crate) fn left_group(&self, group: &Arc<GroupShared>) {
        lock(&self.inner.groups)
            .retain(|existing| !std::ptr::eq(existing.as_ptr(), Arc::as_ptr(group)));
    }

    /// Ends the session once its connection is gone: refuses new packets, leaves every group,
    /// runs the close callbacks, and wakes [`closed`](Self::closed). Idempotent.
    pub(crate) fn finish(&self) {
        if self.inner.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        self.inner.outbox.mark_closed();
        let groups = std::mem::take(&mut *lock(&self.inner.groups));
        for group in groups.iter().filter_map(Weak::upgrade) {
            group.remove_member(self);
        }
        let callbacks = std::mem::take(&mut *lock(&self.inner.close_callbacks));
        for callback in callbacks {
            run_guarded(|| callback(self));
        }
        self.run_hooks(|hooks| &hooks.closed);
        self.inner.finished_notify.notify_waiters();
    }

    /// Ends a session that never served a client (its connection resumed another session):
    /// no callbacks or hooks run.
    pub(crate) fn discard(&self) {
        self.inner.finished.store(true, Ordering::Release);
        self.inner.outbox.mark_closed();
        self.inner.finished_notify.notify_waiters();
    }

    /// Runs the app's hooks that `which` picks, each guarded against panics.
    pub(crate) fn run_hooks(&self, which: impl FnOnce(&SessionHooks) -> &Vec<SessionHook>) {
        for hook in which(&self.core().session_hooks) {
            run_guarded(|| hook(self));
        }
    }
}

/// Runs a user callback; a panic in it is logged instead of tearing down the caller.
fn run_guarded(f: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
        tracing::error!("a session callback or hook panicked");
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id())
            .field("uid", &self.uid())
            .field("remote_addr", &self.remote_addr())
            .field("transport", &self.transport())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Session {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Session {}
