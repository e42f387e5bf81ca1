//! Calls this node makes to other nodes (forwarded client messages and RPCs), and their
//! answers, which arrive in this node's inbox.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_nats::{Message, StatusCode};
use bytes::Bytes;
use nano_core::remote::Reply;
use nano_core::{App, HandlerError, Session};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::lock;
use super::node::Node;
use super::outgoing::Outgoing;
use super::trace;
use crate::ClusterError;
use crate::id_map::IdMap;
use crate::wire::{self, Answer, AnswerKind, Call};

/// What a call gets: the answer and its payload.
type Answered = Result<(Answer, Bytes), ClusterError>;

/// A call to another node waiting for its answer.
struct Pending {
    node: String,
    answer: oneshot::Sender<Answered>,
}

/// The calls this node made, by id, until answered.
pub(super) struct Calls {
    pending: Mutex<IdMap<Pending>>,
    /// Ids of calls (and of held broadcasts): unique in this run.
    next_id: AtomicU64,
}

impl Calls {
    pub(super) fn new() -> Self {
        Self {
            pending: Mutex::new(IdMap::default()),
            next_id: AtomicU64::new(1),
        }
    }

    /// A number not given out before in this run.
    pub(super) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// How many calls wait for their answer.
    pub(super) fn len(&self) -> usize {
        lock(&self.pending).len()
    }

    /// Records call `id` to `node`; its answer comes through the receiver.
    fn wait_for(&self, id: u64, node: &str) -> oneshot::Receiver<Answered> {
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            node: node.to_owned(),
            answer,
        };
        lock(&self.pending).insert(id, pending);
        answered
    }

    /// Whether call `id` still waits for its answer.
    pub(super) fn is_pending(&self, id: u64) -> bool {
        lock(&self.pending).contains_key(&id)
    }

    /// Fails call `id` (if it still waits) with `error`.
    pub(super) fn fail(&self, id: u64, error: ClusterError) {
        if let Some(pending) = lock(&self.pending).remove(&id) {
            let _ = pending.answer.send(Err(error));
        }
    }

    /// Fails every call still waiting with `error` (the node is stopping).
    pub(super) fn fail_all(&self, error: impl Fn() -> ClusterError) {
        let pending: Vec<Pending> = lock(&self.pending)
            .drain()
            .map(|(_, pending)| pending)
            .collect();
        for pending in pending {
            let _ = pending.answer.send(Err(error()));
        }
    }
}

/// Forgets a pending call when its caller stops waiting (answered, timed out or dropped).
struct PendingGuard<'a> {
    calls: &'a Calls,
    id: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        lock(&self.calls.pending).remove(&self.id);
    }
}

impl Node {
    /// Calls `node` and waits (at most the request timeout) for its answer, which arrives in
    /// this node's inbox.
    pub(super) async fn call(&self, node: &str, call: &Call, payload: &[u8]) -> Answered {
        let started = std::time::Instant::now();
        let result = self.call_once(node, call, payload).await;
        self.metrics.call(node, &result, started.elapsed());
        result
    }

