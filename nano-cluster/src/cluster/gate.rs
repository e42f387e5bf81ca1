//! The gate side of a node: its clients, the node each of their messages goes to (sticky per
//! session and component), and their departures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_nats::Message;
use bytes::Bytes;
use nano_core::remote::Reply;
use nano_core::remote::{RemoteRouter, ReplyFuture};
use nano_core::{HandlerError, Session, TransportKind};

use super::calls::{answer_to_reply, apply_answer_to};
use super::node::Node;
use super::{RouteFn, lock};
use crate::id_map::IdMap;
use crate::wire::{Call, Closed, SessionInfo};

/// This node's clients as the other nodes know them.
pub(super) struct Gate {
    /// The first id of this node's client sessions (see [`session_id_base`]).
    first_session_id: u64,
    route_fn: Mutex<Option<RouteFn>>,
    /// Client sessions of this node that other nodes have seen.
    clients: Mutex<IdMap<Session>>,
    /// Session id -> component -> the node serving it for that session.
    bindings: Mutex<IdMap<HashMap<String, String>>>,
}

impl Gate {
    pub(super) fn new() -> Self {
        Self {
            first_session_id: session_id_base(),
            route_fn: Mutex::new(None),
            clients: Mutex::new(IdMap::default()),
            bindings: Mutex::new(IdMap::default()),
        }
    }

    pub(super) fn first_session_id(&self) -> u64 {
        self.first_session_id
    }

    pub(super) fn route_with(&self, route_fn: RouteFn) {
        *lock(&self.route_fn) = Some(route_fn);
    }

    /// This node's client `id`, if other nodes have seen it.
    pub(super) fn client(&self, id: u64) -> Option<Session> {
        lock(&self.clients).get(&id).cloned()
    }

    /// How many clients other nodes have seen, and how many sessions are bound to a node.
    pub(super) fn counts(&self) -> (usize, usize) {
        (lock(&self.clients).len(), lock(&self.bindings).len())
    }

    /// Sessions bound to `node` are bound to it no more.
    pub(super) fn unbind_node(&self, node: &str) {
        lock(&self.bindings).retain(|_, components| {
            components.retain(|_, bound| bound != node);
            !components.is_empty()
        });
    }

    /// The node `session` is bound to for `component`.
    fn bound(&self, session: &Session, component: &str) -> Option<String> {
        lock(&self.bindings)
            .get(&session.id())
            .and_then(|components| components.get(component))
            .cloned()
    }

    pub(super) fn bind(&self, session: &Session, component: &str, node: &str) {
        lock(&self.bindings)
            .entry(session.id())
            .or_default()
            .insert(component.to_owned(), node.to_owned());
    }

    /// Session `session` is no longer bound to `node` for `component` (if it was).
    pub(super) fn unbind(&self, session: u64, component: &str, node: &str) {
        let mut bindings = lock(&self.bindings);
        if let Some(components) = bindings.get_mut(&session) {
            if components.get(component).is_some_and(|bound| bound == node) {
                components.remove(component);
            }
            if components.is_empty() {
                bindings.remove(&session);
            }
        }
    }

    /// The choice of the user's route function among `candidates`, if it made a valid one.
    fn user_choice(&self, session: &Session, route: &str, candidates: &[String]) -> Option<String> {
        let route_fn = lock(&self.route_fn).clone()?;
        route_fn(session, route, candidates).filter(|node| candidates.contains(node))
    }
}

/// Where this process's session ids start: a random one of 2^20 namespaces of 2^32 ids each,
/// so that client sessions on different nodes (and on a restarted node) have different ids.
/// Two nodes share a namespace with a probability of about one in a million per pair.
fn session_id_base() -> u64 {
    ((super::link::random_u64() % (1 << 20)) << 32) + 1
}

/// Forwards routes this node does not serve.
pub(super) struct Forwarder(pub(super) Arc<Node>);

impl RemoteRouter for Forwarder {
    fn forward(
        &self,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
    ) -> Option<ReplyFuture> {
        if !self.0.membership.serves(route) {
            return None;
        }
        let node = self.0.clone();
        let (session, route) = (session.clone(), route.to_owned());
        Some(Box::pin(async move {
            node.forward(&session, &route, mid, payload).await
        }))
    }
}

