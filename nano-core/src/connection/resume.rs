//! Session resume on the connection's side (`docs/PROTOCOL-EXTENSIONS.md`): a handshake that
//! presents a resume token claims its session and hands its transport over; the task of a
//! dropped session waits out the grace window, serving each connection that resumes it.
//!
//! The session stays with the task that first served it: a resume moves the new transport
//! to that task (through the session's outbox, which wakes it), so its in-flight handler,
//! rate limiter and state carry on, and nothing else needs a lock.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use super::end::End;
use super::handshake::holds_current_dict;
use super::{Connection, Phase, poll_in_flight};
use crate::host::Host;
use crate::outbox::{CloseRequest, DetachedEvent};
use crate::prometheus::KickCause;
use crate::protocol::{RefusedResume, ResumeReply, ResumeRequest, ResumeToken};
use crate::remote::Piper;
use crate::resume::replay::{Handoff, Resent};
use crate::resume::{RESPONSE_GONE, ResumeConfig, ResumeRefusal};
use crate::session::TransportKind;
use crate::shutdown_signal::Stage;
use crate::transport::PacketTransport;
use crate::{HandlerError, Session};

/// A successful claim: the session this connection resumes, and what its task needs.
#[derive(Debug)]
pub(crate) struct ResumeTicket {
    pub(super) session: Session,
    token: ResumeToken,
    received: u64,
    missed: u64,
    cached_dict: bool,
    remote_addr: Option<SocketAddr>,
    kind: TransportKind,
}

impl ResumeTicket {
    /// The ticket of a session claimed for a client connected to another node, whose
    /// packets come through the transport handed over.
    pub(crate) fn remote(
        host: &Host,
        request: &ResumeRequest,
        dict_version: Option<&str>,
    ) -> Result<Self, ResumeRefusal> {
        let (session, token, missed) = claim_local(host, request, None)?;
        // Its transport stays what it was: `Remote` names the stand-ins of other nodes'
        // clients, and this session is still this node's client.
        let kind = session.transport();
        Ok(Self {
            session,
            token,
            received: request.received,
            missed,
            cached_dict: holds_current_dict(&host.core, dict_version),
            remote_addr: None,
            kind,
        })
    }

    /// Hands the connection's transport to the resumed session's task.
    pub(crate) fn hand_over(&self, transport: Box<dyn PacketTransport>) {
        self.session.inner().outbox.hand_over(Handoff {
            transport,
            remote_addr: self.remote_addr,
            kind: self.kind,
            received: self.received,
            cached_dict: self.cached_dict,
            token: self.token,
            missed: self.missed,
        });
    }
}

/// Claims the session `request` names among those `host` holds (not `except`, the claiming
/// connection's own): on success, the session, the token for its next resume and the pushes
/// the client missed.
pub(crate) fn claim_local(
    host: &Host,
    request: &ResumeRequest,
    except: Option<&Session>,
) -> Result<(Session, ResumeToken, u64), ResumeRefusal> {
    let token: ResumeToken = request.token.parse().map_err(|_| ResumeRefusal::Unknown)?;
    let live = host
        .sessions
        .get(token.session)
        .filter(|live| Some(&live.session) != except)
        .ok_or_else(|| host.tombstones.refusal(token.session))?;
    let (next, missed) = live.session.inner().outbox.claim(token, request.received)?;
    Ok((live.session, next, missed))
}

/// A claimed session: held here (the ticket to hand the transport over with), or on another
/// node (the piper that relays to it).
pub(super) enum Claimed {
    Here(Box<ResumeTicket>),
    Elsewhere(Piper),
}

/// A claim on another node, for `End::ResumedElsewhere`.
pub(crate) struct Elsewhere(pub(super) Option<Piper>);

impl std::fmt::Debug for Elsewhere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Elsewhere(..)")
    }
}

/// Why a handshake asking to resume did not.
pub(super) enum NotResumed {
    /// The client gets a fresh session, and the reason.
    Refused(ResumeRefusal),
    /// The server is shutting down: the handshake is refused (503).
    ShuttingDown,
}

/// The handshake code of a resume refused because the server is shutting down.
pub(super) const SHUTTING_DOWN: u16 = 503;

