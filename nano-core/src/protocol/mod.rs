//! The nano/Pomelo wire protocol: packets, messages, routes, the route dictionary, and the
//! handshake and kick bodies.
//!
//! Two layers, as on the wire:
//!
//! - the **packet** layer, `[type: 1][length: 3, big-endian][body]`, read and written by
//!   [`PacketCodec`] (a `tokio_util` codec);
//! - the **message** layer inside Data packets, `[flag][id varint][route][payload]`, read and
//!   written by [`Message`].
//!
//! Decoding never panics, never allocates beyond the configured maximum body length, and never
//! copies payloads: a [`Message`]'s route and payload are slices of the packet body, which is a
//! slice of the read buffer. Every malformed input is one [`ProtocolError`] variant.
//!
//! # Examples
//!
//! Decode a request as a server sees it, and answer it:
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use nano_core::protocol::{Message, PacketCodec, PacketType, Route, encode_data_packet};
//! use tokio_util::codec::Decoder;
//!
//! // Request `room.join`, id 1, body `{}` (`docs/PROTOCOL.md` section 5).
//! let mut read_buf = BytesMut::from(&b"\x04\x00\x00\x0e\x00\x01\x09room.join{}"[..]);
//! let packet = PacketCodec::default().decode(&mut read_buf)?.expect("a whole packet");
//! assert_eq!(packet.kind, PacketType::Data);
//!
//! let Message::Request { id, route, payload } = Message::decode(packet.body)? else {
//!     panic!("expected a request");
//! };
//! assert_eq!((id, route, &payload[..]), (1, Route::from("room.join"), &b"{}"[..]));
//!
//! let mut write_buf = BytesMut::new();
//! let response = Message::Response { id, payload: Bytes::from_static(br#"{"code":0}"#), error: false };
//! encode_data_packet(&response, None, &mut write_buf)?;
//! assert_eq!(&write_buf[..], b"\x04\x00\x00\x0c\x04\x01{\"code\":0}");
//! # Ok::<(), nano_core::protocol::ProtocolError>(())
//! ```

mod code_to_route;
mod codec;
mod dictionary;
mod encoded;
mod error;
mod handshake;
mod message;
mod packet;
mod resume;
mod route;
pub mod varint;

pub use code_to_route::CodeToRoute;
pub use codec::{DEFAULT_MAX_BODY_LEN, PacketCodec, encode_data_packet};
pub use dictionary::{RouteDict, RouteDictError};
pub use encoded::EncodedPacket;
pub use error::ProtocolError;
pub use handshake::{ClientSys, HandshakeRequest, HandshakeResponse, Kick, ServerSys};
pub use message::{Message, MessageType};
pub use packet::{HEADER_LEN, MAX_FRAME_BODY_LEN, Packet, PacketType, put_header};
pub use resume::{
    BadResumeToken, RESUME_KEY, RefusedResume, ResumeReply, ResumeRequest, ResumeToken,
};
pub use route::{MAX_ROUTE_LEN, Route, RouteName};
