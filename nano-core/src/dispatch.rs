//! The one way a message reaches its handler, whoever sent it (a client's connection, or
//! another node through [`App::dispatch`](crate::App::dispatch)): call the endpoint and turn a
//! panic, while starting or while running, into a 500 reply. The handler starts, and its
//! future is polled, inside the message's span, which records how the message ended.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use tracing::Span;

use crate::call::Call;
use crate::handler::Reply;
use crate::routes::RouteEntry;
use crate::service::{Dispatch, HandlerFuture};
use crate::{HandlerError, Session, trace};

/// A handler, once called.
pub(crate) enum Started {
    /// It finished at once (sync handlers).
    Done(Reply),
    /// It is running: drive it to its reply.
    Running(HandlerCall),
}

/// Calls the handler of `entry` for a message of `session`: request `mid`, or a notify when
/// `mid` is 0, inside `span`, the message's span. The caller has recorded `mid` as the
/// session's last one.
pub(crate) fn start(
    entry: &RouteEntry,
    session: &Session,
    mid: u64,
    payload: Bytes,
    span: Span,
) -> Started {
    let route = entry.meta.route;
    let call = Call::new(session.clone(), entry.meta, mid, payload);
    let started = trace::started(&span);
    let entered = span.enter();
    let reply = match catch_unwind(AssertUnwindSafe(|| entry.endpoint.call(entry.index, call))) {
        Ok(Dispatch::Ready(reply)) => reply,
        Ok(Dispatch::Pending(future)) => {
            drop(entered);
            return Started::Running(HandlerCall::started(route, future, span, started));
        }
        Err(_) => panicked(route),
    };
    trace::finish(&span, started, &reply);
    Started::Done(reply)
}

/// A running handler (or a call forwarded to another node): its output is the reply, or a 500
/// reply if it panicked. Polled inside its message's span, which it tells how it ended.
pub(crate) struct HandlerCall {
    route: &'static str,
    future: HandlerFuture<'static>,
    span: Span,
    /// When the handler started, if the span is enabled.
    started: Option<Instant>,
}

impl HandlerCall {
    /// Guards `future`, the running handler of `route` (named in the error of a panic), in
    /// the message span `span`.
    pub(crate) fn new(route: &'static str, future: HandlerFuture<'static>, span: Span) -> Self {
        let started = trace::started(&span);
        Self::started(route, future, span, started)
    }

    fn started(
        route: &'static str,
        future: HandlerFuture<'static>,
        span: Span,
        started: Option<Instant>,
    ) -> Self {
        Self {
            route,
            future,
            span,
            started,
        }
    }

    /// The route being handled.
    pub(crate) fn route(&self) -> &'static str {
        self.route
    }

    /// The message's span.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }
}

impl Future for HandlerCall {
    type Output = Reply;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        let poll = match catch_unwind(AssertUnwindSafe(|| this.future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(panicked(this.route)),
        };
        if let Poll::Ready(reply) = &poll {
            trace::finish(&this.span, this.started, reply);
        }
        poll
    }
}

/// The reply to a request whose handler panicked.
fn panicked(route: &str) -> Reply {
    Reply::Error(HandlerError::internal(format!(
        "handler for `{route}` panicked"
    )))
}
