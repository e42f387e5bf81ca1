//! The relay of a stand-in session: what its handlers send its client, carried to the client's
//! node in the order they sent it.

use std::sync::Arc;

use async_nats::{Client, Subject};
use bytes::Bytes;
use nano_core::remote::{RemoteEvent, RemoteSession};
use tokio::sync::{Notify, mpsc};

use crate::wire::{self, Event, EventKind};

/// A stand-in's outlet: messages to publish (subject, bytes) in order after the pushes its
/// handlers queued before them.
pub(super) type Outlet = mpsc::Sender<(Subject, Bytes)>;

/// Carries what a stand-in's handlers send (pushes, kicks, closing, then what comes through
/// its outlet: answers, held broadcasts and their releases) to the client's node, in the order
/// they were sent, until `finish` is notified (the client's node says the session is over).
pub(super) async fn relay(
    mut remote: RemoteSession,
    mut outlet: mpsc::Receiver<(Subject, Bytes)>,
    finish: Arc<Notify>,
    nats: Client,
    events: String,
) {
    let id = remote.session().id();
    let mut open = true;
    loop {
        // Biased: an answer is queued after its handler returned, so the pushes that handler
        // queued are already waiting and go first.
        let (kind, name, payload) = tokio::select! {
            biased;
            () = finish.notified() => break,
            event = remote.next_event(), if open => match event {
                Some(RemoteEvent::Packet(packet)) => (EventKind::Packet, String::new(), packet.into_bytes()),
                Some(RemoteEvent::Kick(reason)) => (EventKind::Kick, reason, Bytes::new()),
                Some(RemoteEvent::Close) => (EventKind::Close, String::new(), Bytes::new()),
                // Closing was sent: answers may still follow until the client's node confirms.
                Some(_) | None => {
                    open = false;
                    continue;
                }
            },
            Some((subject, message)) = outlet.recv() => {
                let _ = nats.publish(subject, message).await;
                continue;
            }
        };
        let event = Event::new(id, kind, name);
        let _ = nats
            .publish(events.clone(), wire::encode(&event, &payload))
            .await;
    }
    remote.finish();
}
