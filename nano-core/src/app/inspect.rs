//! What an [`App`] tells an admin about itself: live sessions, groups, route traffic,
//! mailboxes (the types are in [`crate::inspect`]).

use std::collections::HashMap;

use super::App;
use crate::inspect::{GroupInfo, MailboxInfo, RouteStats, SessionInfo};
use crate::prometheus::ScrapeGauges;
use crate::{Group, Session};

impl App {
    /// How many sessions the app's connections serve now.
    pub fn session_count(&self) -> usize {
        self.state.host.sessions.len()
    }

    /// The live sessions (stand-ins for other nodes' clients excluded) for which `keep`
    /// returns `true`, by id, at most `limit` of them.
    pub fn sessions(&self, keep: impl Fn(&Session) -> bool, limit: usize) -> Vec<SessionInfo> {
        self.state
            .host
            .sessions
            .collect(keep, limit)
            .iter()
            .map(|live| SessionInfo::new(&live.session, live.since))
            .collect()
    }

    /// The live session with `id`, if any.
    pub fn session(&self, id: u64) -> Option<SessionInfo> {
        let live = self.state.host.sessions.get(id)?;
        Some(SessionInfo::new(&live.session, live.since))
    }

    /// Every group with at least one live session of the app, with its members among them,
    /// sorted by name. Groups are found through their members: an empty group is not listed.
    pub fn groups(&self) -> Vec<GroupInfo> {
        let mut groups: Vec<GroupInfo> = self
            .live_groups()
            .into_values()
            .map(|(group, members)| GroupInfo {
                name: group.name().to_owned(),
                members,
            })
            .collect();
        groups.sort_unstable_by(|a, b| a.name.cmp(&b.name).then(b.members.cmp(&a.members)));
        groups
    }

    /// A group named `name` with at least one live session of the app (the largest, if
    /// several share the name).
    pub fn group(&self, name: &str) -> Option<Group> {
        self.live_groups()
            .into_values()
            .filter(|(group, _)| group.name() == name)
            .max_by_key(|(_, members)| *members)
            .map(|(group, _)| group)
    }

    /// The groups of the live sessions, keyed by identity, with their live members.
    fn live_groups(&self) -> HashMap<usize, (Group, usize)> {
        let mut groups: HashMap<usize, (Group, usize)> = HashMap::new();
        self.state.host.sessions.for_each(|session| {
            for group in session.groups() {
                groups.entry(group.key()).or_insert((group, 0)).1 += 1;
            }
        });
        groups
    }

    /// Each served route's messages and handler times since the app started, in
    /// registration order. Empty when [`Config::prometheus`](crate::Config::prometheus) is
    /// off (the same handles record both).
    pub fn route_stats(&self) -> Vec<RouteStats> {
        self.state.host.routes.stats()
    }

    /// The mailboxes of the app's scheduler and actor components (rooms excluded: each room
    /// has its own, see [`Rooms::list`](crate::Rooms::list)).
    pub fn mailboxes(&self) -> Vec<MailboxInfo> {
        let scheduler = self.state.actors.scheduler.actor();
        let mut mailboxes = vec![MailboxInfo {
            actor: "scheduler",
            depth: scheduler.queued(),
            capacity: scheduler.capacity(),
        }];
        for (actor, probe) in &self.state.components.mailboxes {
            let (depth, capacity) = probe();
            mailboxes.push(MailboxInfo {
                actor,
                depth,
                capacity,
            });
        }
        mailboxes
    }

    /// Sets the metrics that are read when scraped rather than tracked.
    pub(super) fn read_scrape_gauges(&self) {
        let Some(telemetry) = &self.state.host.core.telemetry else {
            return;
        };
        let groups = self.live_groups();
        let mailboxes: Vec<(&'static str, usize)> = self
            .mailboxes()
            .iter()
            .map(|mailbox| (mailbox.actor, mailbox.depth))
            .collect();
        telemetry.set_scrape_gauges(&ScrapeGauges {
            groups: groups.len(),
            members: groups.values().map(|(_, members)| members).sum(),
            mailboxes: &mailboxes,
        });
    }
}
