//! The per-session send queue: bounded for pushes, never dropping responses.

use crate::prometheus::KickCause;
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use std::task::Context;

use futures_util::task::AtomicWaker;

use crate::inline_queue::InlineQueue;

use crate::protocol::{EncodedPacket, ResumeToken};
use crate::resume::replay::{Handoff, Replay, Resent};
use crate::resume::{ResumeConfig, ResumeRefusal};

/// What happens to a push when a session's send queue is full (the client reads too slowly).
///
/// Responses are never dropped: a session whose queue is full is not read from until it drains,
/// so a client that pipelines requests is slowed down instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SlowConsumerPolicy {
    /// Drop the push, count it ([`Metrics::pushes_dropped`](crate::Metrics)), and return
    /// [`SessionError::QueueFull`](crate::SessionError::QueueFull) to the caller. The default.
    #[default]
    Drop,
    /// Kick the session with the reason `"slow consumer"`.
    Kick,
}

/// Why the connection task should end the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CloseRequest {
    /// Send a Kick packet with this reason, then close.
    Kick(String, KickCause),
    /// Close without a Kick.
    Close,
    /// Another connection is resuming the session: drop this one at once (its client is
    /// gone, or about to be), and serve the new one.
    Replaced,
    /// The session was dropped and pushes its client may have missed were lost: end it.
    Overflow,
}

#[derive(Debug, Default)]
struct State {
    queue: InlineQueue<EncodedPacket>,
    close: Option<CloseRequest>,
    /// The connection has ended: nothing more is accepted.
    closed: bool,
    /// Resume state, once the session has a resume token.
    replay: Option<Box<Replay>>,
}

/// What a dropped session's task waits for.
#[derive(Debug)]
pub(crate) enum DetachedEvent {
    /// A client resumed the session.
    Resumed(Handoff),
    /// The session is to end (kicked, closed, or overflowed).
    Close(CloseRequest),
}

/// Why a packet was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    Closed,
    Full,
}

/// A session's outgoing packets, shared by everyone who pushes to the session and drained by
/// its connection task.
///
/// The queue allocates nothing while it holds at most one packet (an idle session costs no
/// buffer, a request's response none either). The connection's checks on every poll (a close
/// request? is the queue full?) read atomics mirrored from the locked state, not the lock.
#[derive(Debug)]
pub(crate) struct Outbox {
    state: Mutex<State>,
    wake: AtomicWaker,
    capacity: usize,
    policy: SlowConsumerPolicy,
    dropped: AtomicU64,
    /// `state.close.is_some()`, written with it under the lock.
    close_pending: AtomicBool,
    /// `state.queue.len()`, written with it under the lock.
    queued: AtomicUsize,
}

thread_local! {
    /// The address of the outbox whose connection is running a handler on this thread (0:
    /// none): a push to that outbox needs no wake, since the connection writes its outbox
    /// as soon as the handler returns.
    static HANDLING: Cell<usize> = const { Cell::new(0) };
}

/// While alive, the connection owning an outbox is running a handler on this thread.
pub(crate) struct Handling {
    previous: usize,
}

impl Drop for Handling {
    fn drop(&mut self) {
        HANDLING.with(|handling| handling.set(self.previous));
    }
}

/// The outbox's lock, held: the mirrored atomics are brought up to date when it is released.
struct Locked<'a> {
    state: std::sync::MutexGuard<'a, State>,
    outbox: &'a Outbox,
}

impl std::ops::Deref for Locked<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // Release, read with Acquire after `register`: a writer's `wake` that finds no waker
        // registered yet is ordered before the registration (both update the waker's state), so
        // the reader then sees these stores.
        let outbox = self.outbox;
        outbox
            .queued
            .store(self.state.queue.len(), Ordering::Release);
        outbox
            .close_pending
            .store(self.state.close.is_some(), Ordering::Release);
    }
}

