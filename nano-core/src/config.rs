//! [`Config`]: every limit and interval of an app, with its default.

use std::time::Duration;

use tracing::Level;

use crate::outbox::SlowConsumerPolicy;
use crate::protocol::DEFAULT_MAX_BODY_LEN;
use crate::resume::ResumeConfig;

/// Default heartbeat interval (nano's): 30 s.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);
/// Default time a connection has to complete the handshake: 10 s.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default capacity of a session's send queue: 128 packets.
pub const DEFAULT_SEND_QUEUE_CAPACITY: usize = 128;
/// Default maximum number of simultaneous connections: 100,000.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;
/// Default number of open files kept free for everything but connections (the app's files,
/// logs, NATS, outgoing calls) when `max_connections` is bounded by the open-file limit: 128.
pub const DEFAULT_OPEN_FILE_RESERVE: usize = 128;
/// Default capacity of an actor component's mailbox: 1,024 calls.
pub const DEFAULT_ACTOR_MAILBOX_CAPACITY: usize = 1024;
/// Default time the last writes of a closing connection may take: 1 s.
pub const DEFAULT_FINAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Default time graceful shutdown waits for sessions to drain: 10 s.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Default level of the session and message spans: `INFO`, so that a subscriber at the usual
/// level sees them.
pub const DEFAULT_SPAN_LEVEL: Level = Level::INFO;

/// A per-session message rate limit: a token bucket of `burst` tokens refilled at
/// `per_second`. Every packet a client sends after connecting takes one token; a session that
/// runs out is kicked with the reason `"rate limit exceeded"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained packets per second.
    pub per_second: u32,
    /// Packets allowed in a burst above the sustained rate.
    pub burst: u32,
}

/// Default rate limit: 2,000 packets a second, bursts of 4,000 — far above what a game client
/// sends, far below what a flood does.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit {
    per_second: 2_000,
    burst: 4_000,
};

