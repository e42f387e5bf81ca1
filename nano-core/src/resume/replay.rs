//! [`Replay`]: what a resumable session keeps, inside its outbox and under its lock — its
//! token, the pushes the client may miss, the last responses — and the checks of a resume.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use subtle::ConstantTimeEq;

use super::{ResumeConfig, ResumeRefusal};
use crate::protocol::{EncodedPacket, ResumeToken};
use crate::session::TransportKind;
use crate::transport::PacketTransport;

/// Where a resumable session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A connection serves it: pushes are queued for sending (and kept for replay).
    Attached,
    /// No connection serves it (dropped, or being taken over until the new client's
    /// HandshakeAck): pushes are only kept for replay. The client cannot have received a push
    /// numbered above `written`.
    Detached { written: u64 },
    /// Dropped, and a push the client may have missed no longer fits: the session ends.
    Overflowed,
}

/// A connection that resumes a session, handed to the task that serves the session.
pub(crate) struct Handoff {
    pub(crate) transport: Box<dyn PacketTransport>,
    pub(crate) remote_addr: Option<SocketAddr>,
    pub(crate) kind: TransportKind,
    /// Pushes the client reports it received.
    pub(crate) received: u64,
    /// The client holds the current route dictionary.
    pub(crate) cached_dict: bool,
    /// The token the reply hands out for the next resume.
    pub(crate) token: ResumeToken,
    /// Pushes the client missed when it claimed the session.
    pub(crate) missed: u64,
}

impl fmt::Debug for Handoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handoff")
            .field("remote_addr", &self.remote_addr)
            .field("kind", &self.kind)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

/// Responses up to this many bytes (the packet, header included) are kept by copy, inside the
/// cache's slot: no allocation, and no reference keeping the sent packet's buffer alive.
const INLINE: usize = 96;

/// A response kept to answer a request the client sends again.
#[derive(Debug)]
struct Cached {
    mid: u64,
    packet: Kept,
    /// Written to the current connection (after the last resume).
    sent: bool,
}

/// A kept response's packet: copied when small, else shared with the one sent.
#[derive(Debug)]
enum Kept {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(EncodedPacket),
}

impl Kept {
    fn of(packet: &EncodedPacket) -> Self {
        let wire = packet.as_bytes();
        match u8::try_from(wire.len()) {
            Ok(len) if wire.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..wire.len()].copy_from_slice(wire);
                Kept::Inline { len, bytes }
            }
            _ => Kept::Shared(packet.clone()),
        }
    }

    fn packet(&self) -> Option<EncodedPacket> {
        match self {
            Kept::Inline { len, bytes } => {
                let wire = Bytes::copy_from_slice(&bytes[..usize::from(*len)]);
                EncodedPacket::from_wire(wire).ok()
            }
            Kept::Shared(packet) => Some(packet.clone()),
        }
    }
}

/// What to do with a request the client sent again after a resume.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resent {
    /// Its response, to send again.
    Answer(EncodedPacket),
    /// Nothing: its response went out on this connection, or will once its handler answers.
    Nothing,
    /// Its response is no longer kept: answer with [`RESPONSE_GONE`](super::RESPONSE_GONE).
    Gone,
}

/// A resumable session's token, replay buffer and response cache.
#[derive(Debug)]
pub(crate) struct Replay {
    limits: Limits,
    secret: u128,
    /// The secret of the token the last resume used (a second use is `reused`).
    previous: Option<u128>,
    mode: Mode,
    /// Pushes queued in the session so far: the number of the last one.
    pushed: u64,
    /// The last pushes, numbered `pushed - pushes.len() + 1 ..= pushed`.
    pushes: VecDeque<EncodedPacket>,
    bytes: usize,
    responses: VecDeque<Cached>,
    /// The highest request id whose response was dropped from the cache.
    evicted_mid: u64,
    /// A resume was claimed; its connection is handed over next.
    claimed: bool,
    /// A resuming connection, handed over after the claim.
    pub(crate) handoff: Option<Box<Handoff>>,
}

/// The limits of [`ResumeConfig`] a session's replay state checks, kept small: every
/// resumable session holds a copy.
#[derive(Debug)]
struct Limits {
    replay_capacity: u32,
    replay_bytes: u32,
    response_cache: u32,
}

