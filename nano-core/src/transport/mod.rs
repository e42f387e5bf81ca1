//! What a connection runs over: a stream of decoded packets in, encoded packets out; and
//! binding TCP listeners ([`bind_tcp`]).

mod listener;
mod stream;

pub use listener::bind_tcp;
pub use stream::StreamTransport;

use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::Framed;

use crate::protocol::{EncodedPacket, Packet, PacketCodec, ProtocolError};

/// A bidirectional packet transport: decoded [`Packet`]s in, [`EncodedPacket`]s out.
///
/// The connection logic of nano-rs (server and client) is written once against this trait;
/// TCP, WebSocket and in-memory pipes are thin adapters. Any type with the right `Stream` and
/// `Sink` implementations is a transport: [`StreamTransport`] (what servers use) and [`framed`]
/// make one from any byte stream, and `nano-ws` makes one from a WebSocket.
///
/// Writes are batched: the connection feeds several packets, then flushes once.
pub trait PacketTransport:
    Stream<Item = Result<Packet, ProtocolError>>
    + Sink<EncodedPacket, Error = ProtocolError>
    + Send
    + Unpin
    + 'static
{
}

impl<T> PacketTransport for T where
    T: Stream<Item = Result<Packet, ProtocolError>>
        + Sink<EncodedPacket, Error = ProtocolError>
        + Send
        + Unpin
        + 'static
{
}

/// A packet transport over a byte stream (TCP, a Unix socket, `tokio::io::duplex`, TLS, ...),
/// as a `tokio_util` `Framed` (buffers of 8 KiB each way; simple, good for clients).
///
/// Bodies longer than `max_body_len` are rejected from the header (see [`PacketCodec`]).
///
/// # Examples
///
/// ```
/// use nano_core::protocol::DEFAULT_MAX_BODY_LEN;
/// use nano_core::transport::{PacketTransport, framed};
///
/// let (client, _server) = tokio::io::duplex(4096);
/// let transport = framed(client, DEFAULT_MAX_BODY_LEN);
/// fn assert_transport(_: &impl PacketTransport) {}
/// assert_transport(&transport);
/// ```
pub fn framed<S>(io: S, max_body_len: usize) -> Framed<S, PacketCodec>
where
    S: AsyncRead + AsyncWrite,
{
    Framed::new(io, PacketCodec::new(max_body_len))
}
