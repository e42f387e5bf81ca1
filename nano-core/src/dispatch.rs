//! The one way a message reaches its handler, whoever sent it (a client's connection, or
//! another node through [`App::dispatch`](crate::App::dispatch)): call the endpoint and turn a
//! panic, while starting or while running, into a 500 reply.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::call::Call;
use crate::handler::Reply;
use crate::routes::RouteEntry;
use crate::service::{Dispatch, HandlerFuture};
use crate::{HandlerError, Session};

/// A handler, once called.
pub(crate) enum Started {
    /// It finished at once (sync handlers).
    Done(Reply),
    /// It is running: drive it to its reply.
    Running(HandlerCall),
}

/// Calls the handler of `entry` for a message of `session`: request `mid`, or a notify when
/// `mid` is 0. The caller has recorded `mid` as the session's last one.
pub(crate) fn start(entry: &RouteEntry, session: &Session, mid: u64, payload: Bytes) -> Started {
    let route = entry.meta.route;
    let call = Call::new(session.clone(), entry.meta, mid, payload);
    match catch_unwind(AssertUnwindSafe(|| entry.endpoint.call(entry.index, call))) {
        Ok(Dispatch::Ready(reply)) => Started::Done(reply),
        Ok(Dispatch::Pending(future)) => Started::Running(HandlerCall::new(route, future)),
        Err(_) => Started::Done(panicked(route)),
    }
}

/// A running handler (or a call forwarded to another node): its output is the reply, or a 500
/// reply if it panicked.
pub(crate) struct HandlerCall {
    route: &'static str,
    future: HandlerFuture<'static>,
}

impl HandlerCall {
    /// Guards `future`, the running handler of `route` (named in the error of a panic).
    pub(crate) fn new(route: &'static str, future: HandlerFuture<'static>) -> Self {
        Self { route, future }
    }

    /// The route being handled.
    pub(crate) fn route(&self) -> &'static str {
        self.route
    }
}

impl Future for HandlerCall {
    type Output = Reply;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Reply> {
        let route = self.route;
        match catch_unwind(AssertUnwindSafe(|| self.future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(panicked(route)),
        }
    }
}

/// The reply to a request whose handler panicked.
fn panicked(route: &str) -> Reply {
    Reply::Error(HandlerError::internal(format!(
        "handler for `{route}` panicked"
    )))
}
