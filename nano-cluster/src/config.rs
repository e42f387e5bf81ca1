//! [`ClusterConfig`]: how a node finds the others and how long it waits for them.

use std::time::Duration;

/// Settings of one cluster node.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_cluster::ClusterConfig;
///
/// let config = ClusterConfig::new("nats://127.0.0.1:4222", "gate-1")
///     .dead_after(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(3));
/// assert_eq!(config.node(), "gate-1");
/// ```
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    pub(crate) nats_url: String,
    pub(crate) node: String,
    pub(crate) prefix: String,
    pub(crate) heartbeat: Duration,
    pub(crate) dead_after: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_calls_in_flight: usize,
    pub(crate) audit_interval: Duration,
    pub(crate) relay_queue: usize,
    pub(crate) max_queued_calls: usize,
}

/// Whether `text` can be one token of a NATS subject (a node, prefix or group name).
pub(crate) fn is_subject_token(text: &str) -> bool {
    !text.is_empty()
        && !text
            .chars()
            .any(|c| matches!(c, '.' | '*' | '>') || c.is_whitespace() || c.is_control())
}

/// Default of [`ClusterConfig::max_calls_in_flight`].
pub const DEFAULT_MAX_CALLS_IN_FLIGHT: usize = 10_000;

/// Default of [`ClusterConfig::relay_queue`].
pub const DEFAULT_RELAY_QUEUE: usize = 16;

/// Default of [`ClusterConfig::max_queued_calls`].
pub const DEFAULT_MAX_QUEUED_CALLS: usize = 10_000;

impl ClusterConfig {
    /// A node called `node` (unique in the cluster) on the NATS server at `nats_url`.
    /// Defaults: announces every 1 s, peers silent for 3 s are dropped, forwarded requests
    /// and RPCs time out after 5 s, at most 10,000 calls from other nodes run at once,
    /// backends check their stand-in sessions every 30 s, 16 messages may wait in a stand-in's
    /// relay, at most 10,000 messages wait to be published, subjects start with `nano`.
    pub fn new(nats_url: impl Into<String>, node: impl Into<String>) -> Self {
        Self {
            nats_url: nats_url.into(),
            node: node.into(),
            prefix: "nano".to_owned(),
            heartbeat: Duration::from_secs(1),
            dead_after: Duration::from_secs(3),
            request_timeout: Duration::from_secs(5),
            max_calls_in_flight: DEFAULT_MAX_CALLS_IN_FLIGHT,
            audit_interval: Duration::from_secs(30),
            relay_queue: DEFAULT_RELAY_QUEUE,
            max_queued_calls: DEFAULT_MAX_QUEUED_CALLS,
        }
    }

    /// The node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// How often the node announces itself (default 1 s).
    pub fn heartbeat(mut self, interval: Duration) -> Self {
        self.heartbeat = interval;
        self
    }

    /// After how long without an announcement a peer is dropped (default 3 s).
    pub fn dead_after(mut self, duration: Duration) -> Self {
        self.dead_after = duration;
        self
    }

    /// How long a forwarded request or an RPC waits for its answer (default 5 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How many calls from other nodes (forwarded client messages and RPCs) this node runs at
    /// once (default [`DEFAULT_MAX_CALLS_IN_FLIGHT`], 10,000); a call beyond that is answered
    /// at once with error 503 (`node busy`) rather than queued. At least 1.
    pub fn max_calls_in_flight(mut self, calls: usize) -> Self {
        self.max_calls_in_flight = calls.max(1);
        self
    }

    /// How often a backend asks each gate which of the clients it keeps stand-in sessions for
    /// have left (default 30 s): a departure missed during a NATS outage still ends the
    /// stand-in, at most this long after.
    pub fn audit_interval(mut self, interval: Duration) -> Self {
        self.audit_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How many answers and cluster-group broadcasts of one stand-in session (a backend's
    /// session for a client of another node) may wait in its relay, behind the pushes its
    /// handlers sent before them (default [`DEFAULT_RELAY_QUEUE`], 16). The relay sends them
    /// in order; a handler whose answer or broadcast finds the queue full waits for room, and
    /// nothing is dropped. At least 1.
    pub fn relay_queue(mut self, messages: usize) -> Self {
        self.relay_queue = messages.max(1);
        self
    }

    /// How many messages may wait to be published (default [`DEFAULT_MAX_QUEUED_CALLS`],
    /// 10,000): the calls this node makes (forwarded client messages and RPCs) and what its
    /// stand-in sessions' relays carry (pushes, answers), handed to NATS in batches. While the
    /// NATS connection does not keep up (it is reconnecting, say), a call beyond that fails at
    /// once with [`ClusterError::Backlog`](crate::ClusterError::Backlog) (a forwarded request
    /// is answered 503) rather than queued, and a relay waits for room. At least 1.
    pub fn max_queued_calls(mut self, calls: usize) -> Self {
        self.max_queued_calls = calls.max(1);
        self
    }

    /// The first token of every NATS subject (default `nano`); clusters sharing a NATS server
    /// use different prefixes.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Checks the node name and prefix: each must be one NATS subject token.
    pub(crate) fn check(&self) -> Result<(), crate::ClusterError> {
        if is_subject_token(&self.node) && is_subject_token(&self.prefix) {
            Ok(())
        } else {
            Err(crate::ClusterError::InvalidNode(self.node.clone()))
        }
    }

    pub(crate) fn subject(&self, rest: &str) -> String {
        format!("{}.{rest}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tokens() {
        for good in ["gate-1", "room_a", "lobby", "房间"] {
            assert!(is_subject_token(good), "{good}");
        }
        for bad in ["", "a.b", "x*", "x>", "a b", "a\tb", "a\nb"] {
            assert!(!is_subject_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn queues_and_limits_are_at_least_one() {
        let config = ClusterConfig::new("", "gate-1");
        assert_eq!(
            (config.relay_queue, config.max_calls_in_flight),
            (DEFAULT_RELAY_QUEUE, DEFAULT_MAX_CALLS_IN_FLIGHT)
        );
        let config = config.relay_queue(0).max_calls_in_flight(0);
        assert_eq!((config.relay_queue, config.max_calls_in_flight), (1, 1));
        assert_eq!(config.relay_queue(64).relay_queue, 64);
    }
}
