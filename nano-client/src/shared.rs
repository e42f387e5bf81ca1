//! The state behind a [`Client`](crate::Client): [`Shared`], one connection's (its pending
//! requests, dictionary, heartbeat), and [`Hub`], the client's across reconnects (the current
//! connection, the subscriptions, the final close reason, the events).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use nano_core::Serializer;
use nano_core::protocol::{EncodedPacket, HandshakeResponse, RouteDict};
use nano_core::transport::PacketTransport;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::connect::Connected;
use crate::push::Subscriptions;
use crate::resume::{Resumption, Settled, Waiting};
use crate::{ClientBuilder, CloseReason, ConnectionEvent, connection};

/// What a pending request is answered with: the payload and pitaya's error flag, or the reason
/// the connection ended first.
pub(crate) type Reply = Result<(Bytes, bool), CloseReason>;

/// Requests waiting for a response, and whether the connection has ended.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) waiting: HashMap<u64, Waiting>,
    pub(crate) closed: Option<CloseReason>,
}

/// The state of one connection, shared by the client handles and its tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) outgoing: mpsc::Sender<EncodedPacket>,
    pub(crate) pending: Mutex<Pending>,
    pub(crate) subscriptions: Arc<Mutex<Subscriptions>>,
    /// This connection's end (the client may live on, reconnected).
    pub(crate) closed: watch::Sender<Option<CloseReason>>,
    pub(crate) dict: RouteDict,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) serializer: Serializer,
    pub(crate) handshake: HandshakeResponse,
    /// The session's resume state (its request ids and push count go on over connections).
    pub(crate) resumption: Arc<Resumption>,
    pub(crate) request_timeout: Duration,
}

/// Locks a mutex, ignoring poisoning (the workspace's one helper for it).
pub(crate) use nano_core::__private::lock;

impl Shared {
    /// Ends this connection with `reason` (the first reason wins) and wakes whoever waits for
    /// its end. Pending requests fail, unless the session may be resumed: then they wait for
    /// the resume, to be sent again.
    pub(crate) fn finish(&self, reason: CloseReason) {
        let waiting = {
            let mut pending = lock(&self.pending);
            if pending.closed.is_some() {
                return;
            }
            pending.closed = Some(reason.clone());
            std::mem::take(&mut pending.waiting)
        };
        if self.resumption.can_resume(&reason) {
            self.resumption.carry(waiting);
        } else {
            if matches!(
                reason,
                CloseReason::Kicked { .. } | CloseReason::ClosedByClient
            ) {
                self.resumption.forget();
            }
            for (_, waiting) in waiting {
                let _ = waiting.reply.send(Err(reason.clone()));
            }
        }
        self.closed.send_replace(Some(reason));
    }

    /// Why the connection ended (closed by this client when no reason was recorded).
    pub(crate) fn close_reason(&self) -> CloseReason {
        self.closed
            .borrow()
            .clone()
            .unwrap_or(CloseReason::ClosedByClient)
    }

    /// Waits until this connection has ended, and says why.
    pub(crate) async fn ended(&self) -> CloseReason {
        let mut closed = self.closed.subscribe();
        match closed.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or(CloseReason::ClosedByClient),
            Err(_) => CloseReason::ClosedByClient,
        }
    }
}

/// The state of a client across its connections.
#[derive(Debug)]
pub(crate) struct Hub {
    current: Mutex<Arc<Shared>>,
    pub(crate) subscriptions: Arc<Mutex<Subscriptions>>,
    /// The client's final end.
    pub(crate) closed: watch::Sender<Option<CloseReason>>,
    pub(crate) events: broadcast::Sender<ConnectionEvent>,
    /// Fixed for the client's life: reconnects must get the same one.
    pub(crate) serializer: Serializer,
    pub(crate) push_buffer: usize,
    pub(crate) reconnects: bool,
    /// What resuming the session takes.
    pub(crate) resumption: Arc<Resumption>,
}

