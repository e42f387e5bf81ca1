//! Which nodes are alive and which routes each serves, learned from their announcements.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// One peer as last announced.
#[derive(Debug)]
struct Peer {
    /// Which run of the node this is (a restarted node has a new one).
    instance: u64,
    routes: HashSet<String>,
    last_seen: Instant,
}

/// What a heartbeat (an announcement without routes) says about its node.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Heartbeat {
    /// A known node, still alive.
    Alive,
    /// A node this registry does not know (yet, or any more): its routes must be asked for.
    Unknown,
    /// A new run of a known node: what was kept for the earlier one is over, and the new
    /// one's routes must be asked for.
    Restarted,
}

/// The cluster as this node sees it.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    peers: BTreeMap<String, Peer>,
}

impl Registry {
    /// Records a full announcement (with routes); returns `true` when the node is new (or came
    /// back). The caller handles a changed `instance` first (see [`heartbeat`](Self::heartbeat)).
    pub(crate) fn seen(&mut self, node: &str, instance: u64, routes: Vec<String>) -> bool {
        let peer = Peer {
            instance,
            routes: routes.into_iter().collect(),
            last_seen: Instant::now(),
        };
        self.peers.insert(node.to_owned(), peer).is_none()
    }

    /// Records a heartbeat of `node`'s run `instance`; a restarted node is forgotten until its
    /// routes are known again.
    pub(crate) fn heartbeat(&mut self, node: &str, instance: u64) -> Heartbeat {
        match self.peers.get_mut(node) {
            None => Heartbeat::Unknown,
            Some(peer) if peer.instance != instance => {
                self.peers.remove(node);
                Heartbeat::Restarted
            }
            Some(peer) => {
                peer.last_seen = Instant::now();
                Heartbeat::Alive
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

    /// The live nodes serving a route of `component` (`<component>.<handler>`), in name
    /// order.
    pub(crate) fn serving_component(&self, component: &str) -> Vec<String> {
        self.peers
            .iter()
            .filter(|(_, peer)| {
                peer.routes
                    .iter()
                    .any(|route| route.split_once('.').is_some_and(|(of, _)| of == component))
            })
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

    /// How many live peers there are.
    pub(crate) fn len(&self) -> usize {
        self.peers.len()
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
        assert!(registry.seen("b1", 1, vec!["room.join".into()]));
        assert!(!registry.seen("b1", 1, vec!["room.join".into()]));
        assert!(registry.seen("b2", 7, vec!["room.join".into(), "chat.say".into()]));
        assert_eq!(registry.serving("room.join"), ["b1", "b2"]);
        assert_eq!(registry.serving("chat.say"), ["b2"]);
        assert_eq!(registry.serving_component("room"), ["b1", "b2"]);
        assert_eq!(registry.serving_component("chat"), ["b2"]);
        assert!(registry.serving_component("roo").is_empty());
        assert!(registry.serving("x.y").is_empty());
        assert!(registry.serves("chat.say") && !registry.serves("x.y"));
        assert!(registry.node_serves("b2", "chat.say") && !registry.node_serves("b1", "chat.say"));
        assert!(registry.prune(Duration::from_secs(60)).is_empty());
        assert_eq!(registry.prune(Duration::ZERO).len(), 2);
        assert!(!registry.alive("b1"));
    }

    #[test]
    fn heartbeats_keep_known_runs_alive_and_reveal_restarts() {
        let mut registry = Registry::default();
        assert_eq!(registry.heartbeat("b1", 1), Heartbeat::Unknown);
        assert!(!registry.alive("b1"), "no routes known yet");
        registry.seen("b1", 1, vec!["room.join".into()]);
        assert_eq!(registry.heartbeat("b1", 1), Heartbeat::Alive);
        assert_eq!(registry.heartbeat("b1", 2), Heartbeat::Restarted);
        assert!(
            !registry.serves("room.join"),
            "a new run serves nothing until it says what"
        );
        assert_eq!(registry.heartbeat("b1", 2), Heartbeat::Unknown);
    }
}
