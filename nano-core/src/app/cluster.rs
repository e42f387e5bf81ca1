//! What a cluster needs of an app (used by `nano-cluster`): calling local handlers for another
//! node, stand-in sessions for clients connected elsewhere, and the routes served here.

use bytes::Bytes;

use super::App;
use crate::connection::ResumeTicket;
use crate::dispatch::{self, Started};
use crate::protocol::ResumeRequest;
use crate::remote::{self, RemoteSession, ReplyFuture};
use crate::session::TransportKind;
use crate::trace;
use crate::transport::PacketTransport;
use crate::{ResumeRefusal, Session};

impl App {
    /// Claims session `request` names for a client connected to another node (a cluster's
    /// remote resume, see [`RemoteResumer`](crate::remote::RemoteResumer)), whose packets
    /// come through `transport`; `dict_version` is the one the client presented. The session's
    /// task then serves `transport` as it would the client's own connection.
    ///
    /// # Errors
    ///
    /// Why the resume is refused, as for a client connected here ([`ResumeRefusal::Unknown`]
    /// when this app has never held the session).
    pub fn resume_remote(
        &self,
        request: &ResumeRequest,
        dict_version: Option<&str>,
        transport: Box<dyn PacketTransport>,
    ) -> Result<(), ResumeRefusal> {
        let host = &self.state.host;
        if host.config.resume.is_none() {
            return Err(ResumeRefusal::Unknown);
        }
        let ticket = ResumeTicket::remote(host, request, dict_version)?;
        ticket.hand_over(transport);
        Ok(())
    }

    /// Calls the local handler of `route` for `session`, as if its client had sent the
    /// message (request `mid` ≥ 1, or a notify for 0); `None` when this app does not serve the
    /// route. Panics become 500 replies. While the handler runs,
    /// [`remote::dispatched_session`] is `session`. The handler runs in a `message` span, a
    /// child of the session's, as for a client's own message.
    pub fn dispatch(
        &self,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
    ) -> Option<ReplyFuture> {
        self.dispatch_with(session, route, mid, payload, |_| {})
    }

    /// [`dispatch`](Self::dispatch), first handing `with_span` the message's span (a cluster
    /// links it to the caller's trace there), before the handler starts.
    pub fn dispatch_with(
        &self,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
        with_span: impl FnOnce(&tracing::Span),
    ) -> Option<ReplyFuture> {
        let entry = self.state.host.routes.get(route)?;
        session.set_last_mid(mid);
        let level = self.state.host.core.span_level;
        let span = trace::message_span(level, session.span(), entry.meta.route, mid, false);
        with_span(&span);
        let started = remote::start_dispatched(session, || {
            dispatch::start(entry, session, mid, payload, span)
        });
        Some(match started {
            Started::Done(reply) => Box::pin(std::future::ready(reply)),
            Started::Running(call) => Box::pin(remote::run_dispatched(session.clone(), call)),
        })
    }

    /// Creates the local stand-in for a session whose client is connected to another node,
    /// with that node's session `id`. Pushes from it are encoded without the route dictionary
    /// (the client's node has its own).
    pub fn remote_session(&self, id: u64) -> RemoteSession {
        let core = self.state.remote_core.clone();
        RemoteSession::new(Session::with_id(core, id, None, TransportKind::Remote))
    }

    /// Whether this app serves `route` itself.
    pub fn serves(&self, route: &str) -> bool {
        self.state.host.routes.get(route).is_some()
    }

    /// The routes this app serves, in registration order.
    pub fn routes(&self) -> Vec<&'static str> {
        self.state.host.routes.names()
    }
}
