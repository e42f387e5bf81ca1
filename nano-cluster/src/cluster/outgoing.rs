//! [`Outgoing`]: the calls this node sends, published in batches: a call queues here and the
//! publisher task takes every call queued by the time it runs (it lets the other tasks ready
//! to run go first), so that NATS gets several calls per write instead of one.

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
#[derive(Default)]
pub(super) struct Outbound {
    queue: Mutex<Vec<Outgoing>>,
    ready: Notify,
}

impl Outbound {
    /// Queues `call`; the first call of a batch wakes the publisher.
    pub(super) fn send(&self, call: Outgoing) {
        let first = {
            let mut queue = lock(&self.queue);
            queue.push(call);
            queue.len() == 1
        };
        if first {
            self.ready.notify_one();
        }
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