/// Every limit and interval of an app. Set them through [`AppBuilder`](crate::AppBuilder);
/// each field documents its default.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The server sends a heartbeat every interval and announces it in the handshake
    /// (`sys.heartbeat`); a client not heard from since the heartbeat before last is
    /// disconnected at the next one, so between two and three intervals after its last packet
    /// (nano checks at its heartbeats too: a pomelo client may beat only every two intervals).
    /// Default: [`DEFAULT_HEARTBEAT_INTERVAL`] (30 s). Zero disables heartbeats.
    pub heartbeat_interval: Duration,
    /// A connection that has not completed the handshake (handshake and ack) within this time
    /// is closed. Default: [`DEFAULT_HANDSHAKE_TIMEOUT`] (10 s).
    pub handshake_timeout: Duration,
    /// Largest packet body accepted from a client; a longer one closes the connection as soon
    /// as its header arrives. Default: [`DEFAULT_MAX_BODY_LEN`] (65,536 bytes).
    pub max_body_len: usize,
    /// Packets a session may have queued for sending before pushes hit the
    /// [`slow_consumer`](Self::slow_consumer) policy and the session stops being read.
    /// Default: [`DEFAULT_SEND_QUEUE_CAPACITY`] (128).
    pub send_queue_capacity: usize,
    /// What happens to a push when a session's send queue is full.
    /// Default: [`SlowConsumerPolicy::Drop`].
    pub slow_consumer: SlowConsumerPolicy,
    /// Connections accepted at once; further ones are closed at once (counted as refused).
    /// Default: [`DEFAULT_MAX_CONNECTIONS`] (100,000). When the app is built it is bounded by
    /// what the process's open-file limit (`RLIMIT_NOFILE`, its soft value) leaves after
    /// [`open_file_reserve`](Self::open_file_reserve), so that a flood of connections is
    /// refused cleanly instead of making `accept` fail with "too many open files" for
    /// everything else too; [`App::config`](crate::App::config) shows the bounded value.
    /// Raise the limit first ([`raise_open_file_limit`](crate::raise_open_file_limit)) to
    /// serve more.
    pub max_connections: usize,
    /// Open files kept free for everything but connections when `max_connections` is bounded
    /// by the open-file limit. Default: [`DEFAULT_OPEN_FILE_RESERVE`] (128).
    pub open_file_reserve: usize,
    /// Calls an actor component can have waiting; callers wait for room beyond that.
    /// Default: [`DEFAULT_ACTOR_MAILBOX_CAPACITY`] (1,024).
    pub actor_mailbox_capacity: usize,
    /// How long graceful shutdown waits for sessions to finish their in-flight requests and
    /// drain. Default: [`DEFAULT_SHUTDOWN_TIMEOUT`] (10 s).
    pub shutdown_timeout: Duration,
    /// How long the last writes of a closing connection (what is still queued, then the Kick
    /// of a kicked session) and the close itself may take: a client that stopped reading
    /// cannot hold its connection open longer. Default: [`DEFAULT_FINAL_WRITE_TIMEOUT`] (1 s).
    pub final_write_timeout: Duration,
    /// Per-session packet rate limit; `None` disables it.
    /// Default: [`DEFAULT_RATE_LIMIT`] (2,000/s, bursts of 4,000).
    pub rate_limit: Option<RateLimit>,
    /// Send the route dictionary in the handshake and compress dictionary routes both ways.
    /// Default: `true`.
    pub use_dictionary: bool,
    /// The listen backlog of the TCP listeners the app binds ([`App::listen_tcp`],
    /// [`App::bind_listener`], and nano-ws's `listen`): how many connections the kernel may
    /// hold completed but not yet accepted. When thousands of clients reconnect at once (a
    /// restart, a network blip), a short queue overflows and clients wait out SYN
    /// retransmits (1 s, then 3 s, ...). `None` asks for the system's maximum, which the
    /// kernel caps at its own limit (`net.core.somaxconn` on Linux: 4,096 on current kernels;
    /// `kern.ipc.somaxconn` on macOS and the BSDs). Default: `None` (the system's maximum).
    ///
    /// [`App::listen_tcp`]: crate::App::listen_tcp
    /// [`App::bind_listener`]: crate::App::bind_listener
    pub listen_backlog: Option<u32>,
    /// The id of the app's first session; later ones count up from it (0 counts as 1). Ids stay
    /// below 2^53 so that JavaScript clients read them exactly. A cluster gives each node its
    /// own range, so that session ids are unique across nodes. Default: 1.
    pub first_session_id: u64,
    /// Whether the app records its Prometheus metrics (per-route request counts, errors and
    /// latency histograms, sessions, kicks, pushes, bytes; see docs/OPERATIONS.md), exported by
    /// [`App::encode_metrics`](crate::App::encode_metrics). The counters of
    /// [`App::metrics`](crate::App::metrics) are kept either way. Default: `true`.
    pub prometheus: bool,
    /// The level of the `session` and `message` spans (fields, and how handlers' events
    /// carry them: docs/OPERATIONS.md, "Tracing"). A subscriber that does not enable this
    /// level gets no span at all, at the cost of one level check per message.
    /// Default: [`DEFAULT_SPAN_LEVEL`] (`INFO`).
    pub span_level: Level,
    /// Session resume (docs/PROTOCOL-EXTENSIONS.md): a dropped client may come back to its
    /// session within a grace window, and the pushes it missed are replayed. `None` turns it
    /// off: a drop closes the session at once, as in nano and pomelo.
    /// Default: `None`. Set it with [`AppBuilder::resume`](crate::AppBuilder::resume).
    pub resume: Option<ResumeConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_body_len: DEFAULT_MAX_BODY_LEN,
            send_queue_capacity: DEFAULT_SEND_QUEUE_CAPACITY,
            slow_consumer: SlowConsumerPolicy::Drop,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            open_file_reserve: DEFAULT_OPEN_FILE_RESERVE,
            actor_mailbox_capacity: DEFAULT_ACTOR_MAILBOX_CAPACITY,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            final_write_timeout: DEFAULT_FINAL_WRITE_TIMEOUT,
            rate_limit: Some(DEFAULT_RATE_LIMIT),
            use_dictionary: true,
            listen_backlog: None,
            first_session_id: 1,
            prometheus: true,
            span_level: DEFAULT_SPAN_LEVEL,
            resume: None,
        }
    }
}
