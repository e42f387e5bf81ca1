//! [`PlacementConfig`]: where a placement puts a new room ([`PlacementPolicy`]) and how long
//! each step of it may take.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Default of [`PlacementConfig::request_timeout`].
pub const DEFAULT_PLACEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Default of [`PlacementConfig::probe_timeout`].
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Default of [`PlacementConfig::max_pending`].
pub const DEFAULT_MAX_PENDING_PLACEMENTS: usize = 1_024;

/// One node serving a room kind, as the placement node sees it when a new room is needed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeLoad {
    /// The node's name.
    pub node: String,
    /// Its live rooms of the kind.
    pub rooms: usize,
    /// Members and reserved seats in those rooms.
    pub sessions: usize,
}

/// A user-defined placement: picks the node for a new room among `nodes` (every live node
/// serving the kind that answered, in name order). Any
/// `Fn(&str, &[NodeLoad]) -> Option<String>` is one.
pub trait ChooseNode: Send + Sync + 'static {
    /// The node for a new room made with `filter`; `None`, or a name not in `nodes`, falls
    /// back to [`PlacementPolicy::FewestRooms`].
    fn choose(&self, filter: &str, nodes: &[NodeLoad]) -> Option<String>;
}

impl<F> ChooseNode for F
where
    F: Fn(&str, &[NodeLoad]) -> Option<String> + Send + Sync + 'static,
{
    fn choose(&self, filter: &str, nodes: &[NodeLoad]) -> Option<String> {
        self(filter, nodes)
    }
}

/// Where a new room goes. A room with a free seat for the filter, on any node, is always
/// filled first; the policy only places rooms that must be created.
#[derive(Clone, Default)]
pub enum PlacementPolicy {
    /// The node with the fewest rooms of the kind (the first in name order on a tie).
    #[default]
    FewestRooms,
    /// The node with the fewest members and reserved seats in its rooms of the kind.
    FewestSessions,
    /// A function of the user's.
    Custom(Arc<dyn ChooseNode>),
}

impl PlacementPolicy {
    /// A user-defined policy.
    pub fn custom(choose: impl ChooseNode) -> Self {
        PlacementPolicy::Custom(Arc::new(choose))
    }

    /// The node for a new room among `nodes` (not empty for a choice).
    pub(crate) fn choose(&self, filter: &str, nodes: &[NodeLoad]) -> Option<String> {
        let fewest = |key: fn(&NodeLoad) -> usize| {
            nodes
                .iter()
                .min_by_key(|load| key(load))
                .map(|load| load.node.clone())
        };
        match self {
            PlacementPolicy::FewestRooms => fewest(|load| load.rooms),
            PlacementPolicy::FewestSessions => fewest(|load| load.sessions),
            PlacementPolicy::Custom(choose) => choose
                .choose(filter, nodes)
                .filter(|node| nodes.iter().any(|load| &load.node == node))
                .or_else(|| PlacementPolicy::FewestRooms.choose(filter, nodes)),
        }
    }
}

impl fmt::Debug for PlacementPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlacementPolicy::FewestRooms => "FewestRooms",
            PlacementPolicy::FewestSessions => "FewestSessions",
            PlacementPolicy::Custom(_) => "Custom(..)",
        })
    }
}

/// How rooms of a kind are placed across the nodes serving it.
///
/// Give the same policy to every node serving the kind: whichever of them is the placement
/// node at the time applies its own.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_cluster::{PlacementConfig, PlacementPolicy};
///
/// let config = PlacementConfig::default()
///     .policy(PlacementPolicy::FewestSessions)
///     .request_timeout(Duration::from_secs(3));
/// assert!(matches!(config.policy_ref(), PlacementPolicy::FewestSessions));
/// ```
#[derive(Clone, Debug)]
pub struct PlacementConfig {
    pub(crate) policy: PlacementPolicy,
    pub(crate) request_timeout: Duration,
    pub(crate) probe_timeout: Duration,
    pub(crate) max_pending: usize,
}

impl Default for PlacementConfig {
    /// Fewest rooms; placements answered within 5 s, each node within 1 s; at most 1,024
    /// placements waiting at the placement node.
    fn default() -> Self {
        Self {
            policy: PlacementPolicy::default(),
            request_timeout: DEFAULT_PLACEMENT_TIMEOUT,
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            max_pending: DEFAULT_MAX_PENDING_PLACEMENTS,
        }
    }
}

impl PlacementConfig {
    /// Where new rooms go (default [`PlacementPolicy::FewestRooms`]).
    pub fn policy(mut self, policy: PlacementPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy.
    pub fn policy_ref(&self) -> &PlacementPolicy {
        &self.policy
    }

    /// How long a caller waits for the placement node's answer (default
    /// [`DEFAULT_PLACEMENT_TIMEOUT`], 5 s); the join on the room's node that follows is a
    /// call like any other, bounded by
    /// [`ClusterConfig::request_timeout`](crate::ClusterConfig::request_timeout). Make it
    /// longer than a few [`probe_timeout`](Self::probe_timeout)s: a placement asks every
    /// node once, then the chosen one (again another when that one fails). A placement that
    /// waited this long for its turn at the placement node is not placed (its caller gave
    /// up).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long the placement node waits for each node's load or reservation (default
    /// [`DEFAULT_PROBE_TIMEOUT`], 1 s); a node that does not answer in time is left out of
    /// that placement.
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// How many placements may wait at the placement node, one running at a time (default
    /// [`DEFAULT_MAX_PENDING_PLACEMENTS`], 1,024); beyond that they are refused at once
    /// with code 503. At least 1.
    pub fn max_pending(mut self, placements: usize) -> Self {
        self.max_pending = placements.max(1);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(node: &str, rooms: usize, sessions: usize) -> NodeLoad {
        NodeLoad {
            node: node.to_owned(),
            rooms,
            sessions,
        }
    }

    #[test]
    fn policies_choose_the_least_loaded_or_the_users_valid_choice() {
        let nodes = [load("b1", 2, 3), load("b2", 1, 8), load("b3", 1, 1)];
        let choose = |policy: PlacementPolicy| policy.choose("", &nodes);
        assert_eq!(choose(PlacementPolicy::FewestRooms).as_deref(), Some("b2"));
        assert_eq!(
            choose(PlacementPolicy::FewestSessions).as_deref(),
            Some("b3")
        );
        let last = PlacementPolicy::custom(|_: &str, nodes: &[NodeLoad]| {
            nodes.last().map(|load| load.node.clone())
        });
        assert_eq!(choose(last).as_deref(), Some("b3"));
        let unknown = PlacementPolicy::custom(|_: &str, _: &[NodeLoad]| Some("x".to_owned()));
        assert_eq!(choose(unknown).as_deref(), Some("b2"), "falls back");
        assert_eq!(PlacementPolicy::FewestRooms.choose("", &[]), None);
        assert_eq!(PlacementConfig::default().max_pending(0).max_pending, 1);
    }
}
