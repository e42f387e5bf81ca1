//! The backend side of a node: stand-in sessions for other nodes' clients (created by the
//! calls [`serving`](super::serving) runs; a [`relay`](super::relay) carries what handlers send
//! them), their ends and audits, and what a handler does to a stand-in's client on its node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::{Request, RequestErrorKind, Subscriber};
use futures_util::StreamExt;
use nano_core::{App, Session, TransportKind};
use tokio::sync::{Notify, mpsc};

use super::lock;
use super::node::Node;
use super::relay::{Outlet, Relay};
use crate::ClusterError;
use crate::wire::{self, Closed, Event, SessionInfo};

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
}

impl Backend {
    /// How many stand-ins there are.
    pub(super) fn len(&self) -> usize {
        lock(&self.remotes).len()
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
    /// The local stand-in for a client of another node (created on first use), and its
    /// outlet: what goes out in order after its pushes (answers, held broadcasts).
    pub(super) fn stand_in(&self, app: &App, info: &SessionInfo) -> Option<(Session, Outlet)> {
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
        nano_core::remote::replace_synced(&session, info.synced.clone());
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
            outbound: self.outbound.clone(),
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
