//! [`Cluster::serve_rooms`]: a room kind served to the cluster by this node: its subjects
//! (placements, load probes, reservations), its internal join and leave routes for other
//! nodes' clients, and the news, sent to a client's node, that the client left its room.

use std::sync::Arc;

use async_nats::{Message, Subscriber};
use bytes::Bytes;
use futures_util::StreamExt;
use nano_core::remote::{Reply, ReplyFuture};
use nano_core::{App, HandlerError, Room, RoomError, RoomId, Rooms, Session};

use super::super::Cluster;
use super::config::PlacementConfig;
use super::kind::{KindServer, Served};
use super::wire::{Answer, Ask, InRoom, Join, Left, ROUTE_PREFIX};
use super::{Kind, Node, register};
use crate::ClusterError;
use crate::config::is_subject_token;

impl Cluster {
    /// Serves room kind `C` (`rooms`, also given to this node's app with
    /// [`AppBuilder::rooms`](nano_core::AppBuilder::rooms)) to the cluster: any node's
    /// [`RoomsClient`](super::RoomsClient) may place seats in its rooms, and rooms a placement
    /// creates here get their init data from `init(filter)`. Call it once the node is
    /// [`start`](Self::start)ed, on every node serving the kind, with the same `config`.
    ///
    /// # Errors
    ///
    /// [`ClusterError::InvalidKind`] for a kind name that is not one NATS subject token,
    /// [`ClusterError::KindServed`] when this node serves the kind already,
    /// [`ClusterError::Nats`] when subscribing fails.
    pub async fn serve_rooms<C: Room>(
        &self,
        rooms: Rooms<C>,
        config: PlacementConfig,
        init: impl Fn(&str) -> C::Init + Send + Sync + 'static,
    ) -> Result<(), ClusterError> {
        let kind = rooms.kind();
        if !is_subject_token(kind) {
            return Err(ClusterError::InvalidKind(kind.to_owned()));
        }
        if self.node.rooms.serves(kind) {
            return Err(ClusterError::KindServed(kind.to_owned()));
        }
        let node = &self.node;
        let subscriptions = node.subscribe_kind(kind).await?;
        let watched = rooms.clone();
        let server: Arc<dyn KindServer> = Arc::new(Served {
            rooms,
            init: Arc::new(init),
            config,
        });
        let Some(entry) = register(&node.rooms, kind, server) else {
            return Err(ClusterError::KindServed(kind.to_owned()));
        };
        watch_departures(node, &watched);
        node.tasks
            .spawn(node.clone().serve_kind(kind, entry, subscriptions));
        Ok(())
    }
}

/// Tells a stand-in's gate each time the stand-in leaves a room of `rooms` (left, closed,
/// disposed), so that the gate stops routing its client's requests to this node.
fn watch_departures<C: Room>(node: &Arc<Node>, rooms: &Rooms<C>) {
    let (weak, kind) = (Arc::downgrade(node), rooms.kind());
    rooms.on_member_left(move |session, room| {
        if let Some(node) = weak.upgrade() {
            node.member_left(kind, session, room);
        }
    });
}

/// The subscriptions of one kind: placements, probes, reservations.
struct KindSubscriptions {
    place: Subscriber,
    probe: Subscriber,
    reserve: Subscriber,
}

