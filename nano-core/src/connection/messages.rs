//! Data messages of a working connection: decode, run the inbound pipeline, route to the
//! handler (or another node), and answer.

use bytes::Bytes;

use super::end::End;
use std::time::Instant;

use super::{Connection, InFlight, Timing};
use crate::HandlerError;
use crate::dispatch::{self, HandlerCall, Started};
use crate::handler::Reply;
use crate::metrics::Counters;
use crate::protocol::Message;
use crate::trace;

impl Connection {
    /// Handles one Data packet; returns the handler it started, if it is still running.
    pub(super) fn on_data(&mut self, body: Bytes) -> Result<Option<InFlight>, End> {
        // Set when the packet was read (`on_io`): one clock read per packet.
        let read = self.last_seen.into_std();
        let core = &self.host.core;
        let mut message = Message::decode_with(body, &core.dict).map_err(End::Protocol)?;
        Counters::add(&core.counters.messages_in, 1);
        let mid = match &message {
            Message::Request { id, .. } => *id,
            Message::Notify { .. } => 0,
            Message::Response { .. } | Message::Push { .. } => {
                return Err(End::Violation("response or push sent by a client"));
            }
        };
        if mid != 0 && mid <= self.resent_up_to {
            // Sent before the last resume, and again after it: never handled twice.
            self.answer_resent(mid);
            return Ok(None);
        }
        self.session.set_last_mid(mid);
        if !self.host.inbound.is_empty()
            && let Err(error) = self.host.inbound.run(&self.session, &mut message)
        {
            self.deliver(mid, "<inbound pipeline>", Reply::Error(error));
            return Ok(None);
        }
        let (Message::Request { route, payload, .. } | Message::Notify { route, payload }) =
            message
        else {
            return Ok(None);
        };
        let name = route.name().map(|name| name.as_str()).unwrap_or_default();
        Ok(self.route(name, mid, payload, read))
    }

    /// Calls the handler of `name`, or forwards the message to the node serving it.
    fn route(&self, name: &str, mid: u64, payload: Bytes, read: Instant) -> Option<InFlight> {
        let Some(entry) = self.host.routes.get(name) else {
            return self.forward(name, mid, payload);
        };
        let route = entry.meta.route;
        let level = self.host.core.span_level;
        let span = trace::message_span(level, self.session.span(), route, mid, false);
        if let Some(metrics) = &entry.metrics {
            metrics.received();
        }
        // Read the clock again only for the metrics that need it.
        let started = if entry.metrics.is_some() {
            Instant::now()
        } else {
            read
        };
        let handling = self.session.inner().outbox.handling();
        let outcome = dispatch::start(entry, &self.session, mid, payload, span.clone());
        drop(handling);
        match outcome {
            Started::Running(call) => {
                let timing = entry.metrics.clone().map(|metrics| Timing {
                    metrics,
                    read,
                    started,
                });
                Some(InFlight { mid, timing, call })
            }
            Started::Done(reply) => {
                span.in_scope(|| self.deliver(mid, route, reply));
                if let Some(metrics) = &entry.metrics {
                    metrics.finished(read, started, mid != 0);
                }
                None
            }
        }
    }

    /// A route this app does not serve: another node of a cluster may serve it.
    fn forward(&self, name: &str, mid: u64, payload: Bytes) -> Option<InFlight> {
        if let Some(remote) = self.host.routes.remote() {
            let level = self.host.core.span_level;
            let span = trace::message_span(level, self.session.span(), name, mid, true);
            if let Some(future) =
                span.in_scope(|| remote.forward(&self.session, name, mid, payload))
            {
                let call = HandlerCall::new("<remote>", future, span);
                return Some(InFlight {
                    mid,
                    timing: None,
                    call,
                });
            }
        }
        let error = HandlerError::not_found(format!("unknown route `{name}`"));
        self.deliver(mid, "<unknown>", Reply::Error(error));
        None
    }

    /// Sends a handler's reply: a response for a request, nothing (but logs) for a notify.
    pub(super) fn deliver(&self, mid: u64, route: &'static str, reply: Reply) {
        match reply {
            Reply::None => {}
            Reply::Payload(payload) if mid != 0 => {
                // The connection writes its outbox right after this: no need to wake itself.
                if let Err(err) = self.session.respond_from_connection(mid, payload) {
                    tracing::debug!(route, mid, error = %err, "response not sent");
                }
            }
            Reply::Payload(_) => {}
            Reply::Error(error) => {
                log_handler_error(route, mid, &error);
                if let Some(telemetry) = &self.host.core.telemetry {
                    telemetry.error(route, error.code());
                }
                if mid != 0 {
                    let _ = self.session.respond_error(mid, &error);
                } else {
                    Counters::add(&self.host.core.counters.errors, 1);
                }
            }
        }
    }
}

fn log_handler_error(route: &str, mid: u64, error: &HandlerError) {
    match error.code() {
        HandlerError::INTERNAL => tracing::error!(route, mid, %error, "handler failed"),
        _ => tracing::info!(route, mid, %error, "request refused"),
    }
}
