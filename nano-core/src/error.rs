//! [`Error`]: what can go wrong building and running an app.

use std::io;

use crate::protocol::RouteDictError;

/// Errors of building, starting and running an [`App`](crate::App).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two registered components serve the same route.
    #[error("route `{route}` is served by both `{first}` and `{second}`")]
    DuplicateRoute {
        /// The contested route.
        route: &'static str,
        /// The component registered first.
        first: &'static str,
        /// The component registered second.
        second: &'static str,
    },
    /// The same component type was registered twice.
    #[error("component `{0}` is registered twice")]
    DuplicateComponent(&'static str),
    /// The route dictionary could not be built (a push route repeated, too many routes, ...).
    #[error("route dictionary: {0}")]
    Dictionary(#[from] RouteDictError),
    /// A room kind (`#[component(room)]`) was given to `AppBuilder::register`.
    #[error(
        "`{0}` is a room kind: register it with `AppBuilder::rooms(Rooms::<{0}>::new(config)?)`"
    )]
    RoomRegistered(&'static str),
    /// A [`Rooms`](crate::Rooms) was given to a second app builder: it serves one app.
    #[error("the rooms of `{0}` are already served by another app (make a `Rooms` per app)")]
    RoomsServedTwice(&'static str),
    /// `build` was called outside a tokio runtime.
    #[error("nano-rs apps must be built inside a tokio runtime")]
    NoRuntime,
    /// Binding or accepting failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}
