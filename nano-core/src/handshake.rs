//! Checking handshakes: the app's validator and what it answers a refused client with.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::Session;
use crate::protocol::HandshakeRequest;

/// A refused handshake: the code sent to the client (pomelo convention: 500 failure, 501 client
/// too old) and optional `user` data for it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct HandshakeRejection {
    /// The handshake reply's `code`.
    pub code: u16,
    /// The handshake reply's `user` field (`null` for none).
    pub user: Value,
}

impl HandshakeRejection {
    /// A rejection with `code` and no user data.
    pub fn new(code: u16) -> Self {
        Self {
            code,
            user: Value::Null,
        }
    }

    /// The same rejection, with `user` data for the client (the reply's `user` field).
    ///
    /// ```
    /// use nano_core::HandshakeRejection;
    ///
    /// let rejection = HandshakeRejection::refused().with_user(serde_json::json!({ "reason": "banned" }));
    /// assert_eq!((rejection.code, &rejection.user["reason"]), (500, &serde_json::json!("banned")));
    /// ```
    #[must_use]
    pub fn with_user(mut self, user: Value) -> Self {
        self.user = user;
        self
    }

    /// Code 501: the client is too old.
    pub fn old_client() -> Self {
        Self::new(501)
    }

    /// Code 500: refused.
    pub fn refused() -> Self {
        Self::new(500)
    }
}

type ValidatorFuture = Pin<Box<dyn Future<Output = Result<(), HandshakeRejection>> + Send>>;

/// The app's handshake validator (see
/// [`AppBuilder::handshake_validator`](crate::AppBuilder::handshake_validator)).
pub(crate) type Validator = Arc<dyn Fn(HandshakeRequest, Session) -> ValidatorFuture + Send + Sync>;
