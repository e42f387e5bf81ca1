//! Test utilities: call a component's handlers without a network, and see what a session was
//! sent.
//!
//! - [`call`] and [`call_actor`] run one handler right here, on a component you hold: quick,
//!   and the component's state is yours to inspect. No lifecycle hook runs, and the handler's
//!   [`Context`] has no actor handle.
//! - [`Harness`] starts a component as an app would (its `init` and `after_init` hooks, its
//!   actor task, its timers) and calls it through that: for handlers that start timers or post
//!   to the component.
//!
//! # Examples
//!
//! ```
//! use nano_core::prelude::*;
//! use nano_core::testing;
//!
//! struct Echo;
//!
//! #[component(name = "echo")]
//! impl Echo {
//!     #[handler]
//!     fn say(&self, _session: &Session, text: String) -> String { text.to_uppercase() }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let echo = std::sync::Arc::new(Echo);
//! let session = testing::session();
//! let reply = testing::call(&echo, "echo.say", &session, 1, r#""hi""#).await;
//! assert_eq!(testing::reply_payload(&reply), Some(&br#""HI""#[..]));
//! # }
//! ```

mod harness;

use std::sync::Arc;

use bytes::Bytes;

pub use harness::Harness;

use crate::component::Context;
use crate::core::Core;
pub use crate::handler::Reply;

use crate::call::Call;
use crate::protocol::{Message, PacketCodec};
use crate::service::{ActorComponent, ActorDispatch, Dispatch, SharedComponent};
use crate::session::TransportKind;
use crate::{Component, HandlerError, Serializer, Session};

/// A session attached to no connection, using JSON; whatever is sent to it stays queued for
/// [`sent`].
pub fn session() -> Session {
    session_with(Serializer::Json)
}

/// A session attached to no connection, using `serializer`.
pub fn session_with(serializer: Serializer) -> Session {
    let core = Core {
        serializer,
        ..Core::default()
    };
    Session::new(Arc::new(core), None, TransportKind::Stream)
}

/// Takes the messages queued for `session` (responses and pushes), decoded.
pub fn sent(session: &Session) -> Vec<Message> {
    use tokio_util::codec::Decoder;
    let mut queued = std::collections::VecDeque::new();
    session.inner().outbox.drain_into(&mut queued);
    let mut codec = PacketCodec::default();
    queued
        .into_iter()
        .filter_map(|packet| {
            let mut buf = bytes::BytesMut::from(&packet.as_bytes()[..]);
            let packet = codec.decode(&mut buf).ok()??;
            Message::decode_with(packet.body, &session.core().dict).ok()
        })
        .collect()
}

/// The index of `route` in `C`'s table and the `Call` for it, or the 404 reply.
fn prepare<C: Component>(
    route: &str,
    session: &Session,
    mid: u64,
    payload: Bytes,
) -> Result<(usize, Call), Reply> {
    let Some(index) = C::META.routes.iter().position(|meta| meta.route == route) else {
        return Err(Reply::Error(HandlerError::not_found(format!(
            "unknown route `{route}`"
        ))));
    };
    session.set_last_mid(mid);
    Ok((
        index,
        Call::new(session.clone(), &C::META.routes[index], mid, payload),
    ))
}

/// Calls `route` on a shared component as a request (`mid` ≥ 1) or notify (`mid` 0) from
/// `session`, with a serialized `payload`, and returns the handler's reply.
///
/// The handler runs outside any app: if it takes a [`Context`], that context's scheduler is
/// one of its own, started on the current tokio runtime when first asked for. To run the
/// component's lifecycle hooks first, use [`Harness`].
pub async fn call<C: SharedComponent>(
    component: &Arc<C>,
    route: &str,
    session: &Session,
    mid: u64,
    payload: impl Into<Bytes>,
) -> Reply {
    match prepare::<C>(route, session, mid, payload.into()) {
        Err(reply) => reply,
        Ok((index, call)) => match C::dispatch(component, &Context::detached(None), index, call) {
            Dispatch::Ready(reply) => reply,
            Dispatch::Pending(future) => future.await,
        },
    }
}

/// Calls `route` on an actor component (one with `&mut self` handlers), as [`call`] does, on
/// the component you pass.
///
/// The component has no task of its own here, so a handler's [`Context::actor`] is `None`: a
/// handler that starts timers on its component (`ctx.actor()`) needs [`Harness`], which runs
/// the component as an actor.
pub async fn call_actor<C: ActorComponent>(
    component: &mut C,
    route: &str,
    session: &Session,
    mid: u64,
    payload: impl Into<Bytes>,
) -> Reply {
    match prepare::<C>(route, session, mid, payload.into()) {
        Err(reply) => reply,
        Ok((index, call)) => match component.dispatch(&Context::detached(None), index, call) {
            ActorDispatch::Ready(reply) => reply,
            ActorDispatch::Pending(future) => future.await,
        },
    }
}

/// The payload of a [`Reply::Payload`].
pub fn reply_payload(reply: &Reply) -> Option<&[u8]> {
    match reply {
        Reply::Payload(payload) => Some(payload),
        _ => None,
    }
}

/// The error of a [`Reply::Error`].
pub fn reply_error(reply: &Reply) -> Option<&HandlerError> {
    match reply {
        Reply::Error(error) => Some(error),
        _ => None,
    }
}
