//! One connection, from accept to close: the protocol state machine of PROTOCOL.md section 4,
//! written once against [`PacketTransport`] and used by every transport.
//!
//! A connection is one task. It reads packets, runs one handler at a time (so a session's
//! messages are handled in arrival order), writes what the session's outbox holds, sends
//! heartbeats and enforces the timeouts. It stops reading while a handler runs or while the
//! outbox is full, so a client can never make the server buffer more than one message and one
//! send queue for it.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::SinkExt;
use tokio::time::Instant;
use tracing::Instrument;

use crate::app::AppInner;
use crate::handler::Reply;
use crate::metrics::Counters;
use crate::outbox::{CloseRequest, Outbox};
use crate::protocol::{
    EncodedPacket, HandshakeRequest, HandshakeResponse, Kick, Message, Packet, PacketType,
    ProtocolError, ServerSys,
};
use crate::service::{Dispatch, ReplyFuture};
use crate::session::TransportKind;
use crate::transport::PacketTransport;
use crate::{Call, HandlerError, Session};

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

/// Why a connection ended (for the logs).
#[derive(Debug)]
enum End {
    ClientClosed,
    Protocol(ProtocolError),
    Violation(&'static str),
    HandshakeRejected(u16),
    HandshakeTimeout,
    HeartbeatTimeout,
    Kicked(String),
    Closed,
    Forced,
    Io(ProtocolError),
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::ClientClosed => f.write_str("closed by the client"),
            End::Protocol(err) => write!(f, "protocol error: {err}"),
            End::Violation(what) => write!(f, "protocol violation: {what}"),
            End::HandshakeRejected(code) => write!(f, "handshake rejected with code {code}"),
            End::HandshakeTimeout => f.write_str("handshake timeout"),
            End::HeartbeatTimeout => f.write_str("heartbeat timeout"),
            End::Kicked(reason) => write!(f, "kicked: {reason}"),
            End::Closed => f.write_str("closed by the server"),
            End::Forced => f.write_str("closed at the end of the shutdown deadline"),
            End::Io(err) => write!(f, "transport error: {err}"),
        }
    }
}

/// A handler running for the current message.
struct InFlight {
    mid: u64,
    route: &'static str,
    future: ReplyFuture<'static>,
    span: tracing::Span,
}

/// Serves one connection until it ends; the session is finished (close callbacks, groups)
/// before this returns.
pub(crate) async fn serve<T: PacketTransport>(
    app: Arc<AppInner>,
    transport: T,
    remote_addr: Option<SocketAddr>,
    kind: TransportKind,
) {
    let session = Session::new(app.core.clone(), remote_addr, kind);
    let counters = &app.core.counters;
    Counters::add(&counters.sessions_open, 1);
    Counters::add(&counters.sessions_total, 1);
    let span = tracing::debug_span!("session", id = session.id(), remote = ?remote_addr, transport = ?kind);
    let end = Connection::new(app.clone(), session.clone())
        .run(transport)
        .instrument(span.clone())
        .await;
    span.in_scope(|| match &end {
        End::Protocol(_) | End::Violation(_) => {
            Counters::add(&counters.errors, 1);
            tracing::info!(%end, "session closed");
        }
        _ => tracing::debug!(%end, "session closed"),
    });
    session.finish();
    counters.sessions_open.sub(1);
}

struct Connection {
    app: Arc<AppInner>,
    session: Session,
    phase: Phase,
    /// Shutdown has started: finish the in-flight handler, then kick.
    draining: bool,
    last_seen: Instant,
    next_beat: Instant,
    rate: Option<TokenBucket>,
}

/// A token bucket for the per-session rate limit.
struct TokenBucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn new(limit: crate::config::RateLimit) -> Self {
        let burst = f64::from(limit.burst.max(1));
        Self {
            tokens: burst,
            burst,
            per_second: f64::from(limit.per_second),
            refilled: Instant::now(),
        }
    }

    /// Takes a token; `false` when there is none left.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// The write side: moves the session's outbox into the transport.
#[derive(Default)]
struct Writer {
    /// Packets handed to the transport since the last flush.
    unflushed: bool,
    /// A close requested through the outbox, waiting for the queue to be written.
    closing: Option<CloseRequest>,
}

/// What the connection's I/O produced.
enum Io {
    /// A packet from the client, `None` at the end of its stream.
    Packet(Option<Result<Packet, ProtocolError>>),
    /// A close was requested (and everything queued before it written, unless the client stopped
    /// reading).
    Close(CloseRequest),
    /// Writing failed.
    WriteFailed(ProtocolError),
}

