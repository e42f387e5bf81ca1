//! [`AppBuilder`]: registering components and settings; [`build`](AppBuilder::build) starts
//! the app in named steps.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::shutdown_signal::Shutdown;
use serde_json::Value;

use super::App;
use super::components::{Actors, start_components};
use super::listen::Connections;
use super::shutdown::ShutdownSignals;
use super::state::AppState;
use crate::component::Component;
use crate::config::{Config, RateLimit};
use crate::core::{Core, CoreSettings, ErrorBodyFn, SessionHooks, default_error_body};
use crate::handshake::{HandshakeRejection, Validator};
use crate::host::Host;
use crate::manifest::Manifest;
use crate::outbox::SlowConsumerPolicy;
use crate::prometheus::{MetricRegistration, Telemetry};
use crate::protocol::{HandshakeRequest, RouteDict, RouteName};
use crate::remote::{RemoteResumer, RemoteRouter};
use crate::routes::RouteTable;
use crate::service::Service;
use crate::{Error, HandlerError, Pipeline, ResumeConfig, Room, Rooms, Serializer, Session};

/// Registers components and sets an app up. Build it inside a tokio runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_core::prelude::*;
///
/// struct Echo;
///
/// #[component(name = "echo")]
/// impl Echo {
///     #[handler]
///     fn say(&self, _session: &Session, text: String) -> String { text }
/// }
///
/// # async fn run() -> Result<(), nano_core::Error> {
/// let app = App::builder()
///     .register(Echo)
///     .heartbeat_interval(Duration::from_secs(10))
///     .handshake_validator(|handshake, _session| async move {
///         match handshake.user["version"].as_u64() {
///             Some(version) if version >= 2 => Ok(()),
///             _ => Err(HandshakeRejection::old_client()),
///         }
///     })
///     .build()?;
/// let addr = app.listen_tcp("127.0.0.1:0").await?;
/// # app.shutdown().await;
/// # Ok(()) }
/// ```
#[must_use = "an AppBuilder does nothing until `build` is called"]
pub struct AppBuilder {
    config: Config,
    serializer: Serializer,
    services: Vec<Service>,
    push_routes: Vec<RouteName>,
    validator: Option<Validator>,
    inbound: Pipeline,
    outbound: Pipeline,
    error_body: ErrorBodyFn,
    error_flag: Option<bool>,
    session_hooks: SessionHooks,
    remote_router: Option<Arc<dyn RemoteRouter>>,
    remote_resumer: Option<Arc<dyn RemoteResumer>>,
    metric_registrations: Vec<MetricRegistration>,
    /// A registration `build` refuses, found when it was made.
    misuse: Option<Error>,
}

impl Default for AppBuilder {
    fn default() -> Self {
        Self {
            config: Config::default(),
            serializer: Serializer::Json,
            services: Vec::new(),
            push_routes: Vec::new(),
            validator: None,
            inbound: Pipeline::new(),
            outbound: Pipeline::new(),
            error_body: Arc::new(default_error_body),
            error_flag: None,
            session_hooks: SessionHooks::default(),
            remote_router: None,
            remote_resumer: None,
            metric_registrations: Vec::new(),
            misuse: None,
        }
    }
}

impl AppBuilder {
    /// Registers a component (an `impl` block with `#[component]`). Components are
    /// initialized in registration order and shut down in reverse.
    pub fn register<C: Component>(mut self, component: C) -> Self {
        self.services.push(component.__into_service());
        self
    }

    /// The payload serializer (default: JSON; also MessagePack, protobuf with the `protobuf`
    /// feature, or your own [`PayloadFormat`](crate::PayloadFormat)). Raw `Bytes` payloads and
    /// [`Proto`](crate::Proto) messages bypass it.
    pub fn serializer(mut self, serializer: Serializer) -> Self {
        self.serializer = serializer;
        self
    }

    /// Serves the room kind `C` ([`Rooms`]): its routes go to the room each caller is in, and
    /// its rooms can be created once the app is built. Keep a clone of `rooms` (or find it
    /// with [`App::rooms`]) to manage them.
    ///
    /// A `Rooms` serves one app: giving it to a second builder makes that `build` fail with
    /// [`Error::RoomsServedTwice`].
    pub fn rooms<C: Room>(mut self, rooms: Rooms<C>) -> Self {
        if !rooms.claim() {
            self.misuse
                .get_or_insert(Error::RoomsServedTwice(rooms.kind()));
        }
        self.services.push(Service::rooms(rooms));
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// See [`Config::heartbeat_interval`] (default 30 s; zero disables heartbeats).
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.heartbeat_interval = interval;
        self
    }

