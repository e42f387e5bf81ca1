//! What an app can tell about itself while it runs, for admin tools: its live sessions, the
//! groups they are in, each route's traffic and latency, and its actors' mailboxes. Read
//! through [`App::sessions`](crate::App::sessions), [`App::groups`](crate::App::groups),
//! [`App::route_stats`](crate::App::route_stats) and [`App::mailboxes`](crate::App::mailboxes);
//! nano-ws's admin server serves them as JSON.

mod latency;
mod live;

pub(crate) use latency::FIRST_BOUND_NANOS;
pub use latency::{LATENCY_BUCKETS, Latencies, bucket_bound};
pub(crate) use live::LiveSessions;

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::{Session, TransportKind};

/// A live session, as an admin sees it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session itself (to push to, kick or close).
    pub session: Session,
    /// The session id.
    pub id: u64,
    /// The bound uid, if any.
    pub uid: Option<i64>,
    /// The client's address, when the transport has one.
    pub remote: Option<SocketAddr>,
    /// The transport it came in on.
    pub transport: TransportKind,
    /// The names of the groups it is in, sorted.
    pub groups: Vec<String>,
    /// When its connection was accepted.
    pub connected_since: SystemTime,
    /// Whether a connection serves it now: `false` while it waits in its grace window for its
    /// client to resume it (session resume on).
    pub connected: bool,
}

/// A group with members among the app's live sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupInfo {
    /// The group's name (two groups may share one; each is listed).
    pub name: String,
    /// Members among the app's live sessions.
    pub members: usize,
}

/// One route's traffic since the app started.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouteStats {
    /// The route.
    pub route: &'static str,
    /// `"request"` or `"notify"`.
    pub kind: &'static str,
    /// Messages received on it.
    pub requests: u64,
    /// Handler times (an actor's include its mailbox wait); subtract an earlier snapshot
    /// with [`Latencies::since`] for a recent window's quantiles.
    pub latencies: Latencies,
}

/// The mailbox of one actor of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailboxInfo {
    /// The actor component's name (`scheduler` for the app's scheduler).
    pub actor: &'static str,
    /// Calls and closures waiting (not counting the one running).
    pub depth: usize,
    /// The mailbox's capacity.
    pub capacity: usize,
}

impl SessionInfo {
    pub(crate) fn new(session: &Session, connected_since: SystemTime) -> Self {
        let mut groups: Vec<String> = session
            .groups()
            .iter()
            .map(|group| group.name().to_owned())
            .collect();
        groups.sort_unstable();
        Self {
            session: session.clone(),
            id: session.id(),
            uid: session.uid(),
            remote: session.remote_addr(),
            transport: session.transport(),
            groups,
            connected_since,
            connected: session.is_connected(),
        }
    }
}
