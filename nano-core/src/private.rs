//! Items the `#[component]` macro's generated code uses, and helpers nano-rs's own crates
//! share. Not a public API: it may change in any release.

use std::marker::PhantomData;

pub use std::boxed::Box;
pub use std::future::Future;
pub use std::primitive::{str, usize};
pub use std::result::Result;
pub use std::sync::Arc;

pub use bytes::Bytes;

pub use crate::call::Call;
pub use crate::component::{
    Component, ComponentMeta, Context, Encoding, Execution, HandlerKind, Lifecycle, LifecycleHooks,
    PayloadKind, PushMeta, RouteMeta, TypeMeta,
};
pub use crate::handler::{Deferred, Reply};
pub use crate::prometheus::LatencyHistogram;
pub use crate::room::{RoomClosed, RoomComponent};
pub use crate::service::{ActorComponent, ActorDispatch, Dispatch, Service, SharedComponent};
pub use crate::sync::{lock, read, write};
pub use crate::{HandlerError, Session};

/// Payload types of handlers: serde types, and prost messages in `Proto`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler payload",
    label = "not a `serde::Deserialize` type, nor a `Proto<M>` of a prost message `M`",
    note = "derive `serde::Deserialize` on a serde type; wrap a prost message `M` (`#[derive(prost::Message)]`) as `Proto<M>`; or take `bytes::Bytes` to get the raw payload"
)]
pub trait HandlerPayload: crate::DecodePayload {}

impl<T: crate::DecodePayload> HandlerPayload for T {}

/// Values handlers answer with: serde types, and prost messages in `Proto`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler response",
    label = "not a `serde::Serialize` type, nor a `Proto<M>` of a prost message `M`",
    note = "derive `serde::Serialize` on a serde type; wrap a prost message `M` (`#[derive(prost::Message)]`) as `Proto<M>`; or return `bytes::Bytes` to send raw bytes"
)]
pub trait HandlerResponse: crate::EncodePayload {}

impl<T: crate::EncodePayload> HandlerResponse for T {}

/// Bodies of declared push routes: serde types, and prost messages in `Proto`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a push body",
    label = "not a `serde::Serialize` type, nor a `Proto<M>` of a prost message `M`",
    note = "derive `serde::Serialize` on a serde type, or declare a prost message `M` (`#[derive(prost::Message)]`) as `Proto<M>`"
)]
pub trait PushBody: crate::EncodePayload {}

impl<T: crate::EncodePayload + ?Sized> PushBody for T {}

/// Checks a declared push type (generated code spans this call on the type).
pub fn push_body<T: PushBody + ?Sized>() {}

/// Error types of handlers: anything that converts into a [`HandlerError`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler error",
    label = "this error type does not convert into `nano_core::HandlerError`",
    note = "return `nano_core::HandlerError`, implement `std::error::Error` for `{Self}`, or implement `From<{Self}> for HandlerError`"
)]
pub trait IntoHandlerError: Into<HandlerError> {}

impl<E: Into<HandlerError>> IntoHandlerError for E {}

/// Decodes a typed payload (generated code spans this call on the payload type, so a
/// missing `Deserialize` is reported once, there).
///
/// # Errors
///
/// The 400 reply for an undecodable payload.
pub fn decode<T: HandlerPayload>(call: &Call) -> Result<T, Reply> {
    call.decode()
}

/// The reply for a handler's value (spanned on the response type).
pub fn respond_value<T: HandlerResponse>(call: &Call, value: T) -> Reply {
    call.reply_value(value)
}

/// The reply for a handler's `Result` whose error is already converted.
pub fn respond_result<T: HandlerResponse>(call: &Call, result: Result<T, HandlerError>) -> Reply {
    call.reply_result(result)
}

/// Converts a handler's error (spanned on the error type).
///
/// # Errors
///
/// `result`'s error, converted.
pub fn map_error<T, E: IntoHandlerError>(result: Result<T, E>) -> Result<T, HandlerError> {
    result.map_err(Into::into)
}

/// Boxes a handler future.
pub fn pending<F>(future: F) -> Dispatch
where
    F: Future<Output = Reply> + Send + 'static,
{
    Dispatch::Pending(Box::pin(future))
}

/// Boxes an actor handler future.
pub fn actor_pending<'a, F>(future: F) -> ActorDispatch<'a>
where
    F: Future<Output = Reply> + Send + 'a,
{
    ActorDispatch::Pending(Box::pin(future))
}

