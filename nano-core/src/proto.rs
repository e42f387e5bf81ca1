//! [`Proto`]: a prost message as a payload, encoded as plain protobuf (the `protobuf` feature).

use std::ops::{Deref, DerefMut};

use bytes::Bytes;

use crate::payload::{DecodePayload, EncodePayload};
use crate::{ErrorBody, Serializer, SerializerError};

/// A protobuf message as a handler payload, a response, a push or a broadcast body.
///
/// The payload is the message's plain protobuf encoding, with no envelope: what nano's (Go)
/// protobuf serializer and its clients send. A `Proto` is always encoded as protobuf, whatever
/// the app's serializer; pick [`Serializer::Protobuf`] to announce `"protobuf"` in the
/// handshake when every payload of the app is one.
///
/// # Examples
///
/// ```
/// use nano_core::prelude::*;
/// use nano_core::{DecodePayload, EncodePayload, Proto, Serializer};
///
/// #[derive(Clone, PartialEq, prost::Message)]
/// pub struct Join {
///     #[prost(string, tag = "1")]
///     pub name: String,
/// }
///
/// #[derive(Clone, PartialEq, prost::Message)]
/// pub struct Joined {
///     #[prost(uint64, tag = "1")]
///     pub member_id: u64,
/// }
///
/// struct Room;
///
/// #[component]
/// impl Room {
///     #[handler]
///     fn join(&self, session: &Session, Proto(join): Proto<Join>) -> Proto<Joined> {
///         session.set("name", join.name);
///         Proto(Joined { member_id: session.id() })
///     }
/// }
///
/// let bytes = Proto(Join { name: "ann".into() }).encode_payload(&Serializer::Protobuf)?;
/// assert_eq!(&bytes[..], b"\x0a\x03ann");
/// let Proto(join) = Proto::<Join>::decode_payload(&Serializer::Protobuf, &bytes)?;
/// assert_eq!(join.name, "ann");
/// # Ok::<(), nano_core::SerializerError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Proto<M>(pub M);

impl<M> Proto<M> {
    /// The message.
    pub fn into_inner(self) -> M {
        self.0
    }
}

impl<M> From<M> for Proto<M> {
    fn from(message: M) -> Self {
        Proto(message)
    }
}

impl<M> Deref for Proto<M> {
    type Target = M;

    fn deref(&self) -> &M {
        &self.0
    }
}

impl<M> DerefMut for Proto<M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.0
    }
}

/// A protobuf message type: any `prost::Message` with a `Default` (what `#[derive(prost::Message)]`
/// and prost-build generate). Implemented for all of them; the bound of [`Proto`]'s payload impls.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a protobuf message",
    label = "`Proto<{Self}>` needs `{Self}: prost::Message`",
    note = "derive `prost::Message` on `{Self}` (or generate it from a .proto with prost-build); for a serde type, drop the `Proto` wrapper"
)]
pub trait ProtoMessage: prost::Message + Default {}

impl<M: prost::Message + Default> ProtoMessage for M {}

impl<M: ProtoMessage> EncodePayload for Proto<M> {
    fn encode_payload(&self, _serializer: &Serializer) -> Result<Bytes, SerializerError> {
        Ok(encode(&self.0))
    }
}

impl<M: ProtoMessage> DecodePayload for Proto<M> {
    fn decode_payload(_serializer: &Serializer, bytes: &[u8]) -> Result<Self, SerializerError> {
        decode(bytes).map(Proto)
    }
}

/// `message`'s protobuf encoding.
pub(crate) fn encode<M: prost::Message>(message: &M) -> Bytes {
    Bytes::from(message.encode_to_vec())
}

/// Decodes a protobuf message.
pub(crate) fn decode<M: ProtoMessage>(bytes: &[u8]) -> Result<M, SerializerError> {
    M::decode(bytes).map_err(|err| SerializerError::Deserialize(err.into()))
}

/// The protobuf form of [`ErrorBody`]: `message ErrorBody { int32 code = 1; string msg = 2; }`
/// (in `nano-core/proto/nano.proto`).
#[derive(Clone, PartialEq, prost::Message)]
struct WireErrorBody {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    msg: String,
}

/// The protobuf encoding of an error body.
pub(crate) fn encode_error_body(code: i32, msg: &str) -> Bytes {
    encode(&WireErrorBody {
        code,
        msg: msg.to_owned(),
    })
}

/// Decodes a protobuf error body.
pub(crate) fn decode_error_body(bytes: &[u8]) -> Result<ErrorBody, SerializerError> {
    let WireErrorBody { code, msg } = decode(bytes)?;
    Ok(ErrorBody { code, msg })
}
