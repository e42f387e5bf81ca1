//! Bodies of the Handshake and Kick packets (JSON, `docs/PROTOCOL.md` section 4).

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{CodeToRoute, ProtocolError, RouteDict};

/// What a client sends in its Handshake packet.
///
/// A typical body is `{"sys":{"type":"js-websocket","version":"0.0.1","rsa":{}},"user":{}}`.
/// Every field is optional and an empty body is allowed, so [`HandshakeRequest::from_json`]
/// gives the default value for it.
///
/// # Examples
///
/// ```
/// use nano_core::protocol::HandshakeRequest;
///
/// let body = br#"{"sys":{"type":"js-websocket","version":"0.0.1","rsa":{}},"user":{"token":"abc"}}"#;
/// let handshake = HandshakeRequest::from_json(body)?;
/// assert_eq!(handshake.sys.client_type.as_deref(), Some("js-websocket"));
/// assert_eq!(handshake.user["token"], "abc");
/// assert_eq!(HandshakeRequest::from_json(b"")?, HandshakeRequest::default());
/// # Ok::<(), nano_core::protocol::ProtocolError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HandshakeRequest {
    /// Protocol-level fields the client library fills in.
    pub sys: ClientSys,
    /// Application data for the handshake validator (a login token, a client version, ...).
    /// `null` when absent.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub user: Value,
}

/// The `sys` object of a client's handshake.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientSys {
    /// Client library kind, e.g. `"js-websocket"`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
    /// Client library version, e.g. `"0.0.1"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Pomelo's RSA parameters; nano-rs does not sign messages and ignores them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rsa: Option<Value>,
    /// Any other keys (`protoVersion`, `dictVersion`, ...), kept for the validator.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ClientSys {
    /// The dictionary version the client has cached (`sys.dictVersion`), when it sent one as a
    /// string. Any other JSON value is treated as no version at all, so the client gets the
    /// whole dictionary.
    pub fn dict_version(&self) -> Option<&str> {
        self.extra.get("dictVersion").and_then(Value::as_str)
    }
}

impl HandshakeRequest {
    /// Parses a client's handshake body; an empty or all-whitespace body gives the default.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidHandshake`] when the body is not JSON, or JSON of another shape
    /// (`sys` that is not an object, `sys.type` that is not a string, ...).
    pub fn from_json(body: &[u8]) -> Result<Self, ProtocolError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice(body).map_err(ProtocolError::InvalidHandshake)
    }

    /// Serializes the handshake for a client to send.
    pub fn to_json(&self) -> Bytes {
        json_bytes(self)
    }
}

/// What the server answers a Handshake with.
///
/// `{"code":200,"sys":{"heartbeat":30,"dict":{"room.join":1},"servertime":1700000000}}`
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_core::protocol::{HandshakeResponse, ServerSys};
///
/// let reply = HandshakeResponse::ok(ServerSys {
///     heartbeat: Some(Duration::from_secs(30)),
///     servertime: Some(1_700_000_000),
///     ..ServerSys::default()
/// });
/// assert_eq!(&reply.to_json()[..], br#"{"code":200,"sys":{"heartbeat":30,"servertime":1700000000}}"#);
///
/// let rejected = HandshakeResponse::error(HandshakeResponse::OLD_CLIENT);
/// assert_eq!(&rejected.to_json()[..], br#"{"code":501}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HandshakeResponse {
    /// 200 on success; see [`HandshakeResponse::FAIL`] and [`HandshakeResponse::OLD_CLIENT`].
    pub code: u16,
    /// Protocol parameters, present on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sys: Option<ServerSys>,
    /// Application data for the client. `null` when absent.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub user: Value,
}

impl HandshakeResponse {
    /// The handshake succeeded.
    pub const OK: u16 = 200;
    /// The handshake was refused (pomelo's generic failure code).
    pub const FAIL: u16 = 500;
    /// The client is too old (pomelo's version-gate code).
    pub const OLD_CLIENT: u16 = 501;

    /// A successful reply carrying `sys`.
    pub fn ok(sys: ServerSys) -> Self {
        Self {
            code: Self::OK,
            sys: Some(sys),
            user: Value::Null,
        }
    }

