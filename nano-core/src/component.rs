//! Components: the route tables `#[component]` generates, the [`Context`] handlers and hooks
//! get, and the [`Lifecycle`] hooks.

mod context;
mod lifecycle;

pub use context::Context;
pub use lifecycle::{Lifecycle, LifecycleHooks};

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
pub trait Component: Sized + Send + 'static {
    /// The route table.
    const META: ComponentMeta;

    #[doc(hidden)]
    fn __into_service(self) -> crate::__private::Service;
}
