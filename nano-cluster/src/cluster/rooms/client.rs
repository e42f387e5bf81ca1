//! [`RoomsClient`]: a room kind as any node sees it: seats placed across the nodes serving
//! it, and, on a client's own node, joining such a seat (the client's requests to the kind's
//! routes then go to the room's node) and leaving it.

use std::sync::Arc;

use nano_core::remote::Reply;
use nano_core::{ReservationToken, RoomId, Session, TransportKind};
use serde::{Deserialize, Serialize};

use super::super::Cluster;
use super::super::calls::{answer_to_reply, apply_answer_to};
use super::Node;
use super::ask::AskError;
use super::config::PlacementConfig;
use super::error::PlacementError;
use super::wire::{Answer, Ask, InRoom, Join, ROUTE_PREFIX, Seat};
use crate::config::is_subject_token;
use crate::wire::Call;

/// At most this many placement nodes are asked for one placement (redirects and nodes gone
/// included), so that disagreeing views never loop.
const MAX_HOPS: usize = 8;

/// A seat reserved somewhere in the cluster: the node holding the room, the room, and the
/// reservation's token (hand it only to the player it is for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Placement {
    /// The node holding the room.
    pub node: String,
    /// The room, on that node.
    pub room: RoomId,
    /// What takes the seat ([`RoomsClient::join_reserved`]).
    pub token: ReservationToken,
    /// How long the seat was held for when it was reserved, in milliseconds (the room
    /// kind's `seat_reservation_timeout` on that node).
    pub expires_in_ms: u64,
}

impl From<Seat> for Placement {
    fn from(seat: Seat) -> Self {
        Placement {
            node: seat.node,
            room: seat.room,
            token: seat.token,
            expires_in_ms: seat.expires_in_ms,
        }
    }
}

/// A room kind across the cluster, from any node (made by [`Cluster::rooms`]). Cheap to
/// clone.
///
/// Placements go to the kind's placement node, the lowest-named live node serving the kind
/// with [`Cluster::serve_rooms`], which places them one at a time: a room with a free seat
/// for the filter first (on any node), else a new room on the node the
/// [`PlacementPolicy`](crate::PlacementPolicy) picks. Joins run on the client's own node
/// (its gate), which then forwards the client's requests to the kind's routes to the room's
/// node; pushes and broadcasts of the room reach the client through its gate.
///
/// # Examples
///
/// ```no_run
/// use nano_cluster::{Cluster, ClusterConfig, PlacementConfig, RoomsClient};
/// use nano_core::prelude::*;
/// use nano_core::{Room, RoomConfig, RoomRef, Rooms};
///
/// struct Match { moves: u32 }
///
/// #[component(name = "match", room)]
/// impl Match {
///     #[handler]
///     fn play(&mut self, _session: &Session) -> u32 { self.moves += 1; self.moves }
/// }
///
/// impl Room for Match {
///     type Init = ();
///     type Input = ();
///     fn create(_init: &(), _room: &RoomRef<Self>) -> Self { Match { moves: 0 } }
/// }
///
/// /// On the gate: joins a "ranked" match on whichever backend has a seat.
/// struct Lobby { matches: RoomsClient }
///
/// #[component(name = "lobby")]
/// impl Lobby {
///     #[handler]
///     async fn quick(&self, session: &Session) -> Result<String, HandlerError> {
///         Ok(self.matches.join_or_create(session, "ranked").await?.node)
///     }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let url = "nats://127.0.0.1:4222";
/// // A backend (run as many as needed, each with its own name).
/// let backend = Cluster::connect(ClusterConfig::new(url, "match-1")).await?;
/// let matches = Rooms::<Match>::new(RoomConfig::default().max_members(4))?;
/// let app = backend.attach(App::builder().rooms(matches.clone())).build()?;
/// backend.start(&app).await?;
/// backend.serve_rooms(matches, PlacementConfig::default(), |_filter| ()).await?;
///
/// // A gate: its clients' `match.*` requests go to the node of their match.
/// let gate = Cluster::connect(ClusterConfig::new(url, "gate-1")).await?;
/// let lobby = Lobby { matches: gate.rooms("match") };
/// let gate_app = gate.attach(App::builder().register(lobby)).build()?;
/// gate.start(&gate_app).await?;
/// gate_app.listen_tcp("127.0.0.1:3250").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RoomsClient {
    node: Arc<Node>,
    kind: String,
    config: PlacementConfig,
}

