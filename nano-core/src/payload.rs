//! [`EncodePayload`] and [`DecodePayload`]: the values that travel as message payloads.
//!
//! Every serde type is a payload, encoded by the app's [`Serializer`] (JSON, MessagePack or a
//! format of your own). With the `protobuf` feature, a prost message wrapped in
//! [`Proto`](crate::Proto) is one too, always encoded as protobuf.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Serializer, SerializerError};

/// A value that can go out as a payload: a response, a push, a broadcast.
///
/// Implemented for every `serde::Serialize` type (encoded with the app's serializer) and, with
/// the `protobuf` feature, for [`Proto<M>`](crate::Proto) (encoded as protobuf).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a payload",
    label = "not a `serde::Serialize` type, nor a `Proto<M>` of a prost message `M`",
    note = "derive `serde::Serialize` on a serde type, or wrap a prost message `M` (`#[derive(prost::Message)]`) as `Proto(message)`"
)]
pub trait EncodePayload {
    /// Encodes the value for a connection whose app uses `serializer`.
    ///
    /// # Errors
    ///
    /// [`SerializerError::Serialize`] when the value cannot be represented.
    fn encode_payload(&self, serializer: &Serializer) -> Result<Bytes, SerializerError>;
}

/// A value that can be decoded from a payload: a handler's argument, a client's response.
///
/// Implemented for every `serde::de::DeserializeOwned` type (decoded with the app's serializer)
/// and, with the `protobuf` feature, for [`Proto<M>`](crate::Proto) (decoded as protobuf).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be decoded from a payload",
    label = "not a `serde::Deserialize` type, nor a `Proto<M>` of a prost message `M`",
    note = "derive `serde::Deserialize` on a serde type, or wrap a prost message `M` (`#[derive(prost::Message)]`) as `Proto<M>`"
)]
pub trait DecodePayload: Sized {
    /// Decodes a payload received on a connection whose app uses `serializer`.
    ///
    /// # Errors
    ///
    /// [`SerializerError::Deserialize`] when `bytes` is not a valid encoding of `Self`.
    fn decode_payload(serializer: &Serializer, bytes: &[u8]) -> Result<Self, SerializerError>;
}

impl<T: Serialize + ?Sized> EncodePayload for T {
    fn encode_payload(&self, serializer: &Serializer) -> Result<Bytes, SerializerError> {
        serializer.serialize(self)
    }
}

impl<T: DeserializeOwned> DecodePayload for T {
    fn decode_payload(serializer: &Serializer, bytes: &[u8]) -> Result<Self, SerializerError> {
        serializer.deserialize(bytes)
    }
}