impl Outbox {
    pub(crate) fn new(capacity: usize, policy: SlowConsumerPolicy) -> Self {
        Self {
            state: Mutex::new(State::default()),
            wake: AtomicWaker::new(),
            capacity: capacity.max(1),
            policy,
            dropped: AtomicU64::new(0),
            close_pending: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> Locked<'_> {
        Locked {
            state: crate::sync::lock(&self.state),
            outbox: self,
        }
    }

    /// Marks the outbox's connection as running a handler on this thread until the guard
    /// drops: pushes to this outbox made meanwhile do not wake the connection (it writes its
    /// outbox right after), saving the task a second poll per push.
    pub(crate) fn handling(&self) -> Handling {
        let this = self as *const Self as usize;
        Handling {
            previous: HANDLING.with(|handling| handling.replace(this)),
        }
    }

    /// Wakes the connection, unless it is the one running on this thread (see
    /// [`handling`](Self::handling)).
    fn wake_connection(&self) {
        let this = self as *const Self as usize;
        if HANDLING.with(Cell::get) != this {
            self.wake.wake();
        }
    }

    /// Queues a push, applying the slow-consumer policy when the queue is full. A dropped
    /// resumable session keeps it for replay instead.
    pub(crate) fn push(&self, packet: EncodedPacket) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.closed || state.close.as_ref().is_some_and(ends_session) {
            return Err(Refused::Closed);
        }
        if let Some(replay) = state.replay.as_mut()
            && !replay.is_attached()
        {
            if !replay.keep_push(&packet) {
                state.close = Some(CloseRequest::Overflow);
                drop(state);
                self.wake.wake();
            }
            return Ok(());
        }
        if state.queue.len() >= self.capacity {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            if self.policy == SlowConsumerPolicy::Kick {
                state.close = Some(CloseRequest::Kick(
                    "slow consumer".to_owned(),
                    KickCause::SlowConsumer,
                ));
                drop(state);
                self.wake.wake();
            }
            return Err(Refused::Full);
        }
        if let Some(replay) = state.replay.as_mut() {
            replay.keep_push(&packet);
        }
        state.queue.push_back(packet);
        drop(state);
        self.wake_connection();
        Ok(())
    }

