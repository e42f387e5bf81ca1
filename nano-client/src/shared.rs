//! [`Shared`]: the state the [`Client`](crate::Client) handles and the connection tasks share,
//! with the pending requests and the close reason.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bytes::Bytes;
use nano_core::Serializer;
use nano_core::protocol::{EncodedPacket, HandshakeResponse, RouteDict};
use tokio::sync::{mpsc, oneshot, watch};

use crate::CloseReason;
use crate::push::Subscriptions;

/// What a pending request is answered with: the payload and pitaya's error flag, or the reason
/// the connection ended first.
pub(crate) type Reply = Result<(Bytes, bool), CloseReason>;

/// Requests waiting for a response, and whether the connection has ended.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) waiting: HashMap<u64, oneshot::Sender<Reply>>,
    pub(crate) closed: Option<CloseReason>,
}

/// State shared by the client handles and the connection tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) outgoing: mpsc::Sender<EncodedPacket>,
    pub(crate) pending: Mutex<Pending>,
    pub(crate) subscriptions: Mutex<Subscriptions>,
    pub(crate) closed: watch::Sender<Option<CloseReason>>,
    pub(crate) dict: RouteDict,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) serializer: Serializer,
    pub(crate) handshake: HandshakeResponse,
    pub(crate) next_id: AtomicU64,
    pub(crate) request_timeout: Duration,
    pub(crate) push_buffer: usize,
}

/// Locks a mutex, ignoring poisoning (the workspace's one helper for it).
pub(crate) use nano_core::__private::lock;

impl Shared {
    /// Ends the connection with `reason` (the first reason wins): fails every pending request,
    /// ends every push stream, and wakes [`Client::closed`].
    pub(crate) fn finish(&self, reason: CloseReason) {
        let waiting = {
            let mut pending = lock(&self.pending);
            if pending.closed.is_some() {
                return;
            }
            pending.closed = Some(reason.clone());
            std::mem::take(&mut pending.waiting)
        };
        for (_, reply) in waiting {
            let _ = reply.send(Err(reason.clone()));
        }
        lock(&self.subscriptions).close();
        self.closed.send_replace(Some(reason));
    }

    /// Why the connection ended (closed by this client when no reason was recorded).
    pub(crate) fn close_reason(&self) -> CloseReason {
        self.closed
            .borrow()
            .clone()
            .unwrap_or(CloseReason::ClosedByClient)
    }
}
