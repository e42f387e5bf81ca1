//! [`StreamTransport`]: the packet transport nano-rs servers use over byte streams (TCP, TLS,
//! Unix sockets, in-memory pipes).
//!
//! Compared to a `tokio_util` `Framed`, it allocates no buffer for an idle connection (the read
//! buffer exists only while bytes are pending, the write side keeps no buffer at all) and it
//! writes packets with vectored writes straight from their shared bytes, so a broadcast's
//! single encoding is never copied per member.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::inline_queue::InlineQueue;
use crate::protocol::{EncodedPacket, Packet, PacketCodec, ProtocolError};

/// Bytes read at a time.
const READ_CHUNK: usize = 2048;
/// At most this many packets go into one vectored write.
const MAX_IOVECS: usize = 64;
/// Writes stop being accepted (backpressure) beyond this many queued bytes.
const MAX_QUEUED_BYTES: usize = 256 * 1024;

/// A [`PacketTransport`](super::PacketTransport) over any byte stream.
///
/// # Examples
///
/// ```
/// use nano_core::transport::{PacketTransport, StreamTransport};
///
/// let (a, _b) = tokio::io::duplex(4096);
/// let transport = StreamTransport::new(a, 65_536);
/// fn assert_transport(_: &impl PacketTransport) {}
/// assert_transport(&transport);
/// ```
#[derive(Debug)]
pub struct StreamTransport<S> {
    io: S,
    codec: PacketCodec,
    read_buf: BytesMut,
    eof: bool,
    /// Packets accepted by the sink, not yet fully written; the front may be partly written.
    queue: InlineQueue<Bytes>,
    queued_bytes: usize,
}

impl<S> StreamTransport<S> {
    /// Wraps `io`; inbound bodies over `max_body_len` are rejected from the header.
    pub fn new(io: S, max_body_len: usize) -> Self {
        Self {
            io,
            codec: PacketCodec::new(max_body_len),
            read_buf: BytesMut::new(),
            eof: false,
            queue: InlineQueue::new(),
            queued_bytes: 0,
        }
    }

    /// The stream underneath.
    pub fn get_ref(&self) -> &S {
        &self.io
    }
}

impl<S: AsyncRead + Unpin> Stream for StreamTransport<S> {
    type Item = Result<Packet, ProtocolError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(packet) = this.codec.decode_taking(&mut this.read_buf)? {
                if this.read_buf.is_empty() {
                    // Nothing pending: give the memory back while the connection idles.
                    this.read_buf = BytesMut::new();
                }
                return Poll::Ready(Some(Ok(packet)));
            }
            if this.eof {
                // Bytes of an incomplete packet at the end are dropped with the connection.
                return Poll::Ready(None);
            }
            let read = if this.read_buf.is_empty() {
                // Nothing pending: read into the stack and allocate only for bytes that came,
                // so a connection waiting for its next message holds no buffer.
                let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
                let mut chunk = ReadBuf::uninit(&mut chunk);
                ready!(Pin::new(&mut this.io).poll_read(cx, &mut chunk))?;
                this.read_buf = BytesMut::from(chunk.filled());
                chunk.filled().len()
            } else {
                if this.read_buf.capacity() - this.read_buf.len() < READ_CHUNK / 2 {
                    this.read_buf.reserve(READ_CHUNK);
                }
                let io = Pin::new(&mut this.io);
                ready!(tokio_util::io::poll_read_buf(io, cx, &mut this.read_buf))?
            };
            if read == 0 {
                this.eof = true;
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> StreamTransport<S> {
    /// Writes queued packets until the queue is empty or the stream is not ready.
    fn poll_write_queue(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.queue.is_empty() {
            let written = if let (1, Some(only)) = (self.queue.len(), self.queue.front()) {
                // One packet (a request's response): a plain write, the kernel's cheaper path.
                ready!(Pin::new(&mut self.io).poll_write(cx, only))?
            } else {
                // On the stack: no allocation per write.
                let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
                let mut count = 0;
                for (slot, bytes) in slices.iter_mut().zip(self.queue.iter()) {
                    *slot = IoSlice::new(bytes);
                    count += 1;
                }
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..count]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.queued_bytes -= written;
            let mut left = written;
            while left > 0 {
                let Some(front) = self.queue.front_mut() else {
                    break;
                };
                if front.len() <= left {
                    left -= front.len();
                    self.queue.pop_front();
                } else {
                    front.advance(left);
                    left = 0;
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> Sink<EncodedPacket> for StreamTransport<S> {
    type Error = ProtocolError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.queued_bytes >= MAX_QUEUED_BYTES {
            ready!(self.poll_write_queue(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, packet: EncodedPacket) -> Result<(), Self::Error> {
        let bytes = packet.into_bytes();
        self.queued_bytes += bytes.len();
        self.queue.push_back(bytes);
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.poll_write_queue(cx))?;
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        ready!(self.as_mut().poll_flush(cx))?;
        ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
        Poll::Ready(Ok(()))
    }
}
