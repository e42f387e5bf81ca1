//! Hooks for running an app as one node of a cluster (used by `nano-cluster`): forwarding
//! routes this node does not serve, calling local handlers for another node, and sessions
//! whose client is connected to another node.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

pub use crate::handler::Reply;

use crate::outbox::CloseRequest;
use crate::protocol::{EncodedPacket, ResumeRequest};
use crate::service::HandlerFuture;
use crate::transport::PacketTransport;
use crate::{ResumeRefusal, Session};

tokio::task_local! {
    /// The session whose call [`App::dispatch`] is running on this task.
    static DISPATCHED: Session;
}

/// The session of the call that [`App::dispatch`](crate::App::dispatch) is running on this
/// task, if any (not in actor components, whose handlers run on the actor's task). A cluster
/// uses it to send what a handler does on a session's behalf (a group broadcast) in order with
/// that call's answer.
pub fn dispatched_session() -> Option<Session> {
    DISPATCHED.try_with(Session::clone).ok()
}

/// Runs `f` (which starts a handler) with `session` as the [`dispatched_session`].
pub(crate) fn start_dispatched<R>(session: &Session, f: impl FnOnce() -> R) -> R {
    DISPATCHED.sync_scope(session.clone(), f)
}

/// `future` (a running handler) with `session` as the [`dispatched_session`] on every poll.
pub(crate) fn run_dispatched<F: Future>(
    session: Session,
    future: F,
) -> impl Future<Output = F::Output> {
    DISPATCHED.scope(session, future)
}

/// The reply of a local handler ([`App::dispatch`](crate::App::dispatch)) or of a forwarded
/// call ([`RemoteRouter::forward`]), boxed.
pub type ReplyFuture = HandlerFuture<'static>;

/// Where requests for routes this app does not serve go (set with
/// [`AppBuilder::remote_router`](crate::AppBuilder::remote_router)).
///
/// The connection awaits the returned future before handling the session's next message, so
/// a session's messages stay in order across nodes.
pub trait RemoteRouter: Send + Sync + 'static {
    /// Forwards a request (`mid` ≥ 1) or notify (`mid` 0) on `route`; `None` when no node
    /// serves the route (the client then gets a 404).
    fn forward(
        &self,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
    ) -> Option<ReplyFuture>;
}

/// Hands a resuming client's transport to the node that holds its session (what a
/// [`RemoteResumer`]'s claim returns).
pub type Piper = Box<dyn FnOnce(Box<dyn PacketTransport>) + Send>;

/// The claim of a [`RemoteResumer`]: a way to the session, or why there is none.
pub type ClaimFuture = Pin<Box<dyn Future<Output = Result<Piper, ResumeRefusal>> + Send>>;

/// Where a resume goes whose session this app does not hold (set with
/// [`AppBuilder::remote_resumer`](crate::AppBuilder::remote_resumer)): a cluster asks the
/// other nodes, and the one holding the session claims it with
/// [`App::resume_remote`](crate::App::resume_remote). On success the connection's transport
/// goes to the returned [`Piper`], which relays its packets to that node.
pub trait RemoteResumer: Send + Sync + 'static {
    /// Claims the session `request` names on another node, for a client holding the
    /// dictionary of `dict_version`; `Err` with the refusal when no node holds it.
    fn claim(&self, request: ResumeRequest, dict_version: Option<String>) -> ClaimFuture;
}

/// What a [`RemoteSession`]'s handlers sent to its client.
#[derive(Debug)]
#[non_exhaustive]
pub enum RemoteEvent {
    /// An encoded packet for the client (a push, or a response sent later).
    Packet(EncodedPacket),
    /// Kick the client with this reason.
    Kick(String),
    /// Close the client's connection.
    Close,
}

/// A session on this node whose client is connected to another node.
///
/// Handlers see an ordinary [`Session`] (same id as on the client's node); what they send
/// comes out of [`next_event`](Self::next_event) for the cluster to carry to that node.
#[derive(Debug)]
pub struct RemoteSession {
    session: Session,
    closing: bool,
}

impl RemoteSession {
    pub(crate) fn new(session: Session) -> Self {
        Self {
            session,
            closing: false,
        }
    }

    /// The session handlers see.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The next packet or close request for the client; `None` once a close was delivered.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn next_event(&mut self) -> Option<RemoteEvent> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<RemoteEvent>> {
        if self.closing {
            return Poll::Ready(None);
        }
        let outbox = &self.session.inner().outbox;
        if let Some(packet) = outbox.poll_pop(cx) {
            return Poll::Ready(Some(RemoteEvent::Packet(packet)));
        }
        match outbox.poll_close_request(cx) {
            Some(CloseRequest::Kick(reason, _)) => {
                self.closing = true;
                Poll::Ready(Some(RemoteEvent::Kick(reason)))
            }
            // A stand-in has no resume state, so it is never taken over or overflows.
            Some(CloseRequest::Close | CloseRequest::Replaced | CloseRequest::Overflow) => {
                self.closing = true;
                Poll::Ready(Some(RemoteEvent::Close))
            }
            None => Poll::Pending,
        }
    }

    /// Ends the session here (its client left): close callbacks run, groups are left.
    pub fn finish(&self) {
        self.session.finish();
    }
}

/// Queues an already-encoded packet for `session`'s client: how a cluster relays what another
/// node encoded. A Response is queued as [`Session::respond`] queues it, never dropped for a
/// full queue (the client waits for it); anything else follows the send-queue policy of
/// [`Session::push`].
///
/// # Errors
///
/// [`SessionError::QueueFull`](crate::SessionError::QueueFull) or
/// [`SessionError::Closed`](crate::SessionError::Closed).
pub fn push_packet(session: &Session, packet: EncodedPacket) -> Result<(), crate::SessionError> {
    session.push_packet(packet)
}

/// Replaces `session`'s synchronized values with `values`: how a cluster applies another
/// node's (see [`Session::set_synced`]).
pub fn replace_synced(session: &Session, values: serde_json::Map<String, serde_json::Value>) {
    session.update_synced(|synced| *synced = values);
}

/// Changes `session`'s synchronized values in place, atomically with respect to other changes:
/// how a cluster merges the keys another node's handler set or removed.
pub fn update_synced(
    session: &Session,
    change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) {
    session.update_synced(change);
}
