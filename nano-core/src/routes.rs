//! [`RouteTable`]: which handler serves each route, and where routes served elsewhere go.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::component::{HandlerKind, RouteMeta};
use crate::inspect::RouteStats;
use crate::prometheus::{RouteMetrics, Telemetry};
use crate::remote::RemoteRouter;
use crate::service::Endpoint;

/// A route's handler, as the table finds it.
pub(crate) struct RouteEntry {
    pub(crate) endpoint: Arc<dyn Endpoint>,
    /// The handler's index in its component's route table.
    pub(crate) index: usize,
    pub(crate) meta: &'static RouteMeta,
    /// Position in registration order.
    pub(crate) order: usize,
    /// The route's Prometheus handles, unless the app's metrics are off.
    pub(crate) metrics: Option<Arc<RouteMetrics>>,
}

/// The routes an app serves, and the router for those it does not (cluster mode).
#[derive(Default)]
pub(crate) struct RouteTable {
    local: HashMap<&'static str, RouteEntry, BuildHasherDefault<RouteHasher>>,
    remote: Option<Arc<dyn RemoteRouter>>,
    telemetry: Option<Arc<Telemetry>>,
}

impl RouteTable {
    /// A table forwarding what it does not serve to `remote`, if any, whose routes record
    /// their metrics in `telemetry`, if any.
    pub(crate) fn new(
        remote: Option<Arc<dyn RemoteRouter>>,
        telemetry: Option<Arc<Telemetry>>,
    ) -> Self {
        Self {
            local: HashMap::default(),
            remote,
            telemetry,
        }
    }

    /// Adds the routes of a started component, in declaration order (registration is checked
    /// for duplicates before components start).
    pub(crate) fn add(&mut self, routes: &'static [RouteMeta], endpoint: &Arc<dyn Endpoint>) {
        for (index, meta) in routes.iter().enumerate() {
            let metrics = self.telemetry.as_ref().map(|telemetry| {
                let kind = match meta.kind {
                    HandlerKind::Request => "request",
                    HandlerKind::Notify => "notify",
                };
                Arc::new(telemetry.route(meta.route, kind))
            });
            let entry = RouteEntry {
                endpoint: endpoint.clone(),
                index,
                meta,
                order: self.local.len(),
                metrics,
            };
            self.local.insert(meta.route, entry);
        }
    }

    /// The handler of `route`, when this app serves it.
    pub(crate) fn get(&self, route: &str) -> Option<&RouteEntry> {
        self.local.get(route)
    }

    /// Where routes this app does not serve go.
    pub(crate) fn remote(&self) -> Option<&dyn RemoteRouter> {
        self.remote.as_deref()
    }

    /// How many routes this app serves.
    pub(crate) fn len(&self) -> usize {
        self.local.len()
    }

    /// Each served route's traffic, in registration order (empty when metrics are off).
    pub(crate) fn stats(&self) -> Vec<RouteStats> {
        let mut entries: Vec<&RouteEntry> = self.local.values().collect();
        entries.sort_unstable_by_key(|entry| entry.order);
        entries
            .into_iter()
            .filter_map(|entry| {
                let metrics = entry.metrics.as_ref()?;
                Some(RouteStats {
                    route: entry.meta.route,
                    kind: match entry.meta.kind {
                        HandlerKind::Request => "request",
                        HandlerKind::Notify => "notify",
                    },
                    requests: metrics.requests(),
                    latencies: metrics.latencies(),
                })
            })
            .collect()
    }

    /// The routes this app serves, in registration order.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        let mut routes: Vec<_> = self
            .local
            .values()
            .map(|entry| (entry.order, entry.meta.route))
            .collect();
        routes.sort_unstable();
        routes.into_iter().map(|(_, route)| route).collect()
    }
}

/// The route table's hash: a multiply-rotate hash of eight bytes at a time, several times
/// cheaper than the default SipHash on a route name. The table is built once, before any
/// client connects, and only looked up afterwards: a client choosing routes that collide
/// only slows its own lookups, so the keyed hash's flooding resistance buys nothing here.
#[derive(Default)]
pub(crate) struct RouteHasher(u64);

impl Hasher for RouteHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        // The length goes in too, so "a" and "a\0" differ.
        let word = u64::from_le_bytes(last) ^ ((rest.len() as u64) << 56);
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }

    fn write_u8(&mut self, byte: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        // The table picks buckets by the low bits, which the last multiply leaves depending on
        // the low input bits only: rotate the well-mixed high bits down.
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::RouteHasher;

    #[test]
    fn similar_route_names_spread_over_the_low_bits() {
        let hasher = BuildHasherDefault::<RouteHasher>::default();
        let routes: Vec<String> = ('A'..='Z')
            .chain('a'..='z')
            .map(|last| format!("player.get{last}"))
            .collect();
        // hashbrown picks a bucket by the low bits: 52 names in 64 buckets, of which a uniform
        // hash fills about 36 (without the final rotation, this one filled 31).
        let buckets: HashSet<u64> = routes
            .iter()
            .map(|route| hasher.hash_one(route.as_str()) & 63)
            .collect();
        assert!(buckets.len() >= 33, "{} buckets", buckets.len());
    }
}
