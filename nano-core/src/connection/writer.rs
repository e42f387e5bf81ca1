//! [`Writer`]: the connection's I/O in one poll — the session's outbox into the transport,
//! then the next packet from the client.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::outbox::{CloseRequest, Outbox};
use crate::protocol::{Packet, ProtocolError};
use crate::transport::PacketTransport;

/// The write side: moves the session's outbox into the transport.
#[derive(Default)]
pub(super) struct Writer {
    /// Packets handed to the transport since the last flush.
    unflushed: bool,
    /// A close requested through the outbox, waiting for the queue to be written.
    pub(super) closing: Option<CloseRequest>,
    /// Bytes handed to the transport since [`take_written`](Self::take_written).
    written: u64,
}

/// What the connection's I/O produced.
pub(super) enum Io {
    /// A packet from the client, `None` at the end of its stream.
    Packet(Option<Result<Packet, ProtocolError>>),
    /// A close was requested (and everything queued before it written, unless the client stopped
    /// reading).
    Close(CloseRequest),
    /// Writing failed.
    WriteFailed(ProtocolError),
}

impl Writer {
    /// The bytes handed to the transport since the last call.
    pub(super) fn take_written(&mut self) -> u64 {
        std::mem::take(&mut self.written)
    }

    /// Drives the connection's I/O: moves the outbox into the transport and flushes, then
    /// (when `may_read` and the outbox is not full) reads the next packet. Completes with a
    /// packet, a close request (once no handler is running), or a write error.
    ///
    /// The outbox is checked after writing, on every poll: a connection that stopped reading
    /// because its outbox was full reads again as soon as the writes drained it.
    pub(super) fn poll_io<T: PacketTransport>(
        &mut self,
        cx: &mut Context<'_>,
        transport: &mut T,
        outbox: &Outbox,
        handler_running: bool,
        may_read: bool,
    ) -> Poll<Io> {
        // `Pending` from the write side only means "nothing more to write now".
        if let Poll::Ready(Err(err)) = self.poll_write(cx, transport, outbox, handler_running) {
            return Poll::Ready(Io::WriteFailed(err));
        }
        if let Some(close) = &self.closing
            && (!handler_running || *close == CloseRequest::Replaced)
        {
            return Poll::Ready(Io::Close(close.clone()));
        }
        if may_read && !outbox.is_full() {
            return Pin::new(transport).poll_next(cx).map(Io::Packet);
        }
        Poll::Pending
    }

    /// Writes what the outbox holds. `Ready(Ok)` means a close should happen now (the caller
    /// checks `closing`); `Pending` means everything is written or the transport is full.
    fn poll_write<T: PacketTransport>(
        &mut self,
        cx: &mut Context<'_>,
        transport: &mut T,
        outbox: &Outbox,
        handler_running: bool,
    ) -> Poll<Result<(), ProtocolError>> {
        // One registration for everything below: a push or close request that the checks
        // miss wakes the connection.
        outbox.register(cx);
        // A requested close is honoured at once (the rest of the queue and the Kick are
        // written with a deadline when the connection ends), so a client that stopped reading
        // cannot hold its connection open.
        if self.close_requested(outbox, handler_running) {
            return Poll::Ready(Ok(()));
        }
        loop {
            match Pin::new(&mut *transport).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
            let Some(packet) = outbox.pop() else {
                break;
            };
            self.written += packet.len() as u64;
            if let Err(err) = Pin::new(&mut *transport).start_send(packet) {
                return Poll::Ready(Err(err));
            }
            self.unflushed = true;
        }
        if self.unflushed {
            match Pin::new(&mut *transport).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        // A close requested while writing is seen here, or on the next poll.
        if self.close_requested(outbox, handler_running) {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }

    /// Picks up a close request from the outbox; whether the connection should close now: once
    /// no handler runs, or at once when a resuming connection takes the session over (the
    /// handler goes on, and answers on the new connection).
    fn close_requested(&mut self, outbox: &Outbox, running: bool) -> bool {
        if self.closing.is_none() {
            self.closing = outbox.close_request();
        }
        match &self.closing {
            Some(CloseRequest::Replaced) => true,
            Some(_) => !running,
            None => false,
        }
    }
}
