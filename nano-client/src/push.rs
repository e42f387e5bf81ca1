//! Pushes: messages the server sends without being asked, and subscriptions to them.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use nano_core::protocol::RouteName;
use nano_core::{DecodePayload, Serializer};
use tokio::sync::mpsc;

use crate::ClientError;

/// One push from the server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Push {
    /// The route it was pushed on, e.g. `onMessage` (resolved from the dictionary if it came
    /// compressed).
    pub route: RouteName,
    /// The serialized body.
    pub payload: Bytes,
    serializer: Serializer,
}

impl Push {
    pub(crate) fn new(route: RouteName, payload: Bytes, serializer: Serializer) -> Self {
        Self {
            route,
            payload,
            serializer,
        }
    }

    /// Decodes the body: a serde type with the connection's serializer, or a
    /// [`Proto`](nano_core::Proto) message as protobuf.
    ///
    /// # Errors
    ///
    /// [`ClientError::Serializer`] when the body is not a `T`.
    pub fn decode<T: DecodePayload>(&self) -> Result<T, ClientError> {
        Ok(T::decode_payload(&self.serializer, &self.payload)?)
    }
}

/// A stream of pushes: of one route ([`Client::subscribe`](crate::Client::subscribe)) or of all
/// ([`Client::pushes`](crate::Client::pushes)).
///
/// Each subscription buffers up to the configured number of pushes
/// ([`ClientBuilder::push_buffer`](crate::ClientBuilder::push_buffer)); when it is full, new
/// pushes for it are dropped and counted in [`Pushes::dropped`] rather than stalling the
/// connection. The stream ends when the connection closes.
#[derive(Debug)]
pub struct Pushes {
    receiver: mpsc::Receiver<Push>,
    dropped: Arc<AtomicU64>,
}

impl Pushes {
    /// The next push, or `None` once the connection has closed and the buffer is drained.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a push is never lost by dropping this future.
    pub async fn recv(&mut self) -> Option<Push> {
        self.receiver.recv().await
    }

    /// How many pushes were dropped because this subscription's buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Stream for Pushes {
    type Item = Push;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Push>> {
        self.receiver.poll_recv(cx)
    }
}

#[derive(Debug)]
struct Subscriber {
    sender: mpsc::Sender<Push>,
    dropped: Arc<AtomicU64>,
}

impl Subscriber {
    /// Delivers `push`; returns `false` when the subscriber is gone and should be removed.
    fn deliver(&self, push: Push) -> bool {
        match self.sender.try_send(push) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// Who listens to which pushes.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    by_route: HashMap<String, Vec<Subscriber>>,
    all: Vec<Subscriber>,
    /// Set once the connection has ended: new subscriptions get an ended stream.
    closed: bool,
}

impl Subscriptions {
    pub(crate) fn subscribe(&mut self, route: Option<&str>, capacity: usize) -> Pushes {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        if !self.closed {
            let subscriber = Subscriber {
                sender,
                dropped: dropped.clone(),
            };
            match route {
                Some(route) => self
                    .by_route
                    .entry(route.to_owned())
                    .or_default()
                    .push(subscriber),
                None => self.all.push(subscriber),
            }
        }
        Pushes { receiver, dropped }
    }

    pub(crate) fn dispatch(&mut self, push: &Push) {
        if let Some(subscribers) = self.by_route.get_mut(push.route.as_str()) {
            subscribers.retain(|subscriber| subscriber.deliver(push.clone()));
            if subscribers.is_empty() {
                self.by_route.remove(push.route.as_str());
            }
        }
        self.all
            .retain(|subscriber| subscriber.deliver(push.clone()));
    }

    /// Ends every stream (their senders are dropped).
    pub(crate) fn close(&mut self) {
        self.closed = true;
        self.by_route.clear();
        self.all.clear();
    }
}
