//! The per-session send queue: bounded for pushes, never dropping responses.

use crate::prometheus::KickCause;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use std::task::Context;

use futures_util::task::AtomicWaker;

use crate::protocol::EncodedPacket;

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
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<EncodedPacket>,
    close: Option<CloseRequest>,
    /// The connection has ended: nothing more is accepted.
    closed: bool,
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
/// The queue allocates nothing while it is empty (an idle session costs no buffer).
#[derive(Debug)]
pub(crate) struct Outbox {
    state: Mutex<State>,
    wake: AtomicWaker,
    capacity: usize,
    policy: SlowConsumerPolicy,
    dropped: AtomicU64,
}

impl Outbox {
    pub(crate) fn new(capacity: usize, policy: SlowConsumerPolicy) -> Self {
        Self {
            state: Mutex::new(State::default()),
            wake: AtomicWaker::new(),
            capacity: capacity.max(1),
            policy,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        crate::sync::lock(&self.state)
    }

    /// Queues a push, applying the slow-consumer policy when the queue is full.
    pub(crate) fn push(&self, packet: EncodedPacket) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.closed || state.close.is_some() {
            return Err(Refused::Closed);
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
        state.queue.push_back(packet);
        drop(state);
        self.wake.wake();
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

    /// Like [`push_always`](Self::push_always), without waking the connection: for packets
    /// queued by the connection task itself, which drains the outbox before it next waits.
    pub(crate) fn push_quietly(&self, packet: EncodedPacket) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.closed {
            return Err(Refused::Closed);
        }
        state.queue.push_back(packet);
        Ok(())
    }

    /// Asks the connection to end (the first request wins).
    pub(crate) fn request_close(&self, request: CloseRequest) {
        let mut state = self.lock();
        if state.closed || state.close.is_some() {
            return;
        }
        state.close = Some(request);
        drop(state);
        self.wake.wake();
    }

    /// Moves every queued packet into `batch` and returns a pending close request, if any.
    pub(crate) fn drain_into(&self, batch: &mut VecDeque<EncodedPacket>) -> Option<CloseRequest> {
        let mut state = self.lock();
        batch.extend(state.queue.drain(..));
        if state.queue.capacity() > 4 * self.capacity.min(64) {
            // A burst grew the queue: give the memory back while the session idles.
            state.queue = VecDeque::new();
        }
        state.close.clone()
    }

    /// The pending close request, if any; registers `cx` to be woken by a later one.
    pub(crate) fn poll_close_request(&self, cx: &mut Context<'_>) -> Option<CloseRequest> {
        self.wake.register(cx.waker());
        self.lock().close.clone()
    }

    /// Whether the queue is at or over capacity (the connection then stops reading).
    pub(crate) fn is_full(&self) -> bool {
        self.lock().queue.len() >= self.capacity
    }

    /// Takes the next queued packet; when there is none, registers `cx` to be woken by the
    /// next push (or close request) and returns `None`.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Option<EncodedPacket> {
        let mut state = self.lock();
        if let Some(packet) = state.queue.pop_front() {
            return Some(packet);
        }
        // Idle: give the queue's memory back.
        state.queue = VecDeque::new();
        drop(state);
        self.wake.register(cx.waker());
        // Re-check: a push between the check and the registration would otherwise be missed.
        self.lock().queue.pop_front()
    }

    /// Marks the connection as ended; later pushes fail with `Closed`.
    pub(crate) fn mark_closed(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.queue = VecDeque::new();
    }

    pub(crate) fn is_closed(&self) -> bool {
        let state = self.lock();
        state.closed || state.close.is_some()
    }

    /// Pushes dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}