impl Hub {
    /// A client whose first connection is `connected`, its tasks started under `cancel`.
    pub(crate) fn start<T: PacketTransport>(
        config: &ClientBuilder,
        connected: Connected<T>,
        cancel: CancellationToken,
    ) -> Arc<Hub> {
        let subscriptions = Arc::new(Mutex::new(Subscriptions::default()));
        let serializer = connected.serializer.clone();
        let resumption = Arc::new(Resumption::new(config.resume && config.reconnect.is_some()));
        resumption.settle(&connected.reply, false);
        let first = spawn_connection(
            config,
            connected,
            subscriptions.clone(),
            resumption.clone(),
            cancel,
            Vec::new(),
        );
        Arc::new(Hub {
            current: Mutex::new(first),
            subscriptions,
            closed: watch::Sender::new(None),
            events: broadcast::Sender::new(64),
            serializer,
            push_buffer: config.push_buffer,
            reconnects: config.reconnect.is_some(),
            resumption,
        })
    }

    /// The connection requests go to now (perhaps an ended one, while reconnecting).
    pub(crate) fn current(&self) -> Arc<Shared> {
        lock(&self.current).clone()
    }

    /// Makes `connected` the current connection; `asked`: its handshake asked to resume the
    /// session. When it did resume, the requests that waited are sent again.
    pub(crate) fn install<T: PacketTransport>(
        &self,
        config: &ClientBuilder,
        connected: Connected<T>,
        cancel: CancellationToken,
        asked: bool,
    ) -> Settled {
        let (settled, resent) = self.resumption.settle(&connected.reply, asked);
        let shared = spawn_connection(
            config,
            connected,
            self.subscriptions.clone(),
            self.resumption.clone(),
            cancel,
            resent,
        );
        *lock(&self.current) = shared;
        settled
    }

    /// Tells the application about `event` (nobody listening is fine).
    pub(crate) fn emit(&self, event: ConnectionEvent) {
        let _ = self.events.send(event);
    }

    /// Ends the client for good: every push stream ends, [`Client::closed`](crate::Client::closed)
    /// wakes, and the last event goes out.
    pub(crate) fn finish(&self, reason: CloseReason) {
        lock(&self.subscriptions).close();
        self.closed.send_replace(Some(reason.clone()));
        self.emit(ConnectionEvent::Closed { reason });
    }
}

/// Starts the tasks of a connection whose handshake is done, with `resent` requests pending
/// and sent first.
fn spawn_connection<T: PacketTransport>(
    config: &ClientBuilder,
    connected: Connected<T>,
    subscriptions: Arc<Mutex<Subscriptions>>,
    resumption: Arc<Resumption>,
    cancel: CancellationToken,
    resent: Vec<(u64, Waiting)>,
) -> Arc<Shared> {
    let sys = connected.reply.sys.clone().unwrap_or_default();
    let (outgoing, outgoing_rx) = mpsc::channel(config.send_queue);
    let shared = Arc::new(Shared {
        outgoing,
        pending: Mutex::new(Pending::default()),
        subscriptions,
        closed: watch::Sender::new(None),
        dict: sys.dict.unwrap_or_default(),
        heartbeat: sys.heartbeat.filter(|interval| !interval.is_zero()),
        serializer: connected.serializer,
        handshake: connected.reply,
        resumption,
        request_timeout: config.request_timeout,
    });
    let packets: Vec<EncodedPacket> = resent.iter().map(|(_, w)| w.packet.clone()).collect();
    lock(&shared.pending).waiting.extend(resent);
    connection::spawn(connected.transport, shared.clone(), outgoing_rx, cancel);
    if !packets.is_empty() {
        let outgoing = shared.outgoing.clone();
        tokio::spawn(async move {
            for packet in packets {
                if outgoing.send(packet).await.is_err() {
                    break;
                }
            }
        });
    }
    shared
}
