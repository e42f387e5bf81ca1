//! A lean WebSocket client transport for load generation.
//!
//! tokio-tungstenite's client masks every frame with a random key and wakes its task through
//! two waker proxies per operation; at tens of thousands of messages a second that made the
//! generator, not the server, the bottleneck of WebSocket runs. This transport does the
//! minimum RFC 6455 asks of a client: an HTTP upgrade, binary frames with a mask bit and a
//! (zero) masking key, and unmasked server frames read back — so it costs about what TCP costs.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, BytesMut};
use futures_util::{Sink, Stream};
use nano_core::protocol::{EncodedPacket, Packet, PacketCodec, ProtocolError};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

/// A WebSocket client connection carrying protocol packets.
pub(crate) struct LeanWs {
    stream: TcpStream,
    /// Raw bytes from the socket (frames).
    input: BytesMut,
    /// Payload bytes of binary frames (the packet stream).
    packets: BytesMut,
    output: BytesMut,
    codec: PacketCodec,
    closed: bool,
}

impl LeanWs {
    /// Connects to `ws://host:port/path` and performs the upgrade.
    pub(crate) async fn connect(url: &str) -> io::Result<LeanWs> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| io::Error::other("only ws:// URLs"))?;
        let (host, path) = rest
            .split_once('/')
            .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
        let mut stream = TcpStream::connect(host).await?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut input = BytesMut::with_capacity(4096);
        let header_end = loop {
            if stream.read_buf(&mut input).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if let Some(end) = input.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
        };
        if !input.starts_with(b"HTTP/1.1 101") {
            return Err(io::Error::other(
                String::from_utf8_lossy(&input[..header_end]).into_owned(),
            ));
        }
        input.advance(header_end);
        Ok(LeanWs {
            stream,
            input,
            packets: BytesMut::new(),
            output: BytesMut::with_capacity(4096),
            codec: PacketCodec::new(16 << 20),
            closed: false,
        })
    }

    /// Moves complete frames from `input` into `packets`; returns false on a close frame.
    fn unframe(&mut self) -> io::Result<bool> {
        loop {
            if self.input.len() < 2 {
                return Ok(true);
            }
            let opcode = self.input[0] & 0x0f;
            let (len, header) = match self.input[1] & 0x7f {
                126 if self.input.len() >= 4 => (
                    usize::from(u16::from_be_bytes([self.input[2], self.input[3]])),
                    4,
                ),
                127 if self.input.len() >= 10 => {
                    let len = u64::from_be_bytes(self.input[2..10].try_into().unwrap_or_default());
                    (usize::try_from(len).map_err(io::Error::other)?, 10)
                }
                126 | 127 => return Ok(true),
                len => (usize::from(len), 2),
            };
            if self.input.len() < header + len {
                return Ok(true);
            }
            self.input.advance(header);
            let payload = self.input.split_to(len);
            match opcode {
                0x0 | 0x2 => self.packets.extend_from_slice(&payload),
                0x8 => return Ok(false),
                _ => {} // pings are not answered; the server does not require it
            }
        }
    }
}

impl Stream for LeanWs {
    type Item = Result<Packet, ProtocolError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(packet) = this.codec.decode(&mut this.packets)? {
                return Poll::Ready(Some(Ok(packet)));
            }
            if this.closed {
                return Poll::Ready(None);
            }
            if !this.unframe()? {
                this.closed = true;
                continue;
            }
            if !this.packets.is_empty() || this.input.len() < 2 {
                // Frames moved into `packets` may complete a packet: decode before reading.
                if let Some(packet) = this.codec.decode(&mut this.packets)? {
                    return Poll::Ready(Some(Ok(packet)));
                }
            }
            this.input.reserve(4096);
            let read = ready!(tokio_util::io::poll_read_buf(
                Pin::new(&mut this.stream),
                cx,
                &mut this.input
            ))?;
            if read == 0 {
                this.closed = true;
            }
        }
    }
}

impl Sink<EncodedPacket> for LeanWs {
    type Error = ProtocolError;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, packet: EncodedPacket) -> Result<(), Self::Error> {
        let bytes = packet.as_bytes();
        self.output.put_u8(0x82); // FIN + binary
        match bytes.len() {
            len @ 0..=125 => self.output.put_u8(0x80 | u8::try_from(len).unwrap_or(0)),
            len @ 126..=0xffff => {
                self.output.put_u8(0x80 | 126);
                self.output.put_u16(u16::try_from(len).unwrap_or(0));
            }
            len => {
                self.output.put_u8(0x80 | 127);
                self.output.put_u64(len as u64);
            }
        }
        self.output.put_u32(0); // masking key 0: the payload is sent as is
        self.output.extend_from_slice(bytes);
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = &mut *self;
        while !this.output.is_empty() {
            let written = ready!(Pin::new(&mut this.stream).poll_write(cx, &this.output))?;
            if written == 0 {
                return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into()));
            }
            this.output.advance(written);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.stream)
            .poll_shutdown(cx)
            .map_err(Into::into)
    }
}
