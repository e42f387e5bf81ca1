//! Routes: the `"component.method"` names messages are addressed to, and their compressed form.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

use super::ProtocolError;

/// The longest route, in bytes, that fits the protocol's 1-byte route length.
pub const MAX_ROUTE_LEN: usize = 255;

/// A route name such as `"room.join"`: UTF-8 text backed by [`Bytes`].
///
/// Decoding a message slices the route out of the read buffer without copying it, and a route
/// made from a `&'static str` costs nothing, so route names never allocate on the hot path.
///
/// # Examples
///
/// ```
/// use nano_core::protocol::RouteName;
///
/// let route = RouteName::from_static("room.join");
/// assert_eq!(route.as_str(), "room.join");
/// assert_eq!(route, RouteName::from("room.join".to_string()));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteName(Bytes);

impl RouteName {
    /// Makes a route name from a string literal, without allocating.
    pub const fn from_static(route: &'static str) -> Self {
        Self(Bytes::from_static(route.as_bytes()))
    }

    /// Makes a route name from bytes, checking that they are UTF-8.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidRouteUtf8`] when `bytes` is not valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, ProtocolError> {
        match std::str::from_utf8(&bytes) {
            Ok(_) => Ok(Self(bytes)),
            Err(_) => Err(ProtocolError::InvalidRouteUtf8),
        }
    }

    /// The route as text.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor of `RouteName` either starts from a `str` or checks the bytes
        // with `std::str::from_utf8`, and `Bytes` is immutable, so the bytes are valid UTF-8.
        // Re-validating here would put a UTF-8 scan on every route lookup of every message.
        #[allow(unsafe_code)]
        unsafe {
            std::str::from_utf8_unchecked(&self.0)
        }
    }

    /// The route's UTF-8 bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Length of the route in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the route is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&'static str> for RouteName {
    fn from(route: &'static str) -> Self {
        Self::from_static(route)
    }
}

impl From<String> for RouteName {
    fn from(route: String) -> Self {
        Self(Bytes::from(route))
    }
}

impl Hash for RouteName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Hash as `str` so that maps keyed by `RouteName` can be queried with a `&str`.
        self.as_str().hash(state);
    }
}

impl Borrow<str> for RouteName {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for RouteName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for RouteName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RouteName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for RouteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for RouteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message's route as it travels: either the name or its 2-byte dictionary code.
///
/// A decoded message carries the route exactly as the peer sent it; resolve a
/// [`Route::Code`] with [`RouteDict::resolve`](super::RouteDict::resolve).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// The route as text (flag bit 0 clear).
    Name(RouteName),
    /// The route as a dictionary code (flag bit 0 set).
    Code(u16),
}

impl Route {
    /// Whether the route travels compressed (as a dictionary code).
    pub fn is_compressed(&self) -> bool {
        matches!(self, Route::Code(_))
    }

    /// The route's name, when it is not compressed.
    pub fn name(&self) -> Option<&RouteName> {
        match self {
            Route::Name(name) => Some(name),
            Route::Code(_) => None,
        }
    }
}

impl From<RouteName> for Route {
    fn from(name: RouteName) -> Self {
        Route::Name(name)
    }
}

impl From<&'static str> for Route {
    fn from(name: &'static str) -> Self {
        Route::Name(RouteName::from_static(name))
    }
}

impl From<u16> for Route {
    fn from(code: u16) -> Self {
        Route::Code(code)
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Name(name) => f.write_str(name.as_str()),
            Route::Code(code) => write!(f, "#{code}"),
        }
    }
}
