//! How a node starts: its subscriptions, and the tasks that serve them.

use std::sync::Arc;

use async_nats::Subscriber;
use nano_core::App;
use tokio::sync::mpsc;

use super::inbox::Inbox;
use super::lock;
use super::membership::MembershipSubscriptions;
use super::node::Node;
use crate::ClusterError;
use crate::local_groups::GroupFeed;

/// Every subscription of a node.
pub(super) struct Subscriptions {
    membership: MembershipSubscriptions,
    calls: Subscriber,
    inbox: Subscriber,
    closed: Subscriber,
    /// Clients of this node that left their rooms on other nodes.
    rooms_left: Subscriber,
    /// Resumes through other gates of sessions this node holds.
    resume_claims: Subscriber,
}

impl Node {
    /// Subscribes to every subject this node serves.
    pub(super) async fn subscribe_all(&self) -> Result<Subscriptions, ClusterError> {
        let subscribe = |subject: String| async move {
            self.link
                .nats
                .subscribe(subject.clone())
                .await
                .map_err(|err| ClusterError::nats(format!("subscribe to {subject}"), err))
        };
        let (link, node) = (&self.link, self.link.node());
        Ok(Subscriptions {
            membership: MembershipSubscriptions {
                announces: subscribe(link.subject("announce")).await?,
                hellos: subscribe(link.subject("hello")).await?,
                leaves: subscribe(link.subject("leave")).await?,
                route_asks: subscribe(link.node_subject(node, "routes")).await?,
                audits: subscribe(link.node_subject(node, "sessions")).await?,
                member_asks: subscribe(link.node_subject(node, "members")).await?,
            },
            calls: subscribe(link.node_subject(node, "call")).await?,
            // Events for this node's clients and answers to its calls share one
            // subscription, so that they are handled in the order they were sent: a
            // backend's pushes reach the client before the response of the handler that
            // pushed them.
            inbox: subscribe(link.node_subject(node, "in.>")).await?,
            closed: subscribe(link.subject("sessions.closed")).await?,
            rooms_left: subscribe(link.node_subject(node, "rooms.left")).await?,
            resume_claims: subscribe(link.subject("resume.claim")).await?,
        })
    }

    /// Starts the node's tasks, serving `subscriptions` for `app`.
    pub(super) fn run(
        self: &Arc<Self>,
        app: &App,
        subscriptions: Subscriptions,
        feeds: mpsc::Receiver<GroupFeed>,
    ) {
        self.link.set_app(app);
        let Subscriptions {
            membership,
            calls,
            inbox,
            closed,
            rooms_left,
            resume_claims,
        } = subscriptions;
        let tasks = &self.tasks;
        tasks.spawn(self.clone().membership(membership));
        // Not among `tasks`: it publishes what they queue until they have all ended.
        *lock(&self.publisher) = Some(tokio::spawn(self.clone().publish_queued()));
        tasks.spawn(self.clone().serve_calls(calls));
        tasks.spawn(Inbox::new(self.clone(), feeds).run(inbox));
        tasks.spawn(self.clone().serve_closed(closed));
        tasks.spawn(self.clone().serve_room_departures(rooms_left));
        tasks.spawn(self.clone().serve_resume_claims(resume_claims));
        tasks.spawn(self.clone().announce_loop());
        tasks.spawn(self.clone().audit_loop());
        // Leave as soon as the app starts shutting down: the others stop sending it new calls
        // while it finishes the ones it has.
        let (this, running) = (self.clone(), app.clone());
        tasks.spawn(async move {
            tokio::select! {
                () = running.accepting_stopped() => this.leave().await,
                () = this.stop.cancelled() => {}
            }
        });
    }
}