impl Limits {
    fn new(config: &ResumeConfig) -> Self {
        let small = |limit: usize| u32::try_from(limit).unwrap_or(u32::MAX);
        Self {
            replay_capacity: small(config.replay_capacity),
            replay_bytes: small(config.replay_bytes),
            response_cache: small(config.response_cache),
        }
    }
}

impl Replay {
    pub(crate) fn new(config: &ResumeConfig) -> Self {
        Self {
            limits: Limits::new(config),
            secret: 0,
            previous: None,
            mode: Mode::Attached,
            pushed: 0,
            pushes: VecDeque::new(),
            bytes: 0,
            responses: VecDeque::new(),
            evicted_mid: 0,
            claimed: false,
            handoff: None,
        }
    }

    /// A new token for the session (the previous one stops working).
    pub(crate) fn issue_token(&mut self, session: u64) -> ResumeToken {
        self.secret = rand::random();
        ResumeToken {
            session,
            secret: self.secret,
        }
    }

    /// Whether pushes go to the send queue (a connection serves the session).
    pub(crate) fn is_attached(&self) -> bool {
        self.mode == Mode::Attached
    }

    /// Whether pushes the client may have missed were dropped.
    pub(crate) fn overflowed(&self) -> bool {
        self.mode == Mode::Overflowed
    }

    /// Keeps a queued push for replay; `false` when keeping it lost one a dropped client may
    /// have missed (the session overflowed).
    pub(crate) fn keep_push(&mut self, packet: &EncodedPacket) -> bool {
        self.pushed += 1;
        self.bytes += packet.len();
        self.pushes.push_back(packet.clone());
        while self.pushes.len() > self.limits.replay_capacity as usize
            || (self.bytes > self.limits.replay_bytes as usize && self.pushes.len() > 1)
        {
            if let Some(old) = self.pushes.pop_front() {
                self.bytes -= old.len();
            }
        }
        if let Mode::Detached { written } = self.mode
            && !self.covers(written)
        {
            self.mode = Mode::Overflowed;
            self.pushes = VecDeque::new();
            self.bytes = 0;
            return false;
        }
        true
    }

    /// Whether the buffer holds every push after the first `received`.
    fn covers(&self, received: u64) -> bool {
        // The oldest push kept is numbered `pushed - len + 1`.
        received + self.pushes.len() as u64 >= self.pushed
    }

    /// Keeps a response; `queued`: it is being sent on the current connection.
    pub(crate) fn keep_response(&mut self, mid: u64, packet: &EncodedPacket, queued: bool) {
        if self.limits.response_cache == 0 {
            self.evicted_mid = self.evicted_mid.max(mid);
            return;
        }
        if self.responses.len() >= self.limits.response_cache as usize
            && let Some(old) = self.responses.pop_front()
        {
            self.evicted_mid = self.evicted_mid.max(old.mid);
        }
        if self.responses.capacity() == 0 {
            // One slot at first (a session that made one request holds one), doubling after.
            self.responses.reserve_exact(1);
        }
        self.responses.push_back(Cached {
            mid,
            packet: Kept::of(packet),
            sent: queued,
        });
    }

    /// Pushes queued in the session so far.
    pub(crate) fn pushed(&self) -> u64 {
        self.pushed
    }

    /// No connection serves the session now (it dropped, or a resuming client has not sent
    /// its HandshakeAck yet): pushes are only kept, and the client cannot have received any
    /// numbered above `written`.
    pub(crate) fn detach(&mut self, written: u64) {
        if self.mode == Mode::Overflowed {
            return;
        }
        self.mode = if self.covers(written) {
            Mode::Detached { written }
        } else {
            Mode::Overflowed
        };
    }

    /// Checks a resume with `secret` from a client that received `received` pushes.
    pub(crate) fn verify(&mut self, secret: u128, received: u64) -> Result<(), ResumeRefusal> {
        let matches = |kept: u128| bool::from(kept.to_le_bytes().ct_eq(&secret.to_le_bytes()));
        if !matches(self.secret) {
            return Err(match self.previous {
                Some(previous) if matches(previous) => ResumeRefusal::Reused,
                _ => ResumeRefusal::Forged,
            });
        }
        if self.mode == Mode::Overflowed {
            return Err(ResumeRefusal::Overflow);
        }
        if received > self.pushed {
            return Err(ResumeRefusal::Missed);
        }
        if !self.covers(received) {
            self.mode = Mode::Overflowed;
            return Err(ResumeRefusal::Overflow);
        }
        Ok(())
    }

