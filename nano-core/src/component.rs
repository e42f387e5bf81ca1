//! Components: the route tables `#[component]` generates, the [`Context`] handlers and hooks
//! get, and the [`Lifecycle`] hooks.

mod context;
mod lifecycle;

pub use context::Context;
pub use lifecycle::{Lifecycle, LifecycleHooks};

/// Whether a route answers. Serialized as `"request"` or `"notify"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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
    /// `#[component(room)]`: a room kind. Its instances are created at run time
    /// ([`Rooms`](crate::Rooms)), each an actor of its own; a session's calls go to the
    /// instance it joined.
    Room,
}

/// A Rust type named in a route table: a payload, a response or a push body.
#[derive(Clone, Copy)]
pub struct TypeMeta {
    /// The type as written in the source, without spaces (`"JoinRequest"`, `"Vec<String>"`).
    pub name: &'static str,
    /// The type's JSON Schema, when nano-core's `schema` feature is on and the type implements
    /// `schemars::JsonSchema`; `None` otherwise.
    pub schema: fn() -> Option<serde_json::Value>,
    /// How values of the type are encoded on the wire.
    pub encoding: fn() -> Encoding,
}

impl TypeMeta {
    /// `bytes::Bytes`: a raw payload or answer, which has no schema.
    pub const fn bytes() -> Self {
        Self {
            name: "Bytes",
            schema: || None,
            encoding: || Encoding::Raw,
        }
    }
}

/// How a payload, response or push body type is encoded on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Encoding {
    /// With the app's serializer (JSON, MessagePack, a custom format): a serde type.
    Serializer,
    /// As protobuf, whatever the app's serializer: a [`Proto`](crate::Proto) message.
    Protobuf,
    /// As is: `bytes::Bytes`.
    Raw,
}

impl std::fmt::Debug for TypeMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypeMeta")
            .field("name", &self.name)
            .finish()
    }
}

/// Type metas compare by name: a route table names each type once.
impl PartialEq for TypeMeta {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TypeMeta {}

impl std::hash::Hash for TypeMeta {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
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
    /// The payload's type (`Bytes` for a raw payload); `None` when the handler takes none.
    pub payload_type: Option<TypeMeta>,
    /// The response's type (the `T` of `Result<T, E>`; `Bytes` for a raw answer); `None` for a
    /// notify and for a `Deferred` answer, whose type the handler does not declare.
    pub response_type: Option<TypeMeta>,
}

/// A push route a component declares with `#[component(pushes(onMessage = Chat))]`: the
/// route and the type of the bodies pushed on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PushMeta {
    /// The push route, e.g. `"onMessage"`.
    pub route: &'static str,
    /// The type of its bodies.
    pub payload_type: TypeMeta,
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
    /// The push routes the component declares, in declaration order.
    pub pushes: &'static [PushMeta],
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
