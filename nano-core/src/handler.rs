//! What a handler returns: [`HandlerError`], [`Deferred`], and the runtime's [`Reply`].

use std::fmt;

use bytes::Bytes;

use crate::BoxError;

/// An error a handler answers a request with: a code and a message the client can read.
///
/// The client receives it as an error response whose body is, by default,
/// `{"code":<code>,"msg":"<message>"}` (see [`ErrorBody`](crate::ErrorBody)).
///
/// Any `std::error::Error` converts into a `HandlerError` with code 500 and the message
/// `"internal error"`, so `?` works in handlers without leaking internal details (database
/// errors, file paths) to clients; the original error is kept as the [`source`](Self::source)
/// and logged by the server. Use [`HandlerError::new`] and friends for errors meant for the
/// player.
///
/// # Examples
///
/// ```
/// use nano_core::HandlerError;
///
/// fn spend(gold: u32, price: u32) -> Result<u32, HandlerError> {
///     gold.checked_sub(price).ok_or_else(|| HandlerError::new(1001, "not enough gold"))
/// }
/// assert_eq!(spend(5, 10).unwrap_err().code(), 1001);
///
/// fn parse(text: &str) -> Result<u32, HandlerError> {
///     Ok(text.parse::<u32>()?) // ParseIntError -> 500 "internal error"
/// }
/// let err = parse("x").unwrap_err();
/// assert_eq!((err.code(), err.message()), (500, "internal error"));
/// assert!(err.source().is_some());
/// ```
pub struct HandlerError {
    code: i32,
    message: String,
    source: Option<BoxError>,
}

impl HandlerError {
    /// Bad input: the payload could not be decoded (400).
    pub const BAD_REQUEST: i32 = 400;
    /// No handler for the route (404).
    pub const NOT_FOUND: i32 = 404;
    /// The handler failed or panicked (500).
    pub const INTERNAL: i32 = 500;

    /// An error with `code` and a message for the client.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            source: None,
        }
    }

    /// A 400 error.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Self::BAD_REQUEST, message)
    }

    /// A 404 error.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Self::NOT_FOUND, message)
    }

    /// A 500 error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Self::INTERNAL, message)
    }

    /// Attaches the underlying cause, for the server's logs (never sent to the client).
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The code sent to the client.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The message sent to the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The underlying cause, if any.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl<E> From<E> for HandlerError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Self::internal("internal error").with_source(error)
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

/// Returned by a request handler that answers later, with
/// [`Session::respond`](crate::Session::respond) and the request's id
/// ([`Session::last_mid`](crate::Session::last_mid)).
///
/// # Examples
///
/// ```
/// use nano_core::prelude::*;
///
/// struct Matchmaker;
///
/// #[component(name = "match")]
/// impl Matchmaker {
///     #[handler]
///     fn find(&self, session: &Session) -> Deferred {
///         let (session, mid) = (session.clone(), session.last_mid());
///         tokio::spawn(async move {
///             // ... wait for an opponent ...
///             let _ = session.respond(mid, &serde_json::json!({ "opponent": "bob" }));
///         });
///         Deferred
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deferred;

/// What the runtime does after a handler: the outcome of one dispatched message.
#[derive(Debug)]
#[non_exhaustive]
pub enum Reply {
    /// Nothing to send: a notify was handled, or the handler answers later.
    None,
    /// Answer the request with this serialized body.
    Payload(Bytes),
    /// Answer the request with an error response.
    Error(HandlerError),
}
