//! [`Client`]: a connected session, and the operations on it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use nano_core::protocol::{EncodedPacket, HandshakeResponse, Message, Route, RouteDict, RouteName};
use nano_core::{DecodePayload, EncodePayload, ErrorBody, Serializer};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::push::Pushes;
use crate::resume::Waiting;
use crate::shared::{Hub, Shared, lock};
use crate::{ClientBuilder, ClientError, CloseReason, Events};

/// Cancels the connection when the last [`Client`] handle is dropped.
#[derive(Debug)]
struct Handle {
    hub: Arc<Hub>,
    cancel: CancellationToken,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// A connection to a nano/Pomelo server, after a successful handshake.
///
/// Cheap to clone; clones share the connection, and requests from many tasks run concurrently on
/// it (each has its own id, responses are matched by id). The connection closes when
/// [`close`](Client::close) is called, when the last handle is dropped, or when the server
/// ends it.
///
/// # Examples
///
/// ```no_run
/// use nano_client::Client;
/// use serde_json::{Value, json};
///
/// # async fn run() -> Result<(), nano_client::ClientError> {
/// let client = Client::connect("127.0.0.1:3250").await?;
/// let mut messages = client.subscribe("onMessage");
/// let joined: Value = client.request("room.join", &json!({ "name": "ann" })).await?;
/// client.notify("room.message", &json!({ "name": "ann", "content": "hi" })).await?;
/// while let Some(push) = messages.recv().await {
///     let message: Value = push.decode()?;
///     println!("{message}");
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    handle: Arc<Handle>,
}

