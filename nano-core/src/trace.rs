//! The `tracing` spans of sessions and messages, at the level [`Config::span_level`] names.
//!
//! - `session`: `id`, `uid` (recorded when the session is bound), `remote`, `transport`;
//!   open as long as the session (its `Session` handles) lives.
//! - `message`: `route`, `mid` (0 for a notify), `kind` (`request` or `notify`), `forwarded`
//!   (whether another node handles it), then on completion `duration_us` (from the handler's
//!   start to its reply) and `code` (200, or the error's code); a child of its session's span.
//!   The handler is polled inside it, on whatever task runs it (the connection's, an actor's
//!   or a room's), so every event a handler logs carries both spans.
//!
//! A span whose level the subscriber disables is never created: [`Span::none`] costs one
//! level check, and recording into it nothing.
//!
//! [`Config::span_level`]: crate::Config::span_level

use std::net::SocketAddr;
use std::time::Instant;

use tracing::field::Empty;
use tracing::{Level, Span};

use crate::handler::Reply;
use crate::session::TransportKind;

/// Makes a span at a level known only at run time (the macros want a constant).
macro_rules! span_at {
    ($level:expr, $($rest:tt)*) => {
        match $level {
            Level::ERROR => tracing::error_span!($($rest)*),
            Level::WARN => tracing::warn_span!($($rest)*),
            Level::INFO => tracing::info_span!($($rest)*),
            Level::DEBUG => tracing::debug_span!($($rest)*),
            _ => tracing::trace_span!($($rest)*),
        }
    };
}

/// The span of session `id`.
pub(crate) fn session_span(
    level: Level,
    id: u64,
    remote: Option<SocketAddr>,
    transport: TransportKind,
) -> Span {
    span_at!(
        level,
        "session",
        id,
        uid = Empty,
        remote = ?remote,
        transport = transport.as_str()
    )
}

/// The span of message `mid` (0: a notify) to `route`, a child of `session`'s span;
/// `forwarded` when another node handles it.
pub(crate) fn message_span(
    level: Level,
    session: &Span,
    route: &str,
    mid: u64,
    forwarded: bool,
) -> Span {
    let kind = if mid == 0 { "notify" } else { "request" };
    span_at!(
        level,
        parent: session,
        "message",
        route,
        mid,
        kind,
        forwarded,
        duration_us = Empty,
        code = Empty
    )
}

/// When a message's handler started, if its span is enabled (the clock is read only then).
pub(crate) fn started(span: &Span) -> Option<Instant> {
    (!span.is_disabled()).then(Instant::now)
}

/// Records how a message ended in its span: the handler's duration and the response code.
pub(crate) fn finish(span: &Span, started: Option<Instant>, reply: &Reply) {
    let Some(started) = started else { return };
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.record("duration_us", micros);
    span.record("code", reply_code(reply));
}

/// The code a reply answers with: 200 unless it is an error.
fn reply_code(reply: &Reply) -> i32 {
    match reply {
        Reply::Error(error) => error.code(),
        _ => 200,
    }
}
