//! The packet layer: `[type: 1][length: 3, big-endian][body: length bytes]`.

use bytes::{BufMut, Bytes};

use super::ProtocolError;

/// Size of a packet header: 1 type byte and a 3-byte big-endian body length.
pub const HEADER_LEN: usize = 4;

/// The largest body a 3-byte length can describe (16 MiB - 1).
pub const MAX_FRAME_BODY_LEN: usize = 0x00ff_ffff;

/// The five packet types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// Client hello (JSON, possibly empty), then the server's reply (JSON).
    Handshake = 0x01,
    /// Client confirms the handshake; empty body.
    HandshakeAck = 0x02,
    /// Keep-alive, both directions; empty body.
    Heartbeat = 0x03,
    /// One [`Message`](super::Message).
    Data = 0x04,
    /// Server closes the session; JSON body `{"reason":"..."}`.
    Kick = 0x05,
}

impl TryFrom<u8> for PacketType {
    type Error = ProtocolError;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            0x01 => Ok(PacketType::Handshake),
            0x02 => Ok(PacketType::HandshakeAck),
            0x03 => Ok(PacketType::Heartbeat),
            0x04 => Ok(PacketType::Data),
            0x05 => Ok(PacketType::Kick),
            other => Err(ProtocolError::UnknownPacketType(other)),
        }
    }
}

/// One packet: a type and a body.
///
/// # Examples
///
/// ```
/// use nano_core::protocol::{Packet, PacketType};
///
/// let mut wire = Vec::new();
/// Packet::heartbeat().encode(&mut wire)?;
/// assert_eq!(wire, [0x03, 0x00, 0x00, 0x00]);
/// assert_eq!(Packet::heartbeat().kind, PacketType::Heartbeat);
/// # Ok::<(), nano_core::protocol::ProtocolError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketType,
    /// The body; for a decoded packet it shares the read buffer's memory.
    pub body: Bytes,
}

impl Packet {
    /// A packet of `kind` with `body`.
    pub fn new(kind: PacketType, body: impl Into<Bytes>) -> Self {
        Self {
            kind,
            body: body.into(),
        }
    }

    /// A Handshake packet with a JSON body.
    pub fn handshake(body: impl Into<Bytes>) -> Self {
        Self::new(PacketType::Handshake, body)
    }

    /// The HandshakeAck packet (`02 00 00 00`).
    pub fn handshake_ack() -> Self {
        Self::new(PacketType::HandshakeAck, Bytes::new())
    }

    /// The Heartbeat packet (`03 00 00 00`).
    pub fn heartbeat() -> Self {
        Self::new(PacketType::Heartbeat, Bytes::new())
    }

    /// A Data packet carrying an encoded message.
    pub fn data(body: impl Into<Bytes>) -> Self {
        Self::new(PacketType::Data, body)
    }

    /// A Kick packet with a JSON body.
    pub fn kick(body: impl Into<Bytes>) -> Self {
        Self::new(PacketType::Kick, body)
    }

    /// Number of bytes the packet takes on the wire.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.body.len()
    }

    /// Appends the packet to `dst`.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::BodyTooLong`] when the body is longer than a 3-byte length can say
    /// ([`MAX_FRAME_BODY_LEN`]); nothing is written then.
    pub fn encode(&self, dst: &mut impl BufMut) -> Result<(), ProtocolError> {
        put_header(self.kind, self.body.len(), dst)?;
        dst.put_slice(&self.body);
        Ok(())
    }
}

/// Appends a packet header for a body of `body_len` bytes.
///
/// # Errors
///
/// [`ProtocolError::BodyTooLong`] when `body_len` exceeds [`MAX_FRAME_BODY_LEN`].
pub fn put_header(
    kind: PacketType,
    body_len: usize,
    dst: &mut impl BufMut,
) -> Result<(), ProtocolError> {
    let len = u32::try_from(body_len)
        .ok()
        .filter(|&len| len as usize <= MAX_FRAME_BODY_LEN)
        .ok_or(ProtocolError::BodyTooLong {
            len: body_len,
            max: MAX_FRAME_BODY_LEN,
        })?;
    // The top byte of `len` is zero (checked above), so the header is the type then 3 bytes.
    dst.put_u32(((kind as u32) << 24) | len);
    Ok(())
}