impl Client {
    /// Connects with default settings; see [`ClientBuilder::connect`].
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::connect`].
    pub async fn connect(target: &str) -> Result<Client, ClientError> {
        ClientBuilder::new().connect(target).await
    }

    /// Settings for a new connection.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn new(hub: Arc<Hub>, cancel: CancellationToken) -> Client {
        Client {
            handle: Arc::new(Handle { hub, cancel }),
        }
    }

    fn hub(&self) -> &Hub {
        &self.handle.hub
    }

    /// The current connection.
    fn shared(&self) -> Arc<Shared> {
        self.hub().current()
    }

    /// The error for an operation on a connection that ended with `reason`.
    fn ended(&self, reason: CloseReason) -> ClientError {
        let hub = self.hub();
        if hub.reconnects && hub.closed.borrow().is_none() {
            ClientError::Disconnected(reason)
        } else {
            ClientError::Closed(reason)
        }
    }

    /// Sends a request and waits for its response, serializing `body` and deserializing the
    /// answer with the connection's serializer (or as protobuf, for [`Proto`](nano_core::Proto)
    /// bodies and answers).
    ///
    /// # Errors
    ///
    /// - [`ClientError::Server`] when the server answers with an error body
    ///   (`{"code":..,"msg":..}` with a code other than 0 or 200) or pitaya's error flag;
    /// - [`ClientError::Timeout`] when no response arrives within the request timeout;
    /// - [`ClientError::Closed`] when the connection ends first;
    /// - [`ClientError::Serializer`] when `body` cannot be serialized or the answer is not an `R`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future forgets the request; a response that arrives later is discarded.
    pub async fn request<T, R>(&self, route: &str, body: &T) -> Result<R, ClientError>
    where
        T: EncodePayload + ?Sized,
        R: DecodePayload,
    {
        let payload = body.encode_payload(&self.hub().serializer)?;
        let answer = self.request_raw(route, payload).await?;
        Ok(R::decode_payload(&self.hub().serializer, &answer)?)
    }

    /// Sends a request with an already-serialized body and returns the response's bytes.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request), without the serializer errors.
    ///
    /// # Cancel safety
    ///
    /// As [`request`](Self::request).
    pub async fn request_raw(
        &self,
        route: &str,
        payload: impl Into<Bytes>,
    ) -> Result<Bytes, ClientError> {
        let shared = &*self.shared();
        let id = shared.resumption.next_id.fetch_add(1, Ordering::Relaxed);
        let message = Message::Request {
            id,
            route: route_on(shared, route),
            payload: payload.into(),
        };
        let packet = EncodedPacket::from_message(&message, None)?;
        let (reply_tx, reply_rx) = oneshot::channel();
        {
            let mut pending = lock(&shared.pending);
            if let Some(reason) = &pending.closed {
                return Err(self.ended(reason.clone()));
            }
            let waiting = Waiting {
                reply: reply_tx,
                packet: packet.clone(),
            };
            pending.waiting.insert(id, waiting);
        }
        // Removes the entry however this future ends (timeout, error, or being dropped).
        let _forget = ForgetOnDrop {
            client: self,
            first: shared,
            id,
        };
        self.send_packet(shared, packet).await?;

        let timeout = shared.request_timeout;
        let (payload, error_flag) = match tokio::time::timeout(timeout, reply_rx).await {
            Err(_) => return Err(ClientError::Timeout(timeout)),
            Ok(Err(_)) => return Err(self.ended(shared.close_reason())),
            Ok(Ok(Err(reason))) => return Err(self.ended(reason)),
            Ok(Ok(Ok(reply))) => reply,
        };
        if error_flag {
            return Err(match ErrorBody::decode(&shared.serializer, &payload) {
                Ok(error) => ClientError::Server {
                    code: error.code,
                    message: error.msg,
                },
                Err(_) => ClientError::Server {
                    code: 500,
                    message: String::from_utf8_lossy(&payload).into_owned(),
                },
            });
        }
        if let Some(error) = ErrorBody::detect(&shared.serializer, &payload) {
            return Err(ClientError::Server {
                code: error.code,
                message: error.msg,
            });
        }
        Ok(payload)
    }

    /// Sends a notify: a one-way message with no response.
    ///
    /// # Errors
    ///
    /// [`ClientError::Serializer`] when `body` cannot be serialized; [`ClientError::Closed`]
    /// when the connection has ended.
    pub async fn notify<T: EncodePayload + ?Sized>(
        &self,
        route: &str,
        body: &T,
    ) -> Result<(), ClientError> {
        let payload = body.encode_payload(&self.hub().serializer)?;
        self.notify_raw(route, payload).await
    }

    /// Sends a notify with an already-serialized body.
    ///
    /// # Errors
    ///
    /// [`ClientError::Closed`] when the connection has ended.
    pub async fn notify_raw(
        &self,
        route: &str,
        payload: impl Into<Bytes>,
    ) -> Result<(), ClientError> {
        let shared = &*self.shared();
        if let Some(reason) = lock(&shared.pending).closed.clone() {
            return Err(self.ended(reason));
        }
        let message = Message::Notify {
            route: route_on(shared, route),
            payload: payload.into(),
        };
        self.send(shared, &message).await
    }

    /// The pushes on `route` from now on.
    ///
    /// Subscribe before doing what triggers the push: pushes that arrive while nobody listens
    /// to their route are dropped.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn run(client: nano_client::Client) -> Result<(), nano_client::ClientError> {
    /// let mut members = client.subscribe("onMembers");
    /// client.request_raw("room.join", &br#"{"name":"ann"}"#[..]).await?;
    /// let push = members.recv().await.expect("connection open");
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self, route: &str) -> Pushes {
        lock(&self.hub().subscriptions).subscribe(Some(route), self.hub().push_buffer)
    }

    /// Every push, whatever its route, from now on.
    pub fn pushes(&self) -> Pushes {
        lock(&self.hub().subscriptions).subscribe(None, self.hub().push_buffer)
    }

    /// Waits until the connection ends and says why (a kick and its reason, a heartbeat
    /// timeout, the server closing, ...). Returns at once if it has already ended.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) -> CloseReason {
        let mut closed = self.hub().closed.subscribe();
        match closed.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or(CloseReason::ClosedByClient),
            // The sender lives in `Shared`, which `self` keeps alive.
            Err(_) => CloseReason::ClosedByClient,
        }
    }

    /// Why the connection ended, or `None` while it is open.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.hub().closed.borrow().clone()
    }

    /// What happens to the connection from now on: losses, reconnect attempts, reconnects,
    /// and last the client's end ([`ConnectionEvent::Closed`](crate::ConnectionEvent::Closed)).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use nano_client::{ClientBuilder, ConnectionEvent, Reconnect};
    ///
    /// # async fn run() -> Result<(), nano_client::ClientError> {
    /// let client = ClientBuilder::new()
    ///     .reconnect(Reconnect::new().max_attempts(10))
    ///     .connect("127.0.0.1:3250")
    ///     .await?;
    /// let mut events = client.events();
    /// while let Some(event) = events.recv().await {
    ///     match event {
    ///         // A new session on the server: log in and join again.
    ///         ConnectionEvent::Reconnected { .. } => { /* client.request("room.join", ..) */ }
    ///         ConnectionEvent::Closed { reason } => break,
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> Events {
        Events {
            receiver: self.hub().events.subscribe(),
        }
    }

    /// Whether the client has a live connection now (`false` while reconnecting or once
    /// closed).
    pub fn is_connected(&self) -> bool {
        lock(&self.shared().pending).closed.is_none()
    }

    /// Closes the connection and waits until it has ended.
    pub async fn close(&self) {
        self.handle.cancel.cancel();
        self.closed().await;
    }

    /// The server's handshake reply (its `user` data, `sys` fields, ...), of the current
    /// connection.
    pub fn handshake(&self) -> HandshakeResponse {
        self.shared().handshake.clone()
    }

    /// The id of the server-side session, when the server resumes sessions
    /// (docs/PROTOCOL-EXTENSIONS.md): the same after a reconnect that resumed it.
    pub fn session_id(&self) -> Option<u64> {
        self.hub().resumption.session()
    }

    /// The heartbeat interval the server asked for, if any.
    pub fn heartbeat_interval(&self) -> Option<Duration> {
        self.shared().heartbeat
    }

    /// The route dictionary the server sent on the current connection (empty if none).
    pub fn dict(&self) -> RouteDict {
        self.shared().dict.clone()
    }

    /// The payload serializer in use (the same for the client's whole life).
    pub fn serializer(&self) -> &Serializer {
        &self.hub().serializer
    }

    async fn send(&self, shared: &Shared, message: &Message) -> Result<(), ClientError> {
        let packet = EncodedPacket::from_message(message, None)?;
        self.send_packet(shared, packet).await
    }

    async fn send_packet(&self, shared: &Shared, packet: EncodedPacket) -> Result<(), ClientError> {
        shared
            .outgoing
            .send(packet)
            .await
            .map_err(|_| self.ended(shared.close_reason()))
    }
}

/// The route as it goes on the wire on `shared`: its code when the dictionary has it.
fn route_on(shared: &Shared, route: &str) -> Route {
    match shared.dict.code(route) {
        Some(code) => Route::Code(code),
        None => Route::Name(RouteName::from(route.to_owned())),
    }
}

/// Forgets a pending request when its future ends, however it ends: on the connection it
/// was sent on, among those waiting for a resume, and on the connection that resumed it.
struct ForgetOnDrop<'a> {
    client: &'a Client,
    first: &'a Shared,
    id: u64,
}

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        lock(&self.first.pending).waiting.remove(&self.id);
        self.first.resumption.forget_request(self.id);
        lock(&self.client.shared().pending).waiting.remove(&self.id);
    }
}
