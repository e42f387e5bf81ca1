//! Session resume (docs/PROTOCOL-EXTENSIONS.md), the client's side: [`Resumption`] keeps what
//! the client presents when it reconnects — the session's token and the pushes it received —
//! and the requests that were waiting for a response when the connection dropped, to send them
//! again (same ids) once the session is resumed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use nano_core::protocol::{EncodedPacket, HandshakeResponse, ResumeReply, ResumeRequest};
use tokio::sync::oneshot;

use crate::CloseReason;
use crate::shared::{Reply, lock};

/// A request waiting for its response: where the response goes, and the request as sent (to
/// send it again after a resume).
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(crate) reply: oneshot::Sender<Reply>,
    pub(crate) packet: EncodedPacket,
}

/// How a handshake reply settled the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    /// The session the client asked for was resumed.
    Resumed,
    /// A fresh session; `refused` says why the one asked for was not resumed.
    Fresh { refused: Option<String> },
}

/// What a client keeps across its connections to resume its session.
#[derive(Debug)]
pub(crate) struct Resumption {
    /// Whether the client resumes at all ([`ClientBuilder::resume`](crate::ClientBuilder::resume)).
    enabled: bool,
    /// The token of the last handshake reply, and the session it names.
    offer: Mutex<Option<ResumeReply>>,
    /// Pushes received in the session, over its connections.
    pub(crate) received: AtomicU64,
    /// The next request id: ids go on over the connections of a session.
    pub(crate) next_id: AtomicU64,
    /// Requests waiting when the connection dropped.
    carried: Mutex<HashMap<u64, Waiting>>,
}

impl Resumption {
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            enabled,
            offer: Mutex::new(None),
            received: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            carried: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a connection that ended with `reason` leaves a session to resume: the server
    /// offered one, and the connection was lost rather than ended by either side.
    pub(crate) fn can_resume(&self, reason: &CloseReason) -> bool {
        let lost = !matches!(
            reason,
            CloseReason::ClosedByClient | CloseReason::Kicked { .. }
        );
        self.enabled && lost && lock(&self.offer).is_some()
    }

    /// Forgets request `id` if it waits for a resume (its caller gave up).
    pub(crate) fn forget_request(&self, id: u64) {
        lock(&self.carried).remove(&id);
    }

    /// Keeps the requests of a dropped connection for the resume.
    pub(crate) fn carry(&self, waiting: HashMap<u64, Waiting>) {
        lock(&self.carried).extend(waiting);
    }

    /// What the next handshake presents, if there is a session to resume.
    pub(crate) fn request(&self) -> Option<ResumeRequest> {
        let offer = lock(&self.offer);
        let offer = offer.as_ref().filter(|_| self.enabled)?;
        Some(ResumeRequest {
            token: offer.token.clone(),
            received: self.received.load(Ordering::Acquire),
        })
    }

    /// Takes what a handshake reply says about the session; `asked`: the handshake presented
    /// a token. Returns how it settled, and the requests to send again (by id) when resumed.
    pub(crate) fn settle(
        &self,
        reply: &HandshakeResponse,
        asked: bool,
    ) -> (Settled, Vec<(u64, Waiting)>) {
        let offer = ResumeReply::from_user(&reply.user);
        let resumed = asked && offer.as_ref().is_some_and(|offer| offer.resumed);
        let refused = offer
            .as_ref()
            .and_then(|offer| offer.refused.as_ref())
            .map(|refused| format!("{} ({})", refused.reason, refused.code));
        *lock(&self.offer) = offer;
        let mut carried: Vec<_> = lock(&self.carried).drain().collect();
        if resumed {
            carried.sort_unstable_by_key(|(id, _)| *id);
            return (Settled::Resumed, carried);
        }
        self.received.store(0, Ordering::Release);
        let why = refused
            .clone()
            .unwrap_or_else(|| "no resume offered".to_owned());
        for (_, waiting) in carried {
            let lost = CloseReason::Error(format!("the session was not resumed: {why}"));
            let _ = waiting.reply.send(Err(lost));
        }
        (Settled::Fresh { refused }, Vec::new())
    }

    /// The session ended for good (kicked, closed): never resumed.
    pub(crate) fn forget(&self) {
        *lock(&self.offer) = None;
    }

    /// The id of the session the server offers to resume, if any.
    pub(crate) fn session(&self) -> Option<u64> {
        lock(&self.offer).as_ref().map(|offer| offer.session)
    }
}
