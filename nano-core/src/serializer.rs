//! Payload serializers: how handler arguments and results become message payloads.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A boxed error from a serializer backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A payload could not be serialized or deserialized.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SerializerError {
    /// The value could not be turned into bytes.
    #[error("cannot serialize payload: {0}")]
    Serialize(#[source] BoxError),
    /// The bytes are not a valid encoding of the expected type.
    #[error("cannot deserialize payload: {0}")]
    Deserialize(#[source] BoxError),
}

/// A payload format of your own (CBOR, BSON, a company codec, ...), for
/// [`Serializer::Custom`].
///
/// Values travel through serde's data model as a [`serde_json::Value`]: implement the two
/// conversions between it and bytes. This costs an intermediate value per payload, which the
/// built-in JSON and MessagePack serializers avoid.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use nano_core::{BoxError, PayloadFormat, Serializer};
/// use serde_json::Value;
///
/// /// JSON with a one-byte version prefix.
/// struct Versioned;
///
/// impl PayloadFormat for Versioned {
///     fn name(&self) -> &str { "json-v1" }
///
///     fn encode(&self, value: &Value) -> Result<Bytes, BoxError> {
///         let mut out = vec![1u8];
///         serde_json::to_writer(&mut out, value)?;
///         Ok(out.into())
///     }
///
///     fn decode(&self, bytes: &[u8]) -> Result<Value, BoxError> {
///         match bytes.split_first() {
///             Some((1, json)) => Ok(serde_json::from_slice(json)?),
///             _ => Err("not version 1".into()),
///         }
///     }
/// }
///
/// let serializer = Serializer::custom(Versioned);
/// let bytes = serializer.serialize(&[1, 2])?;
/// assert_eq!(&bytes[..], b"\x01[1,2]");
/// assert_eq!(serializer.deserialize::<Vec<u8>>(&bytes)?, [1, 2]);
/// # Ok::<(), nano_core::SerializerError>(())
/// ```
pub trait PayloadFormat: Send + Sync + 'static {
    /// The name announced in the handshake (`sys.serializer`).
    fn name(&self) -> &str;

    /// Encodes a value.
    ///
    /// # Errors
    ///
    /// When the value cannot be represented in this format.
    fn encode(&self, value: &Value) -> Result<Bytes, BoxError>;

    /// Decodes bytes into a value.
    ///
    /// # Errors
    ///
    /// When the bytes are not valid in this format.
    fn decode(&self, bytes: &[u8]) -> Result<Value, BoxError>;
}

/// The payload format both ends of a connection agree on.
///
/// JSON is what the JavaScript Pomelo/nano clients speak and the default. MessagePack uses
/// `rmp-serde` with structs as maps (field names included), so clients in any language can read
/// it without the Rust type definitions. Protobuf (the `protobuf` feature) is what nano's Go
/// client and most Unity projects on nano speak; its payloads are prost messages wrapped in
/// [`Proto`](crate::Proto). The server announces its choice in the handshake reply
/// (`sys.serializer`: `"json"`, `"msgpack"` or `"protobuf"`).
///
/// # Examples
///
/// ```
/// use nano_core::Serializer;
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Join { name: String }
///
/// let bytes = Serializer::Json.serialize(&Join { name: "ann".into() })?;
/// assert_eq!(&bytes[..], br#"{"name":"ann"}"#);
/// assert_eq!(Serializer::Json.deserialize::<Join>(&bytes)?, Join { name: "ann".into() });
///
/// let packed = Serializer::MessagePack.serialize(&Join { name: "ann".into() })?;
/// assert_eq!(Serializer::MessagePack.deserialize::<Join>(&packed)?.name, "ann");
/// # Ok::<(), nano_core::SerializerError>(())
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Serializer {
    /// JSON via serde_json (the default; what JS clients expect).
    #[default]
    Json,
    /// MessagePack via rmp-serde, structs encoded as maps.
    MessagePack,
    /// Protobuf via prost (the `protobuf` feature): payloads are prost messages wrapped in
    /// [`Proto`](crate::Proto). A serde value cannot be encoded in it (a
    /// [`SerializerError`]), except the runtime's own bodies: the empty answer of a `()`
    /// handler is an empty message, and an error body is `nano.ErrorBody` (see
    /// `nano-core/proto/nano.proto`).
    #[cfg(feature = "protobuf")]
    Protobuf,
    /// A format of your own; see [`PayloadFormat`].
    Custom(Arc<dyn PayloadFormat>),
}

impl Serializer {
    /// A serializer for a custom [`PayloadFormat`].
    pub fn custom(format: impl PayloadFormat) -> Self {
        Serializer::Custom(Arc::new(format))
    }

