//! Which nodes are alive and which routes each serves, learned from their announcements.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// One peer as last announced.
#[derive(Debug)]
struct Peer {
    routes: HashSet<String>,
    last_seen: Instant,
}

/// The cluster as this node sees it.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    peers: BTreeMap<String, Peer>,
}

impl Registry {
    /// Records an announcement; returns `true` when the node is new (or came back).
    pub(crate) fn seen(&mut self, node: &str, routes: Vec<String>) -> bool {
        let now = Instant::now();
        let routes: HashSet<String> = routes.into_iter().collect();
        match self.peers.get_mut(node) {
            Some(peer) => {
                peer.routes = routes;
                peer.last_seen = now;
                false
            }
            None => {
                self.peers.insert(
                    node.to_owned(),
                    Peer {
                        routes,
                        last_seen: now,
                    },
                );
                true
            }
        }
    }

    /// Forgets a node at once (it said goodbye).
    pub(crate) fn remove(&mut self, node: &str) -> bool {
        self.peers.remove(node).is_some()
    }

    /// Drops the nodes not heard from within `dead_after`; returns their names.
    pub(crate) fn prune(&mut self, dead_after: Duration) -> Vec<String> {
        let now = Instant::now();
        let dead: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, peer)| now.duration_since(peer.last_seen) > dead_after)
            .map(|(node, _)| node.clone())
            .collect();
        for node in &dead {
            self.peers.remove(node);
        }
        dead
    }

    /// Whether `node` is alive.
    #[cfg(test)]
    pub(crate) fn alive(&self, node: &str) -> bool {
        self.peers.contains_key(node)
    }

    /// The live nodes serving `route`, in name order.
    pub(crate) fn serving(&self, route: &str) -> Vec<String> {
        self.peers
            .iter()
            .filter(|(_, peer)| peer.routes.contains(route))
            .map(|(node, _)| node.clone())
            .collect()
    }

    /// Whether any live node serves `route`.
    pub(crate) fn serves(&self, route: &str) -> bool {
        self.peers.values().any(|peer| peer.routes.contains(route))
    }

    /// Whether `node` is alive and serves `route`.
    pub(crate) fn node_serves(&self, node: &str, route: &str) -> bool {
        self.peers
            .get(node)
            .is_some_and(|peer| peer.routes.contains(route))
    }

    /// Every live node and the number of routes it serves.
    pub(crate) fn nodes(&self) -> HashMap<String, usize> {
        self.peers
            .iter()
            .map(|(node, peer)| (node.clone(), peer.routes.len()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_come_serve_and_go() {
        let mut registry = Registry::default();
        assert!(registry.seen("b1", vec!["room.join".into()]));
        assert!(!registry.seen("b1", vec!["room.join".into()]));
        assert!(registry.seen("b2", vec!["room.join".into(), "chat.say".into()]));
        assert_eq!(registry.serving("room.join"), ["b1", "b2"]);
        assert_eq!(registry.serving("chat.say"), ["b2"]);
        assert!(registry.serving("x.y").is_empty());
        assert!(registry.serves("chat.say") && !registry.serves("x.y"));
        assert!(registry.node_serves("b2", "chat.say") && !registry.node_serves("b1", "chat.say"));
        assert!(registry.prune(Duration::from_secs(60)).is_empty());
        assert_eq!(registry.prune(Duration::ZERO).len(), 2);
        assert!(!registry.alive("b1"));
    }
}
