//! [`App`] and [`AppBuilder`]: registering components, configuring, serving, shutting down.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::{self, ActorHandle};
use crate::component::{Component, RouteMeta};
use crate::config::Config;
use crate::core::{Core, ErrorBodyFn, SessionHook, default_error_body};
use crate::metrics::{Counters, Metrics};
use crate::outbox::SlowConsumerPolicy;
use crate::protocol::{HandshakeRequest, RouteDict, RouteName};
use crate::remote::RemoteRouter;
use crate::scheduler::Scheduler;
use crate::service::{Endpoint, Hooks, Service};
use crate::session::TransportKind;
use crate::transport::{PacketTransport, StreamTransport};
use crate::{Error, HandlerError, Pipeline, Serializer, Session};

/// A refused handshake: the code sent to the client (pomelo convention: 500 failure, 501 client
/// too old) and optional `user` data for it.
#[derive(Clone, Debug, PartialEq)]
pub struct HandshakeRejection {
    /// The handshake reply's `code`.
    pub code: u16,
    /// The handshake reply's `user` field (`null` for none).
    pub user: Value,
}

impl HandshakeRejection {
    /// A rejection with `code` and no user data.
    pub fn new(code: u16) -> Self {
        Self {
            code,
            user: Value::Null,
        }
    }

    /// Code 501: the client is too old.
    pub fn old_client() -> Self {
        Self::new(501)
    }

    /// Code 500: refused.
    pub fn refused() -> Self {
        Self::new(500)
    }
}

