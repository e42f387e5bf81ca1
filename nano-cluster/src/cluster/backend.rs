//! The backend side of a node: calls from other nodes run on the local app, stand-in sessions
//! for their clients and the relay of what handlers send them, audits of those stand-ins.

use super::*;

impl Inner {
    /// Backend side: runs calls from other nodes on the local app, at most
    /// `max_calls_in_flight` at once; the calls beyond are answered "busy" at once.
    pub(super) async fn serve_calls(self: Arc<Self>, mut calls: async_nats::Subscriber) {
        let in_flight = Arc::new(Semaphore::new(self.config.max_calls_in_flight));
        let mut refusing = false;
        loop {
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                message = calls.next() => match message { Some(message) => message, None => return },
            };
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                if !refusing {
                    tracing::warn!(
                        limit = self.config.max_calls_in_flight,
                        "too many calls in flight: refusing calls until some finish"
                    );
                    refusing = true;
                }
                self.refuse_busy(&message).await;
                continue;
            };
            refusing = false;
            let this = self.clone();
            tokio::spawn(async move {
                this.serve_call(message).await;
                drop(permit);
            });
        }
    }

    pub(super) async fn refuse_busy(&self, message: &async_nats::Message) {
        if let Some(reply_to) = &message.reply {
            self.answer_error(reply_to, HandlerError::new(503, "node busy"))
                .await;
        }
    }

    /// Answers a call with `error` at once, without running it.
    async fn answer_error(&self, reply_to: &async_nats::Subject, error: HandlerError) {
        let (answer, payload) = reply_to_answer(Reply::Error(error));
        self.publish(reply_to.to_string(), wire::encode(&answer, &payload))
            .await;
    }

    pub(super) async fn serve_call(&self, message: async_nats::Message) {
        let Some(reply_to) = message.reply.clone() else {
            return;
        };
        let Some((call, payload)) = wire::decode::<Call>(&message.payload) else {
            return;
        };
        let Ok(app) = self.app() else { return };
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
            Some(future) => future.await,
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
        let answer = (reply_to, wire::encode(&answer, &payload));
        // A session's answer goes out after the pushes its handler queued (same publisher,
        // same inbox on the client's node: they arrive in order).
        let unsent = match outlet {
            Some(outlet) => outlet.send(answer).await.err().map(|err| err.0),
            None => Some(answer),
        };
        if let Some((reply_to, answer)) = unsent {
            self.publish(reply_to.to_string(), answer).await;
        }
    }

    /// Backend side: the local stand-in for a client of another node (created on first use),
    /// and its outlet: what goes out in order after its pushes (answers, held broadcasts).
    pub(super) fn stand_in(&self, app: &App, info: &SessionInfo) -> Option<(Session, Outlet)> {
        let key = (info.gate.clone(), info.id);
        let (session, outlet) = {
            let mut remotes = lock(&self.remotes);
            match remotes.get(&key) {
                Some(remote) => (remote.session.clone(), remote.outlet.clone()),
                None if lock(&self.departed).contains_key(&key) || self.stop.is_cancelled() => {
                    return None;
                }
                None => {
                    let remote = app.remote_session(info.id);
                    let session = remote.session().clone();
                    session.set(GATE_KEY, info.gate.clone());
                    let finish = Arc::new(Notify::new());
                    let (outlet, queued) = mpsc::channel(OUTLET_QUEUE);
                    remotes.insert(
                        key,
                        Remote {
                            session: session.clone(),
                            finish: finish.clone(),
                            outlet: outlet.clone(),
                        },
                    );
                    let events = self.inbox(&info.gate, "event");
                    tokio::spawn(relay(remote, queued, finish, self.nats.clone(), events));
                    (session, outlet)
                }
            }
        };
        if let Some(uid) = info.uid {
            let _ = session.bind(uid);
        }
        session.replace_synced(info.synced.clone());
        Some((session, outlet))
    }

    /// Backend side: the client's node and the ordered outlet (the relay) of the stand-in
    /// `session`, if it is one.
    pub(crate) fn ordered_for(&self, session: &Session) -> Option<(String, Outlet)> {
        let gate = self.gate_of(session)?;
        let outlet = lock(&self.remotes)
            .get(&(gate.clone(), session.id()))?
            .outlet
            .clone();
        Some((gate, outlet))
    }

    /// A key for a held broadcast, unique in the cluster (node, run, counter).
    pub(crate) fn broadcast_key(&self) -> String {
        let seq = self.next_call.fetch_add(1, Ordering::Relaxed);
        format!("{}.{:x}.{seq}", self.config.node, self.instance)
    }

    /// Backend side: a client left its node; end its stand-in here.
    pub(super) async fn serve_closed(self: Arc<Self>, mut closed: async_nats::Subscriber) {
        loop {
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                message = closed.next() => match message { Some(message) => message, None => return },
            };
            let Ok(closed) = serde_json::from_slice::<Closed>(&message.payload) else {
                continue;
            };
            self.departed(closed.gate, [closed.session]);
        }
    }

    /// Backend side: clients of `gate` left; end their stand-ins here, and remember them for
    /// a while (a call for them may still be on its way).
    pub(super) fn departed(&self, gate: String, sessions: impl IntoIterator<Item = u64>) {
        let now = std::time::Instant::now();
        let mut ended = Vec::new();
        {
            let mut remotes = lock(&self.remotes);
            let mut departed = lock(&self.departed);
            for id in sessions {
                let key = (gate.clone(), id);
                ended.extend(remotes.remove(&key));
                departed.insert(key, now);
            }
        }
        for remote in ended {
            remote.finish.notify_one();
        }
    }

    /// Backend side: every `audit_interval`, asks each gate which of the clients it has
    /// stand-ins for are gone, and ends those (a departure missed during a NATS outage).
    pub(super) async fn audit_loop(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.config.audit_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let mut by_gate: HashMap<String, Vec<u64>> = HashMap::new();
            for (gate, id) in lock(&self.remotes).keys() {
                by_gate.entry(gate.clone()).or_default().push(*id);
            }
            for (gate, ids) in by_gate {
                for chunk in ids.chunks(AUDIT_CHUNK) {
                    let subject = self.config.subject(&format!("node.{gate}.sessions"));
                    let request = Request::new()
                        .payload(serde_json::to_vec(chunk).unwrap_or_default().into())
                        .timeout(Some(self.config.request_timeout));
                    let Ok(reply) = self.nats.send_request(subject, request).await else {
                        continue; // The gate is unreachable: dropping it ends its stand-ins.
                    };
                    if let Ok(gone) = serde_json::from_slice::<Vec<u64>>(&reply.payload)
                        && !gone.is_empty()
                    {
                        tracing::info!(%gate, sessions = gone.len(), "ending stand-ins of departed clients");
                        self.departed(gate.clone(), gone);
                    }
                }
            }
        }
    }

    /// The gate of a session (this node for its own clients).
    pub(crate) fn gate_of(&self, session: &Session) -> Option<String> {
        match session.transport() {
            TransportKind::Remote => session.get::<String>(GATE_KEY),
            _ => None,
        }
    }

    pub(crate) async fn send_event(&self, gate: &str, event: &Event) {
        self.publish(self.inbox(gate, "event"), wire::encode(event, &[]))
            .await;
    }

    /// Sends an event and waits until the client's node has applied it; what went wrong
    /// there comes back as [`ClusterError::Remote`] with code 400.
    pub(crate) async fn confirm_event(
        &self,
        gate: &str,
        event: &Event,
    ) -> Result<(), ClusterError> {
        let subject = self.inbox(gate, "event");
        let request = Request::new()
            .payload(wire::encode(event, &[]))
            .timeout(Some(self.config.request_timeout));
        let reply = self
            .nats
            .send_request(subject, request)
            .await
            .map_err(|err| match err.kind() {
                RequestErrorKind::TimedOut => ClusterError::Timeout(gate.to_owned()),
                RequestErrorKind::NoResponders => ClusterError::Unavailable(gate.to_owned()),
                _ => ClusterError::Nats(err.to_string()),
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

/// Backend side: carries what a stand-in's handlers send (pushes, kicks, closing, then what
/// comes through its outlet: answers, held broadcasts and their releases)
/// to the client's node, in the order they were sent, until the client's node says the
/// session is over.
pub(super) async fn relay(
    mut remote: nano_core::remote::RemoteSession,
    mut outlet: mpsc::Receiver<(async_nats::Subject, Bytes)>,
    finish: Arc<Notify>,
    nats: Client,
    events: String,
) {
    let id = remote.session().id();
    let mut open = true;
    loop {
        // Biased: an answer is queued after its handler returned, so the pushes that handler
        // queued are already waiting and go first.
        let (kind, name, payload) = tokio::select! {
            biased;
            () = finish.notified() => break,
            event = remote.next_event(), if open => match event {
                Some(RemoteEvent::Packet(packet)) => (EventKind::Packet, String::new(), packet.into_bytes()),
                Some(RemoteEvent::Kick(reason)) => (EventKind::Kick, reason, Bytes::new()),
                Some(RemoteEvent::Close) => (EventKind::Close, String::new(), Bytes::new()),
                // Closing was sent: answers may still follow until the client's node confirms.
                Some(_) | None => {
                    open = false;
                    continue;
                }
            },
            Some((subject, message)) = outlet.recv() => {
                let _ = nats.publish(subject, message).await;
                continue;
            }
        };
        let event = Event::new(id, kind, name);
        let _ = nats
            .publish(events.clone(), wire::encode(&event, &payload))
            .await;
    }
    remote.finish();
}

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
