//! The handshake phase of a connection: parse the client's handshake, ask the app's
//! validator, answer with the session's settings (heartbeat, dictionary, serializer).
//!
//! The dictionary goes out in every form a client family reads (nano's `dict`, pomelo 2.x's
//! `routeToCode`, `codeToRoute` and `dictVersion`) unless the client presented the current
//! `dictVersion`; `useDict: true` goes out whenever a dictionary is in use (`docs/CLIENTS.md`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::end::End;
use super::resume::{Claimed, Elsewhere, NotResumed, SHUTTING_DOWN};
use super::{Connection, Phase};
use crate::core::Core;
use crate::protocol::{
    CodeToRoute, EncodedPacket, HandshakeRequest, HandshakeResponse, Packet, ResumeRequest,
    ServerSys,
};
use crate::resume::ResumeRefusal;

impl Connection {
    /// Answers the client's handshake; `Err` ends the connection (the refusal is queued first).
    pub(super) async fn on_handshake(&mut self, body: &[u8]) -> Result<(), End> {
        let request = match HandshakeRequest::from_json(body) {
            Ok(request) => request,
            Err(err) => {
                self.send_handshake(&HandshakeResponse::error(HandshakeResponse::FAIL));
                return Err(End::Protocol(err));
            }
        };
        let cached = holds_current_dict(&self.host.core, request.sys.dict_version());
        let refused = match self.resume_asked(&request).await {
            Ok(refused) => refused,
            Err(end) => return Err(end),
        };
        if let Some(validator) = &self.host.validator {
            let verdict = validator(request, self.session.clone());
            let timeout = self.host.config.handshake_timeout;
            match tokio::time::timeout(timeout, verdict).await {
                Ok(Ok(())) => {}
                Ok(Err(rejection)) => {
                    let reply = HandshakeResponse {
                        user: rejection.user,
                        ..HandshakeResponse::error(rejection.code)
                    };
                    self.send_handshake(&reply);
                    return Err(End::HandshakeRejected(rejection.code));
                }
                Err(_) => return Err(End::HandshakeTimeout),
            }
        }
        let mut reply = self.accepted(cached);
        if let Some(resume) = &self.host.config.resume {
            reply.user = self.fresh_session_user(resume, refused);
        }
        self.send_handshake(&reply);
        self.phase = Phase::Handshaken;
        Ok(())
    }

    /// A resume the handshake asks for (resume on): `Err` ends this connection's own session
    /// (it resumes another, or the server is shutting down); `Ok` with the refusal, if the
    /// client asked and gets a fresh session.
    async fn resume_asked(
        &mut self,
        request: &HandshakeRequest,
    ) -> Result<Option<ResumeRefusal>, End> {
        if self.host.config.resume.is_none() {
            return Ok(None);
        }
        let Some(asked) = ResumeRequest::from_user(&request.user) else {
            return Ok(None);
        };
        match self.claim(&asked, request.sys.dict_version()).await {
            Ok(Claimed::Here(ticket)) => Err(End::Resume(ticket)),
            Ok(Claimed::Elsewhere(piper)) => Err(End::ResumedElsewhere(Elsewhere(Some(piper)))),
            Err(NotResumed::Refused(refusal)) => Ok(Some(refusal)),
            Err(NotResumed::ShuttingDown) => {
                self.send_handshake(&HandshakeResponse::error(SHUTTING_DOWN));
                Err(End::HandshakeRejected(SHUTTING_DOWN))
            }
        }
    }

    /// The reply to an accepted handshake; `cached`: the client holds the current dictionary.
    pub(super) fn accepted(&self, cached: bool) -> HandshakeResponse {
        let servertime = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let core = &self.host.core;
        let mut sys = ServerSys {
            heartbeat: Some(self.host.heartbeat().unwrap_or(Duration::ZERO)),
            servertime: Some(servertime),
            serializer: Some(core.serializer.name().to_owned()),
            ..ServerSys::default()
        };
        announce_dict(&mut sys, core, cached);
        HandshakeResponse::ok(sys)
    }

    pub(super) fn send_handshake(&self, reply: &HandshakeResponse) {
        if let Ok(packet) = EncodedPacket::from_packet(&Packet::handshake(reply.to_json())) {
            let _ = self.session.inner().outbox.push_always(packet);
        }
    }
}

/// Whether a client presenting `dict_version` holds `core`'s current (non-empty) dictionary.
pub(super) fn holds_current_dict(core: &Core, dict_version: Option<&str>) -> bool {
    core.dict_version.is_some() && dict_version == core.dict_version.as_deref()
}

/// Fills in the dictionary fields: none without a dictionary, only `useDict` for a client that
/// has it cached, else all of them (`dictVersion` never without the two maps: libpomelo2
/// aborts on that).
fn announce_dict(sys: &mut ServerSys, core: &Core, cached: bool) {
    let Some(version) = &core.dict_version else {
        return;
    };
    sys.use_dict = Some(true);
    if cached {
        return;
    }
    sys.dict = Some(core.dict.clone());
    sys.route_to_code = Some(core.dict.clone());
    sys.code_to_route = Some(CodeToRoute(core.dict.clone()));
    sys.dict_version = Some(version.clone());
}