impl Connection {
    /// Claims the session `request` names for this connection: held here, or (with a
    /// remote resumer) on another node. `dict_version` is the one the client presented.
    pub(super) async fn claim(
        &mut self,
        request: &ResumeRequest,
        dict_version: Option<&str>,
    ) -> Result<Claimed, NotResumed> {
        if self.host.shutdown.is_draining() {
            return Err(NotResumed::ShuttingDown);
        }
        let local = claim_local(&self.host, request, Some(&self.session));
        let outcome = match (local, self.host.resumer.clone()) {
            (Err(ResumeRefusal::Unknown), Some(resumer)) => {
                let version = dict_version.map(str::to_owned);
                resumer
                    .claim(request.clone(), version)
                    .await
                    .map(Claimed::Elsewhere)
            }
            (local, _) => local.map(|(session, token, missed)| {
                let ticket = ResumeTicket {
                    session,
                    token,
                    received: request.received,
                    missed,
                    cached_dict: holds_current_dict(&self.host.core, dict_version),
                    remote_addr: self.session.remote_addr(),
                    kind: self.session.transport(),
                };
                Claimed::Here(Box::new(ticket))
            }),
        };
        if let Some(telemetry) = &self.host.core.telemetry {
            telemetry.resume.attempted(outcome.as_ref().err().copied());
        }
        outcome.map_err(NotResumed::Refused)
    }

    /// The `user` object of an accepted handshake with resume on: this session's token, and
    /// why the resume the client asked for was refused, if it was.
    pub(super) fn fresh_session_user(
        &self,
        resume: &ResumeConfig,
        refused: Option<ResumeRefusal>,
    ) -> serde_json::Value {
        let session = &self.session;
        let token = session.inner().outbox.issue_token(session.id(), resume);
        ResumeReply {
            token: token.to_string(),
            session: session.id(),
            resumed: false,
            replayed: 0,
            grace_ms: millis(resume.grace),
            refused: refused.map(|refusal| RefusedResume {
                code: refusal.code(),
                reason: refusal.reason().to_owned(),
            }),
        }
        .to_user()
    }

    /// After the connection ended with `end`: with resume on and the connection dropped,
    /// keeps the session for its client, serving each connection that resumes it, until it
    /// ends for good; returns how it ended.
    pub(super) async fn keep_for_resume(&mut self, mut end: End) -> End {
        loop {
            let Some(resume) = self.host.config.resume.clone() else {
                return end;
            };
            if !end.is_drop() || self.phase != Phase::Working || self.draining {
                return end;
            }
            if !matches!(end, End::Replaced) && !self.dropped(&end) {
                return End::Overflow;
            }
            match self.wait_for_client(resume.grace).await {
                Ok(handoff) => end = self.serve_resumed(handoff, &resume).await,
                Err(last) => return last,
            }
        }
    }

    /// The connection dropped: the session waits for its client. `false` when pushes it may
    /// have missed are already lost.
    fn dropped(&self, end: &End) -> bool {
        let session = &self.session;
        if !session.inner().outbox.detach(None) {
            return false;
        }
        tracing::info!(%end, "session dropped; waiting for its client to resume it");
        if let Some(telemetry) = &self.host.core.telemetry {
            telemetry.resume.dropped.inc();
        }
        session.run_hooks(|hooks| &hooks.dropped);
        true
    }

    /// Waits for a connection resuming the session, while the handler that was running
    /// finishes; `Err` with why the session ends instead.
    async fn wait_for_client(&mut self, grace: Duration) -> Result<Handoff, End> {
        let session = self.session.clone();
        let outbox = &session.inner().outbox;
        let host = self.host.clone();
        let expiry = tokio::time::sleep_until(Instant::now() + grace);
        let notified = host.shutdown.notified();
        tokio::pin!(expiry, notified);
        let mut shutdown = host.shutdown.changes(notified);
        let waited = loop {
            if host.shutdown.stage() == Stage::Forced {
                break Err(End::Forced);
            }
            let busy = self.in_flight.is_some();
            tokio::select! {
                biased;
                event = poll_fn(|cx| poll_event(outbox, cx)) => break self.on_event(event),
                reply = poll_in_flight(&mut self.in_flight), if busy => self.finish_in_flight(reply),
                stage = &mut shutdown => break Err(match stage {
                    Stage::Forced => End::Forced,
                    _ => End::Kicked("server shutting down".to_owned(), KickCause::Shutdown),
                }),
                () = &mut expiry => break Err(End::GraceExpired),
            }
        };
        if let Some(telemetry) = &self.host.core.telemetry {
            telemetry.resume.dropped.dec();
        }
        waited
    }

