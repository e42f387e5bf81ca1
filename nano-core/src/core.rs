//! [`Core`]: what every session of an app shares (serializer, dictionary, pipeline, counters).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use serde_json::Value;

use crate::metrics::Counters;
use crate::outbox::SlowConsumerPolicy;
use crate::prometheus::Telemetry;
use crate::protocol::RouteDict;
use crate::{HandlerError, Pipeline, Serializer, Session};

/// Builds the body of an error response from a handler error.
pub(crate) type ErrorBodyFn = Arc<dyn Fn(&HandlerError) -> Value + Send + Sync>;
/// Runs when a session closes, drops or resumes.
pub(crate) type SessionHook = Arc<dyn Fn(&Session) + Send + Sync>;

/// The app's hooks on the moments of a session's life.
#[derive(Clone, Default)]
pub(crate) struct SessionHooks {
    /// The session closed (after its own close callbacks).
    pub(crate) closed: Vec<SessionHook>,
    /// Its connection dropped; the session waits for its client to resume (resume on).
    pub(crate) dropped: Vec<SessionHook>,
    /// Its client came back on a new connection.
    pub(crate) resumed: Vec<SessionHook>,
}

/// The default error body: `{"code":<code>,"msg":"<message>"}`.
pub(crate) fn default_error_body(error: &HandlerError) -> Value {
    serde_json::json!({ "code": error.code(), "msg": error.message() })
}

/// The largest session id, 2^53 - 1: JavaScript numbers hold every integer up to it exactly.
const MAX_SESSION_ID: u64 = (1 << 53) - 1;

/// State shared by an app and all its sessions.
pub(crate) struct Core {
    pub(crate) serializer: Serializer,
    pub(crate) dict: RouteDict,
    /// `dict`'s version, computed once; `None` when the dictionary is empty.
    pub(crate) dict_version: Option<String>,
    pub(crate) outbound: Pipeline,
    pub(crate) counters: Counters,
    /// The app's Prometheus metrics, unless `Config::prometheus` is off.
    pub(crate) telemetry: Option<Arc<Telemetry>>,
    pub(crate) error_body: ErrorBodyFn,
    /// Whether error responses carry the error flag (0x20).
    pub(crate) error_flag: bool,
    pub(crate) session_hooks: SessionHooks,
    pub(crate) send_queue_capacity: usize,
    pub(crate) slow_consumer: SlowConsumerPolicy,
    pub(crate) next_session_id: AtomicU64,
    /// The level of the session and message spans.
    pub(crate) span_level: tracing::Level,
}

/// Everything a [`Core`] is made of, by name: what an app's builder settled on.
#[derive(Clone)]
pub(crate) struct CoreSettings {
    pub(crate) serializer: Serializer,
    pub(crate) dict: RouteDict,
    pub(crate) outbound: Pipeline,
    pub(crate) telemetry: Option<Arc<Telemetry>>,
    pub(crate) error_body: ErrorBodyFn,
    pub(crate) error_flag: bool,
    pub(crate) session_hooks: SessionHooks,
    pub(crate) send_queue_capacity: usize,
    pub(crate) slow_consumer: SlowConsumerPolicy,
    /// The first session id (0 counts as 1, beyond 2^53 - 1 as 2^53 - 1).
    pub(crate) first_session_id: u64,
    pub(crate) span_level: tracing::Level,
}

impl Default for CoreSettings {
    fn default() -> Self {
        Self {
            serializer: Serializer::Json,
            dict: RouteDict::new(),
            outbound: Pipeline::new(),
            telemetry: None,
            error_body: Arc::new(default_error_body),
            error_flag: false,
            session_hooks: SessionHooks::default(),
            send_queue_capacity: crate::config::DEFAULT_SEND_QUEUE_CAPACITY,
            slow_consumer: SlowConsumerPolicy::Drop,
            first_session_id: 1,
            span_level: crate::config::DEFAULT_SPAN_LEVEL,
        }
    }
}

impl Core {
    pub(crate) fn new(settings: CoreSettings) -> Self {
        let CoreSettings {
            serializer,
            dict,
            outbound,
            telemetry,
            error_body,
            error_flag,
            session_hooks,
            send_queue_capacity,
            slow_consumer,
            first_session_id,
            span_level,
        } = settings;
        Self {
            serializer,
            dict_version: (!dict.is_empty()).then(|| dict.version()),
            dict,
            outbound,
            counters: Counters::default(),
            telemetry,
            error_body,
            error_flag,
            session_hooks,
            send_queue_capacity,
            slow_consumer,
            next_session_id: AtomicU64::new(first_session_id.clamp(1, MAX_SESSION_ID)),
            span_level,
        }
    }

    /// A fresh session id: unique within the app, below 2^53 so JavaScript reads it exactly.
    pub(crate) fn next_session_id(&self) -> u64 {
        // 2^53 ids at a million sessions a second last 285 years; wrap rather than exceed.
        let id = self.next_session_id.fetch_add(1, Ordering::Relaxed);
        (id - 1) % MAX_SESSION_ID + 1
    }

    /// The serialized error body for `error`, with a plain-text fallback if the configured
    /// body cannot be serialized.
    pub(crate) fn error_payload(&self, error: &HandlerError) -> Bytes {
        let body = (self.error_body)(error);
        self.serializer.error_body(&body).unwrap_or_else(|_| {
            Bytes::from(format!(
                r#"{{"code":{},"msg":"internal error"}}"#,
                error.code()
            ))
        })
    }
}

impl Default for Core {
    fn default() -> Self {
        Self::new(CoreSettings::default())
    }
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("serializer", &self.serializer)
            .field("dict", &self.dict.len())
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core_from(first_session_id: u64) -> Core {
        Core::new(CoreSettings {
            first_session_id,
            ..CoreSettings::default()
        })
    }

    #[test]
    fn session_ids_count_up_from_the_first_and_stay_below_2_pow_53() {
        let core = core_from(1 << 40);
        assert_eq!(core.next_session_id(), 1 << 40);
        assert_eq!(core.next_session_id(), (1 << 40) + 1);
        assert_eq!(core_from(0).next_session_id(), 1);
        let last = core_from(MAX_SESSION_ID);
        assert_eq!(last.next_session_id(), MAX_SESSION_ID);
        assert_eq!(last.next_session_id(), 1);
        assert_eq!(core_from(u64::MAX).next_session_id(), MAX_SESSION_ID);
    }
}
