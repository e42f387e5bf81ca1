//! Components: the route tables `#[component]` generates, and the lifecycle hooks.

use std::fmt;

use crate::actor::ActorHandle;
use crate::scheduler::Scheduler;

/// Whether a route answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandlerKind {
    /// The handler returns a value (or `Result`): clients send requests and get a response.
    Request,
    /// The handler returns `()` (or `Result<(), E>`): clients send notifies. A request to it
    /// still gets a response (an empty object), so no client ever waits forever.
    Notify,
}

/// How a route's payload reaches the handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadKind {
    /// Decoded by the app's serializer into the handler's parameter type.
    Typed,
    /// Passed untouched as `bytes::Bytes`, bypassing the serializer.
    Raw,
    /// The handler takes no payload; whatever the client sent is ignored.
    None,
}

/// How a component's handlers run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Execution {
    /// All handlers take `&self`: they run concurrently, on the tasks of the sessions calling
    /// them. Share state with ordinary Rust means (atomics, locks, channels).
    Shared,
    /// At least one handler takes `&mut self`: the component is an actor. Its handlers, its
    /// timers and the closures posted to it run one at a time on its own task, so its state
    /// needs no lock.
    Actor,
}

/// One route of a component, as generated at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteMeta {
    /// The full route, e.g. `"room.join"`.
    pub route: &'static str,
    /// The Rust method behind it.
    pub method: &'static str,
    /// Request or notify.
    pub kind: HandlerKind,
    /// How the payload is handed over.
    pub payload: PayloadKind,
}

/// A component's route table and execution model, known at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ComponentMeta {
    /// The component's name: the part of each route before the dot.
    pub name: &'static str,
    /// The Rust type's name.
    pub type_name: &'static str,
    /// Shared or actor.
    pub execution: Execution,
    /// The routes, in declaration order (their index is the dispatch index).
    pub routes: &'static [RouteMeta],
}

impl ComponentMeta {
    /// The route called `route`, if this component has it.
    pub fn route(&self, route: &str) -> Option<&'static RouteMeta> {
        self.routes.iter().find(|meta| meta.route == route)
    }
}

/// A type whose `impl` block carries `#[component]`: a route table and its dispatch.
///
/// Implemented by the `#[component]` macro; do not implement it by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nano-rs component",
    note = "put `#[nano_core::component]` on an `impl {Self}` block with `#[handler]` methods"
)]
pub trait Component: Lifecycle + Sized + Send + 'static {
    /// The route table.
    const META: ComponentMeta;

    #[doc(hidden)]
    fn __into_service(self) -> crate::__private::Service;
}

/// Context handed to the [`Lifecycle::init`] and [`Lifecycle::after_init`] hooks.
pub struct Context<C> {
    pub(crate) scheduler: Scheduler,
    pub(crate) actor: Option<ActorHandle<C>>,
}

impl<C> Context<C> {
    /// The app's scheduler: timers and posted closures that run one at a time on the app's
    /// scheduler task.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// This component's own handle, when it is an actor ([`Execution::Actor`]): timers and
    /// closures that run on its task with `&mut self`. `None` for shared components.
    pub fn actor(&self) -> Option<&ActorHandle<C>> {
        self.actor.as_ref()
    }
}

impl<C> fmt::Debug for Context<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("actor", &self.actor.is_some())
            .finish_non_exhaustive()
    }
}

/// Hooks a component can run at start-up and shutdown, as in nano. Every hook defaults to
/// doing nothing.
///
/// `#[component]` implements this trait with the defaults; write
/// `#[component(lifecycle)]` and implement it yourself to use the hooks.
///
/// Order: `init` of every component (in registration order), then `after_init` of every
/// component, then serving. At shutdown: `before_shutdown` in reverse registration order,
/// clients are kicked and drained, then `shutdown` in reverse registration order.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_core::prelude::*;
///
/// #[derive(Default)]
/// struct Clock { ticks: u64 }
///
/// #[component(name = "clock", lifecycle)]
/// impl Clock {
///     #[handler]
///     fn now(&mut self, _session: &Session) -> u64 { self.ticks }
/// }
///
/// impl Lifecycle for Clock {
///     fn init(&mut self, ctx: &Context<Self>) {
///         let actor = ctx.actor().expect("`&mut self` handlers make Clock an actor");
///         actor.every(Duration::from_secs(1), |clock: &mut Clock| clock.ticks += 1);
///     }
/// }
/// ```
pub trait Lifecycle: Sized + Send + 'static {
    /// Runs before any client is served, in registration order.
    fn init(&mut self, ctx: &Context<Self>) {
        let _ = ctx;
    }

    /// Runs after every component's `init`, in registration order.
    fn after_init(&mut self, ctx: &Context<Self>) {
        let _ = ctx;
    }

    /// Runs when shutdown starts, before clients are kicked, in reverse registration order.
    fn before_shutdown(&self) {}

    /// Runs after clients are gone, in reverse registration order.
    fn shutdown(&self) {}
}
