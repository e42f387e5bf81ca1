//! [`Call`]: one message on its way to a handler.

use std::fmt;

use bytes::Bytes;

use crate::component::RouteMeta;
use crate::handler::{Deferred, Reply};
use crate::payload::{DecodePayload, EncodePayload};
use crate::{HandlerError, Session};

/// One request or notify on its way to a handler: the session, the message id and the raw
/// payload. Generated dispatch code decodes the payload and turns the handler's return value
/// into a [`Reply`] with the methods here.
pub struct Call {
    session: Session,
    route: &'static RouteMeta,
    mid: u64,
    payload: Bytes,
}

impl Call {
    /// A call of `route` from `session`: a request when `mid` is not 0, else a notify.
    pub fn new(session: Session, route: &'static RouteMeta, mid: u64, payload: Bytes) -> Self {
        Self {
            session,
            route,
            mid,
            payload,
        }
    }

    /// The calling session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The route being called.
    pub fn route(&self) -> &'static RouteMeta {
        self.route
    }

    /// The request id; 0 for a notify.
    pub fn mid(&self) -> u64 {
        self.mid
    }

    /// Whether the client expects a response.
    pub fn is_request(&self) -> bool {
        self.mid != 0
    }

    /// The payload as received.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Decodes the payload with the app's serializer; an undecodable payload becomes a 400
    /// error reply.
    ///
    /// # Errors
    ///
    /// The 400 [`Reply::Error`] to answer with.
    pub fn decode<T: DecodePayload>(&self) -> Result<T, Reply> {
        T::decode_payload(&self.session.core().serializer, &self.payload).map_err(|err| {
            Reply::Error(
                HandlerError::bad_request(format!(
                    "invalid payload for `{}`: {err}",
                    self.route.route
                ))
                .with_source(err),
            )
        })
    }

    /// The reply for a handler returning `()`: an empty object for a request (so the client
    /// is never left waiting), nothing for a notify.
    pub fn reply_unit(&self) -> Reply {
        if !self.is_request() {
            return Reply::None;
        }
        match self.session.core().serializer.empty_object() {
            Ok(payload) => Reply::Payload(payload),
            Err(err) => Reply::Error(
                HandlerError::internal("cannot serialize the response").with_source(err),
            ),
        }
    }

    /// The reply for a handler returning a value.
    pub fn reply_value<T: EncodePayload>(&self, value: T) -> Reply {
        if !self.is_request() {
            return Reply::None;
        }
        match value.encode_payload(&self.session.core().serializer) {
            Ok(payload) => Reply::Payload(payload),
            Err(err) => Reply::Error(
                HandlerError::internal("cannot serialize the response").with_source(err),
            ),
        }
    }

    /// The reply for a handler returning raw bytes: sent untouched.
    pub fn reply_bytes(&self, payload: Bytes) -> Reply {
        if self.is_request() {
            Reply::Payload(payload)
        } else {
            Reply::None
        }
    }

    /// The reply for a handler returning `Result<T, E>`.
    pub fn reply_result<T: EncodePayload, E: Into<HandlerError>>(
        &self,
        result: Result<T, E>,
    ) -> Reply {
        match result {
            Ok(value) => self.reply_value(value),
            Err(err) => Reply::Error(err.into()),
        }
    }

    /// The reply for a handler returning `Result<(), E>`.
    pub fn reply_unit_result<E: Into<HandlerError>>(&self, result: Result<(), E>) -> Reply {
        match result {
            Ok(()) => self.reply_unit(),
            Err(err) => Reply::Error(err.into()),
        }
    }

    /// The reply for a handler returning `Result<Bytes, E>`.
    pub fn reply_bytes_result<E: Into<HandlerError>>(&self, result: Result<Bytes, E>) -> Reply {
        match result {
            Ok(payload) => self.reply_bytes(payload),
            Err(err) => Reply::Error(err.into()),
        }
    }

    /// The reply for a handler returning [`Deferred`]: none now; the handler answers later.
    pub fn reply_deferred(&self, _deferred: Deferred) -> Reply {
        Reply::None
    }
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("session", &self.session.id())
            .field("route", &self.route.route)
            .field("mid", &self.mid)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}