    /// Spends the current token on a resume (verified): the connection making it hands
    /// itself over next.
    pub(crate) fn spend(&mut self) {
        self.previous = Some(self.secret);
        self.claimed = true;
    }

    /// Whether a resume was claimed and its connection not handed over yet.
    pub(crate) fn claimed(&self) -> bool {
        self.claimed
    }

    /// The connection a claimed resume handed over, if it has.
    pub(crate) fn take_handoff(&mut self) -> Option<Handoff> {
        let handoff = self.handoff.take()?;
        self.claimed = false;
        Some(*handoff)
    }

    /// Pushes a client that received `received` has not.
    pub(crate) fn missed_by(&self, received: u64) -> u64 {
        self.pushed.saturating_sub(received)
    }

    /// The resuming client, which received `received` pushes, has sent its HandshakeAck: the
    /// pushes it missed, in order, to queue before anything else, and pushes are queued again
    /// from now on. `None` when some of them were lost meanwhile (the session overflowed).
    pub(crate) fn attach(&mut self, received: u64) -> Option<Vec<EncodedPacket>> {
        if self.mode == Mode::Overflowed || received > self.pushed || !self.covers(received) {
            self.mode = Mode::Overflowed;
            return None;
        }
        self.mode = Mode::Attached;
        for cached in &mut self.responses {
            cached.sent = false;
        }
        let missed = usize::try_from(self.pushed - received).unwrap_or(usize::MAX);
        let first_missed = self.pushes.len().saturating_sub(missed);
        Some(self.pushes.iter().skip(first_missed).cloned().collect())
    }

    /// A request `mid` sent again after a resume.
    pub(crate) fn resent(&mut self, mid: u64) -> Resent {
        match self.responses.iter_mut().find(|cached| cached.mid == mid) {
            Some(cached) if cached.sent => Resent::Nothing,
            Some(cached) => match cached.packet.packet() {
                Some(packet) => {
                    cached.sent = true;
                    Resent::Answer(packet)
                }
                None => Resent::Gone,
            },
            None if mid > self.evicted_mid => Resent::Nothing,
            None => Resent::Gone,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Message;

    fn response(mid: u64, body_len: usize) -> EncodedPacket {
        let message = Message::Response {
            id: mid,
            payload: Bytes::from(vec![b'x'; body_len]),
            error: false,
        };
        EncodedPacket::from_message(&message, None).expect("a response")
    }

    #[test]
    fn small_and_large_responses_are_answered_again_byte_for_byte() {
        let mut replay = Replay::new(&ResumeConfig::default());
        let (small, large) = (response(1, 8), response(2, 500));
        replay.keep_response(1, &small, true);
        replay.keep_response(2, &large, true);
        assert!(matches!(replay.resent(1), Resent::Nothing), "sent already");
        replay.detach(0);
        assert!(replay.attach(0).is_some());
        for (mid, want) in [(1, &small), (2, &large)] {
            match replay.resent(mid) {
                Resent::Answer(packet) => assert_eq!(packet.as_bytes(), want.as_bytes()),
                other => panic!("{mid}: {other:?}"),
            }
            assert!(
                matches!(replay.resent(mid), Resent::Nothing),
                "answered once"
            );
        }
        assert!(
            matches!(replay.resent(3), Resent::Nothing),
            "not seen: a new request"
        );
    }

    #[test]
    fn an_evicted_response_is_gone() {
        let mut replay = Replay::new(&ResumeConfig::default().response_cache(1));
        replay.keep_response(1, &response(1, 4), true);
        replay.keep_response(2, &response(2, 4), true);
        replay.detach(0);
        assert!(replay.attach(0).is_some());
        assert!(matches!(replay.resent(1), Resent::Gone));
        assert!(matches!(replay.resent(2), Resent::Answer(_)));
    }
}
