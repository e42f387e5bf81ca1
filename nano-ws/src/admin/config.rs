//! [`AdminConfig`]: the admin server's settings, and [`AdminNode`], what it lists of a
//! cluster.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The admin server's default address: loopback only.
pub const DEFAULT_ADMIN_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9200);
/// Default of [`AdminConfig::max_sessions_listed`].
pub const DEFAULT_MAX_SESSIONS_LISTED: usize = 1_000;
/// Default of [`AdminConfig::max_body_len`].
pub const DEFAULT_ADMIN_MAX_BODY_LEN: usize = 64 * 1024;
/// Default of [`AdminConfig::max_connections`].
pub const DEFAULT_ADMIN_MAX_CONNECTIONS: usize = 64;
/// Default of [`AdminConfig::header_read_timeout`].
pub const DEFAULT_ADMIN_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of [`AdminConfig::rate_window`].
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(10);

/// A node of a cluster, as `GET /api/nodes` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdminNode {
    /// The node's name in the cluster.
    pub name: String,
    /// How many routes it serves.
    pub routes: usize,
    /// Whether it is the node serving this admin page.
    pub this: bool,
}

impl AdminNode {
    /// Node `name`, serving `routes` routes; `this` for the node serving the admin.
    pub fn new(name: impl Into<String>, routes: usize, this: bool) -> Self {
        Self {
            name: name.into(),
            routes,
            this,
        }
    }
}

/// Lists the nodes of the cluster (see [`AdminConfig::nodes`]).
pub type NodesHook = Arc<dyn Fn() -> Vec<AdminNode> + Send + Sync>;

/// The admin server's settings.
#[derive(Clone)]
pub struct AdminConfig {
    pub(super) token: Arc<[u8]>,
    pub(super) nodes: Option<NodesHook>,
    /// Where [`listen_admin`](super::listen_admin) binds; `127.0.0.1:9200` by default.
    pub addr: SocketAddr,
    /// Most sessions one `GET /api/sessions` lists (a `limit` above it is lowered to it);
    /// 1,000 by default.
    pub max_sessions_listed: usize,
    /// Largest request body accepted (a broadcast's), in bytes; 64 KiB by default.
    pub max_body_len: usize,
    /// Most connections [`listen_admin`](super::listen_admin) serves at once (more wait to
    /// be accepted); 64 by default.
    pub max_connections: usize,
    /// How long a client of [`listen_admin`](super::listen_admin) may take to send its request
    /// headers; 10 s by default.
    pub header_read_timeout: Duration,
    /// The window rates and latency quantiles are computed over; 10 s by default. The
    /// server keeps one sample of the counters a second over it (a sample is taken when
    /// the API is read, not by a task).
    pub rate_window: Duration,
}

impl AdminConfig {
    /// Settings with `token` (compared in constant time; it must not be empty) and the
    /// defaults.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: Arc::from(token.into().into_bytes()),
            nodes: None,
            addr: DEFAULT_ADMIN_ADDR,
            max_sessions_listed: DEFAULT_MAX_SESSIONS_LISTED,
            max_body_len: DEFAULT_ADMIN_MAX_BODY_LEN,
            max_connections: DEFAULT_ADMIN_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_ADMIN_HEADER_READ_TIMEOUT,
            rate_window: DEFAULT_RATE_WINDOW,
        }
    }

    /// Binds `addr` instead of `127.0.0.1:9200`.
    #[must_use]
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Lists the cluster's nodes on `GET /api/nodes` with `nodes` (called on each request).
    /// nano-ws knows nothing of clusters: a node of nano-cluster passes a closure over its
    /// `Cluster::nodes`, adding itself. Without it, the API answers `"cluster": false`.
    #[must_use]
    pub fn nodes(mut self, nodes: impl Fn() -> Vec<AdminNode> + Send + Sync + 'static) -> Self {
        self.nodes = Some(Arc::new(nodes));
        self
    }
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("token", &"<redacted>")
            .field("nodes", &self.nodes.is_some())
            .field("addr", &self.addr)
            .field("max_sessions_listed", &self.max_sessions_listed)
            .field("max_body_len", &self.max_body_len)
            .field("max_connections", &self.max_connections)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("rate_window", &self.rate_window)
            .finish()
    }
}
