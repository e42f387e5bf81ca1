//! [`Outbound`]: what this node publishes on the hot paths, in batches: the calls it makes
//! (forwards and RPCs) and what its stand-ins' relays carry (pushes, answers, held broadcasts).
//! A message queues here and the publisher task takes every message queued by the time it runs
//! (it lets the other tasks ready to run go first), so that NATS gets many messages per write
//! instead of one or two. The queue is one FIFO, so each relay's messages keep their order.
//!
//! At most `max_queued_calls` messages wait: a call beyond fails at once, a relay waits for
//! room (a push or an answer is never dropped). A call whose caller stopped waiting is not
//! published.

use std::mem;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_nats::{HeaderMap, Subject};
use bytes::Bytes;
use tokio::sync::Notify;

use super::lock;
use super::node::Node;
use crate::ClusterError;

/// A message to publish.
pub(super) struct Outgoing {
    /// For a call: its id (it is published only while its caller waits).
    pub(super) call: Option<u64>,
    pub(super) subject: Subject,
    pub(super) reply: Option<Subject>,
    pub(super) headers: Option<HeaderMap>,
    pub(super) body: Bytes,
}

/// The messages waiting for the publisher.
pub(super) struct Outbound {
    queue: Mutex<Vec<Outgoing>>,
    limit: usize,
    /// A batch started (the publisher has something to take), or the queue closed.
    ready: Notify,
    /// The publisher took a batch: there is room.
    room: Notify,
    closed: AtomicBool,
    /// Messages queued, and messages handed to NATS (or dropped), since the start: a relay
    /// that ends waits until what it queued is out ([`flushed`](Self::flushed)).
    queued: AtomicU64,
    sent: AtomicU64,
    /// The publisher handed a batch to NATS.
    batch_sent: Notify,
}

impl Outbound {
    /// At most `limit` messages wait.
    pub(super) fn new(limit: usize) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            limit,
            ready: Notify::new(),
            room: Notify::new(),
            closed: AtomicBool::new(false),
            queued: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            batch_sent: Notify::new(),
        }
    }

    /// Queues a call.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Backlog`] when `limit` messages wait already.
    pub(super) fn send(&self, call: Outgoing) -> Result<(), ClusterError> {
        let mut call = Some(call);
        match self.try_queue(&mut call) {
            Some(()) => Ok(()),
            None => Err(ClusterError::Backlog(lock(&self.queue).len())),
        }
    }

    /// Queues a message of a relay, waiting for room if `limit` messages wait.
    pub(super) async fn send_waiting(&self, subject: Subject, body: Bytes) {
        let mut message = Some(Outgoing {
            call: None,
            subject,
            reply: None,
            headers: None,
            body,
        });
        loop {
            let mut room = pin!(self.room.notified());
            room.as_mut().enable();
            if self.try_queue(&mut message).is_some() {
                return;
            }
            room.await;
        }
    }

    /// Queues `message` (taking it) unless `limit` messages wait; the first message of a
    /// batch wakes the publisher.
    fn try_queue(&self, message: &mut Option<Outgoing>) -> Option<()> {
        let first = {
            let mut queue = lock(&self.queue);
            if queue.len() >= self.limit {
                return None;
            }
            queue.push(message.take()?);
            self.queued.fetch_add(1, Ordering::AcqRel);
            queue.len() == 1
        };
        if first {
            self.ready.notify_one();
        }
        Some(())
    }

    /// Waits until every message queued so far has been handed to NATS.
    pub(super) async fn flushed(&self) {
        let mark = self.queued.load(Ordering::Acquire);
        loop {
            let mut sent = pin!(self.batch_sent.notified());
            sent.as_mut().enable();
            if self.sent.load(Ordering::Acquire) >= mark {
                return;
            }
            sent.await;
        }
    }

    /// No more messages come: the publisher sends what is queued, then ends.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ready.notify_one();
    }
}