impl Node {
    async fn subscribe_kind(&self, kind: &str) -> Result<KindSubscriptions, ClusterError> {
        let me = self.link.node();
        let subscribe = |what: &'static str| {
            let subject = self.kind_subject(me, kind, what);
            async move {
                self.link
                    .nats
                    .subscribe(subject.clone())
                    .await
                    .map_err(|err| ClusterError::nats(format!("subscribe to {subject}"), err))
            }
        };
        Ok(KindSubscriptions {
            place: subscribe("place").await?,
            probe: subscribe("probe").await?,
            reserve: subscribe("reserve").await?,
        })
    }

    /// Serves kind `kind_name`'s subjects until the node stops.
    async fn serve_kind(
        self: Arc<Self>,
        kind_name: &'static str,
        kind: Arc<Kind>,
        mut subscriptions: KindSubscriptions,
    ) {
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                Some(message) = subscriptions.place.next() => {
                    self.start_placement(kind_name, &kind, message).await;
                }
                Some(message) = subscriptions.probe.next() => {
                    if let Some(ask) = parse(&message) {
                        self.answer(&message, &kind.server.load(&ask.filter)).await;
                    }
                }
                Some(message) = subscriptions.reserve.next() => {
                    if let Some(ask) = parse(&message) {
                        self.answer(&message, &self.reserve_here(&kind, &ask.filter)).await;
                    }
                }
                else => return,
            }
        }
    }

    /// Runs a placement on a task of its own (it waits for its turn), or refuses it at once
    /// when `max_pending` wait already.
    async fn start_placement(
        self: &Arc<Self>,
        kind_name: &'static str,
        kind: &Arc<Kind>,
        message: Message,
    ) {
        let Some(ask) = parse(&message) else { return };
        let Ok(permit) = kind.pending.clone().try_acquire_owned() else {
            let busy = Answer::Error {
                code: 503,
                msg: "too many placements waiting".to_owned(),
            };
            self.answer(&message, &busy).await;
            return;
        };
        let (node, kind) = (self.clone(), kind.clone());
        self.tasks.spawn(async move {
            let answer = node.place(kind_name, &kind, &ask.filter).await;
            node.answer(&message, &answer).await;
            drop(permit);
        });
    }

    /// Tells the gate of stand-in `session` that it left room `room` of `kind` here.
    fn member_left(&self, kind: &str, session: &Session, room: RoomId) {
        let Some(gate) = self.gate_of(session).filter(|_| !session.is_closed()) else {
            return;
        };
        let left = Left {
            kind: kind.to_owned(),
            session: session.id(),
            node: self.link.node().to_owned(),
            room,
        };
        let payload = Bytes::from(serde_json::to_vec(&left).unwrap_or_default());
        let (nats, subject) = (
            self.link.nats.clone(),
            self.link.node_subject(&gate, "rooms.left"),
        );
        self.tasks.spawn(async move {
            let _ = nats.publish(subject, payload).await;
        });
    }

    /// Runs a call from another node: an internal room route (`@rooms.<kind>.join` or
    /// `.leave`) of a kind served here, or a route of the app.
    pub(in crate::cluster) fn dispatch_call(
        &self,
        app: &App,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
        with_span: impl FnOnce(&tracing::Span),
    ) -> Option<ReplyFuture> {
        let Some(internal) = route.strip_prefix(ROUTE_PREFIX) else {
            return app.dispatch_with(session, route, mid, payload, with_span);
        };
        let (kind, what) = internal.rsplit_once('.')?;
        let server = self.rooms.kind(kind)?.server.clone();
        let done = match what {
            "join" => match serde_json::from_slice::<Join>(&payload) {
                Ok(join) => server.join(session.clone(), join.token),
                Err(_) => return Some(ready(HandlerError::bad_request("malformed join"))),
            },
            "leave" => server.leave(session.clone()),
            _ => return None,
        };
        Some(Box::pin(async move { in_room(done.await) }))
    }
}

/// What a join or a leave answers.
fn in_room(result: Result<RoomId, RoomError>) -> Reply {
    match result {
        Ok(room) => match serde_json::to_vec(&InRoom { room }) {
            Ok(body) => Reply::Payload(body.into()),
            Err(_) => Reply::Error(HandlerError::internal("cannot encode the room")),
        },
        Err(error) => Reply::Error(HandlerError::new(error.code(), error.to_string())),
    }
}

fn ready(error: HandlerError) -> ReplyFuture {
    Box::pin(std::future::ready(Reply::Error(error)))
}

fn parse(message: &Message) -> Option<Ask> {
    serde_json::from_slice(&message.payload).ok()
}
