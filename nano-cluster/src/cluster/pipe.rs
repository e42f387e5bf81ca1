//! A client's connection relayed over NATS, for a session resumed through another gate: one
//! NATS message per packet on `<prefix>.pipe.<id>.up` (client to the session's gate) and
//! `.down` (back), an empty message for the end.
//!
//! - [`PipeTransport`]: the session's gate side, a [`PacketTransport`] its session task serves
//!   as it would the client's own connection;
//! - [`relay`]: the client's gate side, copying between the client's transport and the pipe.

use std::pin::Pin;
use std::task::{Context, Poll};

use async_nats::{Client, Subscriber};
use bytes::{Bytes, BytesMut};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use nano_core::protocol::{EncodedPacket, Packet, PacketCodec, ProtocolError};
use nano_core::transport::PacketTransport;
use tokio::sync::mpsc;
use tokio_util::codec::Decoder;
use tokio_util::sync::PollSender;

/// Packets a pipe's writer may have waiting for NATS.
const QUEUE: usize = 128;

/// The session's gate's end of a pipe.
pub(super) struct PipeTransport {
    incoming: Subscriber,
    outgoing: PollSender<Bytes>,
    codec: PacketCodec,
}

impl PipeTransport {
    /// Reads `incoming` (the `up` subscription) and publishes to `down`, with packets of at
    /// most `max_body_len` accepted.
    pub(super) fn new(
        nats: Client,
        incoming: Subscriber,
        down: String,
        max_body_len: usize,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(publish_all(nats, down, receiver));
        Self {
            incoming,
            outgoing: PollSender::new(sender),
            codec: PacketCodec::new(max_body_len),
        }
    }
}

/// Publishes what the transport writes; once it is dropped, the end (if it wrote anything:
/// a pipe that was never used belongs to nobody).
async fn publish_all(nats: Client, down: String, mut packets: mpsc::Receiver<Bytes>) {
    let mut used = false;
    while let Some(packet) = packets.recv().await {
        used = true;
        if nats.publish(down.clone(), packet).await.is_err() {
            return;
        }
    }
    if used {
        let _ = nats.publish(down, Bytes::new()).await;
    }
}

impl Stream for PipeTransport {
    type Item = Result<Packet, ProtocolError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.incoming.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(message)) if message.payload.is_empty() => Poll::Ready(None),
            Poll::Ready(Some(message)) => {
                let mut buffer = BytesMut::from(&message.payload[..]);
                Poll::Ready(match this.codec.decode(&mut buffer) {
                    Ok(Some(packet)) => Some(Ok(packet)),
                    Ok(None) => Some(Err(not_a_packet())),
                    Err(err) => Some(Err(err)),
                })
            }
        }
    }
}

impl Sink<EncodedPacket> for PipeTransport {
    type Error = ProtocolError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.outgoing.poll_reserve(cx).map_err(|_| closed())
    }

    fn start_send(mut self: Pin<&mut Self>, packet: EncodedPacket) -> Result<(), Self::Error> {
        self.outgoing
            .send_item(packet.into_bytes())
            .map_err(|_| closed())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Result<(), Self::Error>> {
        self.outgoing.close();
        Poll::Ready(Ok(()))
    }
}

/// A pipe message that is not one whole packet.
fn not_a_packet() -> ProtocolError {
    let error = std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "a pipe message is not one whole packet",
    );
    ProtocolError::Io(error)
}

/// The pipe's other end is gone.
fn closed() -> ProtocolError {
    ProtocolError::Io(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
}

/// Copies between a client's `transport` and a pipe (`down` read, `up` published) until
/// either ends; tells the other end.
pub(super) async fn relay(
    nats: Client,
    up: String,
    mut down: Subscriber,
    mut transport: Box<dyn PacketTransport>,
) {
    loop {
        tokio::select! {
            packet = transport.next() => {
                let Some(Ok(packet)) = packet else { break };
                let Ok(encoded) = EncodedPacket::from_packet(&packet) else { break };
                if nats.publish(up.clone(), encoded.into_bytes()).await.is_err() {
                    break;
                }
            }
            message = down.next() => {
                let Some(message) = message.filter(|message| !message.payload.is_empty()) else {
                    let _ = transport.close().await;
                    return;
                };
                let Ok(packet) = EncodedPacket::from_wire(message.payload) else { break };
                if transport.send(packet).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = nats.publish(up, Bytes::new()).await;
    let _ = transport.close().await;
}
