//! The route dictionary: route names and their 2-byte codes, both directions.

use std::collections::HashMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ProtocolError, Route, RouteName, route::MAX_ROUTE_LEN};

/// Why a route could not be added to a [`RouteDict`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteDictError {
    /// The route already has a code.
    #[error("route `{0}` is already in the dictionary")]
    DuplicateRoute(String),
    /// The code already names another route.
    #[error("dictionary code {code} is already used by route `{route}`")]
    DuplicateCode {
        /// The contested code.
        code: u16,
        /// The route that holds it.
        route: String,
    },
    /// The route is too long to ever be sent uncompressed, or empty.
    #[error("route `{0}` must be 1 to 255 bytes long")]
    InvalidRoute(String),
    /// All 65,536 codes are taken.
    #[error("the route dictionary is full")]
    Full,
}

/// Route names and their 2-byte codes, in both directions.
///
/// The server sends the dictionary to clients in the handshake reply (`sys.dict`); from then on
/// both sides may send a dictionary route as its code instead of its name. Serialized with
/// serde, a dictionary is the JSON object the handshake carries: `{"room.join": 1, ...}`.
///
/// # Examples
///
/// ```
/// use nano_core::protocol::{Route, RouteDict};
///
/// let dict = RouteDict::from_routes(["room.join", "room.message", "onMessage"])?;
/// assert_eq!(dict.code("room.message"), Some(2));
/// assert_eq!(dict.resolve(&Route::Code(1))?.as_str(), "room.join");
/// assert_eq!(serde_json::to_string(&dict)?, r#"{"room.join":1,"room.message":2,"onMessage":3}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RouteDict {
    by_name: HashMap<RouteName, u16>,
    /// Indexed by code; kept sorted by code for lookups and stable serialization.
    by_code: Vec<(u16, RouteName)>,
}

impl RouteDict {
    /// An empty dictionary: every route travels by name.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a dictionary giving codes 1, 2, 3, ... to `routes` in order.
    ///
    /// The same list in the same order always gives the same codes.
    ///
    /// # Errors
    ///
    /// [`RouteDictError`] for a repeated or invalid route.
    pub fn from_routes<I, R>(routes: I) -> Result<Self, RouteDictError>
    where
        I: IntoIterator<Item = R>,
        R: Into<RouteName>,
    {
        let mut dict = Self::new();
        for route in routes {
            dict.push(route)?;
        }
        Ok(dict)
    }

    /// Adds `route` with the code after the highest one in use (1 for an empty dictionary) and
    /// returns that code.
    ///
    /// # Errors
    ///
    /// [`RouteDictError`] when the route is already present, invalid, or no code is left.
    pub fn push(&mut self, route: impl Into<RouteName>) -> Result<u16, RouteDictError> {
        let code = match self.by_code.last() {
            None => 1,
            Some(&(last, _)) => last.checked_add(1).ok_or(RouteDictError::Full)?,
        };
        self.insert(route, code)?;
        Ok(code)
    }

    /// Adds `route` with a chosen `code`.
    ///
    /// # Errors
    ///
    /// [`RouteDictError`] when the route or the code is already present, or the route is empty
    /// or longer than 255 bytes.
    pub fn insert(&mut self, route: impl Into<RouteName>, code: u16) -> Result<(), RouteDictError> {
        let route = route.into();
        if route.is_empty() || route.len() > MAX_ROUTE_LEN {
            return Err(RouteDictError::InvalidRoute(route.to_string()));
        }
        if self.by_name.contains_key(route.as_str()) {
            return Err(RouteDictError::DuplicateRoute(route.to_string()));
        }
        let slot = match self.by_code.binary_search_by_key(&code, |(code, _)| *code) {
            Ok(index) => {
                return Err(RouteDictError::DuplicateCode {
                    code,
                    route: self.by_code[index].1.to_string(),
                });
            }
            Err(slot) => slot,
        };
        self.by_name.insert(route.clone(), code);
        self.by_code.insert(slot, (code, route));
        Ok(())
    }

    /// The code of `route`, if it has one.
    pub fn code(&self, route: &str) -> Option<u16> {
        self.by_name.get(route).copied()
    }

    /// The route that `code` stands for.
    pub fn name(&self, code: u16) -> Option<&RouteName> {
        let index = self
            .by_code
            .binary_search_by_key(&code, |(code, _)| *code)
            .ok()?;
        Some(&self.by_code[index].1)
    }

    /// The name of a route as sent on the wire: a name as is, a code looked up.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::UnknownRouteCode`] for a code that is not in the dictionary.
    pub fn resolve(&self, route: &Route) -> Result<RouteName, ProtocolError> {
        match route {
            Route::Name(name) => Ok(name.clone()),
            Route::Code(code) => self
                .name(*code)
                .cloned()
                .ok_or(ProtocolError::UnknownRouteCode(*code)),
        }
    }

    /// Number of routes.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// Whether the dictionary has no routes.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// The routes and their codes, in code order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&RouteName, u16)> + '_ {
        self.by_code.iter().map(|(code, route)| (route, *code))
    }

    /// The dictionary's version, sent as the handshake's `sys.dictVersion`: 16 lowercase hex
    /// digits of the 64-bit FNV-1a hash of every `route=code\n` line (code in decimal), the
    /// lines sorted by route name byte by byte.
    ///
    /// It depends on the routes and their codes only, so the same dictionary has the same
    /// version in every process that builds it: after a restart, and on every node of a cluster.
    ///
    /// # Examples
    ///
    /// ```
    /// use nano_core::protocol::RouteDict;
    ///
    /// let dict = RouteDict::from_routes(["room.join", "onMessage"])?;
    /// // FNV-1a 64 of "onMessage=2\nroom.join=1\n".
    /// assert_eq!(dict.version(), "02dbeefd5d11dc47");
    /// assert_eq!(RouteDict::from_routes(["room.join", "onMessage"])?.version(), dict.version());
    /// assert_ne!(RouteDict::from_routes(["onMessage", "room.join"])?.version(), dict.version());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version(&self) -> String {
        let mut lines: Vec<(&str, u16)> = self.iter().map(|(r, c)| (r.as_str(), c)).collect();
        lines.sort_unstable();
        let mut hash = Fnv1a::default();
        for (route, code) in lines {
            hash.write(route.as_bytes());
            hash.write(b"=");
            hash.write(code.to_string().as_bytes());
            hash.write(b"\n");
        }
        format!("{:016x}", hash.0)
    }
}

/// The 64-bit FNV-1a hash (fixed offset basis and prime: no per-process seed).
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl fmt::Debug for RouteDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for RouteDict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (route, code) in self.iter() {
            map.serialize_entry(route.as_str(), &code)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for RouteDict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DictVisitor;

        impl<'de> Visitor<'de> for DictVisitor {
            type Value = RouteDict;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from route names to codes 0..=65535")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RouteDict, A::Error> {
                let mut dict = RouteDict::new();
                while let Some((route, code)) = map.next_entry::<String, u16>()? {
                    dict.insert(route, code).map_err(serde::de::Error::custom)?;
                }
                Ok(dict)
            }
        }

        deserializer.deserialize_map(DictVisitor)
    }
}
