//! The gate side of a node: its clients' messages forwarded to the nodes that serve them,
//! calls and their answers, events from backends, cluster-group broadcasts, departures.

use super::*;

/// Forwards routes this node does not serve.
pub(super) struct Forwarder(pub(super) Arc<Inner>);

impl RemoteRouter for Forwarder {
    fn forward(
        &self,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
    ) -> Option<ReplyFuture> {
        if !lock(&self.0.registry).serves(route) {
            return None;
        }
        let inner = self.0.clone();
        let (session, route) = (session.clone(), route.to_owned());
        Some(Box::pin(async move {
            inner.forward(&session, &route, mid, payload).await
        }))
    }
}

/// Forgets a pending call when its caller stops waiting (answered, timed out or dropped).
struct PendingGuard<'a> {
    inner: &'a Inner,
    id: u64,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        lock(&self.inner.pending).remove(&self.id);
    }
}

/// How long a held broadcast waits for its release at most (a release lost with its publisher).
const HOLD_AT_MOST: Duration = Duration::from_secs(1);

/// Held broadcasts beyond which the oldest go out without waiting.
const MAX_HELD: usize = 10_000;

/// Cluster-group broadcasts held until their release (see `GroupPush::held`).
#[derive(Default)]
pub(super) struct Holding {
    held: HashMap<String, HeldBroadcast>,
}

struct HeldBroadcast {
    group: nano_core::Group,
    route: String,
    payload: Bytes,
    since: std::time::Instant,
}

impl Holding {
    fn hold(&mut self, key: String, group: nano_core::Group, route: String, payload: Bytes) {
        let since = std::time::Instant::now();
        self.held.insert(
            key,
            HeldBroadcast {
                group,
                route,
                payload,
                since,
            },
        );
        if self.held.len() > MAX_HELD {
            self.flush(|_| true);
        }
    }

    /// Pushes the broadcast held under `key`, if any.
    fn release(&mut self, key: &str) {
        if let Some(held) = self.held.remove(key) {
            let _ = held.group.broadcast_raw(held.route, held.payload);
        }
    }

    /// Pushes the broadcasts that waited too long for their release.
    fn expire(&mut self) {
        if !self.held.is_empty() {
            self.flush(|held| held.since.elapsed() >= HOLD_AT_MOST);
        }
    }

    fn flush(&mut self, due: impl Fn(&HeldBroadcast) -> bool) {
        let keys: Vec<String> = self
            .held
            .iter()
            .filter(|(_, held)| due(held))
            .map(|(key, _)| key.clone())
            .collect();
        for key in keys {
            self.release(&key);
        }
    }
}

impl Inner {
    /// Picks (and remembers) the node serving `route` for `session`.
    pub(super) fn choose(&self, session: &Session, route: &str) -> Option<String> {
        let component = route.split('.').next().unwrap_or(route);
        let bound = lock(&self.bindings)
            .get(&session.id())
            .and_then(|components| components.get(component))
            .cloned();
        if let Some(bound) = bound
            && lock(&self.registry).node_serves(&bound, route)
        {
            return Some(bound);
        }
        let candidates = lock(&self.registry).serving(route);
        if candidates.is_empty() {
            return None;
        }
        let chosen = self
            .route_fn
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .and_then(|route_fn| route_fn(session, route, &candidates))
            .filter(|node| candidates.contains(node));
        #[allow(clippy::cast_possible_truncation)]
        let chosen = chosen.unwrap_or_else(|| {
            candidates[(session.id() % candidates.len() as u64) as usize].clone()
        });
        lock(&self.bindings)
            .entry(session.id())
            .or_default()
            .insert(component.to_owned(), chosen.clone());
        Some(chosen)
    }

    pub(super) fn session_info(&self, session: &Session) -> SessionInfo {
        let gate = match session.transport() {
            TransportKind::Remote => session.get::<String>(GATE_KEY).unwrap_or_default(),
            _ => {
                if !session.is_closed() {
                    lock(&self.clients)
                        .entry(session.id())
                        .or_insert_with(|| session.clone());
                }
                self.config.node.clone()
            }
        };
        SessionInfo {
            gate,
            id: session.id(),
            uid: session.uid(),
            synced: session.synced(),
        }
    }

