//! One connection, from accept to close: the protocol state machine of `docs/PROTOCOL.md`
//! section 4, written once against [`PacketTransport`] and used by every transport.
//!
//! A connection is one task. It reads packets, runs one handler at a time (so a session's
//! messages are handled in arrival order), writes what the session's outbox holds, sends
//! heartbeats and enforces the timeouts. It stops reading while a handler runs or while the
//! outbox is full, so a client can never make the server buffer more than one message and one
//! send queue for it.
//!
//! - this file: the connection's loop, its timers and its phases;
//! - [`handshake`]: the handshake phase;
//! - [`messages`]: data messages, routing and replies;
//! - [`writer`]: the outbox into the transport, and reading;
//! - [`resume`]: session resume — taking a session over, the grace window of a dropped one;
//! - [`rate_limit`], [`end`]: the rate limit, and why a connection ended.

mod end;
mod handshake;
mod messages;
mod rate_limit;
mod resume;

pub(crate) use resume::ResumeTicket;
mod writer;

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::SinkExt;
use tokio::time::Instant;
use tracing::Instrument;

use crate::Session;
use crate::dispatch::HandlerCall;
use crate::handler::Reply;
use crate::host::Host;
use crate::metrics::Counters;
use crate::outbox::CloseRequest;
use crate::prometheus::{KickCause, RouteMetrics};
use crate::protocol::{EncodedPacket, Kick, Packet, PacketType};
use crate::session::TransportKind;
use crate::shutdown_signal::Stage;
use crate::transport::PacketTransport;
use end::End;
use rate_limit::TokenBucket;
use writer::{Io, Writer};

/// Where the connection is in the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for the client's Handshake.
    Connected,
    /// Handshake answered, waiting for the Ack.
    Handshaken,
    /// Serving messages.
    Working,
}

/// A handler running for the current message.
struct InFlight {
    mid: u64,
    /// The route's metrics, with when the packet was read and the handler started.
    timing: Option<Timing>,
    call: HandlerCall,
}

/// A running handler's route metrics, and its times.
struct Timing {
    metrics: Arc<RouteMetrics>,
    /// When its packet was read.
    read: std::time::Instant,
    /// When its handler was called.
    started: std::time::Instant,
}

/// What handling a packet left to do.
enum Handled {
    /// The packet was handled; the handler it started, if it is still running.
    Packet(Option<InFlight>),
    /// A Handshake: its body, for the connection's loop to answer.
    Handshake(Bytes),
}

/// Stands in for "no heartbeat".
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// Serves one connection until it ends; the session is finished (close callbacks, groups)
/// before the future completes. With resume on, a session whose connection drops is kept for
/// its client during the grace window, serving each connection that resumes it.
///
/// Not an `async fn`: the returned block holds `transport` once, in place (an `async fn`
/// keeps a second copy of an argument it borrows mutably), which an idle session's memory
/// counts. Nothing happens until it is first polled.
#[expect(
    clippy::manual_async_fn,
    reason = "an `async fn` would hold the transport twice (see above)"
)]
pub(crate) fn serve<T: PacketTransport>(
    host: Arc<Host>,
    mut transport: T,
    remote_addr: Option<SocketAddr>,
    kind: TransportKind,
) -> impl Future<Output = ()> + Send {
    async move {
        let session = open(&host, remote_addr, kind);
        let mut connection = Connection::new(host.clone(), session.clone());
        let span = session.span();
        // The transport borrowed, not moved into the instrumented future: moved, it would be
        // held twice.
        let mut end = connection
            .run(&mut transport)
            .instrument(span.clone())
            .await;
        end.take_transport(transport);
        if end.is_drop() && host.config.resume.is_some() {
            // Boxed: only a dropped session pays for the state of its grace window and of
            // the connections that resume it.
            let kept = Box::pin(connection.keep_for_resume(end));
            end = kept.instrument(span.clone()).await;
        }
        finish(&host, &session, &connection, &end);
    }
}

