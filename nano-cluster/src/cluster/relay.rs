//! The relay of a stand-in session: what its handlers send its client, carried to the client's
//! node in the order they sent it.

use std::sync::Arc;

use async_nats::Subject;
use bytes::Bytes;
use futures_util::FutureExt;
use nano_core::remote::{RemoteEvent, RemoteSession};
use tokio::sync::{Notify, mpsc};

use super::outgoing::Outbound;
use crate::wire::{self, Event, EventKind};

/// A stand-in's outlet: messages to publish (subject, bytes) in order after the pushes its
/// handlers queued before them.
pub(super) type Outlet = mpsc::Sender<(Subject, Bytes)>;

/// A stand-in session and where what it sends goes.
pub(super) struct Relay {
    pub(super) remote: RemoteSession,
    /// Answers, held broadcasts and their releases.
    pub(super) outlet: mpsc::Receiver<(Subject, Bytes)>,
    /// Where what it carries is published, in order.
    pub(super) outbound: Arc<Outbound>,
    /// The inbox of the client's node for events.
    pub(super) events: Subject,
    /// Until the session's closing is relayed.
    pub(super) open: bool,
}

impl Relay {
    /// Carries what the stand-in's handlers send (pushes, kicks, closing, then what comes
    /// through its outlet) to the client's node, in the order they were sent, until `finish`
    /// is notified (the session is over: its client left, or this node stops). What was
    /// queued by then still goes out (answers that callers wait for, broadcasts that other
    /// nodes' members wait for); then the session ends here (its close callbacks run).
    pub(super) async fn run(mut self, finish: Arc<Notify>) {
        loop {
            let next = tokio::select! {
                biased;
                () = finish.notified() => break,
                next = self.next() => next,
            };
            let Some((subject, message)) = next else {
                // Nothing more can come: the session is being ended.
                finish.notified().await;
                break;
            };
            self.outbound.send_waiting(subject, message).await;
        }
        while let Some(Some((subject, message))) = self.next().now_or_never() {
            self.outbound.send_waiting(subject, message).await;
        }
        // Out before the session's close callbacks run (they may publish too).
        self.outbound.flushed().await;
        self.remote.finish();
    }

    /// The next message to send: what the handlers pushed first (an answer is queued after
    /// its handler returned, so the pushes that handler queued are already waiting); `None`
    /// when nothing more can come.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    async fn next(&mut self) -> Option<(Subject, Bytes)> {
        let id = self.remote.session().id();
        loop {
            let (kind, name, payload) = tokio::select! {
                biased;
                event = self.remote.next_event(), if self.open => match event {
                    Some(RemoteEvent::Packet(packet)) => (EventKind::Packet, String::new(), packet.into_bytes()),
                    Some(RemoteEvent::Kick(reason)) => (EventKind::Kick, reason, Bytes::new()),
                    Some(RemoteEvent::Close) => (EventKind::Close, String::new(), Bytes::new()),
                    // Closing was sent: answers may still follow until the session ends.
                    Some(_) | None => {
                        self.open = false;
                        continue;
                    }
                },
                queued = self.outlet.recv() => return queued,
            };
            let event = Event::new(id, kind, name);
            return Some((self.events.clone(), wire::encode(&event, &payload)));
        }
    }
}
