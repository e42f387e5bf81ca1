//! Why the server ended each session, as it logs it: a `tracing` layer that records the `end`
//! of every `session closed` event under the client's address, so a test can tell *which rule*
//! closed a connection (a protocol error, a timeout, a kick) and not only that it closed.
//!
//! The server logs the reason inside the `session` span, whose `remote` field is the client's
//! address; a test knows that address as its socket's local address.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::wait::wait_for;

/// Session end reasons by client address (`Debug` of the server's `Option<SocketAddr>`).
type Ends = Arc<Mutex<HashMap<String, String>>>;

/// The end reasons the server has logged in this process.
#[derive(Clone)]
pub struct SessionEnds(Ends);

impl SessionEnds {
    /// Installs the recording layer as the process's global subscriber (once; later calls
    /// return the same log). Call it before the server starts.
    pub fn install() -> SessionEnds {
        static ENDS: OnceLock<SessionEnds> = OnceLock::new();
        ENDS.get_or_init(|| {
            let ends = SessionEnds(Ends::default());
            let filter = Targets::new().with_target("nano_core", Level::DEBUG);
            let subscriber =
                tracing_subscriber::registry().with(EndLayer(ends.0.clone()).with_filter(filter));
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in this test binary");
            ends
        })
        .clone()
    }

    /// The reason the session of the client at `client` ended, once the server has logged it
    /// (`None` if it has not within `within`).
    pub async fn of(&self, client: SocketAddr, within: Duration) -> Option<String> {
        let key = format!("{:?}", Some(client));
        let logged = wait_for(within, || self.0.lock().unwrap().contains_key(&key)).await;
        logged.then(|| self.0.lock().unwrap()[&key].clone())
    }
}

/// The layer: remembers each `session` span's `remote`, and records `end` at `session closed`.
struct EndLayer(Ends);

/// A `session` span's client address, kept in the span's extensions.
struct Remote(String);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for EndLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "session" {
            return;
        }
        let mut remote = FieldText::new("remote");
        attrs.record(&mut remote);
        if let (Some(remote), Some(span)) = (remote.value, ctx.span(id)) {
            span.extensions_mut().insert(Remote(remote));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut message = FieldText::new("message");
        event.record(&mut message);
        if message.value.as_deref() != Some("session closed") {
            return;
        }
        let mut end = FieldText::new("end");
        event.record(&mut end);
        let remote = ctx.event_scope(event).and_then(|scope| {
            scope
                .into_iter()
                .find_map(|span| span.extensions().get::<Remote>().map(|r| r.0.clone()))
        });
        if let (Some(remote), Some(end)) = (remote, end.value) {
            self.0.lock().unwrap().insert(remote, end);
        }
    }
}

/// Reads one named field of a span or event as text.
struct FieldText {
    name: &'static str,
    value: Option<String>,
}

impl FieldText {
    fn new(name: &'static str) -> Self {
        Self { name, value: None }
    }
}

impl Visit for FieldText {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == self.name {
            self.value = Some(format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.name {
            self.value = Some(value.to_owned());
        }
    }
}
