//! Rooms across nodes: a room kind served by several backends, with placements
//! ([`Cluster::rooms`], [`RoomsClient`]) that never create duplicates under concurrent
//! requests, and a client's requests to the kind's routes reaching the node that holds its
//! room.
//!
//! - `config`: [`PlacementConfig`], [`PlacementPolicy`] and [`NodeLoad`];
//! - `error`: [`PlacementError`] and its codes;
//! - `wire`: the JSON messages between nodes;
//! - `kind`: a served kind without its type parameter;
//! - `serve`: [`Cluster::serve_rooms`]: the kind's subjects on a backend, its internal join
//!   and leave routes, and telling a client's node that it left its room;
//! - `authority`: placing a room when this node is the kind's placement node;
//! - `ask`: a request to another node with a timeout;
//! - `client`: [`RoomsClient`], on the client's node: reserve, join, leave;
//! - `routing`: a joined client's routing ends with the news that it left its room.

mod ask;
mod authority;
mod client;
mod config;
mod error;
mod kind;
mod routing;
mod serve;
mod wire;

pub use client::{Placement, RoomsClient};
pub use config::{
    ChooseNode, DEFAULT_MAX_PENDING_PLACEMENTS, DEFAULT_PLACEMENT_TIMEOUT, DEFAULT_PROBE_TIMEOUT,
    NodeLoad, PlacementConfig, PlacementPolicy,
};
pub use error::PlacementError;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use nano_core::__private::{read, write};
use nano_core::RoomId;
use tokio::sync::Semaphore;

use super::lock;
use super::node::Node;
use kind::KindServer;

/// A room kind served here, and its placements when this node places them.
struct Kind {
    server: Arc<dyn KindServer>,
    /// One placement at a time: what makes concurrent placements see each other's seats.
    turn: tokio::sync::Mutex<()>,
    /// Placements waiting for their turn, at most `max_pending`.
    pending: Arc<Semaphore>,
}

/// One client's rooms on other nodes: kind -> (node, room).
type JoinedRooms = HashMap<String, (String, RoomId)>;

/// The room kinds a node serves, and the rooms its clients joined elsewhere.
#[derive(Default)]
pub(crate) struct Hub {
    kinds: RwLock<HashMap<String, Arc<Kind>>>,
    /// Client session id -> kind -> the node and room it joined there.
    joined: Mutex<HashMap<u64, JoinedRooms>>,
}

impl Hub {
    fn kind(&self, kind: &str) -> Option<Arc<Kind>> {
        read(&self.kinds).get(kind).cloned()
    }

    fn serves(&self, kind: &str) -> bool {
        read(&self.kinds).contains_key(kind)
    }

    /// Where this node's client `session` is for `kind`.
    fn joined(&self, session: u64, kind: &str) -> Option<(String, RoomId)> {
        lock(&self.joined).get(&session)?.get(kind).cloned()
    }

    fn set_joined(&self, session: u64, kind: &str, node: &str, room: RoomId) {
        lock(&self.joined)
            .entry(session)
            .or_default()
            .insert(kind.to_owned(), (node.to_owned(), room));
    }

    /// Forgets `session`'s room of `kind` if it is `room` on `node` (an older room's news
    /// does not undo a newer join); returns whether it did.
    fn clear_joined(&self, session: u64, kind: &str, node: &str, room: RoomId) -> bool {
        let mut joined = lock(&self.joined);
        let Some(kinds) = joined.get_mut(&session) else {
            return false;
        };
        if kinds.get(kind) != Some(&(node.to_owned(), room)) {
            return false;
        }
        kinds.remove(kind);
        if kinds.is_empty() {
            joined.remove(&session);
        }
        true
    }

    /// A client of this node left: it is in no room any more.
    pub(crate) fn client_left(&self, session: u64) {
        lock(&self.joined).remove(&session);
    }

    /// `node` is gone: the rooms this node's clients had there are gone with it.
    pub(crate) fn node_gone(&self, node: &str) {
        lock(&self.joined).retain(|_, kinds| {
            kinds.retain(|_, (of, _)| of != node);
            !kinds.is_empty()
        });
    }
}

impl Node {
    /// The live nodes serving `kind` (this one included), in name order.
    fn kind_nodes(&self, kind: &str) -> Vec<String> {
        let mut nodes = self.membership.serving_component(kind);
        if self.rooms.serves(kind) {
            nodes.push(self.link.node().to_owned());
        }
        nodes.sort();
        nodes.dedup();
        nodes
    }

    /// `<prefix>.node.<node>.rooms.<kind>.<what>`.
    fn kind_subject(&self, node: &str, kind: &str, what: &str) -> String {
        self.link
            .node_subject(node, &format!("rooms.{kind}.{what}"))
    }
}

/// Registers `server` as kind `kind` served here; `None` if it already is.
fn register(hub: &Hub, kind: &str, server: Arc<dyn KindServer>) -> Option<Arc<Kind>> {
    let mut kinds = write(&hub.kinds);
    if kinds.contains_key(kind) {
        return None;
    }
    let pending = Arc::new(Semaphore::new(server.config().max_pending));
    let entry = Arc::new(Kind {
        server,
        turn: tokio::sync::Mutex::new(()),
        pending,
    });
    kinds.insert(kind.to_owned(), entry.clone());
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_news_of_the_current_room_clears_a_join() {
        let hub = Hub::default();
        hub.set_joined(7, "table", "b1", RoomId(1));
        assert!(
            !hub.clear_joined(7, "table", "b1", RoomId(2)),
            "another room"
        );
        assert!(
            !hub.clear_joined(7, "table", "b2", RoomId(1)),
            "another node"
        );
        assert!(
            !hub.clear_joined(7, "chess", "b1", RoomId(1)),
            "another kind"
        );
        assert_eq!(hub.joined(7, "table"), Some(("b1".to_owned(), RoomId(1))));
        assert!(hub.clear_joined(7, "table", "b1", RoomId(1)));
        assert_eq!(hub.joined(7, "table"), None);
        assert!(lock(&hub.joined).is_empty(), "nothing kept for the session");

        hub.set_joined(8, "table", "b1", RoomId(1));
        hub.set_joined(9, "table", "b2", RoomId(1));
        hub.node_gone("b1");
        assert_eq!(hub.joined(8, "table"), None);
        assert!(hub.joined(9, "table").is_some());
        hub.client_left(9);
        assert!(lock(&hub.joined).is_empty());
    }
}