impl Connection {
    fn new(app: Arc<AppInner>, session: Session) -> Self {
        let now = Instant::now();
        let beat = app.heartbeat();
        Self {
            app,
            session,
            phase: Phase::Connected,
            draining: false,
            last_seen: now,
            next_beat: now + beat.unwrap_or(NEVER),
            rate: None,
        }
        .with_rate_limit()
    }

    fn with_rate_limit(mut self) -> Self {
        self.rate = self.app.config.rate_limit.map(TokenBucket::new);
        self
    }

    async fn run<T: PacketTransport>(mut self, mut transport: T) -> End {
        let end = self.serve_until_end(&mut transport).await;
        let sink = &mut transport;
        if !matches!(end, End::Forced | End::Io(_)) {
            // Best effort: let the client see what was queued (a handshake refusal, the last
            // responses) and the Kick before the connection closes.
            let mut last = VecDeque::new();
            self.session.inner().outbox.drain_into(&mut last);
            if matches!(end, End::Kicked(_)) {
                Counters::add(&self.app.core.counters.kicks, 1);
            }
            if let End::Kicked(reason) = &end
                && let Ok(kick) =
                    EncodedPacket::from_packet(&Packet::kick(Kick::new(reason.clone()).to_json()))
            {
                last.push_back(kick);
            }
            let write_all = async {
                for packet in last {
                    sink.feed(packet).await?;
                }
                sink.flush().await
            };
            let _ = Box::pin(tokio::time::timeout(FINAL_WRITE, write_all)).await;
        }
        let _ = Box::pin(tokio::time::timeout(FINAL_WRITE, sink.close())).await;
        end
    }

    async fn serve_until_end<T: PacketTransport>(&mut self, transport: &mut T) -> End {
        let mut writer = Writer::default();
        let handshake_deadline = Instant::now() + self.app.config.handshake_timeout;
        let timer = tokio::time::sleep_until(self.next_deadline(handshake_deadline));
        tokio::pin!(timer);
        // Made once: a cancellation future registers with its token on first poll, and all
        // connections share the token.
        let force = self.app.force_close.clone();
        let drain = self.app.drain.clone();
        let force_cancelled = force.cancelled();
        let drain_cancelled = drain.cancelled();
        tokio::pin!(force_cancelled, drain_cancelled);
        let session = self.session.clone();
        let outbox = &session.inner().outbox;
        let mut in_flight: Option<InFlight> = None;

        loop {
            let busy = in_flight.is_some();
            let can_read = writer.closing.is_none() && !self.draining && !busy && !outbox.is_full();
            if !can_read {
                // The server is not listening; the client cannot be blamed for silence.
                self.last_seen = Instant::now();
            }
            tokio::select! {
                biased;
                () = &mut force_cancelled => return End::Forced,
                io = poll_fn(|cx| writer.poll_io(cx, &mut *transport, outbox, busy, can_read)) => {
                    let packet = match io {
                        Io::WriteFailed(err) => return End::Io(err),
                        Io::Close(CloseRequest::Kick(reason)) => return End::Kicked(reason),
                        Io::Close(CloseRequest::Close) => return End::Closed,
                        Io::Packet(None) => return End::ClientClosed,
                        Io::Packet(Some(Err(err))) => return End::Protocol(err),
                        Io::Packet(Some(Ok(packet))) => packet,
                    };
                    self.last_seen = Instant::now();
                    match self.on_packet(packet).await {
                        Ok(started) => in_flight = started,
                        Err(end) => return end,
                    }
                }
                reply = poll_in_flight(&mut in_flight), if busy => {
                    if let Some(InFlight { mid, route, span, .. }) = in_flight.take() {
                        span.in_scope(|| self.deliver(mid, route, reply));
                    }
                }
                () = &mut drain_cancelled, if !self.draining => {
                    self.draining = true;
                }
                () = &mut timer => {
                    if let Err(end) = self.on_timer(handshake_deadline) {
                        return end;
                    }
                    timer.as_mut().reset(self.next_deadline(handshake_deadline));
                }
            }
            if self.draining && in_flight.is_none() && writer.closing.is_none() {
                session.kick("server shutting down");
            }
        }
    }

    fn next_deadline(&self, handshake_deadline: Instant) -> Instant {
        let mut deadline = self.next_beat;
        if self.phase != Phase::Working {
            deadline = deadline.min(handshake_deadline);
        }
        if let Some(beat) = self.app.heartbeat() {
            // "More than two intervals": one millisecond past.
            deadline = deadline.min(self.last_seen + beat * 2 + Duration::from_millis(1));
        }
        deadline
    }

