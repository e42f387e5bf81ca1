//! A request to another node about rooms, over NATS request/reply, with a timeout.

use std::time::Duration;

use async_nats::{Request, RequestErrorKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::super::node::Node;

/// Why an ask got no usable answer.
#[derive(Debug)]
pub(super) enum AskError {
    /// Nobody listens on the subject: the node is gone, or does not serve the kind.
    NoResponders,
    /// No answer within the timeout.
    TimedOut,
    /// Anything else (NATS, an answer this version cannot read).
    Failed(String),
}

impl Node {
    /// Asks `subject` with `body` (JSON) and waits at most `timeout` for its JSON answer.
    pub(super) async fn ask<T: Serialize, R: DeserializeOwned>(
        &self,
        subject: String,
        body: &T,
        timeout: Duration,
    ) -> Result<R, AskError> {
        let payload = serde_json::to_vec(body).map_err(|err| AskError::Failed(err.to_string()))?;
        let request = Request::new()
            .payload(payload.into())
            .timeout(Some(timeout));
        let reply = self
            .link
            .nats
            .send_request(subject, request)
            .await
            .map_err(|err| match err.kind() {
                RequestErrorKind::NoResponders => AskError::NoResponders,
                RequestErrorKind::TimedOut => AskError::TimedOut,
                _ => AskError::Failed(err.to_string()),
            })?;
        serde_json::from_slice(&reply.payload).map_err(|err| AskError::Failed(err.to_string()))
    }

    /// Answers a request with `body` (JSON); a request without a reply subject is ignored.
    pub(super) async fn answer<T: Serialize>(&self, message: &async_nats::Message, body: &T) {
        let (Some(reply), Ok(payload)) = (&message.reply, serde_json::to_vec(body)) else {
            return;
        };
        self.link.publish(reply.to_string(), payload.into()).await;
    }
}