/// A new connection's session, registered and counted.
fn open(host: &Host, remote_addr: Option<SocketAddr>, kind: TransportKind) -> Session {
    let session = Session::new(host.core.clone(), remote_addr, kind);
    host.sessions.insert(&session);
    let counters = &host.core.counters;
    Counters::add(&counters.sessions_open, 1);
    Counters::add(&counters.sessions_total, 1);
    if let Some(telemetry) = &host.core.telemetry {
        telemetry.session_opened(kind.as_str());
    }
    session
}

/// After the connection and any grace window: logs how the session ended, and finishes it.
fn finish(host: &Host, session: &Session, connection: &Connection, end: &End) {
    let counters = &host.core.counters;
    session.span().in_scope(|| {
        if end.is_protocol_error() {
            Counters::add(&counters.errors, 1);
            tracing::info!(%end, "session closed");
        } else {
            tracing::debug!(%end, "session closed");
        }
    });
    if let Some(telemetry) = &host.core.telemetry {
        telemetry.session_closed(end.reason());
    }
    if matches!(end, End::Resume(_) | End::ResumedElsewhere(_)) {
        // This connection now serves an earlier session: its own never served a client.
        session.discard();
    } else {
        connection.bury(end);
        session.finish();
    }
    host.sessions.remove(session);
    counters.sessions_open.sub(1);
}

struct Connection {
    host: Arc<Host>,
    session: Session,
    phase: Phase,
    /// Shutdown has started: finish the in-flight handler, then kick.
    draining: bool,
    /// When the client was last heard from (or the server last stopped reading).
    last_seen: Instant,
    /// The server's next heartbeat.
    next_beat: Instant,
    /// The server's heartbeat before last: a client not heard from since is dropped.
    beat_before_last: Instant,
    /// The server's last heartbeat.
    last_beat: Instant,
    /// Boxed: most apps set no rate limit.
    rate: Option<Box<TokenBucket>>,
    /// The handler running for the current message: it survives a change of connection.
    /// Boxed: most handlers finish when called, and an idle connection keeps 8 bytes for it.
    in_flight: Option<Box<InFlight>>,
    /// A resumed session's client has not acknowledged the handshake yet: it received this
    /// many pushes, and those after them are replayed at its HandshakeAck.
    resuming: Option<u64>,
    /// Requests with ids up to this one were sent before the last resume: one sent again is
    /// answered from the response cache, not handled twice (0: none).
    resent_up_to: u64,
}

impl Connection {
    fn new(host: Arc<Host>, session: Session) -> Self {
        let now = Instant::now();
        let next_beat = now + host.heartbeat().unwrap_or(NEVER);
        let rate = host
            .config
            .rate_limit
            .map(|limit| Box::new(TokenBucket::new(limit)));
        Self {
            host,
            session,
            phase: Phase::Connected,
            draining: false,
            last_seen: now,
            next_beat,
            beat_before_last: now,
            last_beat: now,
            rate,
            in_flight: None,
            resuming: None,
            resent_up_to: 0,
        }
    }

    /// Serves `transport` until the connection ends, then writes what is left and closes it,
    /// unless it ended to resume a session: [`End::take_transport`] then hands it on.
    async fn run<T: PacketTransport>(&mut self, transport: &mut T) -> End {
        let end = self.serve_until_end(transport).await;
        match &end {
            End::Resume(_) | End::ResumedElsewhere(_) => return end,
            // Gone, or about to be: the client is on its new connection.
            End::Replaced => return end,
            _ => {}
        }
        // One deadline for the last writes and the close together: a client that stopped
        // reading holds its connection open for `final_write_timeout`, not once per step.
        let deadline = Instant::now() + self.host.config.final_write_timeout;
        if end.can_write() {
            // Best effort: let the client see what was queued (a handshake refusal, the last
            // responses) and the Kick before the connection closes.
            let last = self.last_packets(&end);
            let write_all = async {
                for packet in last {
                    transport.feed(packet).await?;
                }
                transport.flush().await
            };
            let _ = Box::pin(tokio::time::timeout_at(deadline, write_all)).await;
        }
        let _ = Box::pin(tokio::time::timeout_at(deadline, transport.close())).await;
        end
    }

