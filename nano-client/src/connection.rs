//! The tasks behind a [`Client`](crate::Client): one reads packets, one writes them.
//!
//! Reading and writing run in separate tasks so that a client blocked on a full socket still
//! reads the responses that will unblock the server (no write/write deadlock).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use nano_core::protocol::{EncodedPacket, Kick, Message, Packet, PacketType};
use nano_core::transport::PacketTransport;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::CloseReason;
use crate::push::Push;
use crate::shared::{Shared, lock};

/// Stands in for "no deadline" when the server asked for no heartbeats.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// Starts the reader and writer tasks of a connection whose handshake is done.
pub(crate) fn spawn<T: PacketTransport>(
    transport: T,
    shared: Arc<Shared>,
    outgoing: mpsc::Receiver<EncodedPacket>,
    cancel: CancellationToken,
) {
    let (sink, stream) = transport.split();
    tokio::spawn(write_loop(sink, shared.clone(), outgoing, cancel.clone()));
    tokio::spawn(read_loop(stream, shared, cancel));
}

async fn read_loop<T: PacketTransport>(
    mut stream: SplitStream<T>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    // The server is dead when nothing arrives for two heartbeat intervals.
    let silence_limit = shared.heartbeat.map(|interval| interval * 2);
    let mut last_seen = Instant::now();
    let deadline = tokio::time::sleep(silence_limit.unwrap_or(NEVER));
    tokio::pin!(deadline);

    let reason = loop {
        tokio::select! {
            () = cancel.cancelled() => break CloseReason::ClosedByClient,
            packet = stream.next() => {
                let packet = match packet {
                    None => break CloseReason::ServerClosed,
                    Some(Err(err)) => break CloseReason::Error(err.to_string()),
                    Some(Ok(packet)) => packet,
                };
                last_seen = Instant::now();
                if let Some(reason) = handle_packet(&shared, packet) {
                    break reason;
                }
            }
            () = &mut deadline, if silence_limit.is_some() => {
                let limit = silence_limit.unwrap_or_default();
                if last_seen.elapsed() >= limit {
                    break CloseReason::HeartbeatTimeout;
                }
                // Something arrived since the timer was set: wait for the rest of the limit.
                deadline.as_mut().reset(last_seen + limit);
            }
        }
    };
    tracing::debug!(%reason, "connection ended");
    shared.finish(reason);
    cancel.cancel();
}

/// Handles one packet from the server; returns the close reason if it ends the connection.
fn handle_packet(shared: &Shared, packet: Packet) -> Option<CloseReason> {
    match packet.kind {
        PacketType::Data => match Message::decode_with(packet.body, &shared.dict) {
            Ok(Message::Response { id, payload, error }) => {
                let waiting = lock(&shared.pending).waiting.remove(&id);
                match waiting {
                    Some(waiting) => {
                        let _ = waiting.reply.send(Ok((payload, error)));
                    }
                    None => tracing::debug!(id, "response to an unknown or abandoned request"),
                }
                None
            }
            Ok(Message::Push { route, payload }) => {
                // Counted first: a resume must never replay a push seen here.
                shared.resumption.received.fetch_add(1, Ordering::AcqRel);
                let Some(route) = route.name().cloned() else {
                    // `decode_with` resolved every code already.
                    return None;
                };
                let push = Push::new(route, payload, shared.serializer.clone());
                lock(&shared.subscriptions).dispatch(&push);
                None
            }
            Ok(other) => Some(CloseReason::Error(format!(
                "server sent a {} message",
                other.message_type().as_str()
            ))),
            Err(err) => Some(CloseReason::Error(err.to_string())),
        },
        PacketType::Heartbeat => {
            // Answer at once; the writer skips its own beat when this one went out recently.
            let _ = shared.outgoing.try_send(EncodedPacket::heartbeat());
            None
        }
        PacketType::Kick => {
            let reason = match Kick::from_json(&packet.body) {
                Ok(kick) => kick.reason,
                Err(_) => String::from_utf8_lossy(&packet.body).into_owned(),
            };
            Some(CloseReason::Kicked { reason })
        }
        PacketType::Handshake | PacketType::HandshakeAck => Some(CloseReason::Error(format!(
            "unexpected {:?} packet",
            packet.kind
        ))),
    }
}

async fn write_loop<T: PacketTransport>(
    mut sink: SplitSink<T, EncodedPacket>,
    shared: Arc<Shared>,
    mut outgoing: mpsc::Receiver<EncodedPacket>,
    cancel: CancellationToken,
) {
    let beat = shared.heartbeat.unwrap_or(NEVER);
    let mut ticker = tokio::time::interval_at(Instant::now() + beat, beat);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_sent = Instant::now();

    let result = loop {
        tokio::select! {
            () = cancel.cancelled() => break Ok(()),
            packet = outgoing.recv() => {
                let Some(packet) = packet else { break Ok(()) };
                // Batch whatever else is queued into the same flush.
                let mut batch = Ok(());
                let mut next = Some(packet);
                while let Some(packet) = next {
                    batch = sink.feed(packet).await;
                    if batch.is_err() {
                        break;
                    }
                    next = outgoing.try_recv().ok();
                }
                if let Err(err) = batch.and(sink.flush().await) {
                    break Err(err);
                }
                last_sent = Instant::now();
            }
            _ = ticker.tick(), if shared.heartbeat.is_some() => {
                if last_sent.elapsed() >= beat {
                    if let Err(err) = sink.send(EncodedPacket::heartbeat()).await {
                        break Err(err);
                    }
                    last_sent = Instant::now();
                }
            }
        }
    };
    match result {
        Ok(()) => {
            let _ = sink.close().await;
        }
        Err(err) => {
            shared.finish(CloseReason::Error(err.to_string()));
            cancel.cancel();
        }
    }
}
