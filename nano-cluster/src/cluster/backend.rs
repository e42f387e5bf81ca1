//! The backend side of a node: calls from other nodes run on the local app, stand-in sessions
//! for their clients (whose [`relay`](super::relay) carries what handlers send them), audits
//! of those stand-ins, and what a handler does to a stand-in's client on its node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::{Message, Request, RequestErrorKind, Subject, Subscriber};
use bytes::Bytes;
use futures_util::StreamExt;
use nano_core::{App, HandlerError, Reply, Session, TransportKind};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::lock;
use super::node::Node;
use super::relay::{Outlet, Relay};
use super::tasks::Tasks;
use crate::ClusterError;
use crate::wire::{self, Answer, AnswerKind, Call, Closed, Event, SessionInfo};

/// Where a stand-in session's client lives, kept in the session's value store.
const GATE_KEY: &str = "nano.cluster.gate";

/// Session ids per audit request (8 bytes or so each, far below NATS's payload limit).
const AUDIT_CHUNK: usize = 1_000;

/// A gate's client: (gate, session id).
type ClientKey = (String, u64);

/// A stand-in session on a backend, and how to end it.
struct Remote {
    session: Session,
    finish: Arc<Notify>,
    outlet: Outlet,
}

/// Other nodes' clients as this node serves them.
#[derive(Default)]
pub(super) struct Backend {
    /// The stand-in sessions.
    remotes: Mutex<HashMap<ClientKey, Remote>>,
    /// Clients that left recently, so that a call overtaken by the news of its client's
    /// departure does not create a stand-in that nobody would end.
    departed: Mutex<HashMap<ClientKey, Instant>>,
    /// The calls from other nodes running here.
    serving: Tasks,
    /// Cancelled when the node stops waiting for the calls running here: their handlers are
    /// dropped, and the calls answered 503.
    cancel_calls: CancellationToken,
}

impl Backend {
    /// How many stand-ins there are.
    pub(super) fn len(&self) -> usize {
        lock(&self.remotes).len()
    }

    /// How many calls from other nodes run here.
    pub(super) fn calls_running(&self) -> usize {
        self.serving.len()
    }

    /// Lets the calls from other nodes running here finish, for at most `grace` (their
    /// callers stop waiting about then); the handlers still running then are cancelled, and
    /// their calls answered 503. Calls that arrive meanwhile are answered 503 at once.
    pub(super) async fn finish_calls(&self, grace: Duration) {
        self.serving.close();
        if tokio::time::timeout(grace, self.serving.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                calls = self.serving.len(),
                "cancelling the calls from other nodes still running"
            );
            self.cancel_calls.cancel();
            self.serving.wait().await;
        }
    }

    /// Ends the stand-ins of the clients of `gate` (their close callbacks run).
    pub(super) fn end_stand_ins_of(&self, gate: &str) {
        let gone: Vec<Remote> = {
            let mut remotes = lock(&self.remotes);
            let keys: Vec<ClientKey> = remotes
                .keys()
                .filter(|(of, _)| of == gate)
                .cloned()
                .collect();
            keys.iter().filter_map(|key| remotes.remove(key)).collect()
        };
        end(gone);
    }

    /// Ends every stand-in.
    pub(super) fn end_all(&self) {
        let remotes: Vec<Remote> = lock(&self.remotes)
            .drain()
            .map(|(_, remote)| remote)
            .collect();
        end(remotes);
    }

    /// Clients of `gate` left; ends their stand-ins, and remembers them for a while (a call
    /// for them may still be on its way).
    fn departed(&self, gate: &str, sessions: impl IntoIterator<Item = u64>) {
        let now = Instant::now();
        let mut ended = Vec::new();
        {
            let mut remotes = lock(&self.remotes);
            let mut departed = lock(&self.departed);
            for id in sessions {
                let key = (gate.to_owned(), id);
                ended.extend(remotes.remove(&key));
                departed.insert(key, now);
            }
        }
        end(ended);
    }

    /// Forgets the departures older than `keep`.
    pub(super) fn forget_departures_older_than(&self, keep: Duration) {
        lock(&self.departed).retain(|_, since| since.elapsed() < keep);
    }

    /// The ids of the clients each gate has stand-ins here for.
    fn clients_by_gate(&self) -> HashMap<String, Vec<u64>> {
        let mut by_gate: HashMap<String, Vec<u64>> = HashMap::new();
        for (gate, id) in lock(&self.remotes).keys() {
            by_gate.entry(gate.clone()).or_default().push(*id);
        }
        by_gate
    }
}

fn end(remotes: Vec<Remote>) {
    for remote in remotes {
        remote.finish.notify_one();
    }
}

