//! A joined client's routing on its own node: the news from a room's node that the client
//! left its room there (it left, its room was disposed) unbinds it.

use std::sync::Arc;

use async_nats::Subscriber;
use futures_util::StreamExt;
use nano_core::RoomId;

use super::Node;
use super::wire::Left;

impl Node {
    /// Client `session` of this node left room `room` of `kind` on `node`: its requests to
    /// the kind's routes are not sent there any more.
    pub(super) fn room_left(&self, session: u64, kind: &str, node: &str, room: RoomId) {
        if self.rooms.clear_joined(session, kind, node, room) {
            self.gate.unbind(session, kind, node);
        }
    }

    /// The news from backends that this node's clients left their rooms there.
    pub(in crate::cluster) async fn serve_room_departures(self: Arc<Self>, mut left: Subscriber) {
        loop {
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                message = left.next() => match message { Some(message) => message, None => return },
            };
            if let Ok(left) = serde_json::from_slice::<Left>(&message.payload) {
                self.room_left(left.session, &left.kind, &left.node, left.room);
            }
        }
    }
}