impl Node {
    /// Publishes the queued messages, in batches, until the queue is closed and empty; a
    /// call that cannot be published fails at once.
    pub(super) async fn publish_queued(self: Arc<Self>) {
        let outbound = &self.outbound;
        let mut batch = Vec::new();
        loop {
            outbound.ready.notified().await;
            // The tasks ready now (other clients' messages) queue theirs first.
            tokio::task::yield_now().await;
            mem::swap(&mut batch, &mut *lock(&outbound.queue));
            outbound.room.notify_waiters();
            for message in batch.drain(..) {
                self.publish_one(message).await;
                outbound.sent.fetch_add(1, Ordering::AcqRel);
            }
            outbound.batch_sent.notify_waiters();
            if outbound.closed.load(Ordering::Acquire) && lock(&outbound.queue).is_empty() {
                return;
            }
        }
    }

    async fn publish_one(&self, message: Outgoing) {
        if let Some(id) = message.call
            && !self.calls.is_pending(id)
        {
            return; // Its caller stopped waiting (timed out while NATS lagged).
        }
        let nats = &self.link.nats;
        let subject = message.subject.clone();
        let published = match (message.reply, message.headers) {
            (Some(reply), Some(headers)) => {
                nats.publish_with_reply_and_headers(subject, reply, headers, message.body)
                    .await
            }
            (Some(reply), None) => nats.publish_with_reply(subject, reply, message.body).await,
            (None, _) => nats.publish(subject, message.body).await,
        };
        if let Err(err) = published {
            let context = format!("publish to {}", message.subject);
            match message.call {
                Some(id) => self.calls.fail(id, ClusterError::nats(context, err)),
                None => tracing::warn!(error = %err, "cluster publish failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: u64) -> Outgoing {
        Outgoing {
            call: Some(id),
            subject: Subject::from("nano.node.b.call"),
            reply: Some(Subject::from(format!("nano.node.a.in.answer.1.{id}"))),
            headers: None,
            body: Bytes::new(),
        }
    }

    fn queued(outbound: &Outbound) -> Vec<Option<u64>> {
        lock(&outbound.queue)
            .drain(..)
            .map(|message| message.call)
            .collect()
    }

    #[test]
    fn at_most_the_limit_of_calls_wait_and_they_keep_their_order() {
        let outbound = Outbound::new(2);
        assert!(outbound.send(call(1)).is_ok());
        assert!(outbound.send(call(2)).is_ok());
        assert!(matches!(
            outbound.send(call(3)),
            Err(ClusterError::Backlog(2))
        ));
        assert_eq!(queued(&outbound), [Some(1), Some(2)]);
        // Taken by the publisher: there is room again.
        assert!(outbound.send(call(4)).is_ok());
    }

    #[tokio::test]
    async fn a_relay_waits_for_room_instead_of_dropping() {
        let outbound = Arc::new(Outbound::new(1));
        assert!(outbound.send(call(1)).is_ok());
        let waiting = outbound.clone();
        let relayed = tokio::spawn(async move {
            waiting
                .send_waiting(Subject::from("nano.node.a.in.event"), Bytes::new())
                .await;
        });
        tokio::task::yield_now().await;
        assert!(!relayed.is_finished(), "no room yet");
        // The publisher takes the batch and says there is room.
        assert_eq!(queued(&outbound), [Some(1)]);
        outbound.room.notify_waiters();
        relayed.await.unwrap();
        assert_eq!(queued(&outbound), [None]);
    }

    #[tokio::test]
    async fn flushed_waits_until_what_was_queued_is_sent() {
        let outbound = Arc::new(Outbound::new(8));
        assert!(outbound.send(call(1)).is_ok());
        let waiting = outbound.clone();
        let flushed = tokio::spawn(async move { waiting.flushed().await });
        tokio::task::yield_now().await;
        assert!(!flushed.is_finished(), "nothing sent yet");
        // What the publisher does with a batch.
        assert_eq!(queued(&outbound), [Some(1)]);
        outbound.sent.fetch_add(1, Ordering::AcqRel);
        outbound.batch_sent.notify_waiters();
        flushed.await.unwrap();
    }
}
