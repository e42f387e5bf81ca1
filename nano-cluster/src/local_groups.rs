//! [`LocalGroups`]: this node's part of each cluster group (its own members), subscribed to the
//! group's broadcasts while it has members. The broadcasts are pushed by the node's inbox task,
//! which takes each new group's feed from a bounded queue.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;

use async_nats::Client;
use futures_util::StreamExt;
use futures_util::stream::{SelectAll, TakeUntil};
use nano_core::{Group, GroupError, Session};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::ClusterError;
use crate::cluster::lock;

/// Broadcasts of one cluster group as this node receives them; ends (and unsubscribes) when
/// the group is dropped here.
pub(crate) type GroupFeed =
    Pin<Box<TakeUntil<async_nats::Subscriber, WaitForCancellationFutureOwned>>>;

/// The feeds of every group this node is part of, read together by the inbox task.
pub(crate) type Feeds = SelectAll<GroupFeed>;

/// How many new groups' feeds may wait for the inbox task to take them. There is one per
/// group this node starts being part of, and the inbox task takes them between messages; a
/// join that finds the queue full waits for room, and loses nothing. (Before
/// [`Cluster::start`](crate::Cluster::start) no inbox task runs: joins of more new groups than
/// this wait for it.)
pub(crate) const FEED_QUEUE: usize = 1_024;

/// Where the feed of a group this node starts being part of goes.
pub(crate) enum FeedTo<'a> {
    /// To the inbox task, through its queue.
    Queue,
    /// Straight into the inbox task's feeds: for the inbox task itself, which must not wait
    /// for room in the queue only it empties.
    Feeds(&'a mut Feeds),
}

/// The local parts of cluster groups, and what joining one takes: subscribing to its
/// broadcasts and handing them to the inbox task.
pub(crate) struct LocalGroups {
    parts: Parts,
    nats: Client,
    /// `<prefix>.group.`: a group's subject is this and its name.
    subjects: String,
    feeds: mpsc::Sender<GroupFeed>,
}

impl LocalGroups {
    /// Local groups subscribing through `nats` under `subjects` (`<prefix>.group.`), and the
    /// queue of new groups' feeds, for the inbox task.
    pub(crate) fn new(nats: Client, subjects: String) -> (Self, mpsc::Receiver<GroupFeed>) {
        let (feeds, queued) = mpsc::channel(FEED_QUEUE);
        let groups = Self {
            parts: Parts::default(),
            nats,
            subjects,
            feeds,
        };
        (groups, queued)
    }

    /// The subject of group `name`'s broadcasts.
    pub(crate) fn subject(&self, name: &str) -> String {
        format!("{}{name}", self.subjects)
    }

    /// How many groups this node has a part of.
    pub(crate) fn len(&self) -> usize {
        lock(&self.parts.groups).len()
    }

    /// The local part of group `name`, if this node has one.
    pub(crate) fn get(&self, name: &str) -> Option<Group> {
        self.parts.get(name)
    }

    /// Removes `session` from the local part of `name`.
    pub(crate) fn leave(&self, name: &str, session: &Session) -> Result<(), GroupError> {
        self.parts.leave(name, session)
    }

    /// Drops the groups found without local members at two sweeps in a row (and their
    /// subscriptions): rooms of finished matches do not pile up.
    pub(crate) fn sweep(&self) {
        self.parts.sweep();
    }

    /// Adds `session` (connected to this node) to this node's part of group `name`,
    /// subscribing to the group's broadcasts first if this node has no part of it yet (their
    /// feed goes `to` the inbox task). When this returns, the subscription is registered with
    /// NATS: no broadcast published afterwards is missed.
    pub(crate) async fn join(
        &self,
        name: &str,
        session: &Session,
        mut to: FeedTo<'_>,
    ) -> Result<(), ClusterError> {
        let mut subscribed = false;
        loop {
            if let Some(added) = self.parts.add(name, session) {
                added?;
                break;
            }
            subscribed = true;
            let subject = self.subject(name);
            let subscription = self
                .nats
                .subscribe(subject.clone())
                .await
                .map_err(|err| ClusterError::nats(format!("subscribe to {subject}"), err))?;
            // Room in the queue first: from here to the hand-over nothing waits, so a caller
            // that stops waiting cannot leave a group part without its feed.
            let room = match to {
                FeedTo::Queue => Some(self.feeds.reserve().await),
                FeedTo::Feeds(_) => None,
            };
            // Unless another task created the group meanwhile (dropping `subscription` then
            // unsubscribes it), the inbox task pushes its broadcasts, in order with answers
            // and events.
            if let Some(unsubscribe) = self.parts.insert(name) {
                let feed = Box::pin(subscription.take_until(unsubscribe.cancelled_owned()));
                match (&mut to, room) {
                    (FeedTo::Feeds(feeds), _) => feeds.push(feed),
                    (FeedTo::Queue, Some(Ok(room))) => room.send(feed),
                    // The inbox task has ended (the node stopped).
                    (FeedTo::Queue, _) => {}
                }
            }
        }
        if subscribed {
            // The subscription is registered with NATS before the join is confirmed.
            self.nats.flush().await.map_err(|err| {
                let context = format!("flush the subscription to {}", self.subject(name));
                ClusterError::nats(context, err)
            })?;
        }
        Ok(())
    }
}

struct LocalGroup {
    group: Group,
    /// Cancelled when the group is dropped here: its feed ends.
    unsubscribe: CancellationToken,
    /// Found without members at the last sweep.
    idle: bool,
}

/// The local parts of cluster groups, by name.
#[derive(Default)]
struct Parts {
    groups: Mutex<HashMap<String, LocalGroup>>,
}

impl Parts {
    fn get(&self, name: &str) -> Option<Group> {
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

    fn leave(&self, name: &str, session: &Session) -> Result<(), GroupError> {
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

    fn sweep(&self) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_without_members_at_two_sweeps_are_dropped_and_unsubscribed() {
        let groups = Parts::default();
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
