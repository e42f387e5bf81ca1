//! [`App`]: a built nano-rs app, and [`AppBuilder`], which makes one.
//!
//! - [`builder`]: registering components and settings; `build` as a sequence of named steps;
//! - [`components`]: starting components (their actors, hooks and routes);
//! - [`state`]: what a running app holds;
//! - [`listen`]: listeners, the accept loop, streams and transports;
//! - [`shutdown`]: graceful shutdown and signals;
//! - [`cluster`]: what `nano-cluster` calls (dispatch for another node, stand-in sessions).

mod builder;
mod cluster;
mod components;
mod inspect;
mod listen;
mod shutdown;
mod state;

pub use builder::AppBuilder;
pub use shutdown::ShutdownHandle;

use std::fmt;
use std::sync::Arc;

use crate::actor::ActorHandle;
use crate::component::Component;
use crate::config::Config;
use crate::manifest::Manifest;
use crate::metrics::Metrics;
use crate::protocol::RouteDict;
use crate::scheduler::Scheduler;
use crate::{Room, Rooms, Serializer};
use state::AppState;

/// A built nano-rs app: serve it on listeners and streams, then shut it down.
///
/// Cheap to clone; clones are the same app. Several apps can run in one process (there is no
/// global state).
///
/// # Examples
///
/// ```no_run
/// use nano_core::prelude::*;
///
/// #[derive(Default)]
/// struct Room { members: Group }
///
/// #[component(name = "room")]
/// impl Room {
///     #[handler]
///     fn join(&self, session: &Session) -> Result<(), HandlerError> {
///         self.members.add(session)?;
///         Ok(())
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), nano_core::Error> {
///     let app = App::builder().register(Room::default()).build()?;
///     app.listen_tcp("127.0.0.1:3250").await?;
///     app.run().await // until Ctrl-C or SIGTERM, then a graceful shutdown
/// }
/// ```
#[derive(Clone)]
pub struct App {
    state: Arc<AppState>,
}

impl App {
    /// A builder for a new app.
    pub fn builder() -> AppBuilder {
        AppBuilder::default()
    }

    fn from_state(state: AppState) -> Self {
        Self {
            state: Arc::new(state),
        }
    }

    /// The app's configuration: its limits and intervals, as built (for transports built
    /// outside nano-core, which honour `max_body_len` and `listen_backlog`).
    pub fn config(&self) -> &Config {
        &self.state.host.config
    }

    /// The route dictionary sent to clients (empty when disabled).
    pub fn dict(&self) -> &RouteDict {
        &self.state.host.core.dict
    }

    /// The version of [`App::dict`] sent as `sys.dictVersion` ([`RouteDict::version`]);
    /// `None` when the dictionary is empty or disabled.
    pub fn dict_version(&self) -> Option<&str> {
        self.state.host.core.dict_version.as_deref()
    }

    /// Every route with its kind and payload and response types, and the push routes with
    /// their body types (declared with `#[component(pushes(onMessage = Chat))]`): the input of
    /// client code generators such as [`Manifest::typescript`]. With nano-core's `schema`
    /// feature, types implementing `schemars::JsonSchema` carry their JSON Schema.
    pub fn manifest(&self) -> &Manifest {
        &self.state.manifest
    }

    /// The payload serializer.
    pub fn serializer(&self) -> &Serializer {
        &self.state.host.core.serializer
    }

    /// The app's Prometheus metrics in the text exposition format (OpenMetrics 1.0, served
    /// as `application/openmetrics-text; version=1.0.0; charset=utf-8`): per route, the
    /// requests, errors by code and the handler and total latency histograms; sessions open,
    /// opened by transport and closed by reason; kicks and refused handshakes by reason;
    /// pushes sent and dropped; bytes in and out; groups and their members; actor mailboxes
    /// (these last read now). Every metric is in docs/OPERATIONS.md.
    /// Empty when [`Config::prometheus`](crate::Config::prometheus) is off.
    ///
    /// nano-ws serves it over HTTP (`nano_ws::metrics`, and an axum route).
    pub fn encode_metrics(&self) -> String {
        let mut out = String::new();
        self.read_scrape_gauges();
        if let Some(telemetry) = &self.state.host.core.telemetry {
            // Writing to a String cannot fail.
            let _ = telemetry.encode(&mut out);
        }
        out
    }

    /// A snapshot of the app's counters.
    pub fn metrics(&self) -> Metrics {
        self.state.host.core.counters.snapshot()
    }

    /// The app's scheduler (timers and closures on one task).
    pub fn scheduler(&self) -> &Scheduler {
        &self.state.actors.scheduler
    }

    /// The handle of a registered actor component (one with `&mut self` handlers).
    pub fn actor<C: Component>(&self) -> Option<ActorHandle<C>> {
        self.state.components.actor()
    }

    /// The room kind `C` served by this app ([`AppBuilder::rooms`]).
    pub fn rooms<C: Room>(&self) -> Option<Rooms<C>> {
        self.state.components.rooms()
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("config", self.config())
            .field("routes", &self.state.host.routes.len())
            .finish_non_exhaustive()
    }
}