type ValidatorFuture = Pin<Box<dyn Future<Output = Result<(), HandshakeRejection>> + Send>>;
pub(crate) type Validator = Arc<dyn Fn(HandshakeRequest, Session) -> ValidatorFuture + Send + Sync>;

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
    on_session_closed: Vec<SessionHook>,
    remote_router: Option<Arc<dyn RemoteRouter>>,
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
            on_session_closed: Vec::new(),
            remote_router: None,
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

    /// The payload serializer (default: JSON; also MessagePack, or your own
    /// [`PayloadFormat`](crate::PayloadFormat)). Raw `Bytes` payloads bypass it.
    pub fn serializer(mut self, serializer: Serializer) -> Self {
        self.serializer = serializer;
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

    /// See [`Config::actor_mailbox_capacity`] (default 1,024).
    pub fn actor_mailbox_capacity(mut self, capacity: usize) -> Self {
        self.config.actor_mailbox_capacity = capacity.max(1);
        self
    }

    /// See [`Config::shutdown_timeout`] (default 10 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// See [`Config::rate_limit`] (default 2,000 packets/s, bursts of 4,000; `None` disables).
    pub fn rate_limit(mut self, limit: Option<crate::config::RateLimit>) -> Self {
        self.config.rate_limit = limit;
        self
    }

    /// See [`Config::first_session_id`] (default 1).
    pub fn first_session_id(mut self, id: u64) -> Self {
        self.config.first_session_id = id;
        self
    }

    /// See [`Config::use_dictionary`] (default `true`).
    pub fn use_dictionary(mut self, enabled: bool) -> Self {
        self.config.use_dictionary = enabled;
        self
    }

    /// Adds push routes (`onMessage`, ...) to the route dictionary, after the handler routes,
    /// so pushes on them travel compressed.
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

    /// Sends requests for routes this app does not serve to `router` (how `nano-cluster`
    /// forwards them to other nodes) instead of answering 404.
    pub fn remote_router(mut self, router: impl RemoteRouter) -> Self {
        self.remote_router = Some(Arc::new(router));
        self
    }

    /// Runs `hook` whenever a session closes (after the session's own callbacks).
    pub fn on_session_closed(mut self, hook: impl Fn(&Session) + Send + Sync + 'static) -> Self {
        self.on_session_closed.push(Arc::new(hook));
        self
    }

    /// Builds the route table and dictionary, runs every component's `init` and `after_init`,
    /// and starts the components. Nothing is served until a listener is added.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateRoute`] or [`Error::DuplicateComponent`] for conflicting
    /// registrations, [`Error::Dictionary`] for a bad push route, [`Error::NoRuntime`] outside
    /// a tokio runtime.
    pub fn build(self) -> Result<App, Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::NoRuntime);
        }
        let AppBuilder {
            config,
            serializer,
            mut services,
            push_routes,
            validator,
            inbound,
            outbound,
            error_body,
            on_session_closed,
            remote_router,
        } = self;

        // Routes and the dictionary, in registration then declaration order: stable codes.
        let mut owners: HashMap<&'static str, &'static str> = HashMap::new();
        let mut types = HashMap::new();
        let mut dict = RouteDict::new();
        for service in &services {
            if types
                .insert(service.type_id, service.meta.type_name)
                .is_some()
            {
                return Err(Error::DuplicateComponent(service.meta.type_name));
            }
            for route in service.meta.routes {
                if let Some(first) = owners.insert(route.route, service.meta.type_name) {
                    return Err(Error::DuplicateRoute {
                        route: route.route,
                        first,
                        second: service.meta.type_name,
                    });
                }
                if config.use_dictionary {
                    dict.push(route.route)?;
                }
            }
        }
        if config.use_dictionary {
            for route in push_routes {
                if dict.code(route.as_str()).is_none() {
                    dict.push(route)?;
                }
            }
        }

        let remote_core = Arc::new(Core::new(
            serializer.clone(),
            RouteDict::new(),
            outbound.clone(),
            error_body.clone(),
            on_session_closed.clone(),
            config.send_queue_capacity,
            config.slow_consumer,
        ));
        let core = Arc::new(
            Core::new(
                serializer,
                dict,
                outbound,
                error_body,
                on_session_closed,
                config.send_queue_capacity,
                config.slow_consumer,
            )
            .with_first_session_id(config.first_session_id),
        );
        let actors = TaskTracker::new();
        let stop_actors = CancellationToken::new();
        let (scheduler_actor, scheduler_mailbox) =
            actor::channel::<()>("scheduler", config.actor_mailbox_capacity);
        actors.spawn(actor::run((), scheduler_mailbox, stop_actors.clone()));
        let scheduler = Scheduler::new(scheduler_actor);

        for service in &mut services {
            service.inner.prepare(config.actor_mailbox_capacity);
        }
        for service in &mut services {
            service.inner.init(&scheduler);
        }
        for service in &mut services {
            service.inner.after_init(&scheduler);
        }
        let mut router = HashMap::new();
        let mut hooks = Vec::new();
        let mut actor_handles = HashMap::new();
        for service in services {
            if let Some(handle) = service.inner.actor_handle() {
                actor_handles.insert(service.type_id, handle);
            }
            let meta = service.meta;
            let started = service.inner.start(stop_actors.clone(), &actors);
            for (index, route) in meta.routes.iter().enumerate() {
                let order = router.len();
                router.insert(
                    route.route,
                    RouteEntry {
                        endpoint: started.endpoint.clone(),
                        index,
                        meta: route,
                        order,
                    },
                );
            }
            hooks.push(started.hooks);
        }

        Ok(App {
            inner: Arc::new(AppInner {
                core,
                config,
                router,
                validator,
                inbound,
                remote_core,
                remote_router,
                hooks,
                actor_handles,
                scheduler,
                accepting: CancellationToken::new(),
                drain: CancellationToken::new(),
                force_close: CancellationToken::new(),
                stop_actors,
                actors,
                connections: TaskTracker::new(),
                connection_count: Arc::new(AtomicUsize::new(0)),
                shutdown_started: AtomicBool::new(false),
                shutdown_done: CancellationToken::new(),
                shutdown_requested: Notify::new(),
            }),
        })
    }
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

/// A route's handler, as the router finds it.
pub(crate) struct RouteEntry {
    pub(crate) endpoint: Arc<dyn Endpoint>,
    pub(crate) index: usize,
    pub(crate) meta: &'static RouteMeta,
    /// Position in registration order.
    pub(crate) order: usize,
}

