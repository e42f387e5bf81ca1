//! Payload serializers: how handler arguments and results become message payloads.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

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

/// The payload format both ends of a connection agree on.
///
/// JSON is what the JavaScript Pomelo/nano clients speak and the default. MessagePack uses
/// `rmp-serde` with structs as maps (field names included), so clients in any language can read
/// it without the Rust type definitions. The server announces its choice in the handshake reply
/// (`sys.serializer`: `"json"` or `"msgpack"`).
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Serializer {
    /// JSON via serde_json (the default; what JS clients expect).
    #[default]
    Json,
    /// MessagePack via rmp-serde, structs encoded as maps.
    MessagePack,
}

impl Serializer {
    /// The name announced in the handshake: `"json"` or `"msgpack"`.
    pub const fn name(self) -> &'static str {
        match self {
            Serializer::Json => "json",
            Serializer::MessagePack => "msgpack",
        }
    }

    /// The serializer announced as `name` in a handshake, if nano-rs knows it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "json" => Some(Serializer::Json),
            "msgpack" | "messagepack" => Some(Serializer::MessagePack),
            _ => None,
        }
    }

    /// Serializes `value` into a payload.
    ///
    /// # Errors
    ///
    /// [`SerializerError::Serialize`] when the value cannot be represented (a map with non-string
    /// keys in JSON, a failing `Serialize` impl, ...).
    pub fn serialize<T: Serialize + ?Sized>(self, value: &T) -> Result<Bytes, SerializerError> {
        let bytes = match self {
            Serializer::Json => {
                serde_json::to_vec(value).map_err(|err| SerializerError::Serialize(err.into()))?
            }
            Serializer::MessagePack => rmp_serde::to_vec_named(value)
                .map_err(|err| SerializerError::Serialize(err.into()))?,
        };
        Ok(Bytes::from(bytes))
    }

    /// Deserializes a payload.
    ///
    /// # Errors
    ///
    /// [`SerializerError::Deserialize`] when `bytes` is not a valid encoding of `T`.
    pub fn deserialize<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, SerializerError> {
        match self {
            Serializer::Json => serde_json::from_slice(bytes)
                .map_err(|err| SerializerError::Deserialize(err.into())),
            Serializer::MessagePack => {
                rmp_serde::from_slice(bytes).map_err(|err| SerializerError::Deserialize(err.into()))
            }
        }
    }
}