impl Node {
    /// Picks (and remembers) the node serving `route` for `session`.
    pub(super) fn choose(&self, session: &Session, route: &str) -> Option<String> {
        let component = route.split('.').next().unwrap_or(route);
        if let Some(bound) = self.gate.bound(session, component)
            && self.membership.node_serves(&bound, route)
        {
            return Some(bound);
        }
        let candidates = self.membership.serving(route);
        if candidates.is_empty() {
            return None;
        }
        #[allow(clippy::cast_possible_truncation)]
        let chosen = self
            .gate
            .user_choice(session, route, &candidates)
            .unwrap_or_else(|| {
                candidates[(session.id() % candidates.len() as u64) as usize].clone()
            });
        self.gate.bind(session, component, &chosen);
        Some(chosen)
    }

    /// What a call for `session` tells the called node about it; a client of this node is
    /// remembered as seen by the others.
    pub(super) fn session_info(&self, session: &Session) -> SessionInfo {
        let gate = match session.transport() {
            TransportKind::Remote => self.gate_of(session).unwrap_or_default(),
            _ => {
                if !session.is_closed() {
                    lock(&self.gate.clients)
                        .entry(session.id())
                        .or_insert_with(|| session.clone());
                }
                self.link.node().to_owned()
            }
        };
        SessionInfo {
            gate,
            id: session.id(),
            uid: session.uid(),
            synced: session.synced(),
        }
    }

    /// Sends a client's message to the node serving its route.
    async fn forward(&self, session: &Session, route: &str, mid: u64, payload: Bytes) -> Reply {
        if session.is_closed() {
            return Reply::None;
        }
        let Some(node) = self.choose(session, route) else {
            return Reply::Error(HandlerError::not_found(format!("unknown route `{route}`")));
        };
        let call = Call {
            route: route.to_owned(),
            mid,
            session: Some(self.session_info(session)),
        };
        match self.call(&node, &call, &payload).await {
            Ok((answer, payload)) => {
                apply_answer_to(session, &answer);
                answer_to_reply(answer, payload)
            }
            Err(err) => {
                // `call` forgot a node nobody listens on (the session's next message chooses
                // again); a timeout keeps the binding: the handler may still be running there,
                // and the session's state is there.
                let error = &err as &(dyn std::error::Error + 'static);
                tracing::warn!(%node, route, error, "forwarding failed");
                Reply::Error(HandlerError::new(
                    503,
                    format!("`{route}` is unavailable right now"),
                ))
            }
        }
    }

    /// Which of the listed sessions (ids of this node's clients) are gone.
    pub(super) async fn answer_audit(&self, message: &Message) {
        let (Some(reply), Ok(ids)) = (
            message.reply.clone(),
            serde_json::from_slice::<Vec<u64>>(&message.payload),
        ) else {
            return;
        };
        let gone: Vec<u64> = {
            let clients = lock(&self.gate.clients);
            ids.into_iter()
                .filter(|id| !clients.contains_key(id))
                .collect()
        };
        let payload = serde_json::to_vec(&gone).unwrap_or_default();
        self.link.publish(reply.to_string(), payload.into()).await;
    }

    /// A client disconnected; tell the nodes that knew it.
    pub(super) fn client_left(&self, session: &Session) {
        // Stand-ins have bindings too (their handlers may call other nodes).
        lock(&self.gate.bindings).remove(&session.id());
        self.rooms.client_left(session.id());
        if session.transport() == TransportKind::Remote
            || lock(&self.gate.clients).remove(&session.id()).is_none()
        {
            return;
        }
        let closed = Closed {
            gate: self.link.node().to_owned(),
            session: session.id(),
        };
        let payload = Bytes::from(serde_json::to_vec(&closed).unwrap_or_default());
        let (nats, subject) = (self.link.nats.clone(), self.link.subject("sessions.closed"));
        // Not once the node has stopped: it left, and the others ended its clients' stand-ins.
        self.tasks.spawn(async move {
            let _ = nats.publish(subject, payload).await;
        });
    }
}