    /// Queues the response to request `mid` regardless of the capacity, as
    /// [`push_always`](Self::push_always) does; without `wake` for responses the connection
    /// task queues itself (it drains the outbox before it next waits). A resumable session
    /// also keeps it, to answer the request again; a dropped one only keeps it.
    pub(crate) fn push_response(
        &self,
        mid: u64,
        packet: EncodedPacket,
        wake: bool,
    ) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.closed {
            return Err(Refused::Closed);
        }
        if let Some(replay) = state.replay.as_mut() {
            let attached = replay.is_attached();
            replay.keep_response(mid, &packet, attached);
            if !attached {
                return Ok(());
            }
        }
        state.queue.push_back(packet);
        drop(state);
        if wake {
            self.wake.wake();
        }
        Ok(())
    }

    /// Queues a response or control packet regardless of the capacity. The connection stops
    /// reading while the queue is full, which bounds how many of these can pile up.
    pub(crate) fn push_always(&self, packet: EncodedPacket) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.closed {
            return Err(Refused::Closed);
        }
        state.queue.push_back(packet);
        drop(state);
        self.wake.wake();
        Ok(())
    }

    /// Asks the connection to end (the first request wins, but a kick or close overrides a
    /// pending takeover by a resuming connection).
    pub(crate) fn request_close(&self, request: CloseRequest) {
        let mut state = self.lock();
        if state.closed || state.close.as_ref().is_some_and(ends_session) {
            return;
        }
        state.close = Some(request);
        drop(state);
        self.wake.wake();
    }

    /// Moves every queued packet into `batch` and returns a pending close request, if any.
    pub(crate) fn drain_into(&self, batch: &mut VecDeque<EncodedPacket>) -> Option<CloseRequest> {
        let mut state = self.lock();
        batch.extend(std::mem::take(&mut state.queue));
        state.close.clone()
    }

    /// Registers `cx` to be woken by the next push or close request. Checks made after it
    /// ([`pop`](Self::pop), [`close_request`](Self::close_request)) miss nothing: whatever
    /// they do not see wakes `cx`.
    pub(crate) fn register(&self, cx: &mut Context<'_>) {
        self.wake.register(cx.waker());
    }

    /// The pending close request, if any (without the lock when there is none: inlined, the
    /// connection's check on every poll is one atomic load).
    #[inline]
    pub(crate) fn close_request(&self) -> Option<CloseRequest> {
        if !self.close_pending.load(Ordering::Acquire) {
            return None;
        }
        self.locked_close_request()
    }

    #[cold]
    fn locked_close_request(&self) -> Option<CloseRequest> {
        self.lock().close.clone()
    }

    /// The pending close request, if any; registers `cx` to be woken by a later one.
    pub(crate) fn poll_close_request(&self, cx: &mut Context<'_>) -> Option<CloseRequest> {
        self.register(cx);
        self.close_request()
    }

    /// Whether the queue is at or over capacity (the connection then stops reading).
    pub(crate) fn is_full(&self) -> bool {
        self.queued.load(Ordering::Acquire) >= self.capacity
    }

    /// Takes the next queued packet (without the lock when there is none).
    #[inline]
    pub(crate) fn pop(&self) -> Option<EncodedPacket> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.lock().queue.pop_front()
    }

    /// Takes the next queued packet; when there is none, registers `cx` to be woken by the
    /// next push (or close request) and returns `None`.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Option<EncodedPacket> {
        self.register(cx);
        self.pop()
    }

    /// Marks the connection as ended; later pushes fail with `Closed`.
    pub(crate) fn mark_closed(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.queue.clear();
    }

    pub(crate) fn is_closed(&self) -> bool {
        let state = self.lock();
        state.closed || state.close.as_ref().is_some_and(ends_session)
    }

    /// Pushes dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    // ---- resume (crate::resume) ----

    /// Gives the session a new resume token (and its resume state, the first time).
    pub(crate) fn issue_token(&self, session: u64, config: &ResumeConfig) -> ResumeToken {
        let mut state = self.lock();
        state
            .replay
            .get_or_insert_with(|| Box::new(Replay::new(config)))
            .issue_token(session)
    }

    /// Checks a resume of this session by `token` from a client that received `received`
    /// pushes. On success the token is spent and the next one returned, with the number of
    /// pushes the client missed, and the connection serving the session (if any) is told to
    /// make way: the caller hands the new one over with [`hand_over`](Self::hand_over).
    pub(crate) fn claim(
        &self,
        token: ResumeToken,
        received: u64,
    ) -> Result<(ResumeToken, u64), ResumeRefusal> {
        let mut state = self.lock();
        if state.closed {
            return Err(ResumeRefusal::Expired);
        }
        let close = state.close.clone();
        let replay = state.replay.as_mut().ok_or(ResumeRefusal::Unknown)?;
        replay.verify(token.secret, received)?;
        match close {
            Some(CloseRequest::Kick(..) | CloseRequest::Close) => {
                return Err(ResumeRefusal::Ended);
            }
            Some(CloseRequest::Overflow) => return Err(ResumeRefusal::Overflow),
            Some(CloseRequest::Replaced) | None => {}
        }
        replay.spend();
        let next = replay.issue_token(token.session);
        let missed = replay.missed_by(received);
        state.close = Some(CloseRequest::Replaced);
        drop(state);
        self.wake.wake();
        Ok((next, missed))
    }

    /// Hands a resuming connection to the session's task (after a successful
    /// [`claim`](Self::claim)); dropped if the session has ended meanwhile.
    pub(crate) fn hand_over(&self, handoff: Handoff) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        if let Some(replay) = state.replay.as_mut() {
            replay.handoff = Some(Box::new(handoff));
        }
        drop(state);
        self.wake.wake();
    }

    /// For the task of a session no connection serves: a resuming connection, or a reason to
    /// end; registers `cx` to be woken by either.
    pub(crate) fn poll_detached(&self, cx: &mut Context<'_>) -> Option<DetachedEvent> {
        self.wake.register(cx.waker());
        let mut state = self.lock();
        if let Some(handoff) = state
            .replay
            .as_mut()
            .and_then(|replay| replay.take_handoff())
        {
            if state.close == Some(CloseRequest::Replaced) {
                state.close = None;
            }
            return Some(DetachedEvent::Resumed(handoff));
        }
        if state.replay.as_ref().is_some_and(|replay| replay.claimed()) {
            // The claiming connection hands itself over in a moment.
            return None;
        }
        match &state.close {
            Some(CloseRequest::Replaced) | None => None,
            Some(close) => Some(DetachedEvent::Close(close.clone())),
        }
    }

    /// The connection serving the session is gone (with `received`: replaced by a resuming
    /// one, whose client received that many pushes): pushes are only kept from now on, and
    /// what was queued is dropped (the pushes are kept, the responses cached). `false` when
    /// pushes the client may have missed are already lost.
    pub(crate) fn detach(&self, received: Option<u64>) -> bool {
        let mut state = self.lock();
        let unsent = state.queue.iter().filter(|packet| packet.is_push()).count() as u64;
        state.queue.clear();
        let Some(replay) = state.replay.as_mut() else {
            return false;
        };
        replay.detach(received.unwrap_or_else(|| replay.pushed().saturating_sub(unsent)));
        !replay.overflowed()
    }

    /// The resuming client has acknowledged the handshake: queues the pushes it missed, in
    /// order, and queues pushes again from now on. `None` when some were lost meanwhile.
    pub(crate) fn attach(&self, received: u64) -> Option<usize> {
        let mut state = self.lock();
        let missed = state.replay.as_mut()?.attach(received)?;
        let count = missed.len();
        state.queue.extend(missed);
        drop(state);
        self.wake.wake();
        Some(count)
    }

    /// Request `mid`, sent again after a resume: its kept response is queued again, or
    /// nothing happens (answered already, or its handler will), or it is [`Resent::Gone`].
    pub(crate) fn resent(&self, mid: u64) -> Resent {
        let mut state = self.lock();
        let Some(replay) = state.replay.as_mut() else {
            return Resent::Nothing;
        };
        match replay.resent(mid) {
            Resent::Answer(packet) => {
                state.queue.push_back(packet);
                Resent::Nothing
            }
            other => other,
        }
    }

    /// Whether a connection serves the session (always, for a session without resume, until
    /// it closes or is closing).
    pub(crate) fn is_attached(&self) -> bool {
        let state = self.lock();
        !state.closed
            && !state.close.as_ref().is_some_and(ends_session)
            && state
                .replay
                .as_ref()
                .is_none_or(|replay| replay.is_attached())
    }
}