    /// Gate side: sends a client's message to the node serving its route.
    pub(super) async fn forward(
        &self,
        session: &Session,
        route: &str,
        mid: u64,
        payload: Bytes,
    ) -> Reply {
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
                tracing::warn!(%node, route, error = %err, "forwarding failed");
                Reply::Error(HandlerError::new(
                    503,
                    format!("`{route}` is unavailable right now"),
                ))
            }
        }
    }

    /// The subject of `node`'s inbox for `what` (`event`, or `answer.<call id>`).
    pub(crate) fn inbox(&self, node: &str, what: &str) -> String {
        self.config.subject(&format!("node.{node}.in.{what}"))
    }

    /// Calls `node` and waits (at most the request timeout) for its answer, which arrives in
    /// this node's inbox.
    pub(super) async fn call(
        &self,
        node: &str,
        call: &Call,
        payload: &[u8],
    ) -> Result<(Answer, Bytes), ClusterError> {
        let id = self.next_call.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        lock(&self.pending).insert(
            id,
            Pending {
                node: node.to_owned(),
                answer,
            },
        );
        let _guard = PendingGuard { inner: self, id };
        let subject = self.config.subject(&format!("node.{node}.call"));
        let reply = self.inbox(
            &self.config.node,
            &format!("answer.{:x}.{id}", self.instance),
        );
        self.nats
            .publish_with_reply(subject, reply, wire::encode(call, payload))
            .await
            .map_err(|err| ClusterError::Nats(err.to_string()))?;
        let result = match tokio::time::timeout(self.config.request_timeout, answered).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ClusterError::Nats("the answer was lost".to_owned())),
            Err(_) => Err(ClusterError::Timeout(node.to_owned())),
        };
        if matches!(result, Err(ClusterError::Unavailable(_))) {
            // Forget it now rather than when its heartbeats stop counting.
            self.forget_node(node, "it no longer listens");
        }
        result
    }

    /// Hands an answer (or NATS's "no responders") to the call waiting for it.
    pub(super) fn answered(&self, id: u64, message: &async_nats::Message) {
        let Some(pending) = lock(&self.pending).remove(&id) else {
            return; // The caller gave up waiting.
        };
        let result = if message.status == Some(StatusCode::NO_RESPONDERS) {
            Err(ClusterError::Unavailable(pending.node))
        } else {
            wire::decode::<Answer>(&message.payload)
                .ok_or_else(|| ClusterError::Nats("malformed answer".to_owned()))
        };
        let _ = pending.answer.send(result);
    }

    /// What other nodes send this node: answers to its calls, and what their handlers do to
    /// its clients, handled one by one in arrival order.
    ///
    /// Cluster-group broadcasts are pushed by the same task, taking turns with the inbox (a
    /// flood of either does not starve the other). They come on their own subscriptions; a
    /// broadcast held for one of this node's clients waits for its `release` in the inbox.
    pub(super) async fn serve_inbox(
        self: Arc<Self>,
        mut inbox: async_nats::Subscriber,
        mut new_groups: mpsc::UnboundedReceiver<GroupFeed>,
    ) {
        // Answers name this run: an answer meant for an earlier run of this node is dropped.
        let answers = self.inbox(&self.config.node, &format!("answer.{:x}.", self.instance));
        let group_prefix = self.config.subject("group.");
        let mut groups = SelectAll::new();
        let mut holding = Holding::default();
        loop {
            holding.expire();
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                Some(subscription) = new_groups.recv() => {
                    groups.push(subscription);
                    continue;
                }
                Some(message) = groups.next(), if !groups.is_empty() => {
                    self.group_broadcast(&group_prefix, &message, &mut holding);
                    continue;
                }
                message = inbox.next() => match message { Some(message) => message, None => return },
                // Nothing else comes: a held broadcast still goes out in time.
                () = tokio::time::sleep(HOLD_AT_MOST), if !holding.held.is_empty() => continue,
            };
            if let Some(id) = message.subject.strip_prefix(answers.as_str()) {
                if let Ok(id) = id.parse() {
                    self.answered(id, &message);
                }
                continue;
            }
            let Some((event, payload)) = wire::decode::<Event>(&message.payload) else {
                continue;
            };
            if event.kind == EventKind::Release {
                // A held broadcast's turn: it arrived before this release (same publisher), so
                // it is held already or waiting in its group's feed.
                if self.groups.get(&event.name).is_some() {
                    let deadline = tokio::time::Instant::now() + HOLD_AT_MOST;
                    while !holding.held.contains_key(&event.key) {
                        let message = tokio::select! {
                            biased;
                            Some(subscription) = new_groups.recv() => {
                                groups.push(subscription);
                                continue;
                            }
                            Some(message) = groups.next(), if !groups.is_empty() => message,
                            () = tokio::time::sleep_until(deadline) => break,
                        };
                        self.group_broadcast(&group_prefix, &message, &mut holding);
                    }
                }
                holding.release(&event.key);
                continue;
            }
            let outcome = self.apply_event(event, payload).await;
            // Confirm events that ask for it (group joins), with what went wrong if anything.
            if let Some(reply) = message.reply {
                self.publish(reply.to_string(), outcome.into()).await;
            }
        }
    }

    /// What a backend's handler did to one of this node's clients; returns what went wrong,
    /// if anything (for events that ask for a confirmation).
    async fn apply_event(self: &Arc<Self>, event: Event, payload: Bytes) -> String {
        let Some(session) = lock(&self.clients).get(&event.session).cloned() else {
            return format!("session {} is closed", event.session);
        };
        match event.kind {
            EventKind::Packet => match EncodedPacket::from_wire(payload) {
                Ok(packet) => {
                    // Encoded on the backend without this node's dictionary.
                    let packet = match self.app.get() {
                        Some(app) => packet.compress_route(app.dict()),
                        None => packet,
                    };
                    let _ = session.push_packet(packet);
                }
                Err(err) => tracing::warn!(error = %err, "malformed packet from a backend"),
            },
            EventKind::Kick => session.kick(event.name),
            EventKind::Close => session.close(),
            EventKind::Join => {
                if let Err(err) = crate::local_groups::join(self, &event.name, &session).await {
                    return err.to_string();
                }
            }
            EventKind::Leave => {
                if let Err(err) = self.groups.leave(&event.name, &session) {
                    return err.to_string();
                }
            }
            // Handled by the inbox loop, which holds the broadcasts.
            EventKind::Release => {}
            EventKind::Unknown(kind) => tracing::debug!(%kind, "unknown cluster event ignored"),
        }
        String::new()
    }

    /// A broadcast to a cluster group, pushed to the group's members on this node.
    pub(super) fn group_broadcast(
        &self,
        group_prefix: &str,
        message: &async_nats::Message,
        holding: &mut Holding,
    ) {
        let Some(name) = message.subject.strip_prefix(group_prefix) else {
            return;
        };
        let Some(group) = self.groups.get(name) else {
            return;
        };
        let Some((push, payload)) = wire::decode::<GroupPush>(&message.payload) else {
            return;
        };
        match push.held {
            // Sent by a handler for one of this node's clients: wait for its release.
            Some(held) if held.gate == self.config.node => {
                holding.hold(held.key, group, push.route, payload);
            }
            _ => {
                let _ = group.broadcast_raw(push.route, payload);
            }
        }
    }

    /// Gate side: which of the listed sessions (ids of this node's clients) are gone.
    pub(super) async fn answer_audit(&self, message: &async_nats::Message) {
        let (Some(reply), Ok(ids)) = (
            message.reply.clone(),
            serde_json::from_slice::<Vec<u64>>(&message.payload),
        ) else {
            return;
        };
        let gone: Vec<u64> = {
            let clients = lock(&self.clients);
            ids.into_iter()
                .filter(|id| !clients.contains_key(id))
                .collect()
        };
        let payload = serde_json::to_vec(&gone).unwrap_or_default();
        self.publish(reply.to_string(), payload.into()).await;
    }

    /// Gate side: a client disconnected; tell the nodes that knew it.
    pub(super) fn client_left(&self, session: &Session) {
        // Stand-ins have bindings too (their handlers may call other nodes).
        lock(&self.bindings).remove(&session.id());
        if session.transport() == TransportKind::Remote
            || lock(&self.clients).remove(&session.id()).is_none()
        {
            return;
        }
        let closed = Closed {
            gate: self.config.node.clone(),
            session: session.id(),
        };
        let payload = Bytes::from(serde_json::to_vec(&closed).unwrap_or_default());
        let (nats, subject) = (self.nats.clone(), self.config.subject("sessions.closed"));
        tokio::spawn(async move {
            let _ = nats.publish(subject, payload).await;
        });
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
        session.update_synced(|values| {
            for key in &answer.synced_removed {
                values.remove(key);
            }
            for (key, value) in &answer.synced_set {
                values.insert(key.clone(), value.clone());
            }
        });
    }
}

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