    /// [`call`](Self::call), unmeasured.
    async fn call_once(&self, node: &str, call: &Call, payload: &[u8]) -> Answered {
        let id = self.calls.next_id();
        let answered = self.calls.wait_for(id, node);
        let _guard = PendingGuard {
            calls: &self.calls,
            id,
        };
        self.outbound.send(Outgoing {
            call: Some(id),
            subject: self.link.node_subject(node, "call").into(),
            reply: Some(self.link.answer_subject(id).into()),
            headers: trace::headers(),
            body: wire::encode(call, payload),
        })?;
        let timeout = self.link.config.request_timeout;
        let result = match tokio::time::timeout(timeout, answered).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ClusterError::AnswerLost(node.to_owned())),
            Err(_) => Err(ClusterError::Timeout(node.to_owned())),
        };
        if matches!(result, Err(ClusterError::Unavailable(_))) {
            // Forget it now rather than when its heartbeats stop counting.
            self.forget_node(node, "it no longer listens");
        }
        result
    }

    /// Hands an answer (or NATS's "no responders") to the call waiting for it.
    pub(super) fn answered(&self, id: u64, message: &Message) {
        let Some(pending) = lock(&self.calls.pending).remove(&id) else {
            return; // The caller gave up waiting.
        };
        let result = if message.status == Some(StatusCode::NO_RESPONDERS) {
            Err(ClusterError::Unavailable(pending.node))
        } else {
            wire::decode::<Answer>(&message.payload)
                .ok_or(ClusterError::MalformedAnswer(pending.node))
        };
        let _ = pending.answer.send(result);
    }

    /// Calls `route` on whichever node serves it (this one included), for `session` if any.
    pub(super) async fn rpc<T: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        session: Option<&Session>,
        route: &str,
        value: &T,
    ) -> Result<R, ClusterError> {
        let app = self.link.app()?;
        if self.stop.is_cancelled() {
            return Err(ClusterError::Stopped);
        }
        if let Some(session) = session
            && session.is_closed()
        {
            return Err(ClusterError::SessionClosed(session.id()));
        }
        let payload = app.serializer().serialize(value)?;
        let reply = if app.serves(route) {
            rpc_here(app, session, route, payload).await?
        } else {
            self.rpc_elsewhere(session, route, &payload).await?
        };
        match reply {
            Reply::Payload(body) => Ok(app.serializer().deserialize(&body)?),
            Reply::Error(error) => Err(ClusterError::Remote {
                code: error.code(),
                message: error.message().to_owned(),
            }),
            _ => Ok(app.serializer().deserialize(b"null")?),
        }
    }

    /// An RPC of a route another node serves.
    async fn rpc_elsewhere(
        &self,
        session: Option<&Session>,
        route: &str,
        payload: &[u8],
    ) -> Result<Reply, ClusterError> {
        let node = match session {
            Some(session) => self.choose(session, route),
            // Without a session, calls take turns among the nodes serving the route.
            None => {
                let candidates = self.membership.serving(route);
                let turn = self.calls.next_id.load(Ordering::Relaxed);
                #[allow(clippy::cast_possible_truncation)]
                candidates
                    .get((turn % candidates.len().max(1) as u64) as usize)
                    .cloned()
            }
        }
        .ok_or_else(|| ClusterError::NoNode(route.to_owned()))?;
        let call = Call {
            route: route.to_owned(),
            mid: 1,
            session: session.map(|s| self.session_info(s)),
        };
        let (answer, body) = self.call(&node, &call, payload).await?;
        if let Some(session) = session {
            apply_answer_to(session, &answer);
        }
        Ok(answer_to_reply(answer, body))
    }
}

/// An RPC of a route this node serves: its handler runs here, for `session` or for a
/// stand-in without a client.
async fn rpc_here(
    app: &App,
    session: Option<&Session>,
    route: &str,
    payload: Bytes,
) -> Result<Reply, ClusterError> {
    let stand_in;
    let session = match session {
        Some(session) => session,
        None => {
            stand_in = app.remote_session(0);
            stand_in.session()
        }
    };
    match app.dispatch(session, route, 1, payload) {
        Some(future) => Ok(future.await),
        None => Err(ClusterError::NoNode(route.to_owned())),
    }
}

/// A backend's changes to a session (uid, synchronized values) applied on the client's node.
pub(super) fn apply_answer_to(session: &Session, answer: &Answer) {
    if let Some(uid) = answer.uid
        && session.uid() != Some(uid)
    {
        let _ = session.bind(uid);
    }
    if !answer.synced_set.is_empty() || !answer.synced_removed.is_empty() {
        nano_core::remote::update_synced(session, |values| {
            for key in &answer.synced_removed {
                values.remove(key);
            }
            for (key, value) in &answer.synced_set {
                values.insert(key.clone(), value.clone());
            }
        });
    }
}

/// What the caller of a route gets from its answer.
pub(super) fn answer_to_reply(answer: Answer, payload: Bytes) -> Reply {
    match answer.kind {
        AnswerKind::Payload => Reply::Payload(payload),
        AnswerKind::Error => Reply::Error(HandlerError::new(answer.code, answer.msg)),
        AnswerKind::None => Reply::None,
        AnswerKind::Unknown(kind) => {
            tracing::debug!(%kind, "unknown answer kind: answered with nothing");
            Reply::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_replies_and_unknown_kinds_answer_nothing() {
        let answer = |kind| Answer {
            kind,
            code: 409,
            msg: "taken".to_owned(),
            ..Answer::default()
        };
        let body = Bytes::from_static(b"{}");
        assert!(matches!(
            answer_to_reply(answer(AnswerKind::Payload), body.clone()),
            Reply::Payload(payload) if payload == body
        ));
        assert!(matches!(
            answer_to_reply(answer(AnswerKind::Error), Bytes::new()),
            Reply::Error(error) if error.code() == 409 && error.message() == "taken"
        ));
        assert!(matches!(
            answer_to_reply(answer(AnswerKind::None), Bytes::new()),
            Reply::None
        ));
        assert!(matches!(
            answer_to_reply(answer(AnswerKind::Unknown("later".to_owned())), body),
            Reply::None
        ));
    }
}