    fn on_timer(&mut self, handshake_deadline: Instant) -> Result<(), End> {
        let now = Instant::now();
        if self.phase != Phase::Working && now >= handshake_deadline {
            return Err(End::HandshakeTimeout);
        }
        let Some(beat) = self.app.heartbeat() else {
            return Ok(());
        };
        if now.duration_since(self.last_seen) > beat * 2 {
            return Err(End::HeartbeatTimeout);
        }
        if now >= self.next_beat {
            if self.phase == Phase::Working {
                let _ = self
                    .session
                    .inner()
                    .outbox
                    .push_always(EncodedPacket::heartbeat());
            }
            self.next_beat = now + beat;
        }
        Ok(())
    }

    /// Handles one packet; returns the handler it started, if any.
    async fn on_packet(&mut self, packet: Packet) -> Result<Option<InFlight>, End> {
        if let Some(rate) = &mut self.rate
            && !rate.take()
        {
            return Err(End::Kicked("rate limit exceeded".to_owned()));
        }
        match (self.phase, packet.kind) {
            (_, PacketType::Heartbeat) => Ok(None),
            (Phase::Connected, PacketType::Handshake) => {
                // Boxed: its state (the validator's future) lives on the heap only while a
                // handshake runs, instead of in every connection's task.
                Box::pin(self.on_handshake(&packet.body))
                    .await
                    .map(|()| None)
            }
            (Phase::Handshaken, PacketType::HandshakeAck) => {
                self.phase = Phase::Working;
                self.next_beat = Instant::now() + self.app.heartbeat().unwrap_or(NEVER);
                Ok(None)
            }
            (Phase::Working, PacketType::Data) => self.on_data(packet.body),
            (_, PacketType::Handshake) => Err(End::Violation("second handshake")),
            (_, PacketType::HandshakeAck) => Err(End::Violation("handshake ack out of order")),
            (_, PacketType::Data) => Err(End::Violation("data before the handshake completed")),
            (_, PacketType::Kick) => Err(End::Violation("kick sent by a client")),
        }
    }

    async fn on_handshake(&mut self, body: &[u8]) -> Result<(), End> {
        let request = match HandshakeRequest::from_json(body) {
            Ok(request) => request,
            Err(err) => {
                self.send_handshake(&HandshakeResponse::error(HandshakeResponse::FAIL));
                return Err(End::Protocol(err));
            }
        };
        if let Some(validator) = &self.app.validator {
            let verdict = validator(request, self.session.clone());
            let timeout = self.app.config.handshake_timeout;
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
        let servertime = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let dict = &self.app.core.dict;
        let reply = HandshakeResponse::ok(ServerSys {
            heartbeat: Some(self.app.heartbeat().unwrap_or(Duration::ZERO)),
            dict: (!dict.is_empty()).then(|| dict.clone()),
            servertime: Some(servertime),
            serializer: Some(self.app.core.serializer.name().to_owned()),
            ..ServerSys::default()
        });
        self.send_handshake(&reply);
        self.phase = Phase::Handshaken;
        Ok(())
    }

    fn send_handshake(&self, reply: &HandshakeResponse) {
        if let Ok(packet) = EncodedPacket::from_packet(&Packet::handshake(reply.to_json())) {
            let _ = self.session.inner().outbox.push_always(packet);
        }
    }

    fn on_data(&mut self, body: bytes::Bytes) -> Result<Option<InFlight>, End> {
        let core = &self.app.core;
        let mut message = Message::decode_with(body, &core.dict).map_err(End::Protocol)?;
        Counters::add(&core.counters.messages_in, 1);
        let mid = match &message {
            Message::Request { id, .. } => *id,
            Message::Notify { .. } => 0,
            Message::Response { .. } | Message::Push { .. } => {
                return Err(End::Violation("response or push sent by a client"));
            }
        };
        self.session.set_last_mid(mid);
        if !self.app.inbound.is_empty()
            && let Err(error) = self.app.inbound.run(&self.session, &mut message)
        {
            self.deliver(mid, "<inbound pipeline>", Reply::Error(error));
            return Ok(None);
        }
        let (Message::Request { route, payload, .. } | Message::Notify { route, payload }) =
            message
        else {
            return Ok(None);
        };
        let name = route.name().map(|name| name.as_str()).unwrap_or_default();
        let Some(entry) = self.app.router.get(name) else {
            // Not served here: another node of a cluster may serve it.
            if let Some(remote) = &self.app.remote_router
                && let Some(future) = remote.forward(&self.session, name, mid, payload)
            {
                let span = tracing::debug_span!("message", route = name, mid, remote = true);
                return Ok(Some(InFlight {
                    mid,
                    route: "<remote>",
                    future,
                    span,
                }));
            }
            let error = HandlerError::not_found(format!("unknown route `{name}`"));
            self.deliver(mid, "<unknown>", Reply::Error(error));
            return Ok(None);
        };
        let route = entry.meta.route;
        let span = tracing::debug_span!("message", route, mid);
        let call = Call::new(self.session.clone(), entry.meta, mid, payload);
        let dispatched = span.in_scope(|| {
            std::panic::catch_unwind(AssertUnwindSafe(|| entry.endpoint.call(entry.index, call)))
        });
        match dispatched {
            Ok(Dispatch::Pending(future)) => {
                return Ok(Some(InFlight {
                    mid,
                    route,
                    future,
                    span,
                }));
            }
            Ok(Dispatch::Ready(reply)) => span.in_scope(|| self.deliver(mid, route, reply)),
            Err(_) => span.in_scope(|| self.deliver(mid, route, Reply::Error(panicked(route)))),
        }
        Ok(None)
    }

    /// Sends a handler's reply: a response for a request, nothing (but logs) for a notify.
    fn deliver(&self, mid: u64, route: &str, reply: Reply) {
        match reply {
            Reply::None => {}
            Reply::Payload(payload) if mid != 0 => {
                // The connection writes its outbox right after this: no need to wake itself.
                if let Err(err) = self.session.respond_from_connection(mid, payload) {
                    tracing::debug!(route, mid, error = %err, "response not sent");
                }
            }
            Reply::Payload(_) => {}
            Reply::Error(error) => {
                log_handler_error(route, mid, &error);
                if mid != 0 {
                    let _ = self.session.respond_error(mid, &error);
                } else {
                    Counters::add(&self.app.core.counters.errors, 1);
                }
            }
        }
    }
}

impl Writer {
    /// Drives the connection's I/O: moves the outbox into the transport and flushes, then
    /// (when `can_read`) reads the next packet. Completes with a packet, a close request (once
    /// no handler is running), or a write error.
    fn poll_io<T: PacketTransport>(
        &mut self,
        cx: &mut Context<'_>,
        transport: &mut T,
        outbox: &Outbox,
        handler_running: bool,
        can_read: bool,
    ) -> Poll<Io> {
        // `Pending` from the write side only means "nothing more to write now".
        if let Poll::Ready(Err(err)) = self.poll_write(cx, transport, outbox, handler_running) {
            return Poll::Ready(Io::WriteFailed(err));
        }
        if let Some(close) = &self.closing
            && !handler_running
        {
            return Poll::Ready(Io::Close(close.clone()));
        }
        if can_read {
            return Pin::new(transport).poll_next(cx).map(Io::Packet);
        }
        Poll::Pending
    }