impl Node {
    /// Runs calls from other nodes on the local app, at most `max_calls_in_flight` at once;
    /// the calls beyond are answered "busy" at once.
    pub(super) async fn serve_calls(self: Arc<Self>, mut calls: Subscriber) {
        let limit = self.link.config.max_calls_in_flight;
        let in_flight = Arc::new(Semaphore::new(limit));
        let mut refusing = false;
        loop {
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                message = calls.next() => match message { Some(message) => message, None => return },
            };
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                if !refusing {
                    tracing::warn!(
                        limit,
                        "too many calls in flight: refusing calls until some finish"
                    );
                    refusing = true;
                }
                self.refuse_busy(&message).await;
                continue;
            };
            refusing = false;
            let (this, reply_to) = (self.clone(), message.reply.clone());
            let started = self.backend.serving.spawn(async move {
                this.serve_call(message).await;
                drop(permit);
            });
            if !started && let Some(reply_to) = reply_to {
                self.answer_error(&reply_to, shutting_down()).await;
            }
        }
    }

    async fn refuse_busy(&self, message: &Message) {
        if let Some(reply_to) = &message.reply {
            self.answer_error(reply_to, HandlerError::new(503, "node busy"))
                .await;
        }
    }

    /// Answers a call with `error` at once, without running it.
    async fn answer_error(&self, reply_to: &Subject, error: HandlerError) {
        let (answer, payload) = reply_to_answer(Reply::Error(error));
        self.link
            .publish(reply_to.to_string(), wire::encode(&answer, &payload))
            .await;
    }

    /// Runs one call from another node and answers it.
    async fn serve_call(&self, message: Message) {
        let Some(reply_to) = message.reply.clone() else {
            return;
        };
        let Some((call, payload)) = wire::decode::<Call>(&message.payload) else {
            return;
        };
        let Ok(app) = self.link.app() else { return };
        let (session, outlet) = match &call.session {
            Some(info) => match self.stand_in(app, info) {
                Some((session, outlet)) => (session, Some(outlet)),
                None => {
                    let closed = format!("session {} is closed", info.id);
                    self.answer_error(&reply_to, HandlerError::new(410, closed))
                        .await;
                    return;
                }
            },
            None => (app.remote_session(0).session().clone(), None),
        };
        let reply = match app.dispatch(&session, &call.route, call.mid, payload) {
            Some(future) => tokio::select! {
                biased;
                reply = future => reply,
                () = self.backend.cancel_calls.cancelled() => Reply::Error(shutting_down()),
            },
            None => Reply::Error(HandlerError::not_found(format!(
                "unknown route `{}`",
                call.route
            ))),
        };
        let (mut answer, payload) = reply_to_answer(reply);
        answer.uid = session.uid();
        if let Some(info) = &call.session {
            answer.synced_changes(&info.synced, session.synced());
        }
        self.send_answer(reply_to, wire::encode(&answer, &payload), outlet)
            .await;
    }

    /// Sends a call's answer: a session's goes out after the pushes its handler queued (same
    /// publisher, same inbox on the client's node: they arrive in order).
    async fn send_answer(&self, reply_to: Subject, answer: Bytes, outlet: Option<Outlet>) {
        let answer = (reply_to, answer);
        let unsent = match outlet {
            Some(outlet) => outlet.send(answer).await.err().map(|err| err.0),
            None => Some(answer),
        };
        if let Some((reply_to, answer)) = unsent {
            self.link.publish(reply_to.to_string(), answer).await;
        }
    }

    /// The local stand-in for a client of another node (created on first use), and its
    /// outlet: what goes out in order after its pushes (answers, held broadcasts).
    fn stand_in(&self, app: &App, info: &SessionInfo) -> Option<(Session, Outlet)> {
        let key = (info.gate.clone(), info.id);
        let (session, outlet) = {
            let mut remotes = lock(&self.backend.remotes);
            match remotes.get(&key) {
                Some(remote) => (remote.session.clone(), remote.outlet.clone()),
                None if lock(&self.backend.departed).contains_key(&key)
                    || self.stop.is_cancelled() =>
                {
                    return None;
                }
                None => {
                    // `None` once the node stops.
                    let remote = self.new_stand_in(app, info)?;
                    let handle = (remote.session.clone(), remote.outlet.clone());
                    remotes.insert(key, remote);
                    handle
                }
            }
        };
        if let Some(uid) = info.uid {
            let _ = session.bind(uid);
        }
        session.replace_synced(info.synced.clone());
        Some((session, outlet))
    }

    /// A new stand-in for `info`'s client, and the relay that serves it (`None` once the
    /// node's tasks are closed).
    fn new_stand_in(&self, app: &App, info: &SessionInfo) -> Option<Remote> {
        let remote = app.remote_session(info.id);
        let session = remote.session().clone();
        session.set(GATE_KEY, info.gate.clone());
        let finish = Arc::new(Notify::new());
        let (outlet, queued) = mpsc::channel(self.link.config.relay_queue);
        let relay = Relay {
            remote,
            outlet: queued,
            nats: self.link.nats.clone(),
            events: self.link.inbox(&info.gate, "event").into(),
            open: true,
        };
        self.tasks
            .spawn(relay.run(finish.clone()))
            .then_some(Remote {
                session,
                finish,
                outlet,
            })
    }

    /// The client's node and the ordered outlet (the relay) of the stand-in `session`, if it
    /// is one.
    pub(crate) fn ordered_for(&self, session: &Session) -> Option<(String, Outlet)> {
        let gate = self.gate_of(session)?;
        let outlet = lock(&self.backend.remotes)
            .get(&(gate.clone(), session.id()))?
            .outlet
            .clone();
        Some((gate, outlet))
    }

    /// A key for a held broadcast, unique in the cluster (node, run, counter).
    pub(crate) fn broadcast_key(&self) -> String {
        let seq = self.calls.next_id();
        format!("{}.{:x}.{seq}", self.link.node(), self.link.instance)
    }

    /// A client left its node; end its stand-in here.
    pub(super) async fn serve_closed(self: Arc<Self>, mut closed: Subscriber) {
        loop {
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                message = closed.next() => match message { Some(message) => message, None => return },
            };
            let Ok(closed) = serde_json::from_slice::<Closed>(&message.payload) else {
                continue;
            };
            self.backend.departed(&closed.gate, [closed.session]);
        }
    }

    /// Every `audit_interval`, asks each gate which of the clients it has stand-ins for are
    /// gone, and ends those (a departure missed during a NATS outage).
    pub(super) async fn audit_loop(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.link.config.audit_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            tokio::select! {
                () = self.stop.cancelled() => return,
                () = self.audit_all() => {}
            }
        }
    }

    /// Audits every gate this node has stand-ins for.
    async fn audit_all(&self) {
        for (gate, ids) in self.backend.clients_by_gate() {
            for chunk in ids.chunks(AUDIT_CHUNK) {
                self.audit(&gate, chunk).await;
            }
        }
    }

    /// Asks `gate` which of its clients `ids` are gone, and ends their stand-ins.
    async fn audit(&self, gate: &str, ids: &[u64]) {
        let subject = self.link.node_subject(gate, "sessions");
        let request = Request::new()
            .payload(serde_json::to_vec(ids).unwrap_or_default().into())
            .timeout(Some(self.link.config.request_timeout));
        let Ok(reply) = self.link.nats.send_request(subject, request).await else {
            return; // The gate is unreachable: dropping it ends its stand-ins.
        };
        if let Ok(gone) = serde_json::from_slice::<Vec<u64>>(&reply.payload)
            && !gone.is_empty()
        {
            tracing::info!(%gate, sessions = gone.len(), "ending stand-ins of departed clients");
            self.backend.departed(gate, gone);
        }
    }

    /// The gate of a session (this node for its own clients).
    pub(crate) fn gate_of(&self, session: &Session) -> Option<String> {
        match session.transport() {
            TransportKind::Remote => session.get::<String>(GATE_KEY),
            _ => None,
        }
    }

    /// Sends an event to a client of `gate`.
    pub(crate) async fn send_event(&self, gate: &str, event: &Event) {
        self.link
            .publish(self.link.inbox(gate, "event"), wire::encode(event, &[]))
            .await;
    }

    /// Sends an event and waits until the client's node has applied it; what went wrong
    /// there comes back as [`ClusterError::Remote`] with code 400.
    pub(crate) async fn confirm_event(
        &self,
        gate: &str,
        event: &Event,
    ) -> Result<(), ClusterError> {
        let subject = self.link.inbox(gate, "event");
        let request = Request::new()
            .payload(wire::encode(event, &[]))
            .timeout(Some(self.link.config.request_timeout));
        let reply = self
            .link
            .nats
            .send_request(subject.clone(), request)
            .await
            .map_err(|err| match err.kind() {
                RequestErrorKind::TimedOut => ClusterError::Timeout(gate.to_owned()),
                RequestErrorKind::NoResponders => ClusterError::Unavailable(gate.to_owned()),
                _ => ClusterError::nats(format!("send an event to {subject}"), err),
            })?;
        if reply.payload.is_empty() {
            Ok(())
        } else {
            Err(ClusterError::Remote {
                code: 400,
                message: String::from_utf8_lossy(&reply.payload).into_owned(),
            })
        }
    }
}

/// What a call from another node gets when this node stops before running it, or while
/// running it.
fn shutting_down() -> HandlerError {
    HandlerError::new(503, "node shutting down")
}

/// The answer that carries a handler's reply.
pub(crate) fn reply_to_answer(reply: Reply) -> (Answer, Bytes) {
    match reply {
        Reply::Payload(payload) => (
            Answer {
                kind: AnswerKind::Payload,
                ..Answer::default()
            },
            payload,
        ),
        Reply::Error(error) => (
            Answer {
                kind: AnswerKind::Error,
                code: error.code(),
                msg: error.message().to_owned(),
                ..Answer::default()
            },
            Bytes::new(),
        ),
        _ => (
            Answer {
                kind: AnswerKind::None,
                ..Answer::default()
            },
            Bytes::new(),
        ),
    }
}