    /// What is still queued for the client, and the Kick if it was kicked.
    fn last_packets(&self, end: &End) -> VecDeque<EncodedPacket> {
        let mut last = VecDeque::new();
        self.session.inner().outbox.drain_into(&mut last);
        if let End::Kicked(reason, _) = end {
            Counters::add(&self.host.core.counters.kicks, 1);
            if let Ok(kick) =
                EncodedPacket::from_packet(&Packet::kick(Kick::new(reason.clone()).to_json()))
            {
                last.push_back(kick);
            }
        }
        last
    }

    async fn serve_until_end<T: PacketTransport>(&mut self, transport: &mut T) -> End {
        let mut writer = Writer::default();
        let handshake_deadline = Instant::now() + self.host.config.handshake_timeout;
        let timer = tokio::time::sleep_until(self.next_deadline(handshake_deadline));
        // Made once: the wait registers with the app's shutdown on first poll; polled again, it
        // checks an atomic.
        let host = self.host.clone();
        let notified = host.shutdown.notified();
        tokio::pin!(timer, notified);
        let mut shutdown = host.shutdown.changes(notified);
        let session = self.session.clone();
        let outbox = &session.inner().outbox;

        loop {
            if host.shutdown.stage() == Stage::Forced {
                // Checked first: a client that keeps the connection busy cannot delay it.
                return End::Forced;
            }
            let busy = self.in_flight.is_some();
            let may_read = writer.closing.is_none() && !self.draining && !busy;
            if !may_read || outbox.is_full() {
                // The server is not listening; the client cannot be blamed for silence.
                self.last_seen = Instant::now();
            }
            let handshake = tokio::select! {
                biased;
                io = poll_fn(|cx| writer.poll_io(cx, &mut *transport, outbox, busy, may_read)) => {
                    self.count_io(&io, writer.take_written());
                    match self.on_io(io) {
                        Ok(Handled::Packet(started)) => {
                            self.in_flight = started.map(Box::new);
                            None
                        }
                        Ok(Handled::Handshake(body)) => Some(body),
                        Err(end) => return end,
                    }
                }
                reply = poll_in_flight(&mut self.in_flight), if busy => {
                    self.finish_in_flight(reply);
                    None
                }
                stage = &mut shutdown => {
                    if stage == Stage::Forced {
                        return End::Forced;
                    }
                    self.draining = true;
                    None
                }
                () = &mut timer => {
                    if let Err(end) = self.on_timer(handshake_deadline) {
                        return end;
                    }
                    timer.as_mut().reset(self.next_deadline(handshake_deadline));
                    None
                }
            };
            if let Some(body) = handshake {
                // Awaited here, boxed, rather than inside the packet's handling: its state (the
                // validator's future) lives on the heap only while a handshake runs, and the
                // connection's own state is no bigger for it.
                if let Err(end) = Box::pin(self.on_handshake(&body)).await {
                    return end;
                }
            }
            if self.draining && self.in_flight.is_none() && writer.closing.is_none() {
                session.kick_for("server shutting down".to_owned(), KickCause::Shutdown);
            }
        }
    }

    /// Answers with the reply of the handler that was running, and records its metrics.
    fn finish_in_flight(&mut self, reply: Reply) {
        if let Some(in_flight) = self.in_flight.take() {
            let InFlight { mid, timing, call } = *in_flight;
            call.span()
                .in_scope(|| self.deliver(mid, call.route(), reply));
            if let Some(timing) = timing {
                timing
                    .metrics
                    .finished(timing.read, timing.started, mid != 0);
            }
        }
    }

    /// What the I/O produced: a packet to handle, or the end of the connection.
    fn on_io(&mut self, io: Io) -> Result<Handled, End> {
        let packet = match io {
            Io::WriteFailed(err) => return Err(End::Io(err)),
            Io::Close(CloseRequest::Kick(reason, cause)) => return Err(End::Kicked(reason, cause)),
            Io::Close(CloseRequest::Close) => return Err(End::Closed),
            Io::Close(CloseRequest::Replaced) => return Err(End::Replaced),
            Io::Close(CloseRequest::Overflow) => return Err(End::Overflow),
            Io::Packet(None) => return Err(End::ClientClosed),
            Io::Packet(Some(Err(err))) => return Err(End::Protocol(err)),
            Io::Packet(Some(Ok(packet))) => packet,
        };
        self.last_seen = Instant::now();
        self.on_packet(packet)
    }

