//! The W3C trace context of a forwarded message or RPC, in its NATS headers, so that the
//! caller's message span and the handler's on the called node are one trace.
//!
//! Only with the `otel` feature: a trace context needs OpenTelemetry's trace and span ids,
//! which `tracing` alone does not have (its span ids are per process and per subscriber).
//! Without the feature, calls carry no headers and cost nothing more.

use async_nats::HeaderMap;
use tracing::Span;

/// The headers carrying the trace context of the current span (the caller's message span);
/// `None` when there is none to carry.
#[cfg(feature = "otel")]
pub(super) fn headers() -> Option<HeaderMap> {
    let context = nano_core::otel::trace_context(&Span::current());
    if context.is_empty() {
        return None;
    }
    let mut headers = HeaderMap::new();
    for (name, value) in context {
        headers.insert(name, value);
    }
    Some(headers)
}

/// Without the `otel` feature, no trace context travels.
#[cfg(not(feature = "otel"))]
pub(super) fn headers() -> Option<HeaderMap> {
    None
}

/// Makes `span` (a called handler's message span) a child of the caller's span, from the
/// trace context in the call's `headers`.
#[cfg(feature = "otel")]
pub(super) fn follow(span: &Span, headers: Option<&HeaderMap>) {
    let Some(headers) = headers else { return };
    let context = ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), headers.get(name)?.as_str().to_owned())))
        .collect();
    nano_core::otel::set_remote_parent(span, &context);
}

/// Without the `otel` feature, there is no trace to follow.
#[cfg(not(feature = "otel"))]
pub(super) fn follow(_span: &Span, _headers: Option<&HeaderMap>) {}
