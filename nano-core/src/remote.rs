//! Hooks for running an app as one node of a cluster (used by `nano-cluster`): forwarding
//! routes this node does not serve, calling local handlers for another node, and sessions
//! whose client is connected to another node.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt;

use crate::handler::Reply;
use crate::outbox::CloseRequest;
use crate::protocol::EncodedPacket;
use crate::service::Dispatch;
use crate::{App, Call, HandlerError, Session};

tokio::task_local! {
    /// The session whose call [`App::dispatch`] is running on this task.
    static DISPATCHED: Session;
}

/// The session of the call that [`App::dispatch`] is running on this task, if any (not in
/// actor components, whose handlers run on the actor's task). A cluster uses it to send what a
/// handler does on a session's behalf (a group broadcast) in order with that call's answer.
pub fn dispatched_session() -> Option<Session> {
    DISPATCHED.try_with(Session::clone).ok()
}

/// A boxed future of a handler's reply.
pub type ReplyFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'static>>;

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
            Some(CloseRequest::Kick(reason)) => {
                self.closing = true;
                Poll::Ready(Some(RemoteEvent::Kick(reason)))
            }
            Some(CloseRequest::Close) => {
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

impl App {
    /// Calls the local handler of `route` for `session`, as if its client had sent the
    /// message; `None` when this app does not serve the route. Panics become 500 replies.
    pub fn dispatch(
        &self,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
    ) -> Option<ReplyFuture> {
        let entry = self.inner().router.get(route)?;
        session.set_last_mid(mid);
        let call = Call::new(session.clone(), entry.meta, mid, payload);
        let route = entry.meta.route;
        let panicked = move || {
            Reply::Error(HandlerError::internal(format!(
                "handler for `{route}` panicked"
            )))
        };
        let dispatched = session.clone();
        match std::panic::catch_unwind(AssertUnwindSafe(|| {
            DISPATCHED.sync_scope(dispatched.clone(), || {
                entry.endpoint.call(entry.index, call)
            })
        })) {
            Ok(Dispatch::Ready(reply)) => Some(Box::pin(std::future::ready(reply))),
            Ok(Dispatch::Pending(future)) => Some(Box::pin(
                DISPATCHED.scope(
                    dispatched,
                    AssertUnwindSafe(future)
                        .catch_unwind()
                        .map(move |result| result.unwrap_or_else(|_| panicked())),
                ),
            )),
            Err(_) => Some(Box::pin(std::future::ready(panicked()))),
        }
    }

    /// Creates the local stand-in for a session whose client is connected to another node,
    /// with that node's session `id`. Pushes from it are encoded without the route dictionary
    /// (the client's node has its own).
    pub fn remote_session(&self, id: u64) -> RemoteSession {
        let core = self.inner().remote_core.clone();
        RemoteSession {
            session: Session::with_id(core, id, None, crate::TransportKind::Remote),
            closing: false,
        }
    }

    /// Whether this app serves `route` itself.
    pub fn serves(&self, route: &str) -> bool {
        self.inner().router.contains_key(route)
    }

    /// The routes this app serves, in registration order.
    pub fn routes(&self) -> Vec<&'static str> {
        let mut routes: Vec<_> = self
            .inner()
            .router
            .values()
            .map(|entry| (entry.order, entry.meta.route))
            .collect();
        routes.sort_unstable();
        routes.into_iter().map(|(_, route)| route).collect()
    }
}