    fn on_event(&self, event: DetachedEvent) -> Result<Handoff, End> {
        match event {
            DetachedEvent::Resumed(handoff) => Ok(handoff),
            DetachedEvent::Close(CloseRequest::Kick(reason, cause)) => {
                Err(End::Kicked(reason, cause))
            }
            DetachedEvent::Close(CloseRequest::Overflow) => {
                if let Some(telemetry) = &self.host.core.telemetry {
                    telemetry.resume.overflows.inc();
                }
                Err(End::Overflow)
            }
            DetachedEvent::Close(CloseRequest::Close | CloseRequest::Replaced) => Err(End::Closed),
        }
    }

    /// Serves the connection that resumed the session until it ends: the handshake reply
    /// now, the missed pushes at its HandshakeAck.
    async fn serve_resumed(&mut self, handoff: Handoff, resume: &ResumeConfig) -> End {
        let Handoff {
            transport,
            remote_addr,
            kind,
            received,
            cached_dict,
            token,
            missed,
        } = handoff;
        let session = self.session.clone();
        let outbox = &session.inner().outbox;
        if !outbox.detach(Some(received)) {
            return End::Overflow;
        }
        session.set_peer(remote_addr, kind);
        tracing::info!(?remote_addr, transport = kind.as_str(), "session resumed");
        self.restart(received);
        let mut reply = self.accepted(cached_dict);
        reply.user = ResumeReply {
            token: token.to_string(),
            session: session.id(),
            resumed: true,
            replayed: missed,
            grace_ms: millis(resume.grace),
            refused: None,
        }
        .to_user();
        self.send_handshake(&reply);
        session.run_hooks(|hooks| &hooks.resumed);
        // Boxed: a dropped session, waiting, does not hold the state of a served connection.
        let mut transport = transport;
        let mut end = Box::pin(self.run(&mut transport)).await;
        end.take_transport(transport);
        end
    }

    /// A new connection serves the session: its handshake is answered, its ack awaited.
    fn restart(&mut self, received: u64) {
        let now = Instant::now();
        self.phase = Phase::Handshaken;
        self.last_seen = now;
        (self.beat_before_last, self.last_beat) = (now, now);
        self.next_beat = now + self.host.heartbeat().unwrap_or(super::NEVER);
        self.resuming = Some(received);
        self.resent_up_to = self.session.last_mid();
    }

    /// At the HandshakeAck of a resumed session's client: queues the pushes it missed.
    pub(super) fn replay_missed(&mut self) -> Result<(), End> {
        let Some(received) = self.resuming.take() else {
            return Ok(());
        };
        let replayed = self
            .session
            .inner()
            .outbox
            .attach(received)
            .ok_or(End::Overflow)?;
        if let Some(telemetry) = &self.host.core.telemetry {
            telemetry.resume.replayed.inc_by(replayed as u64);
        }
        Ok(())
    }

    /// A request sent again after a resume (its id is at most the highest seen before it):
    /// answered from the response cache, or left to its running handler, or 410.
    pub(super) fn answer_resent(&self, mid: u64) {
        if self.session.inner().outbox.resent(mid) == Resent::Gone {
            let gone = HandlerError::new(RESPONSE_GONE, "response no longer available");
            let _ = self.session.respond_error(mid, &gone);
        }
    }

    /// Remembers why a resumable session ended, for the refusal of a later resume.
    pub(super) fn bury(&self, end: &End) {
        if self.host.config.resume.is_none() || self.phase == Phase::Connected {
            return;
        }
        let refusal = match end {
            End::Overflow => ResumeRefusal::Overflow,
            End::Kicked(..) | End::Closed | End::Forced => ResumeRefusal::Ended,
            _ => ResumeRefusal::Expired,
        };
        self.host.tombstones.bury(self.session.id(), refusal);
    }
}

/// The outbox's next event for a dropped session, as a future's poll.
fn poll_event(
    outbox: &crate::outbox::Outbox,
    cx: &mut std::task::Context<'_>,
) -> Poll<DetachedEvent> {
    outbox.poll_detached(cx).map_or(Poll::Pending, Poll::Ready)
}

/// A duration in whole milliseconds, for the reply's `graceMs`.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