pub(crate) struct AppInner {
    pub(crate) core: Arc<Core>,
    pub(crate) config: Config,
    pub(crate) router: HashMap<&'static str, RouteEntry>,
    pub(crate) validator: Option<Validator>,
    pub(crate) inbound: Pipeline,
    /// Sessions of clients connected to other nodes: same settings, no route dictionary.
    pub(crate) remote_core: Arc<Core>,
    pub(crate) remote_router: Option<Arc<dyn RemoteRouter>>,
    hooks: Vec<Arc<dyn Hooks>>,
    actor_handles: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    scheduler: Scheduler,
    /// Cancelled when listeners must stop accepting.
    accepting: CancellationToken,
    /// Cancelled when sessions must finish their in-flight request and leave.
    pub(crate) drain: CancellationToken,
    /// Cancelled when sessions must close at once (drain deadline passed).
    pub(crate) force_close: CancellationToken,
    stop_actors: CancellationToken,
    actors: TaskTracker,
    connections: TaskTracker,
    connection_count: Arc<AtomicUsize>,
    shutdown_started: AtomicBool,
    shutdown_done: CancellationToken,
    shutdown_requested: Notify,
}

impl AppInner {
    /// The heartbeat interval, or `None` when heartbeats are off.
    pub(crate) fn heartbeat(&self) -> Option<Duration> {
        Some(self.config.heartbeat_interval).filter(|interval| !interval.is_zero())
    }
}

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
    inner: Arc<AppInner>,
}

impl App {
    /// A builder for a new app.
    pub fn builder() -> AppBuilder {
        AppBuilder::default()
    }

    /// Binds a TCP listener on `addr` and serves it; returns the bound address (useful with
    /// port 0).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when binding fails.
    pub async fn listen_tcp(&self, addr: impl ToSocketAddrs) -> Result<SocketAddr, Error> {
        let listener = TcpListener::bind(addr).await?;
        self.serve(listener)
    }

