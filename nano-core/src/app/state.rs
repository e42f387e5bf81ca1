//! [`AppState`]: what a running app holds, behind every [`App`](super::App) handle.

use std::sync::Arc;

use super::components::{Actors, Components};
use super::listen::Connections;
use super::shutdown::ShutdownSignals;
use crate::core::Core;
use crate::host::Host;
use crate::manifest::Manifest;

/// A running app: what its connections share, its components and actors, its connection
/// tasks, and where its shutdown stands.
pub(crate) struct AppState {
    /// What every connection works with (settings, routes, validator, drain signals).
    pub(crate) host: Arc<Host>,
    /// The core of stand-in sessions for clients of other nodes: the same settings as
    /// `host.core`, without a route dictionary (the client's node has its own).
    pub(crate) remote_core: Arc<Core>,
    pub(crate) components: Components,
    pub(crate) actors: Actors,
    /// The routes and push routes with their types, for [`App::manifest`](super::App::manifest).
    pub(crate) manifest: Manifest,
    pub(crate) connections: Connections,
    pub(crate) shutdown: ShutdownSignals,
}