    /// Writes what the outbox holds. `Ready(Ok)` means a close should happen now (the caller
    /// checks `closing`); `Pending` means everything is written or the transport is full.
    fn poll_write<T: PacketTransport>(
        &mut self,
        cx: &mut Context<'_>,
        transport: &mut T,
        outbox: &Outbox,
        handler_running: bool,
    ) -> Poll<Result<(), ProtocolError>> {
        if self.closing.is_none() {
            self.closing = outbox.poll_close_request(cx);
        }
        // A requested close is honoured at once (the rest of the queue and the Kick are
        // written with a deadline by `Connection::run`), so a client that stopped reading
        // cannot hold its connection open.
        if self.closing.is_some() && !handler_running {
            return Poll::Ready(Ok(()));
        }
        loop {
            match Pin::new(&mut *transport).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
            let Some(packet) = outbox.poll_pop(cx) else {
                break;
            };
            if let Err(err) = Pin::new(&mut *transport).start_send(packet) {
                return Poll::Ready(Err(err));
            }
            self.unflushed = true;
        }
        if self.unflushed {
            match Pin::new(&mut *transport).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        // A close requested while writing is seen on the next poll.
        if self.closing.is_none() {
            self.closing = outbox.poll_close_request(cx);
            if self.closing.is_some() && !handler_running {
                return Poll::Ready(Ok(()));
            }
        }
        Poll::Pending
    }
}

/// How long the last writes (a Kick, the final flush) may take when a connection ends.
const FINAL_WRITE: Duration = Duration::from_secs(1);
/// Stands in for "no heartbeat".
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

fn panicked(route: &str) -> HandlerError {
    HandlerError::internal(format!("handler for `{route}` panicked"))
}

fn log_handler_error(route: &str, mid: u64, error: &HandlerError) {
    match error.code() {
        HandlerError::INTERNAL => tracing::error!(route, mid, %error, "handler failed"),
        _ => tracing::info!(route, mid, %error, "request refused"),
    }
}

/// Polls the in-flight handler, turning a panic into a 500 reply.
fn poll_in_flight(in_flight: &mut Option<InFlight>) -> impl Future<Output = Reply> + '_ {
    poll_fn(move |cx| {
        let Some(in_flight) = in_flight.as_mut() else {
            return Poll::Pending;
        };
        let route = in_flight.route;
        match std::panic::catch_unwind(AssertUnwindSafe(|| in_flight.future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(Reply::Error(panicked(route))),
        }
    })
}
