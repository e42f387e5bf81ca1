//! [`Outbound`]: the calls this node makes, published in batches: a call queues here and the
//! publisher task takes every call queued by the time it runs (it lets the other tasks ready
//! to run go first), so that NATS gets many calls per write instead of one or two. At most
//! `max_queued_calls` wait; a call whose caller stopped waiting is not published.

use std::mem;
use std::sync::{Arc, Mutex};

use async_nats::HeaderMap;
use bytes::Bytes;
use tokio::sync::Notify;

use super::lock;
use super::node::Node;
use crate::ClusterError;

/// A call to publish.
pub(super) struct Outgoing {
    pub(super) id: u64,
    pub(super) subject: String,
    pub(super) reply: String,
    pub(super) headers: Option<HeaderMap>,
    pub(super) body: Bytes,
}

/// The calls waiting for the publisher.
pub(super) struct Outbound {
    queue: Mutex<Vec<Outgoing>>,
    limit: usize,
    ready: Notify,
}

impl Outbound {
    /// At most `limit` calls wait.
    pub(super) fn new(limit: usize) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            limit,
            ready: Notify::new(),
        }
    }

    /// Queues `call`; the first call of a batch wakes the publisher.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Backlog`] when `limit` calls wait already.
    pub(super) fn send(&self, call: Outgoing) -> Result<(), ClusterError> {
        let first = {
            let mut queue = lock(&self.queue);
            if queue.len() >= self.limit {
                return Err(ClusterError::Backlog(queue.len()));
            }
            queue.push(call);
            queue.len() == 1
        };
        if first {
            self.ready.notify_one();
        }
        Ok(())
    }
}

impl Node {
    /// Publishes the queued calls until the node stops; a call that cannot be published fails
    /// at once.
    pub(super) async fn publish_calls(self: Arc<Self>) {
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                () = self.outbound.ready.notified() => {}
            }
            // The tasks ready now (other clients' messages) queue their calls first.
            tokio::task::yield_now().await;
            mem::swap(&mut batch, &mut *lock(&self.outbound.queue));
            for call in batch.drain(..) {
                if !self.calls.is_pending(call.id) {
                    continue; // Its caller stopped waiting (timed out while NATS lagged).
                }
                let nats = &self.link.nats;
                let published = match call.headers {
                    Some(headers) => {
                        nats.publish_with_reply_and_headers(
                            call.subject.clone(),
                            call.reply,
                            headers,
                            call.body,
                        )
                        .await
                    }
                    None => {
                        nats.publish_with_reply(call.subject.clone(), call.reply, call.body)
                            .await
                    }
                };
                if let Err(err) = published {
                    let error =
                        ClusterError::nats(format!("publish a call to {}", call.subject), err);
                    self.calls.fail(call.id, error);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: u64) -> Outgoing {
        Outgoing {
            id,
            subject: "nano.node.b.call".to_owned(),
            reply: format!("nano.node.a.in.answer.1.{id}"),
            headers: None,
            body: Bytes::new(),
        }
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
        let queued: Vec<u64> = lock(&outbound.queue)
            .drain(..)
            .map(|call| call.id)
            .collect();
        assert_eq!(queued, [1, 2]);
        // Taken by the publisher: there is room again.
        assert!(outbound.send(call(4)).is_ok());
    }
}