    /// Counts the bytes read (`io`'s packet, with its 4-byte header) and `written`.
    fn count_io(&self, io: &Io, written: u64) {
        let Some(telemetry) = &self.host.core.telemetry else {
            return;
        };
        if let Io::Packet(Some(Ok(packet))) = io {
            telemetry.bytes_in.inc_by(packet.body.len() as u64 + 4);
        }
        if written > 0 {
            telemetry.bytes_out.inc_by(written);
        }
    }

    fn next_deadline(&self, handshake_deadline: Instant) -> Instant {
        if self.phase == Phase::Working {
            self.next_beat
        } else {
            self.next_beat.min(handshake_deadline)
        }
    }

    /// The handshake deadline, or a heartbeat: the client's liveness is checked, then the
    /// server's heartbeat sent.
    ///
    /// A client not heard from since the server's heartbeat before last is dropped: silent
    /// for two heartbeat intervals as the server's own heartbeats measure them, so between two
    /// and three intervals after its last packet (nano checks at its heartbeats too). Measured
    /// from the heartbeats rather than as "two intervals from now", a pomelo client is never
    /// dropped for the server's timer firing late: it answers a server heartbeat one interval
    /// later and ignores those that arrive while it waits, so it may beat only every two
    /// intervals, each beat just after a server heartbeat.
    fn on_timer(&mut self, handshake_deadline: Instant) -> Result<(), End> {
        let now = Instant::now();
        if self.phase != Phase::Working && now >= handshake_deadline {
            return Err(End::HandshakeTimeout);
        }
        let Some(beat) = self.host.heartbeat() else {
            return Ok(());
        };
        if now < self.next_beat {
            return Ok(());
        }
        if self.last_seen < self.beat_before_last {
            return Err(End::HeartbeatTimeout);
        }
        if self.phase == Phase::Working {
            let heartbeat = EncodedPacket::heartbeat();
            let _ = self.session.inner().outbox.push_always(heartbeat);
        }
        (self.beat_before_last, self.last_beat) = (self.last_beat, now);
        self.next_beat = now + beat;
        Ok(())
    }

    /// Handles one packet: starts its handler (returned, if it is still running), or returns
    /// the body of a Handshake, for the caller to answer.
    fn on_packet(&mut self, packet: Packet) -> Result<Handled, End> {
        if let Some(rate) = &mut self.rate
            && !rate.take(self.last_seen)
        {
            return Err(End::Kicked(
                "rate limit exceeded".to_owned(),
                KickCause::RateLimit,
            ));
        }
        match (self.phase, packet.kind) {
            (_, PacketType::Heartbeat) => Ok(Handled::Packet(None)),
            (Phase::Connected, PacketType::Handshake) => Ok(Handled::Handshake(packet.body)),
            (Phase::Handshaken, PacketType::HandshakeAck) => {
                self.phase = Phase::Working;
                let now = Instant::now();
                (self.beat_before_last, self.last_beat) = (now, now);
                self.next_beat = now + self.host.heartbeat().unwrap_or(NEVER);
                self.replay_missed().map(|()| Handled::Packet(None))
            }
            (Phase::Working, PacketType::Data) => self.on_data(packet.body).map(Handled::Packet),
            (_, PacketType::Handshake) => Err(End::Violation("second handshake")),
            (_, PacketType::HandshakeAck) => Err(End::Violation("handshake ack out of order")),
            (_, PacketType::Data) => Err(End::Violation("data before the handshake completed")),
            (_, PacketType::Kick) => Err(End::Violation("kick sent by a client")),
        }
    }
}

/// Polls the in-flight handler (which turns a panic into a 500 reply).
fn poll_in_flight(in_flight: &mut Option<Box<InFlight>>) -> impl Future<Output = Reply> + '_ {
    poll_fn(move |cx| match in_flight.as_mut() {
        Some(in_flight) => Pin::new(&mut in_flight.call).poll(cx),
        None => Poll::Pending,
    })
}