    /// Serves clients accepted on `listener`, in a background task, until shutdown.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the listener has no local address.
    pub fn serve(&self, listener: TcpListener) -> Result<SocketAddr, Error> {
        let addr = listener.local_addr()?;
        let app = self.clone();
        self.inner.connections.spawn(async move {
            let stop = app.inner.accepting.clone();
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, remote)) => app.serve_tcp_stream(stream, Some(remote)),
                        Err(err) => {
                            // Out of file descriptors and the like: back off, keep serving.
                            tracing::warn!(error = %err, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }
        });
        tracing::info!(%addr, "serving TCP");
        Ok(addr)
    }

    fn serve_tcp_stream(&self, stream: TcpStream, remote: Option<SocketAddr>) {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        let transport = StreamTransport::new(stream, self.inner.config.max_body_len);
        self.serve_transport(transport, remote, TransportKind::Tcp);
    }

    /// Serves one already-accepted byte stream (a TCP or TLS stream the embedding application
    /// accepted itself, a Unix socket, an in-memory pipe, ...).
    pub fn serve_stream<S>(&self, stream: S, remote: Option<SocketAddr>)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let transport = StreamTransport::new(stream, self.inner.config.max_body_len);
        self.serve_transport(transport, remote, TransportKind::Stream);
    }

    /// Serves one connection over any packet transport (how `nano-ws` serves WebSockets).
    /// Refused at once when shutdown has started or `max_connections` are open.
    pub fn serve_transport<T: PacketTransport>(
        &self,
        transport: T,
        remote: Option<SocketAddr>,
        kind: TransportKind,
    ) {
        if self.inner.accepting.is_cancelled() {
            return;
        }
        let count = self.inner.connection_count.clone();
        if count.fetch_add(1, Ordering::AcqRel) >= self.inner.config.max_connections {
            count.fetch_sub(1, Ordering::AcqRel);
            Counters::add(&self.inner.core.counters.connections_refused, 1);
            tracing::warn!(
                ?remote,
                max = self.inner.config.max_connections,
                "connection refused: too many connections"
            );
            return;
        }
        let app = self.inner.clone();
        let fut = async move {
            crate::connection::serve(app, transport, remote, kind).await;
            count.fetch_sub(1, Ordering::AcqRel);
        };
        self.inner.connections.spawn(fut);
    }

    /// The maximum body length transports should accept (for transports built outside).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The route dictionary sent to clients (empty when disabled).
    pub fn dict(&self) -> &RouteDict {
        &self.inner.core.dict
    }

    /// The payload serializer.
    pub fn serializer(&self) -> &Serializer {
        &self.inner.core.serializer
    }

    /// A snapshot of the app's counters.
    pub fn metrics(&self) -> Metrics {
        self.inner.core.counters.snapshot()
    }

    /// The app's scheduler (timers and closures on one task).
    pub fn scheduler(&self) -> &Scheduler {
        &self.inner.scheduler
    }

    /// The handle of a registered actor component (one with `&mut self` handlers).
    pub fn actor<C: Component>(&self) -> Option<ActorHandle<C>> {
        let handle = self.inner.actor_handles.get(&TypeId::of::<C>())?;
        handle.downcast_ref::<ActorHandle<C>>().cloned()
    }

    /// A handle that can start a graceful shutdown from anywhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle { app: self.clone() }
    }

    /// Serves until Ctrl-C (or SIGTERM on Unix), then shuts down gracefully.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the signal handlers cannot be installed.
    pub async fn run(&self) -> Result<(), Error> {
        let signal = shutdown_signal();
        tokio::select! {
            result = signal => result?,
            () = self.inner.shutdown_requested.notified() => {}
            () = self.inner.shutdown_done.cancelled() => return Ok(()),
        }
        tracing::info!("shutting down");
        self.shutdown().await;
        Ok(())
    }

    /// Serves until `signal` completes, then shuts down gracefully (for embedders with their
    /// own shutdown logic).
    pub async fn with_graceful_shutdown(&self, signal: impl Future<Output = ()>) {
        tokio::select! {
            () = signal => {}
            () = self.inner.shutdown_requested.notified() => {}
            () = self.inner.shutdown_done.cancelled() => return,
        }
        self.shutdown().await;
    }

    /// Shuts down gracefully and returns when done:
    ///
    /// 1. stop accepting connections;
    /// 2. run `before_shutdown` hooks, in reverse registration order;
    /// 3. let every session finish its in-flight request (its response is sent), then kick it
    ///    with the reason `"server shutting down"`;
    /// 4. wait for the sessions to close, at most [`Config::shutdown_timeout`], then close the
    ///    rest;
    /// 5. run `shutdown` hooks, in reverse registration order, and stop the actors.
    ///
    /// Calling it again (or concurrently) waits for the first shutdown to finish.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        if inner.shutdown_started.swap(true, Ordering::AcqRel) {
            inner.shutdown_done.cancelled().await;
            return;
        }
        inner.shutdown_requested.notify_waiters();
        inner.accepting.cancel();
        for hooks in inner.hooks.iter().rev() {
            hooks.before_shutdown().await;
        }
        inner.drain.cancel();
        inner.connections.close();
        if tokio::time::timeout(inner.config.shutdown_timeout, inner.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!("sessions did not drain in time; closing them");
            inner.force_close.cancel();
            inner.connections.wait().await;
        }
        for hooks in inner.hooks.iter().rev() {
            hooks.shutdown().await;
        }
        inner.stop_actors.cancel();
        inner.actors.close();
        inner.actors.wait().await;
        inner.shutdown_done.cancel();
    }

    /// Whether shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.accepting.is_cancelled()
    }

    /// Waits until the app stops accepting connections (shutdown has started). Listeners that
    /// live outside nano-core (WebSocket, embedders' own) stop accepting when this returns.
    pub async fn accepting_stopped(&self) {
        self.inner.accepting.cancelled().await;
    }

    /// Waits until the app has shut down.
    pub async fn closed(&self) {
        self.inner.shutdown_done.cancelled().await;
    }
}

impl App {
    pub(crate) fn inner(&self) -> &AppInner {
        &self.inner
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("config", &self.inner.config)
            .field("routes", &self.inner.router.len())
            .finish_non_exhaustive()
    }
}

/// Starts an app's graceful shutdown from anywhere (a signal handler, an admin endpoint).
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    app: App,
}

impl ShutdownHandle {
    /// Starts the shutdown and waits for it to finish.
    pub async fn shutdown(&self) {
        self.app.shutdown().await;
    }
}

async fn shutdown_signal() -> Result<(), Error> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result?,
            _ = terminate.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}
