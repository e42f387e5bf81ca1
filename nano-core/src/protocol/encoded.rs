//! [`EncodedPacket`]: a packet already turned into its wire bytes.

use bytes::{Bytes, BytesMut};

use super::{Message, Packet, ProtocolError, RouteDict};

/// A whole packet — header and body — already encoded to wire bytes.
///
/// Cloning shares the bytes, so a broadcast encodes a push once and hands the same
/// `EncodedPacket` to every member's connection. Transports write it as is: TCP appends it to the
/// stream, WebSocket sends it as one binary message. The constructors only build valid packets.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use nano_core::protocol::{EncodedPacket, Message, Route};
///
/// let push = Message::Push { route: Route::from("onMessage"), payload: Bytes::from_static(b"{}") };
/// let packet = EncodedPacket::from_message(&push, None)?;
/// assert_eq!(&packet.as_bytes()[..4], &[0x04, 0x00, 0x00, 0x0d]);
/// assert_eq!(&EncodedPacket::heartbeat().as_bytes()[..], &[0x03, 0x00, 0x00, 0x00]);
/// # Ok::<(), nano_core::protocol::ProtocolError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EncodedPacket(Bytes);

impl EncodedPacket {
    /// Encodes `packet`.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::BodyTooLong`] when the body exceeds what a 3-byte length can say.
    pub fn from_packet(packet: &Packet) -> Result<Self, ProtocolError> {
        let mut buf = BytesMut::with_capacity(packet.encoded_len());
        packet.encode(&mut buf)?;
        Ok(Self(buf.freeze()))
    }

    /// Encodes `message` as a Data packet; routes in `dict` are written compressed.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::RouteTooLong`] or [`ProtocolError::BodyTooLong`].
    pub fn from_message(
        message: &Message,
        dict: Option<&RouteDict>,
    ) -> Result<Self, ProtocolError> {
        message.to_packet_bytes(dict).map(Self)
    }

    /// Takes bytes that should be exactly one encoded packet (as another node sent them),
    /// checking the header: a known type and a length that matches.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::UnknownPacketType`], or [`ProtocolError::BodyTooLong`] when the length
    /// does not match the bytes.
    pub fn from_wire(bytes: Bytes) -> Result<Self, ProtocolError> {
        let codec = super::PacketCodec::new(super::MAX_FRAME_BODY_LEN);
        match codec.peek_header(&bytes)? {
            Some((_, len)) if super::HEADER_LEN + len == bytes.len() => Ok(Self(bytes)),
            _ => Err(ProtocolError::BodyTooLong {
                len: bytes.len(),
                max: bytes.len().saturating_sub(super::HEADER_LEN),
            }),
        }
    }

    /// The same packet with its route written as `dict`'s code when it is a Push whose route
    /// `dict` holds by name; any other packet is returned as it is.
    ///
    /// A cluster node relays pushes that another node encoded without the client's dictionary;
    /// this makes them as small as pushes encoded on the client's own node.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use nano_core::protocol::{EncodedPacket, Message, Route, RouteDict};
    ///
    /// let dict = RouteDict::from_routes(["onMessage"])?;
    /// let push = Message::Push { route: Route::from("onMessage"), payload: Bytes::from_static(b"{}") };
    /// let relayed = EncodedPacket::from_message(&push, None)?.compress_route(&dict);
    /// assert_eq!(relayed, EncodedPacket::from_message(&push, Some(&dict))?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn compress_route(self, dict: &RouteDict) -> Self {
        if dict.is_empty() || self.0.first() != Some(&(super::PacketType::Data as u8)) {
            return self;
        }
        let Ok(message) = Message::decode(self.0.slice(super::HEADER_LEN..)) else {
            return self;
        };
        match &message {
            Message::Push {
                route: super::Route::Name(name),
                ..
            } if dict.code(name.as_str()).is_some() => {
                Self::from_message(&message, Some(dict)).unwrap_or(self)
            }
            _ => self,
        }
    }

    /// Whether this is a Data packet holding a Response message.
    pub fn is_response(&self) -> bool {
        self.message_type() == Some(super::MessageType::Response as u8)
    }

    /// Whether this is a Data packet holding a Push message.
    pub fn is_push(&self) -> bool {
        self.message_type() == Some(super::MessageType::Push as u8)
    }

    /// The id of the Response message this packet holds, if it holds one.
    pub fn response_id(&self) -> Option<u64> {
        if !self.is_response() {
            return None;
        }
        let id = self.0.get(super::HEADER_LEN + 1..)?;
        super::varint::decode(id).ok().map(|(id, _)| id)
    }

    /// The message type bits of a Data packet's flag byte.
    fn message_type(&self) -> Option<u8> {
        if self.0.first() != Some(&(super::PacketType::Data as u8)) {
            return None;
        }
        self.0.get(super::HEADER_LEN).map(|flag| (flag >> 1) & 0x07)
    }

    /// The Heartbeat packet, `03 00 00 00` (no allocation).
    pub fn heartbeat() -> Self {
        Self(Bytes::from_static(&[0x03, 0x00, 0x00, 0x00]))
    }

    /// The HandshakeAck packet, `02 00 00 00` (no allocation).
    pub fn handshake_ack() -> Self {
        Self(Bytes::from_static(&[0x02, 0x00, 0x00, 0x00]))
    }

    /// The wire bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The wire bytes, by value.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length on the wire.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`: a packet has at least its 4-byte header.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Route;

    fn push(route: &'static str) -> Message {
        Message::Push {
            route: Route::from(route),
            payload: Bytes::from_static(b"{\"a\":1}"),
        }
    }

    #[test]
    fn compress_route_rewrites_only_pushes_the_dictionary_knows() {
        let dict = RouteDict::from_routes(["room.join", "onMessage"]).unwrap();
        let known = EncodedPacket::from_message(&push("onMessage"), None).unwrap();
        let compressed = known.clone().compress_route(&dict);
        assert_eq!(
            &compressed.as_bytes()[..],
            b"\x04\x00\x00\x0a\x07\x00\x02{\"a\":1}"
        );

        let unknown = EncodedPacket::from_message(&push("onOther"), None).unwrap();
        assert_eq!(unknown.clone().compress_route(&dict), unknown);

        let response = Message::Response {
            id: 3,
            payload: Bytes::from_static(b"{}"),
            error: false,
        };
        let response = EncodedPacket::from_message(&response, None).unwrap();
        assert_eq!(response.clone().compress_route(&dict), response);
        assert!(response.is_response());
        assert!(!known.is_response() && !EncodedPacket::heartbeat().is_response());
        assert_eq!(
            EncodedPacket::heartbeat().compress_route(&dict),
            EncodedPacket::heartbeat()
        );
        assert_eq!(known.clone().compress_route(&RouteDict::new()), known);
    }
}
