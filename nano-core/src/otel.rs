//! OpenTelemetry export of the session and message spans (the `otel` feature), and the W3C
//! trace context that carries a trace from node to node.
//!
//! [`OtlpExporter`] sends spans to an OTLP collector over HTTP (protobuf), batched on a
//! thread of its own; its [`layer`](OtlpExporter::layer) goes into the application's
//! `tracing_subscriber` stack next to its log output:
//!
//! ```no_run
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracing_subscriber::util::SubscriberInitExt;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Endpoint and headers from the standard `OTEL_EXPORTER_OTLP_*` variables when `None`.
//! let exporter = nano_core::otel::OtlpExporter::new("chat-gate", None)?;
//! tracing_subscriber::registry().with(exporter.layer()).init();
//! // ... run the app; at exit:
//! exporter.shutdown()?;
//! # Ok(()) }
//! ```
//!
//! The crates are re-exported ([`opentelemetry`], [`opentelemetry_sdk`],
//! [`tracing_opentelemetry`]) so that an application builds its own provider (another
//! exporter, a sampler) with the versions nano-rs was built with, and hands it to
//! [`OtlpExporter::from_provider`].

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::{Span, Subscriber};
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt as _};
use tracing_subscriber::registry::LookupSpan;

pub use opentelemetry;
pub use opentelemetry_sdk;
pub use tracing_opentelemetry;

/// Why the exporter could not be built or shut down.
#[derive(Debug, thiserror::Error)]
#[error("OpenTelemetry: {0}")]
pub struct OtelError(String);

/// A tracer provider exporting spans, and the `tracing` layer that feeds it.
#[derive(Clone, Debug)]
pub struct OtlpExporter {
    provider: SdkTracerProvider,
}

impl OtlpExporter {
    /// Exports over OTLP/HTTP (protobuf) to `endpoint` (such as
    /// `http://127.0.0.1:4318/v1/traces`), or where the standard `OTEL_EXPORTER_OTLP_*`
    /// environment variables say when `None`, as service `service_name`.
    ///
    /// # Errors
    ///
    /// [`OtelError`] when the exporter cannot be built (an invalid endpoint).
    pub fn new(service_name: &str, endpoint: Option<&str>) -> Result<Self, OtelError> {
        let mut builder = opentelemetry_otlp::SpanExporter::builder().with_http();
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let exporter = builder.build().map_err(|err| OtelError(err.to_string()))?;
        let resource = Resource::builder()
            .with_service_name(service_name.to_owned())
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        Ok(Self { provider })
    }

    /// Exports through `provider`, built by the application (or a test's in-memory exporter).
    pub fn from_provider(provider: SdkTracerProvider) -> Self {
        Self { provider }
    }

    /// The `tracing` layer turning spans into OpenTelemetry spans for this exporter.
    pub fn layer<S>(&self) -> OpenTelemetryLayer<S, SdkTracer>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("nano-rs"))
    }

    /// The provider, to flush it or to make other tracers.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// Exports what is still batched and stops the exporter.
    ///
    /// # Errors
    ///
    /// [`OtelError`] when the export fails or the exporter was already shut down.
    pub fn shutdown(&self) -> Result<(), OtelError> {
        self.provider
            .shutdown()
            .map_err(|err| OtelError(err.to_string()))
    }
}

/// The W3C trace context of `span` (`traceparent`, and `tracestate` when not empty), to send
/// with a message to another node; empty when `span` is not exported (disabled, or no
/// OpenTelemetry layer).
pub fn trace_context(span: &Span) -> HashMap<String, String> {
    let mut headers = HashMap::new();
    TraceContextPropagator::new().inject_context(&span.context(), &mut headers);
    headers
}

/// Makes `span`, in OpenTelemetry, a child of the span whose W3C trace context `headers` hold
/// (as [`trace_context`] gives it); no change when they hold none.
pub fn set_remote_parent(span: &Span, headers: &HashMap<String, String>) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(headers);
    // Fails only for a span that is not exported, which has no parent to set.
    let _ = span.set_parent(parent);
}