impl std::fmt::Debug for RoomsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomsClient")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Room kind `kind` (its component name) across the cluster, placed with the default
    /// [`PlacementConfig`] timeouts.
    pub fn rooms(&self, kind: impl Into<String>) -> RoomsClient {
        self.rooms_with(kind, PlacementConfig::default())
    }

    /// Room kind `kind` across the cluster, waiting as long as `config` says.
    pub fn rooms_with(&self, kind: impl Into<String>, config: PlacementConfig) -> RoomsClient {
        RoomsClient {
            node: self.node.clone(),
            kind: kind.into(),
            config,
        }
    }
}

impl RoomsClient {
    /// The kind's name.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Reserves a seat in a room made with `filter` that has one, on any node serving the
    /// kind, or in a new room placed by the policy. Concurrent calls, from any nodes, never
    /// create a room while another of the filter has a free seat.
    ///
    /// # Errors
    ///
    /// [`PlacementError::NoNode`] when no node serves the kind (or none answers),
    /// [`PlacementError::Timeout`] after the request timeout, [`PlacementError::Unsettled`],
    /// [`PlacementError::Refused`] with the placement node's or the room node's refusal,
    /// [`PlacementError::InvalidKind`].
    pub async fn reserve_or_create(
        &self,
        filter: impl Into<String>,
    ) -> Result<Placement, PlacementError> {
        let kind = self.kind.as_str();
        if !is_subject_token(kind) {
            return Err(PlacementError::InvalidKind(kind.to_owned()));
        }
        let ask = Ask {
            filter: filter.into(),
        };
        let no_node = || PlacementError::NoNode(kind.to_owned());
        let mut tried: Vec<String> = Vec::new();
        let mut next = self
            .node
            .kind_nodes(kind)
            .into_iter()
            .next()
            .ok_or_else(no_node)?;
        while tried.len() < MAX_HOPS {
            tried.push(next.clone());
            let subject = self.node.kind_subject(&next, kind, "place");
            let asked = self
                .node
                .ask(subject, &ask, self.config.request_timeout)
                .await;
            next = match asked {
                Ok(Answer::Seat(seat)) => return Ok(seat.into()),
                Ok(Answer::Error { code, msg }) => return Err(refused(code, msg)),
                Ok(Answer::Redirect(node)) if tried.contains(&node) || !is_subject_token(&node) => {
                    break;
                }
                Ok(Answer::Redirect(node)) => node,
                Err(AskError::NoResponders) => self
                    .node
                    .kind_nodes(kind)
                    .into_iter()
                    .find(|node| !tried.contains(node))
                    .ok_or_else(no_node)?,
                Err(AskError::TimedOut) => return Err(PlacementError::Timeout(next)),
                Err(AskError::Failed(why)) => return Err(PlacementError::Cluster(why)),
            };
        }
        Err(PlacementError::Unsettled)
    }

    /// Joins `session`, a client of this node, to a seat reserved with
    /// [`reserve_or_create`](Self::reserve_or_create) (the seat is used up, whether the join
    /// succeeds or not). Once joined, the session's requests to the kind's routes go to the
    /// room's node, until it leaves, its room is disposed, or that node goes away.
    ///
    /// # Errors
    ///
    /// [`PlacementError::NotHere`] for a session that is not this node's client, or on a
    /// node that serves the kind itself (its app would answer the kind's routes);
    /// [`PlacementError::AlreadyInRoom`]; [`PlacementError::Refused`] with the room node's
    /// `RoomError` (408 for a seat unknown, expired or used, or on a node that is not a
    /// live node serving the kind); [`PlacementError::Timeout`].
    pub async fn join_reserved(
        &self,
        session: &Session,
        placement: &Placement,
    ) -> Result<RoomId, PlacementError> {
        self.check_joinable(session)?;
        if !self.node.kind_nodes(&self.kind).contains(&placement.node) {
            // A placement that came back from a client may name anything: only a live node
            // serving the kind is called (as an unknown seat, so a guess learns nothing).
            return Err(refused(
                nano_core::RoomError::NO_RESERVATION,
                nano_core::RoomError::NoReservation.to_string(),
            ));
        }
        let body = serde_json::to_vec(&Join {
            token: placement.token,
        })
        .map_err(|err| PlacementError::Cluster(err.to_string()))?;
        let room = self.call(session, &placement.node, "join", &body).await?;
        self.node
            .rooms
            .set_joined(session.id(), &self.kind, &placement.node, room);
        self.node.gate.bind(session, &self.kind, &placement.node);
        if session.is_closed() {
            // It left meanwhile, and its departure may have cleared what came before.
            self.node.rooms.client_left(session.id());
        }
        Ok(room)
    }

