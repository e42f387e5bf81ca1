//! The handshake phase of a connection: parse the client's handshake, ask the app's
//! validator, answer with the session's settings (heartbeat, dictionary, serializer).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::end::End;
use super::{Connection, Phase};
use crate::protocol::{EncodedPacket, HandshakeRequest, HandshakeResponse, Packet, ServerSys};

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
        self.send_handshake(&self.accepted());
        self.phase = Phase::Handshaken;
        Ok(())
    }

    /// The reply to an accepted handshake.
    fn accepted(&self) -> HandshakeResponse {
        let servertime = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let core = &self.host.core;
        HandshakeResponse::ok(ServerSys {
            heartbeat: Some(self.host.heartbeat().unwrap_or(Duration::ZERO)),
            dict: (!core.dict.is_empty()).then(|| core.dict.clone()),
            servertime: Some(servertime),
            serializer: Some(core.serializer.name().to_owned()),
            ..ServerSys::default()
        })
    }

    fn send_handshake(&self, reply: &HandshakeResponse) {
        if let Ok(packet) = EncodedPacket::from_packet(&Packet::handshake(reply.to_json())) {
            let _ = self.session.inner().outbox.push_always(packet);
        }
    }
}