/// Whether a close request ends the session (a takeover does not).
fn ends_session(request: &CloseRequest) -> bool {
    !matches!(request, CloseRequest::Replaced)
}

#[cfg(test)]
mod tests {
    use std::task::Context;

    use super::{Outbox, SlowConsumerPolicy};
    use crate::counting_waker::CountingWaker;
    use crate::protocol::EncodedPacket;

    #[test]
    fn a_push_from_the_connections_own_handler_does_not_wake_it() {
        let (mine, other) = (
            Outbox::new(8, SlowConsumerPolicy::Drop),
            Outbox::new(8, SlowConsumerPolicy::Drop),
        );
        let (wakes, waker) = CountingWaker::new();
        mine.register(&mut Context::from_waker(&waker));
        other.register(&mut Context::from_waker(&waker));
        {
            let _handling = mine.handling();
            mine.push(EncodedPacket::heartbeat()).unwrap();
            assert_eq!(wakes.wakes(), 0);
            // Another session's connection is woken as ever.
            other.push(EncodedPacket::heartbeat()).unwrap();
            assert_eq!(wakes.wakes(), 1);
        }
        mine.register(&mut Context::from_waker(&waker));
        mine.push(EncodedPacket::heartbeat()).unwrap();
        assert_eq!(wakes.wakes(), 2);
        assert_eq!(mine.pop().map(|_| ()), Some(()));
        assert!(!mine.is_full());
    }
}
