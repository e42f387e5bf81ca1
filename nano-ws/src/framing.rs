//! [`WsTransport`]: nano-rs packets over a WebSocket, framed as `docs/PROTOCOL.md` section 1
//! (Transports) says.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use futures_util::{Sink, Stream};
use nano_core::protocol::{EncodedPacket, Packet, PacketCodec, ProtocolError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::codec::Decoder;

/// A [`PacketTransport`](nano_core::transport::PacketTransport) over a WebSocket.
///
/// - Every packet sent is exactly one binary WebSocket message.
/// - Inbound binary messages are one byte stream: a message may hold several packets, or part
///   of one; both decode.
/// - A text message is a protocol error ([`ProtocolError::TextMessage`]); the connection is then
///   closed with code 1002 (protocol error).
/// - A message over the configured size ends the stream; the connection is closed with code
///   1009 (message too big).
/// - Pings are answered by tungstenite; pongs are ignored; a close frame ends the stream.
///
/// It works for both ends: wrap a server-side stream from `accept_async` or a client-side
/// stream from `connect_async`.
#[derive(Debug)]
pub struct WsTransport<S> {
    ws: WebSocketStream<S>,
    codec: PacketCodec,
    read_buf: BytesMut,
    /// The close frame to send when the connection is closed after bad input.
    close_frame: Option<CloseFrame>,
}

impl<S> WsTransport<S> {
    /// Wraps an established WebSocket; inbound packet bodies are limited to `max_body_len`.
    pub fn new(ws: WebSocketStream<S>, max_body_len: usize) -> Self {
        Self {
            ws,
            codec: PacketCodec::new(max_body_len),
            read_buf: BytesMut::new(),
            close_frame: None,
        }
    }

    /// The WebSocket underneath.
    pub fn get_ref(&self) -> &WebSocketStream<S> {
        &self.ws
    }

    /// The WebSocket underneath, mutably (to send a close frame with a code, say).
    pub fn get_mut(&mut self) -> &mut WebSocketStream<S> {
        &mut self.ws
    }
}

/// Maps a WebSocket error to the transport's error type, keeping it as the source.
pub(crate) fn ws_error(err: tungstenite::Error) -> ProtocolError {
    match err {
        tungstenite::Error::Io(err) => ProtocolError::Io(err),
        other => ProtocolError::Io(io::Error::other(other)),
    }
}

impl<S> Stream for WsTransport<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    type Item = Result<Packet, ProtocolError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(packet) = this.codec.decode(&mut this.read_buf)? {
                return Poll::Ready(Some(Ok(packet)));
            }
            let Some(message) = ready!(Pin::new(&mut this.ws).poll_next(cx)) else {
                return Poll::Ready(None);
            };
            let message = match message {
                Ok(message) => message,
                Err(tungstenite::Error::Capacity(err)) => {
                    this.close_frame = Some(CloseFrame {
                        code: CloseCode::Size,
                        reason: "message too big".into(),
                    });
                    return Poll::Ready(Some(Err(ProtocolError::Io(io::Error::other(err)))));
                }
                Err(err) => return Poll::Ready(Some(Err(ws_error(err)))),
            };
            match message {
                Message::Binary(bytes) => {
                    if this.read_buf.is_empty() {
                        // Take the message's buffer itself when nothing is pending: no copy.
                        match bytes.try_into_mut() {
                            Ok(owned) => this.read_buf = owned,
                            Err(shared) => this.read_buf.extend_from_slice(&shared),
                        }
                    } else {
                        this.read_buf.extend_from_slice(&bytes);
                    }
                }
                Message::Text(_) => {
                    this.close_frame = Some(CloseFrame {
                        code: CloseCode::Protocol,
                        reason: "packets must be sent in binary messages".into(),
                    });
                    return Poll::Ready(Some(Err(ProtocolError::TextMessage)));
                }
                Message::Close(_) => return Poll::Ready(None),
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }
}

impl<S> Sink<EncodedPacket> for WsTransport<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    type Error = ProtocolError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.ws).poll_ready(cx).map_err(ws_error)
    }

    fn start_send(mut self: Pin<&mut Self>, packet: EncodedPacket) -> Result<(), Self::Error> {
        Pin::new(&mut self.ws)
            .start_send(Message::Binary(packet.into_bytes()))
            .map_err(ws_error)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.ws).poll_flush(cx).map_err(ws_error)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.close_frame.is_some() {
            ready!(Pin::new(&mut self.ws).poll_ready(cx)).map_err(ws_error)?;
            if let Some(frame) = self.close_frame.take() {
                Pin::new(&mut self.ws)
                    .start_send(Message::Close(Some(frame)))
                    .map_err(ws_error)?;
            }
        }
        Pin::new(&mut self.ws).poll_close(cx).map_err(ws_error)
    }
}