/// The reply for an index the route table does not have (unreachable from the runtime).
pub fn unknown_route(call: &Call) -> Reply {
    Reply::Error(HandlerError::not_found(format!(
        "unknown route `{}`",
        call.route().route
    )))
}

/// Finds a component's [`Lifecycle`] implementation, if it has one.
///
/// Generated code, where the component's type is concrete, calls
/// `(&&LifecycleProbe::<T>::new()).hooks()` with both probe traits in scope. Method lookup
/// tries the receiver `&&LifecycleProbe<T>` first, which only [`HasLifecycle`] has, and only
/// when `T: Lifecycle`; otherwise it dereferences once and finds [`NoLifecycle`]'s.
pub struct LifecycleProbe<C>(PhantomData<fn() -> C>);

impl<C> LifecycleProbe<C> {
    /// A probe for `C`.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<C> Default for LifecycleProbe<C> {
    fn default() -> Self {
        Self::new()
    }
}

/// The probe's answer when the component implements [`Lifecycle`].
pub trait HasLifecycle<C> {
    /// The component's own hooks.
    fn hooks(&self) -> LifecycleHooks<C>;
}

impl<C: Lifecycle> HasLifecycle<C> for &LifecycleProbe<C> {
    fn hooks(&self) -> LifecycleHooks<C> {
        LifecycleHooks::implemented()
    }
}

/// The probe's answer when the component does not implement [`Lifecycle`].
pub trait NoLifecycle<C> {
    /// Hooks that do nothing.
    fn hooks(&self) -> LifecycleHooks<C>;
}

impl<C> NoLifecycle<C> for LifecycleProbe<C> {
    fn hooks(&self) -> LifecycleHooks<C> {
        LifecycleHooks::none()
    }
}

/// Finds a type's JSON Schema: with nano-core's `schema` feature, for types implementing
/// `schemars::JsonSchema`; `None` for every other type (and for all without the feature).
///
/// Generated code calls `(&&SchemaProbe::<T>::new()).schema()` with both probe traits in
/// scope, as for [`LifecycleProbe`].
pub struct SchemaProbe<T: ?Sized>(PhantomData<fn() -> Box<T>>);

impl<T: ?Sized> SchemaProbe<T> {
    /// A probe for `T`.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for SchemaProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The probe's answer when the type has a JSON Schema.
pub trait HasSchema {
    /// The type's JSON Schema.
    fn schema(&self) -> Option<serde_json::Value>;
}

#[cfg(feature = "schema")]
impl<T: schemars::JsonSchema + ?Sized> HasSchema for &SchemaProbe<T> {
    fn schema(&self) -> Option<serde_json::Value> {
        Some(schemars::schema_for!(T).to_value())
    }
}

/// The probe's answer when the type has none.
pub trait NoSchema {
    /// `None`.
    fn schema(&self) -> Option<serde_json::Value>;
}

impl<T: ?Sized> NoSchema for SchemaProbe<T> {
    fn schema(&self) -> Option<serde_json::Value> {
        None
    }
}

/// Finds how a type is encoded: [`Encoding::Protobuf`](crate::Encoding::Protobuf) for
/// [`Proto`](crate::Proto) messages (with the `protobuf` feature), `Serializer` for every other
/// type. Generated code calls `(&&EncodingProbe::<T>::new()).encoding()` with both probe traits
/// in scope, as for [`LifecycleProbe`].
pub struct EncodingProbe<T: ?Sized>(PhantomData<fn() -> Box<T>>);

impl<T: ?Sized> EncodingProbe<T> {
    /// A probe for `T`.
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for EncodingProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The probe's answer for a `Proto` message.
pub trait IsProto {
    /// `Encoding::Protobuf`.
    fn encoding(&self) -> Encoding;
}

#[cfg(feature = "protobuf")]
impl<M> IsProto for &EncodingProbe<crate::Proto<M>> {
    fn encoding(&self) -> Encoding {
        Encoding::Protobuf
    }
}

/// The probe's answer for every other type.
pub trait NotProto {
    /// `Encoding::Serializer`.
    fn encoding(&self) -> Encoding;
}

impl<T: ?Sized> NotProto for EncodingProbe<T> {
    fn encoding(&self) -> Encoding {
        Encoding::Serializer
    }
}

/// The body of the stand-in `Component` implementation emitted with a `#[component]` error,
/// so that the error is the only one reported. Never runs: the crate does not compile.
pub fn invalid_component() -> Service {
    unreachable!("a `#[component]` block with errors does not compile")
}