    /// The name announced in the handshake: `"json"`, `"msgpack"`, `"protobuf"`, or the custom
    /// format's.
    pub fn name(&self) -> &str {
        match self {
            Serializer::Json => "json",
            Serializer::MessagePack => "msgpack",
            #[cfg(feature = "protobuf")]
            Serializer::Protobuf => "protobuf",
            Serializer::Custom(format) => format.name(),
        }
    }

    /// The serializer announced as `name` in a handshake, if nano-rs knows it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "json" => Some(Serializer::Json),
            "msgpack" | "messagepack" => Some(Serializer::MessagePack),
            #[cfg(feature = "protobuf")]
            "protobuf" | "proto" => Some(Serializer::Protobuf),
            _ => None,
        }
    }

    /// Serializes `value` into a payload.
    ///
    /// # Errors
    ///
    /// [`SerializerError::Serialize`] when the value cannot be represented (a map with non-string
    /// keys in JSON, a failing `Serialize` impl, ...).
    pub fn serialize<T: Serialize + ?Sized>(&self, value: &T) -> Result<Bytes, SerializerError> {
        let bytes = match self {
            Serializer::Custom(format) => {
                let value = serde_json::to_value(value)
                    .map_err(|err| SerializerError::Serialize(err.into()))?;
                return format.encode(&value).map_err(SerializerError::Serialize);
            }
            Serializer::Json => {
                serde_json::to_vec(value).map_err(|err| SerializerError::Serialize(err.into()))?
            }
            Serializer::MessagePack => rmp_serde::to_vec_named(value)
                .map_err(|err| SerializerError::Serialize(err.into()))?,
            #[cfg(feature = "protobuf")]
            Serializer::Protobuf => return Err(SerializerError::Serialize(NOT_PROTO.into())),
        };
        Ok(Bytes::from(bytes))
    }

    /// Deserializes a payload.
    ///
    /// # Errors
    ///
    /// [`SerializerError::Deserialize`] when `bytes` is not a valid encoding of `T`.
    pub fn deserialize<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, SerializerError> {
        match self {
            Serializer::Custom(format) => {
                let value = format.decode(bytes).map_err(SerializerError::Deserialize)?;
                serde_json::from_value(value)
                    .map_err(|err| SerializerError::Deserialize(err.into()))
            }
            Serializer::Json => serde_json::from_slice(bytes)
                .map_err(|err| SerializerError::Deserialize(err.into())),
            Serializer::MessagePack => {
                rmp_serde::from_slice(bytes).map_err(|err| SerializerError::Deserialize(err.into()))
            }
            #[cfg(feature = "protobuf")]
            Serializer::Protobuf => Err(SerializerError::Deserialize(NOT_PROTO.into())),
        }
    }

    /// The answer of a handler returning `()`: an empty object (`{}` in JSON, `0x80` in
    /// MessagePack), an empty message in protobuf.
    pub(crate) fn empty_object(&self) -> Result<Bytes, SerializerError> {
        match self {
            #[cfg(feature = "protobuf")]
            Serializer::Protobuf => Ok(Bytes::new()),
            _ => self.serialize(&EmptyObject),
        }
    }

    /// An error body `{code, msg}` in this format (`nano.ErrorBody` in protobuf).
    pub(crate) fn error_body(&self, body: &Value) -> Result<Bytes, SerializerError> {
        match self {
            #[cfg(feature = "protobuf")]
            Serializer::Protobuf => {
                let code = body.get("code").and_then(Value::as_i64).unwrap_or(500);
                let msg = body.get("msg").and_then(Value::as_str).unwrap_or_default();
                let code = i32::try_from(code).unwrap_or(500);
                Ok(crate::proto::encode_error_body(code, msg))
            }
            _ => self.serialize(body),
        }
    }
}

/// Why the protobuf serializer refuses a serde value.
#[cfg(feature = "protobuf")]
const NOT_PROTO: &str =
    "the protobuf serializer encodes prost messages only: send `Proto(message)`, or raw bytes";

/// Serializes as an empty map: `{}` in JSON, `0x80` in MessagePack.
struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        serializer.serialize_map(Some(0))?.end()
    }
}

impl fmt::Debug for Serializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Serializer::Json => f.write_str("Json"),
            Serializer::MessagePack => f.write_str("MessagePack"),
            #[cfg(feature = "protobuf")]
            Serializer::Protobuf => f.write_str("Protobuf"),
            Serializer::Custom(format) => f.debug_tuple("Custom").field(&format.name()).finish(),
        }
    }
}

impl PartialEq for Serializer {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Serializer::Json, Serializer::Json)
            | (Serializer::MessagePack, Serializer::MessagePack) => true,
            #[cfg(feature = "protobuf")]
            (Serializer::Protobuf, Serializer::Protobuf) => true,
            (Serializer::Custom(a), Serializer::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Serializer {}
