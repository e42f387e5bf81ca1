//! [`PacketCodec`]: the packet layer as a `tokio_util` [`Decoder`]/[`Encoder`] pair.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::packet::{HEADER_LEN, MAX_FRAME_BODY_LEN};
use super::{EncodedPacket, Message, Packet, PacketType, ProtocolError, RouteDict};

/// The default largest packet body accepted from a peer: 65,536 bytes (nano's limit;
/// exactly 65,536 is allowed).
pub const DEFAULT_MAX_BODY_LEN: usize = 64 * 1024;

/// Splits a byte stream into [`Packet`]s and writes packets back.
///
/// Decoding checks the type byte and the announced length as soon as the 4-byte header is in:
/// an unknown type or a body longer than [`max_body_len`](PacketCodec::max_body_len) is an error
/// before any byte of the body is buffered. A decoded body is a slice of the read buffer, not a
/// copy. After an error the stream is unusable: close the connection.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use nano_core::protocol::{Packet, PacketCodec, PacketType};
/// use tokio_util::codec::Decoder;
///
/// let mut codec = PacketCodec::default();
/// // A heartbeat, then the first half of a handshake.
/// let mut buf = BytesMut::from(&b"\x03\x00\x00\x00\x01\x00\x00\x02{"[..]);
/// assert_eq!(codec.decode(&mut buf)?, Some(Packet::heartbeat()));
/// assert_eq!(codec.decode(&mut buf)?, None);
/// buf.extend_from_slice(b"}");
/// assert_eq!(codec.decode(&mut buf)?, Some(Packet::handshake(&b"{}"[..])));
/// # Ok::<(), nano_core::protocol::ProtocolError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketCodec {
    max_body_len: usize,
}

impl PacketCodec {
    /// A codec accepting bodies of up to `max_body_len` bytes (capped at 16 MiB - 1, the most a
    /// 3-byte length can say).
    pub fn new(max_body_len: usize) -> Self {
        Self {
            max_body_len: max_body_len.min(MAX_FRAME_BODY_LEN),
        }
    }

    /// The largest body this codec accepts.
    pub fn max_body_len(&self) -> usize {
        self.max_body_len
    }

    /// Reads the header at the front of `src` without consuming it: the packet type and the
    /// body length, both checked.
    ///
    /// Returns `Ok(None)` while fewer than 4 bytes are buffered.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::UnknownPacketType`] or [`ProtocolError::BodyTooLong`].
    pub fn peek_header(&self, src: &[u8]) -> Result<Option<(PacketType, usize)>, ProtocolError> {
        let Some(&[kind, b1, b2, b3]) = src.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let kind = PacketType::try_from(kind)?;
        let len = usize::from(b1) << 16 | usize::from(b2) << 8 | usize::from(b3);
        if len > self.max_body_len {
            return Err(ProtocolError::BodyTooLong {
                len,
                max: self.max_body_len,
            });
        }
        Ok(Some((kind, len)))
    }
}

impl Default for PacketCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BODY_LEN)
    }
}

impl Decoder for PacketCodec {
    type Item = Packet;
    type Error = ProtocolError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Packet>, ProtocolError> {
        self.decode_from(src, false)
    }
}

impl PacketCodec {
    /// Like [`Decoder::decode`], except that a packet filling `src` exactly (one request per
    /// read, the usual case) takes `src`'s memory for its body, leaving `src` empty and
    /// without capacity, instead of being split off it (a split gives the buffer a shared
    /// header: an allocation per packet). For transports that let their read buffer go
    /// between packets anyway, as nano-rs's do to keep idle sessions small; a
    /// `tokio_util` `Framed`, which keeps one buffer, is better served by `decode`.
    ///
    /// # Errors
    ///
    /// As [`Decoder::decode`].
    pub fn decode_taking(&mut self, src: &mut BytesMut) -> Result<Option<Packet>, ProtocolError> {
        self.decode_from(src, true)
    }

    fn decode_from(&self, src: &mut BytesMut, take: bool) -> Result<Option<Packet>, ProtocolError> {
        let Some((kind, len)) = self.peek_header(src)? else {
            return Ok(None);
        };
        let total = HEADER_LEN + len;
        if src.len() < total {
            // `len` is bounded by `max_body_len`, so this reservation is too.
            src.reserve(total - src.len());
            return Ok(None);
        }
        let mut frame = if take && src.len() == total {
            std::mem::take(src)
        } else {
            src.split_to(total)
        };
        frame.advance(HEADER_LEN);
        Ok(Some(Packet {
            kind,
            body: frame.freeze(),
        }))
    }
}

impl Encoder<Packet> for PacketCodec {
    type Error = ProtocolError;

    fn encode(&mut self, packet: Packet, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        <Self as Encoder<&Packet>>::encode(self, &packet, dst)
    }
}

impl Encoder<&Packet> for PacketCodec {
    type Error = ProtocolError;

    fn encode(&mut self, packet: &Packet, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        dst.reserve(packet.encoded_len());
        packet.encode(dst)
    }
}

impl Encoder<EncodedPacket> for PacketCodec {
    type Error = ProtocolError;

    fn encode(&mut self, packet: EncodedPacket, dst: &mut BytesMut) -> Result<(), ProtocolError> {
        dst.extend_from_slice(packet.as_bytes());
        Ok(())
    }
}

/// Appends a Data packet carrying `message` to `dst`, encoding the message in place (no
/// intermediate buffer). Routes in `dict` are written compressed.
///
/// # Errors
///
/// [`ProtocolError::RouteTooLong`] or [`ProtocolError::BodyTooLong`]; nothing is written then.
///
/// # Examples
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use nano_core::protocol::{Message, encode_data_packet};
///
/// let response = Message::Response { id: 1, payload: Bytes::from_static(br#"{"code":0}"#), error: false };
/// let mut wire = BytesMut::new();
/// encode_data_packet(&response, None, &mut wire)?;
/// assert_eq!(&wire[..], b"\x04\x00\x00\x0c\x04\x01{\"code\":0}");
/// # Ok::<(), nano_core::protocol::ProtocolError>(())
/// ```
pub fn encode_data_packet(
    message: &Message,
    dict: Option<&RouteDict>,
    dst: &mut impl BufMut,
) -> Result<(), ProtocolError> {
    message.encode_packet(dict, dst)
}
