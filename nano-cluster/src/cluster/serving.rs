//! Calls from other nodes, run on the local app: at most `max_calls_in_flight` at once, each
//! answered after the pushes its handler sent (through its stand-in's relay).

use std::sync::Arc;
use std::time::Duration;

use async_nats::{Message, Subject, Subscriber};
use bytes::Bytes;
use futures_util::StreamExt;
use nano_core::HandlerError;
use nano_core::remote::Reply;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::node::Node;
use super::relay::Outlet;
use super::tasks::Tasks;
use super::trace;
use crate::wire::{self, Answer, AnswerKind, Call};

/// The calls from other nodes running here.
#[derive(Default)]
pub(super) struct Serving {
    running: Tasks,
    /// Cancelled when the node stops waiting for the calls running here: their handlers are
    /// dropped, and the calls answered 503.
    cancel: CancellationToken,
}

impl Serving {
    /// How many calls run.
    pub(super) fn len(&self) -> usize {
        self.running.len()
    }

    /// Lets the calls running here finish, for at most `grace` (their callers stop waiting
    /// about then); the handlers still running then are cancelled, and their calls answered
    /// 503. Calls that arrive meanwhile are answered 503 at once.
    pub(super) async fn finish(&self, grace: Duration) {
        self.running.close();
        if tokio::time::timeout(grace, self.running.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                calls = self.running.len(),
                "cancelling the calls from other nodes still running"
            );
            self.cancel.cancel();
            self.running.wait().await;
        }
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
            let started = self.serving.running.spawn(async move {
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
        let headers = message.headers.as_ref();
        let follow = |span: &tracing::Span| trace::follow(span, headers);
        let reply = match self.dispatch_call(app, &session, &call.route, call.mid, payload, follow)
        {
            Some(future) => tokio::select! {
                biased;
                reply = future => reply,
                () = self.serving.cancel.cancelled() => Reply::Error(shutting_down()),
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
