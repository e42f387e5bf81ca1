//! What the server logs, with the spans each event was logged in: a `tracing` layer that
//! records every event with its fields and those of its enclosing spans (`session.id`,
//! `message.route`, ...), and every span as it closes with its final fields (those recorded
//! after it was created, such as `message.code`, included).
//!
//! [`Captured::install`] makes it the default subscriber of the calling thread only, so tests
//! of one binary, each on its own thread (tokio's current-thread runtime), capture apart.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::DefaultGuard;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Field values by name, as text (`Debug` of the value; strings without quotes).
pub type Fields = HashMap<String, String>;

/// One logged event.
#[derive(Clone, Debug)]
pub struct CapturedEvent {
    /// The event's message.
    pub message: String,
    /// Its own fields by name, and its spans' as `<span>.<field>` (innermost span first wins).
    pub fields: Fields,
}

/// One closed span.
#[derive(Clone, Debug)]
pub struct CapturedSpan {
    /// The span's name.
    pub name: String,
    /// Its fields when it closed.
    pub fields: Fields,
    /// The name of its parent span, if any.
    pub parent: Option<String>,
}

#[derive(Default)]
struct Log {
    events: Vec<CapturedEvent>,
    spans: Vec<CapturedSpan>,
    opened: HashMap<String, usize>,
}

/// What has been logged on this thread since [`install`](Self::install).
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Log>>);

impl Captured {
    /// Captures everything at `level` or above on the calling thread until the guard drops.
    pub fn install(level: Level) -> (Captured, DefaultGuard) {
        let captured = Captured::default();
        let layer =
            CaptureLayer(captured.0.clone()).with_filter(Targets::new().with_default(level));
        let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
        (captured, guard)
    }

    /// The events logged with `message`.
    pub fn events(&self, message: &str) -> Vec<CapturedEvent> {
        let log = self.0.lock().unwrap();
        log.events
            .iter()
            .filter(|e| e.message == message)
            .cloned()
            .collect()
    }

    /// The spans named `name` that have closed.
    pub fn closed(&self, name: &str) -> Vec<CapturedSpan> {
        let log = self.0.lock().unwrap();
        log.spans
            .iter()
            .filter(|s| s.name == name)
            .cloned()
            .collect()
    }

    /// How many spans named `name` were created (enabled).
    pub fn opened(&self, name: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .opened
            .get(name)
            .copied()
            .unwrap_or(0)
    }
}

struct CaptureLayer(Arc<Mutex<Log>>);

/// A span's fields, kept in its extensions.
struct SpanFields(Fields);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = FieldsVisitor::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.0));
        }
        let name = attrs.metadata().name().to_owned();
        *self.0.lock().unwrap().opened.entry(name).or_default() += 1;
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            let mut visitor = FieldsVisitor(std::mem::take(fields));
            values.record(&mut visitor);
            *fields = visitor.0;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut visitor = FieldsVisitor::default();
        event.record(&mut visitor);
        let mut fields = visitor.0;
        let message = fields.remove("message").unwrap_or_default();
        for span in ctx.event_scope(event).into_iter().flatten() {
            if let Some(SpanFields(own)) = span.extensions().get::<SpanFields>() {
                for (name, value) in own {
                    let key = format!("{}.{name}", span.name());
                    fields.entry(key).or_insert_with(|| value.clone());
                }
            }
        }
        self.0
            .lock()
            .unwrap()
            .events
            .push(CapturedEvent { message, fields });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let fields = span
            .extensions()
            .get::<SpanFields>()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        let parent = span.parent().map(|p| p.name().to_owned());
        let name = span.name().to_owned();
        self.0.lock().unwrap().spans.push(CapturedSpan {
            name,
            fields,
            parent,
        });
    }
}

#[derive(Default)]
struct FieldsVisitor(Fields);

impl Visit for FieldsVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}