    /// A refusal with `code` and nothing else.
    pub fn error(code: u16) -> Self {
        Self {
            code,
            sys: None,
            user: Value::Null,
        }
    }

    /// Parses a server's handshake reply.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidHandshake`] when the body is not a JSON object with a numeric
    /// `code`, or a field has the wrong type.
    pub fn from_json(body: &[u8]) -> Result<Self, ProtocolError> {
        serde_json::from_slice(body).map_err(ProtocolError::InvalidHandshake)
    }

    /// Serializes the reply.
    pub fn to_json(&self) -> Bytes {
        json_bytes(self)
    }
}

/// The `sys` object of the server's handshake reply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSys {
    /// Heartbeat interval, sent as seconds (a whole number when it is one, else fractional).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "seconds::serialize",
        deserialize_with = "seconds::deserialize"
    )]
    pub heartbeat: Option<Duration>,
    /// The route dictionary (route -> code), nano's form, read by nano's JS clients and Unity's
    /// C# client. Present when a dictionary is in use and the client has no current copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dict: Option<RouteDict>,
    /// The same map as `dict` under pomelo 2.x's name, read by libpomelo2.
    #[serde(rename = "routeToCode", skip_serializing_if = "Option::is_none")]
    pub route_to_code: Option<RouteDict>,
    /// The dictionary keyed by code (`{"1":"room.join"}`), pomelo 2.x's `codeToRoute`.
    #[serde(rename = "codeToRoute", skip_serializing_if = "Option::is_none")]
    pub code_to_route: Option<CodeToRoute>,
    /// The dictionary's version ([`RouteDict::version`]), sent with the maps; a client sends it
    /// back in its next handshake to skip them.
    #[serde(rename = "dictVersion", skip_serializing_if = "Option::is_none")]
    pub dict_version: Option<String>,
    /// `true` whenever a dictionary is in use, with or without the maps.
    #[serde(rename = "useDict", skip_serializing_if = "Option::is_none")]
    pub use_dict: Option<bool>,
    /// The server's current time, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub servertime: Option<u64>,
    /// The payload serializer in use (`"json"`, `"msgpack"`, ...). JS clients ignore it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serializer: Option<String>,
    /// Any other keys a server sent (pomelo's `protos`, `useProto`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of a Kick packet: `{"reason":"..."}`. Pomelo clients emit it as `onKick`.
///
/// # Examples
///
/// ```
/// use nano_core::protocol::Kick;
///
/// let kick = Kick::new("slow consumer");
/// assert_eq!(&kick.to_json()[..], br#"{"reason":"slow consumer"}"#);
/// assert_eq!(Kick::from_json(&kick.to_json())?, kick);
/// # Ok::<(), nano_core::protocol::ProtocolError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kick {
    /// Why the server closed the session.
    #[serde(default)]
    pub reason: String,
}

impl Kick {
    /// A kick with `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// Parses a Kick body; an empty body is a kick without a reason.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::InvalidKick`] when the body is not a JSON object of that shape.
    pub fn from_json(body: &[u8]) -> Result<Self, ProtocolError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice(body).map_err(ProtocolError::InvalidKick)
    }

    /// Serializes the kick.
    pub fn to_json(&self) -> Bytes {
        json_bytes(self)
    }
}

fn json_bytes(value: &impl Serialize) -> Bytes {
    // These types hold only strings, numbers, maps with string keys and `serde_json::Value`s,
    // which serde_json always serializes; an error here would be a bug in this module.
    Bytes::from(serde_json::to_vec(value).expect("handshake types always serialize to JSON"))
}

/// A `Duration` as a JSON number of seconds.
mod seconds {
    use super::{Deserialize, Deserializer, Duration, Serializer};

    // serde's `serialize_with` passes `&Option<Duration>`.
    #[allow(clippy::ref_option)]
    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) if duration.subsec_nanos() == 0 => {
                serializer.serialize_u64(duration.as_secs())
            }
            Some(duration) => serializer.serialize_f64(duration.as_secs_f64()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let Some(seconds) = Option::<f64>::deserialize(deserializer)? else {
            return Ok(None);
        };
        Duration::try_from_secs_f64(seconds)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}