    /// See [`Config::handshake_timeout`] (default 10 s).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// See [`Config::max_body_len`] (default 65,536 bytes).
    pub fn max_body_len(mut self, len: usize) -> Self {
        self.config.max_body_len = len;
        self
    }

    /// See [`Config::send_queue_capacity`] (default 128).
    pub fn send_queue_capacity(mut self, capacity: usize) -> Self {
        self.config.send_queue_capacity = capacity.max(1);
        self
    }

    /// See [`Config::slow_consumer`] (default: drop the push).
    pub fn slow_consumer(mut self, policy: SlowConsumerPolicy) -> Self {
        self.config.slow_consumer = policy;
        self
    }

    /// See [`Config::max_connections`] (default 100,000).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max;
        self
    }

    /// See [`Config::open_file_reserve`] (default 128).
    pub fn open_file_reserve(mut self, reserve: usize) -> Self {
        self.config.open_file_reserve = reserve;
        self
    }

    /// See [`Config::actor_mailbox_capacity`] (default 1,024).
    pub fn actor_mailbox_capacity(mut self, capacity: usize) -> Self {
        self.config.actor_mailbox_capacity = capacity.max(1);
        self
    }

    /// See [`Config::final_write_timeout`] (default 1 s).
    pub fn final_write_timeout(mut self, timeout: Duration) -> Self {
        self.config.final_write_timeout = timeout;
        self
    }

    /// See [`Config::shutdown_timeout`] (default 10 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// See [`Config::rate_limit`] (default 2,000 packets/s, bursts of 4,000; `None` disables).
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.config.rate_limit = limit;
        self
    }

    /// See [`Config::listen_backlog`] (default: the system's maximum).
    pub fn listen_backlog(mut self, backlog: u32) -> Self {
        self.config.listen_backlog = Some(backlog);
        self
    }

    /// See [`Config::first_session_id`] (default 1).
    pub fn first_session_id(mut self, id: u64) -> Self {
        self.config.first_session_id = id;
        self
    }

    /// See [`Config::span_level`] (default `INFO`).
    pub fn span_level(mut self, level: tracing::Level) -> Self {
        self.config.span_level = level;
        self
    }

    /// See [`Config::prometheus`] (default `true`).
    pub fn prometheus(mut self, enabled: bool) -> Self {
        self.config.prometheus = enabled;
        self
    }

    /// Adds metrics of your own (or of a crate such as nano-cluster) to the app's Prometheus
    /// registry, so that one scrape returns them with the app's: `register` is called once,
    /// when the app is built, with the registry whose names get the `nano_` prefix (use
    /// [`Registry::sub_registry_with_prefix`](prometheus_client::registry::Registry::sub_registry_with_prefix)
    /// for a prefix of your own). Not called when [`Config::prometheus`] is off. The registry
    /// is [`prometheus_client`]'s, re-exported by nano-core so that the versions match.
    ///
    /// ```
    /// use nano_core::App;
    /// use nano_core::prometheus_client::metrics::counter::Counter;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let matches_started: Counter = Counter::default();
    /// let app = App::builder()
    ///     .register_metrics({
    ///         let counter = matches_started.clone();
    ///         move |registry| registry.register("matches_started", "Matches started", counter)
    ///     })
    ///     .build()
    ///     .unwrap();
    /// matches_started.inc();
    /// assert!(app.encode_metrics().contains("nano_matches_started_total 1"));
    /// # }
    /// ```
    pub fn register_metrics(
        mut self,
        register: impl FnOnce(&mut prometheus_client::registry::Registry) + Send + 'static,
    ) -> Self {
        self.metric_registrations.push(Box::new(register));
        self
    }

    /// See [`Config::use_dictionary`] (default `true`).
    pub fn use_dictionary(mut self, enabled: bool) -> Self {
        self.config.use_dictionary = enabled;
        self
    }

    /// Adds push routes (`onMessage`, ...) to the route dictionary, after the handler routes
    /// and the push routes components declare (`#[component(pushes(...))]`), so pushes on them
    /// travel compressed. They are in [`App::manifest`] without a body type.
    pub fn push_routes<I, R>(mut self, routes: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<RouteName>,
    {
        self.push_routes.extend(routes.into_iter().map(Into::into));
        self
    }

    /// Checks every handshake before the session starts. The validator sees the parsed
    /// handshake (its `user` data) and the session (to [`bind`](Session::bind) a uid, store
    /// values); a rejection answers the handshake with its code and closes the connection.
    /// It must finish within the handshake timeout.
    pub fn handshake_validator<F, Fut>(mut self, validator: F) -> Self
    where
        F: Fn(HandshakeRequest, Session) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandshakeRejection>> + Send + 'static,
    {
        self.validator = Some(Arc::new(move |handshake, session| {
            Box::pin(validator(handshake, session))
        }));
        self
    }

    /// The pipeline every inbound request and notify goes through before routing.
    pub fn inbound(mut self, pipeline: Pipeline) -> Self {
        self.inbound = pipeline;
        self
    }

    /// The pipeline every outbound response and push goes through.
    pub fn outbound(mut self, pipeline: Pipeline) -> Self {
        self.outbound = pipeline;
        self
    }

    /// The body of error responses, serialized with the app's serializer. Default:
    /// `{"code": <code>, "msg": "<message>"}` (what [`ErrorBody`](crate::ErrorBody) reads).
    pub fn error_body(
        mut self,
        body: impl Fn(&HandlerError) -> Value + Send + Sync + 'static,
    ) -> Self {
        self.error_body = Arc::new(body);
        self
    }

    /// Whether error responses carry pitaya's error flag (0x20 in the message flag byte), so a
    /// client can tell an error body from an answer without looking at its bytes.
    ///
    /// Default: on with the protobuf serializer, whose error body (`nano.ErrorBody`) cannot be
    /// told from an answer otherwise; off with the others, whose `{"code","msg"}` body is what
    /// plain pomelo and nano clients look for. Pomelo's and pinus' JavaScript decoders ignore
    /// the bit; nano-client and pitaya's clients read it.
    pub fn error_flag(mut self, on: bool) -> Self {
        self.error_flag = Some(on);
        self
    }

    /// Sends requests for routes this app does not serve to `router` (how `nano-cluster`
    /// forwards them to other nodes) instead of answering 404.
    pub fn remote_router(mut self, router: impl RemoteRouter) -> Self {
        self.remote_router = Some(Arc::new(router));
        self
    }

    /// Sends resumes of sessions this app does not hold to `resumer` (how `nano-cluster`
    /// finds a session on another gate) instead of refusing them as `unknown`.
    pub fn remote_resumer(mut self, resumer: impl RemoteResumer) -> Self {
        self.remote_resumer = Some(Arc::new(resumer));
        self
    }

    /// Runs `hook` whenever a session closes (after the session's own callbacks). With
    /// [`resume`](Self::resume) on, a session whose connection drops closes when its grace
    /// window ends without a resume, not at the drop.
    pub fn on_session_closed(mut self, hook: impl Fn(&Session) + Send + Sync + 'static) -> Self {
        self.session_hooks.closed.push(Arc::new(hook));
        self
    }

    /// Runs `hook` when a session's connection drops and the session starts waiting for its
    /// client to resume it (only with [`resume`](Self::resume) on). The session keeps its
    /// groups, rooms and values; pushes to it are kept for replay.
    pub fn on_session_dropped(mut self, hook: impl Fn(&Session) + Send + Sync + 'static) -> Self {
        self.session_hooks.dropped.push(Arc::new(hook));
        self
    }

    /// Runs `hook` when a dropped session's client comes back on a new connection (only
    /// with [`resume`](Self::resume) on), before the pushes it missed are replayed.
    pub fn on_session_resumed(mut self, hook: impl Fn(&Session) + Send + Sync + 'static) -> Self {
        self.session_hooks.resumed.push(Arc::new(hook));
        self
    }

    /// Turns session resume on (docs/PROTOCOL-EXTENSIONS.md): every handshake reply carries
    /// a resume token; a session whose connection drops waits `grace` for its client, keeping
    /// its id, uid, values, groups and rooms, and keeps the pushes sent meanwhile; a client
    /// that comes back with its token gets them replayed in order, and the requests it sends
    /// again are answered without running their handlers twice. Kicks and closes by the app
    /// end a session at once. Off by default.
    pub fn resume(mut self, resume: ResumeConfig) -> Self {
        self.config.resume = Some(resume);
        self
    }

    /// Builds the route table and dictionary, runs every component's `init` and `after_init`,
    /// and starts the components. Nothing is served until a listener is added.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateRoute`] or [`Error::DuplicateComponent`] for conflicting
    /// registrations, [`Error::RoomRegistered`] for a room kind given to
    /// [`register`](Self::register), [`Error::RoomsServedTwice`] for a [`Rooms`] given to a
    /// second builder, [`Error::Dictionary`] for a bad push route, [`Error::NoRuntime`] outside
    /// a tokio runtime.
    pub fn build(self) -> Result<App, Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::NoRuntime);
        }
        if let Some(misuse) = self.misuse {
            return Err(misuse);
        }
        check_registrations(&self.services)?;
        let dict = self.route_dictionary()?;
        let manifest = Manifest::new(
            self.services.iter().map(|service| &service.meta),
            self.push_routes.iter().map(RouteName::as_str),
        );
        let AppBuilder {
            config,
            serializer,
            services,
            push_routes: _,
            validator,
            inbound,
            outbound,
            error_body,
            error_flag,
            session_hooks,
            remote_router,
            remote_resumer,
            metric_registrations,
            misuse: _,
        } = self;
        let config = crate::open_files::bound_connections(config);
        let telemetry = config
            .prometheus
            .then(|| Arc::new(Telemetry::new(metric_registrations)));
        let settings = CoreSettings {
            telemetry: telemetry.clone(),
            error_flag: error_flag.unwrap_or_else(|| serializer.name() == "protobuf"),
            serializer,
            dict,
            outbound,
            error_body,
            session_hooks,
            send_queue_capacity: config.send_queue_capacity,
            slow_consumer: config.slow_consumer,
            first_session_id: config.first_session_id,
            span_level: config.span_level,
        };
        let remote_core = Arc::new(Core::new(CoreSettings {
            dict: RouteDict::new(),
            ..settings.clone()
        }));
        let actors = Actors::start(config.actor_mailbox_capacity);
        let mut routes = RouteTable::new(remote_router, telemetry);
        let components = start_components(services, &config, &actors, &mut routes);
        let host = Host {
            core: Arc::new(Core::new(settings)),
            config,
            routes,
            validator,
            inbound,
            shutdown: Shutdown::default(),
            sessions: crate::inspect::LiveSessions::new(),
            tombstones: crate::resume::Tombstones::default(),
            resumer: remote_resumer,
        };
        Ok(App::from_state(AppState {
            host: Arc::new(host),
            remote_core,
            components,
            actors,
            manifest,
            connections: Connections::default(),
            shutdown: ShutdownSignals::default(),
        }))
    }

    /// The route dictionary: handler routes in registration then declaration order (stable
    /// codes), then the push routes not among them (those the components declare, then those
    /// given to [`push_routes`](Self::push_routes)). Empty when the dictionary is off.
    fn route_dictionary(&self) -> Result<RouteDict, Error> {
        let mut dict = RouteDict::new();
        if !self.config.use_dictionary {
            return Ok(dict);
        }
        for service in &self.services {
            for route in service.meta.routes {
                dict.push(route.route)?;
            }
        }
        let declared = self
            .services
            .iter()
            .flat_map(|service| service.meta.pushes)
            .map(|push| RouteName::from(push.route));
        for route in declared.chain(self.push_routes.iter().cloned()) {
            if dict.code(route.as_str()).is_none() {
                dict.push(route)?;
            }
        }
        Ok(dict)
    }
}

/// Refuses a component type registered twice, and a route served by two components.
fn check_registrations(services: &[Service]) -> Result<(), Error> {
    let mut owners: HashMap<&'static str, &'static str> = HashMap::new();
    let mut types = HashMap::new();
    for service in services {
        let component = service.meta.type_name;
        if service.registered_room {
            return Err(Error::RoomRegistered(component));
        }
        if types.insert(service.type_id, component).is_some() {
            return Err(Error::DuplicateComponent(component));
        }
        for route in service.meta.routes {
            if let Some(first) = owners.insert(route.route, component) {
                return Err(Error::DuplicateRoute {
                    route: route.route,
                    first,
                    second: component,
                });
            }
        }
    }
    Ok(())
}

impl fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppBuilder")
            .field("config", &self.config)
            .field("serializer", &self.serializer)
            .field(
                "components",
                &self
                    .services
                    .iter()
                    .map(|s| s.meta.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