    /// [`reserve_or_create`](Self::reserve_or_create) then
    /// [`join_reserved`](Self::join_reserved) for `session`, a client of this node; returns
    /// where it joined (the token is used up).
    ///
    /// # Errors
    ///
    /// As [`reserve_or_create`](Self::reserve_or_create) and
    /// [`join_reserved`](Self::join_reserved); a session already in a room of the kind is
    /// refused before any seat is reserved.
    pub async fn join_or_create(
        &self,
        session: &Session,
        filter: impl Into<String>,
    ) -> Result<Placement, PlacementError> {
        self.check_joinable(session)?;
        let placement = self.reserve_or_create(filter).await?;
        self.join_reserved(session, &placement).await?;
        Ok(placement)
    }

    /// Takes `session` (a client of this node) out of its room of the kind, on whichever node
    /// holds it; its requests to the kind's routes are no longer sent there.
    ///
    /// # Errors
    ///
    /// [`PlacementError::Refused`] with 409 when it is in no room of the kind (as far as this
    /// node knows); [`PlacementError::Timeout`].
    pub async fn leave(&self, session: &Session) -> Result<RoomId, PlacementError> {
        let Some((node, room)) = self.room_of(session) else {
            return Err(refused(409, "not in a room".to_owned()));
        };
        let result = self.call(session, &node, "leave", b"").await;
        if matches!(
            &result,
            Ok(_)
                | Err(PlacementError::Refused {
                    code: 409 | 410,
                    ..
                })
        ) {
            self.node.room_left(session.id(), &self.kind, &node, room);
        }
        result
    }

    /// The node and room `session` (a client of this node) is in, for this kind.
    pub fn room_of(&self, session: &Session) -> Option<(String, RoomId)> {
        self.node.rooms.joined(session.id(), &self.kind)
    }

    fn check_joinable(&self, session: &Session) -> Result<(), PlacementError> {
        if session.transport() == TransportKind::Remote || self.node.rooms.serves(&self.kind) {
            return Err(PlacementError::NotHere);
        }
        match self.room_of(session) {
            Some((node, room)) => Err(PlacementError::AlreadyInRoom { node, room }),
            None => Ok(()),
        }
    }

    /// Calls internal route `@rooms.<kind>.<what>` on `node` for `session`.
    async fn call(
        &self,
        session: &Session,
        node: &str,
        what: &str,
        body: &[u8],
    ) -> Result<RoomId, PlacementError> {
        let call = Call {
            route: format!("{ROUTE_PREFIX}{}.{what}", self.kind),
            mid: 1,
            session: Some(self.node.session_info(session)),
        };
        let (answer, payload) = self.node.call(node, &call, body).await?;
        apply_answer_to(session, &answer);
        match answer_to_reply(answer, payload) {
            Reply::Payload(body) => serde_json::from_slice::<InRoom>(&body)
                .map(|in_room| in_room.room)
                .map_err(|err| PlacementError::Cluster(err.to_string())),
            Reply::Error(error) => Err(refused(error.code(), error.message().to_owned())),
            _ => Err(PlacementError::Cluster("an empty answer".to_owned())),
        }
    }
}

fn refused(code: i32, message: String) -> PlacementError {
    PlacementError::Refused { code, message }
}
