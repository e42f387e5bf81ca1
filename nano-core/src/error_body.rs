//! [`ErrorBody`]: the payload of an error response.

use serde::{Deserialize, Serialize};

use crate::{Serializer, SerializerError};

/// The body nano-rs answers a failed request with: `{"code":404,"msg":"unknown route `x.y`"}`.
///
/// nano and plain pomelo clients have no error channel other than the response body, so an
/// error is a normal Response whose body has this shape. Codes follow HTTP where one fits:
/// 400 undecodable payload, 404 unknown route, 500 handler failure or panic; a handler error
/// carries its own code.
///
/// # Examples
///
/// ```
/// use nano_core::{ErrorBody, Serializer};
///
/// let body = ErrorBody::new(404, "unknown route `room.jion`");
/// let bytes = Serializer::Json.serialize(&body)?;
/// assert_eq!(&bytes[..], br#"{"code":404,"msg":"unknown route `room.jion`"}"#);
/// assert_eq!(ErrorBody::detect(&Serializer::Json, &bytes), Some(body));
/// assert_eq!(ErrorBody::detect(&Serializer::Json, br#"{"code":0,"result":"success"}"#), None);
/// # Ok::<(), nano_core::SerializerError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Error code (never 0 or 200, which mean success in nano and pomelo conventions).
    pub code: i32,
    /// Human-readable message.
    pub msg: String,
}

impl ErrorBody {
    /// An error body with `code` and `msg`.
    pub fn new(code: i32, msg: impl Into<String>) -> Self {
        Self {
            code,
            msg: msg.into(),
        }
    }

    /// Recognizes an error body in a response payload: an object with an integer `code` that is
    /// neither 0 nor 200 and a string `msg`. Other keys are allowed.
    ///
    /// Cheap on ordinary responses: payloads that do not mention `msg` are not parsed. With the
    /// protobuf serializer it is always `None`: a protobuf error body cannot be told from a
    /// response by its bytes, so nano-rs marks protobuf errors with the error flag instead
    /// (see [`AppBuilder::error_flag`](crate::AppBuilder::error_flag)) and a client decodes them
    /// with [`decode`](Self::decode).
    pub fn detect(serializer: &Serializer, payload: &[u8]) -> Option<Self> {
        let marker: &[u8] = match serializer {
            Serializer::Json => b"\"msg\"",
            // A MessagePack fixstr of length 3.
            Serializer::MessagePack => b"\xa3msg",
            Serializer::Custom(_) => b"msg",
            #[cfg(feature = "protobuf")]
            Serializer::Protobuf => return None,
        };
        if !payload.windows(marker.len()).any(|window| window == marker) {
            return None;
        }
        let body: ErrorBody = serializer.deserialize(payload).ok()?;
        (body.code != 0 && body.code != 200).then_some(body)
    }

    /// Decodes the body of a response known to be an error (one with the error flag): `{code,
    /// msg}` in the serializer's format, `nano.ErrorBody` in protobuf.
    ///
    /// # Errors
    ///
    /// When the payload is not an error body.
    pub fn decode(serializer: &Serializer, payload: &[u8]) -> Result<Self, SerializerError> {
        match serializer {
            #[cfg(feature = "protobuf")]
            Serializer::Protobuf => crate::proto::decode_error_body(payload),
            _ => serializer.deserialize(payload),
        }
    }
}
