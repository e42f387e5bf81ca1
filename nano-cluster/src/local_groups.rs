//! [`LocalGroups`]: this node's part of each cluster group (its own members), subscribed to the
//! group's broadcasts while it has members.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use futures_util::stream::TakeUntil;
use nano_core::{Group, GroupError, Session};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::ClusterError;
use crate::cluster::{Inner, lock};

/// Broadcasts of one cluster group as this node receives them; ends (and unsubscribes) when
/// the group is dropped here.
pub(crate) type GroupFeed =
    Pin<Box<TakeUntil<async_nats::Subscriber, WaitForCancellationFutureOwned>>>;

struct LocalGroup {
    group: Group,
    /// Cancelled when the group is dropped here: its feed ends.
    unsubscribe: CancellationToken,
    /// Found without members at the last sweep.
    idle: bool,
}

/// The local parts of cluster groups, by name.
#[derive(Default)]
pub(crate) struct LocalGroups {
    groups: Mutex<HashMap<String, LocalGroup>>,
}

impl LocalGroups {
    /// How many groups this node has a part of.
    pub(crate) fn len(&self) -> usize {
        lock(&self.groups).len()
    }

    /// The local part of group `name`, if this node has one.
    pub(crate) fn get(&self, name: &str) -> Option<Group> {
        lock(&self.groups)
            .get(name)
            .map(|local| local.group.clone())
    }

    /// Adds `session` to the local part of `name`; `None` when there is none (yet, or any
    /// more).
    fn add(&self, name: &str, session: &Session) -> Option<Result<(), GroupError>> {
        // Under the lock, so that a sweep cannot drop the group between lookup and add.
        lock(&self.groups)
            .get(name)
            .map(|local| local.group.add(session))
    }

    /// Removes `session` from the local part of `name`.
    pub(crate) fn leave(&self, name: &str, session: &Session) -> Result<(), GroupError> {
        match lock(&self.groups).get(name) {
            Some(local) => local.group.leave(session),
            None => Err(GroupError::NotMember(session.id())),
        }
    }

    /// Creates the local part of `name`, unless another task did first; returns the token
    /// that ends its feed.
    fn insert(&self, name: &str) -> Option<CancellationToken> {
        let mut groups = lock(&self.groups);
        if groups.contains_key(name) {
            return None;
        }
        let unsubscribe = CancellationToken::new();
        groups.insert(
            name.to_owned(),
            LocalGroup {
                group: Group::new(name),
                unsubscribe: unsubscribe.clone(),
                idle: false,
            },
        );
        Some(unsubscribe)
    }

    /// Drops the groups found without local members at two sweeps in a row (and their
    /// subscriptions): rooms of finished matches do not pile up.
    pub(crate) fn sweep(&self) {
        lock(&self.groups).retain(|_, local| {
            if local.group.count() > 0 {
                local.idle = false;
                return true;
            }
            if !local.idle {
                local.idle = true;
                return true;
            }
            local.unsubscribe.cancel();
            false
        });
    }
}

/// Adds `session` (connected to this node) to this node's part of group `name`, subscribing
/// to the group's broadcasts first if this node has no part of it yet. When this returns, the
/// subscription is registered with NATS: no broadcast published afterwards is missed.
pub(crate) async fn join(
    inner: &Arc<Inner>,
    name: &str,
    session: &Session,
) -> Result<(), ClusterError> {
    let mut subscribed = false;
    loop {
        if let Some(added) = inner.groups.add(name, session) {
            added?;
            break;
        }
        subscribed = true;
        let subject = inner.config.subject(&format!("group.{name}"));
        let subscription = inner
            .nats
            .subscribe(subject)
            .await
            .map_err(|err| ClusterError::Nats(err.to_string()))?;
        // Unless another task created the group meanwhile (dropping `subscription` then
        // unsubscribes it), the inbox task pushes its broadcasts, in order with answers and
        // events.
        if let Some(unsubscribe) = inner.groups.insert(name) {
            let _ = inner.new_groups.send(Box::pin(
                subscription.take_until(unsubscribe.cancelled_owned()),
            ));
        }
    }
    if subscribed {
        // The subscription is registered with NATS before the join is confirmed.
        inner
            .nats
            .flush()
            .await
            .map_err(|err| ClusterError::Nats(err.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_without_members_at_two_sweeps_are_dropped_and_unsubscribed() {
        let groups = LocalGroups::default();
        let session = nano_core::testing::session();
        let unsubscribe = groups.insert("lobby").unwrap();
        assert!(groups.insert("lobby").is_none(), "one part per group");
        groups.add("lobby", &session).unwrap().unwrap();
        assert!(groups.add("nowhere", &session).is_none());

        groups.sweep();
        groups.sweep();
        assert!(groups.get("lobby").is_some(), "a group with members stays");
        groups.leave("lobby", &session).unwrap();
        groups.sweep();
        assert!(groups.get("lobby").is_some(), "empty at one sweep: kept");
        assert!(!unsubscribe.is_cancelled());
        groups.sweep();
        assert!(
            groups.get("lobby").is_none(),
            "empty at two sweeps: dropped"
        );
        assert!(unsubscribe.is_cancelled());
        assert!(matches!(
            groups.leave("lobby", &session),
            Err(GroupError::NotMember(_))
        ));
    }
}
