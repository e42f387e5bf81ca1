//! [`Host`]: what every connection of an app shares. Connections depend on this, not on
//! [`App`](crate::App), which owns one.

use std::sync::Arc;
use std::time::Duration;

use crate::Pipeline;
use crate::config::Config;
use crate::core::Core;
use crate::handshake::Validator;
use crate::inspect::LiveSessions;
use crate::remote::RemoteResumer;
use crate::resume::Tombstones;
use crate::routes::RouteTable;
use crate::shutdown_signal::Shutdown;

/// The settings, routes and shutdown signals connections of one app work with.
pub(crate) struct Host {
    /// What the app's sessions share (serializer, dictionary, outbound pipeline, counters).
    pub(crate) core: Arc<Core>,
    pub(crate) config: Config,
    pub(crate) routes: RouteTable,
    pub(crate) validator: Option<Validator>,
    /// Runs on every inbound request and notify before routing.
    pub(crate) inbound: Pipeline,
    /// Shutdown's progress: sessions drain, then close at once.
    pub(crate) shutdown: Shutdown,
    /// The sessions connections serve now (and dropped ones in their grace window).
    pub(crate) sessions: LiveSessions,
    /// Why recently ended resumable sessions ended (empty without resume).
    pub(crate) tombstones: Tombstones,
    /// Where resumes of sessions held elsewhere go (a cluster).
    pub(crate) resumer: Option<Arc<dyn RemoteResumer>>,
}

impl Host {
    /// The heartbeat interval, or `None` when heartbeats are off.
    pub(crate) fn heartbeat(&self) -> Option<Duration> {
        Some(self.config.heartbeat_interval).filter(|interval| !interval.is_zero())
    }
}
