//! Session resume across gates (docs/PROTOCOL-EXTENSIONS.md): a client that comes back through
//! another gate is relayed to the gate that holds its session, which keeps serving it (its
//! backend bindings, stand-ins and synced values stay as they were).
//!
//! The client's new gate asks every node on `<prefix>.resume.claim`; the node holding (or
//! having held) the session answers, claimed or refused with the reason; the others stay
//! silent. Once claimed, the client's packets go through a [pipe](super::pipe).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::Subscriber;
use futures_util::StreamExt;
use nano_core::ResumeRefusal;
use nano_core::protocol::ResumeRequest;
use nano_core::remote::{ClaimFuture, Piper, RemoteResumer};
use serde::{Deserialize, Serialize};

use super::node::Node;
use super::pipe::{PipeTransport, relay};

/// How long a gate waits for the node holding a session to answer its claim: nobody answers
/// for a session no node holds, so this is what an unknown resume costs.
const CLAIM_WAIT: Duration = Duration::from_millis(500);

/// A claim, as the new gate asks it.
#[derive(Serialize, Deserialize)]
struct Claim {
    request: ResumeRequest,
    dict_version: Option<String>,
    /// The pipe's id: `<prefix>.pipe.<id>.up` and `.down`.
    pipe: String,
}

/// The holding node's answer: `refused` is the refusal's code, absent when claimed.
#[derive(Serialize, Deserialize)]
struct Answer {
    refused: Option<u16>,
}

/// The app's [`RemoteResumer`]: asks the other nodes.
pub(super) struct Resumer(pub(super) Arc<Node>);

impl RemoteResumer for Resumer {
    fn claim(&self, request: ResumeRequest, dict_version: Option<String>) -> ClaimFuture {
        let node = self.0.clone();
        Box::pin(async move { node.claim_elsewhere(request, dict_version).await })
    }
}

/// Pipes opened by this run of the node, for their ids.
static PIPES: AtomicU64 = AtomicU64::new(0);

impl Node {
    fn pipe_subject(&self, pipe: &str, way: &str) -> String {
        self.link.subject(&format!("pipe.{pipe}.{way}"))
    }

    async fn claim_elsewhere(
        self: Arc<Self>,
        request: ResumeRequest,
        dict_version: Option<String>,
    ) -> Result<Piper, ResumeRefusal> {
        let pipe = format!(
            "{:x}-{:x}",
            self.link.instance,
            PIPES.fetch_add(1, Ordering::Relaxed)
        );
        let nats = self.link.nats.clone();
        // Subscribed first: the session's gate answers the handshake down the pipe at once.
        let down = nats
            .subscribe(self.pipe_subject(&pipe, "down"))
            .await
            .map_err(|_| ResumeRefusal::Unknown)?;
        let claim = Claim {
            request,
            dict_version,
            pipe: pipe.clone(),
        };
        let body = serde_json::to_vec(&claim).map_err(|_| ResumeRefusal::Unknown)?;
        let asked = nats.request(self.link.subject("resume.claim"), body.into());
        let answer = match tokio::time::timeout(CLAIM_WAIT, asked).await {
            Ok(Ok(message)) => serde_json::from_slice::<Answer>(&message.payload).ok(),
            _ => None,
        };
        match answer.map(|answer| answer.refused) {
            Some(None) => {}
            Some(Some(code)) => return Err(refusal_of(code)),
            None => return Err(ResumeRefusal::Unknown),
        }
        let up = self.pipe_subject(&pipe, "up");
        Ok(Box::new(move |transport| {
            tokio::spawn(relay(nats, up, down, transport));
        }))
    }

    /// Answers the claims of the sessions this node holds, or held.
    pub(super) async fn serve_resume_claims(self: Arc<Self>, mut claims: Subscriber) {
        loop {
            let message = tokio::select! {
                () = self.stop.cancelled() => return,
                message = claims.next() => match message { Some(message) => message, None => return },
            };
            let (Some(reply), Ok(claim)) = (
                message.reply,
                serde_json::from_slice::<Claim>(&message.payload),
            ) else {
                continue;
            };
            if let Some(answer) = self.answer_claim(claim).await {
                let body = serde_json::to_vec(&answer).unwrap_or_default();
                self.link.publish(reply.to_string(), body.into()).await;
            }
        }
    }

    /// Claims the session for the pipe; `None` when this node never held it.
    async fn answer_claim(&self, claim: Claim) -> Option<Answer> {
        let app = self.link.app().ok()?;
        let nats = self.link.nats.clone();
        let up = nats
            .subscribe(self.pipe_subject(&claim.pipe, "up"))
            .await
            .ok()?;
        let down = self.pipe_subject(&claim.pipe, "down");
        let transport = PipeTransport::new(nats, up, down, app.config().max_body_len);
        let claimed = app.resume_remote(
            &claim.request,
            claim.dict_version.as_deref(),
            Box::new(transport),
        );
        match claimed {
            Ok(()) => Some(Answer { refused: None }),
            Err(ResumeRefusal::Unknown) => None,
            Err(refusal) => Some(Answer {
                refused: Some(refusal.code()),
            }),
        }
    }
}

/// The refusal of `code`.
fn refusal_of(code: u16) -> ResumeRefusal {
    ResumeRefusal::ALL
        .into_iter()
        .find(|refusal| refusal.code() == code)
        .unwrap_or(ResumeRefusal::Unknown)
}
