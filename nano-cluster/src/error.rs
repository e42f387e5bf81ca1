//! [`ClusterError`].

use nano_core::{GroupError, SerializerError};

/// What can go wrong between nodes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A live node already runs under this name: every node needs its own.
    #[error("node name `{0}` is taken by a running node")]
    NodeNameTaken(String),
    /// The node name (or subject prefix) is not a single NATS subject token.
    #[error("invalid node name `{0}`: use letters, digits, `-` or `_`")]
    InvalidNode(String),
    /// NATS refused or failed: what the node could not do, with the NATS client's error as
    /// the [`source`](std::error::Error::source).
    #[error("NATS: cannot {context}")]
    Nats {
        /// What failed, e.g. `subscribe to nano.node.room-1.call`.
        context: String,
        /// The NATS client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A call's answer was lost on this node (the call was forgotten before its answer came).
    #[error("the answer of node `{0}` was lost")]
    AnswerLost(String),
    /// The node answered with bytes this version cannot read.
    #[error("node `{0}` sent a malformed answer")]
    MalformedAnswer(String),
    /// No live node serves the route.
    #[error("no node serves `{0}`")]
    NoNode(String),
    /// The node did not answer in time.
    #[error("node `{0}` did not answer in time")]
    Timeout(String),
    /// The node is gone (nobody listens on its subject).
    #[error("node `{0}` is unavailable")]
    Unavailable(String),
    /// The handler answered with an error.
    #[error("remote error {code}: {message}")]
    Remote {
        /// The handler error's code.
        code: i32,
        /// The handler error's message.
        message: String,
    },
    /// A value could not be serialized or deserialized.
    #[error(transparent)]
    Serializer(#[from] SerializerError),
    /// A group operation failed.
    #[error(transparent)]
    Group(GroupError),
    /// [`Cluster::start`](crate::Cluster::start) has not been called.
    #[error("the cluster node is not started")]
    NotStarted,
    /// [`Cluster::shutdown`](crate::Cluster::shutdown) was called.
    #[error("the cluster node is shut down")]
    Stopped,
    /// The session's client has left.
    #[error("session {0} is closed")]
    SessionClosed(u64),
    /// A group name that is not one NATS subject token.
    #[error("invalid group name `{0}`: use letters, digits, `-` or `_`")]
    InvalidGroup(String),
    /// A room kind whose name is not one NATS subject token
    /// ([`Cluster::serve_rooms`](crate::Cluster::serve_rooms)).
    #[error("invalid room kind `{0}`: use letters, digits, `-` or `_`")]
    InvalidKind(String),
    /// The room kind is served by this node already.
    #[error("room kind `{0}` is served by this node already")]
    KindServed(String),
    /// As many messages as [`ClusterConfig::max_queued_calls`](crate::ClusterConfig::max_queued_calls)
    /// wait to be published: the NATS connection does not keep up.
    #[error("{0} messages wait to be published: NATS does not keep up")]
    Backlog(usize),
}

impl ClusterError {
    /// NATS failed to do what `context` says.
    pub(crate) fn nats(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        ClusterError::Nats {
            context: context.into(),
            source: source.into(),
        }
    }
}
