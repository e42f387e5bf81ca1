//! [`Shutdown`]: shutdown's two steps (drain, then a forced close) as every connection sees
//! them, checked with one atomic load per poll.
//!
//! A connection's loop polls its wait for shutdown on every packet. A waiting `Notified`
//! takes the notifier's lock each time it is polled; [`StageChange`] polls it only to register
//! the task, and again when the stage has changed (the registration woke the task) or the
//! task's waker did. One wait serves both steps, so a connection holds one registration.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, Waker};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// How far shutdown has gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    Running = 0,
    /// Sessions finish their in-flight request and leave.
    Draining = 1,
    /// Sessions close at once (the drain deadline passed).
    Forced = 2,
}

impl Stage {
    fn from_u8(stage: u8) -> Self {
        match stage {
            0 => Stage::Running,
            1 => Stage::Draining,
            _ => Stage::Forced,
        }
    }
}

/// Shutdown's progress, shared by an app's connections.
#[derive(Debug, Default)]
pub(crate) struct Shutdown {
    stage: AtomicU8,
    changed: Notify,
}

impl Shutdown {
    /// Asks every session to finish its in-flight request and leave.
    pub(crate) fn drain(&self) {
        self.advance(Stage::Draining);
    }

    /// Asks every session to close at once (it is draining too, if it was not yet).
    pub(crate) fn force(&self) {
        self.advance(Stage::Forced);
    }

    fn advance(&self, to: Stage) {
        // Before the notification: a waiter it wakes finds the new stage. Only a change
        // notifies: a waiter woken without one would see its stage unchanged and not poll its
        // spent registration again, missing the next change.
        let before = self.stage.fetch_max(to as u8, Ordering::AcqRel);
        if before < to as u8 {
            self.changed.notify_waiters();
        }
    }

    /// How far shutdown has gone.
    pub(crate) fn stage(&self) -> Stage {
        Stage::from_u8(self.stage.load(Ordering::Acquire))
    }

    /// Whether sessions are asked to leave (draining or forced).
    pub(crate) fn is_draining(&self) -> bool {
        self.stage() >= Stage::Draining
    }

    /// A registration with the notifier, to pin (with `tokio::pin!`) and give to
    /// [`changes`](Self::changes).
    pub(crate) fn notified(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// The stage's changes from [`Stage::Running`]: the first poll completes at once if
    /// shutdown has begun. Polled as often as a loop likes.
    pub(crate) fn changes<'a, 'b>(
        &'a self,
        notified: Pin<&'b mut Notified<'a>>,
    ) -> StageChange<'a, 'b> {
        StageChange {
            shutdown: self,
            notified,
            seen: Stage::Running,
            enabled: false,
            registered: None,
        }
    }
}

/// Completes with the new stage each time shutdown goes a step further.
pub(crate) struct StageChange<'a, 'b> {
    shutdown: &'a Shutdown,
    notified: Pin<&'b mut Notified<'a>>,
    /// The last stage this completed with.
    seen: Stage,
    /// `notified` is registered with the notifier (so no later change is missed).
    enabled: bool,
    /// The waker `notified` was last polled with.
    registered: Option<Waker>,
}

impl Future for StageChange<'_, '_> {
    type Output = Stage;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Stage> {
        let this = &mut *self;
        loop {
            let stage = this.shutdown.stage();
            if stage > this.seen {
                this.seen = stage;
                // A fresh registration for the next change.
                this.notified.set(this.shutdown.changed.notified());
                (this.enabled, this.registered) = (false, None);
                return Poll::Ready(stage);
            }
            if !this.enabled {
                // Registered first, the stage checked again after: a change in between
                // completes `notified` rather than being missed.
                this.notified.as_mut().enable();
                this.enabled = true;
                continue;
            }
            if this
                .registered
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
            {
                // This task is registered: the notifier wakes it at the next change.
                return Poll::Pending;
            }
            match this.notified.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.notified.set(this.shutdown.changed.notified());
                    (this.enabled, this.registered) = (false, None);
                }
                Poll::Pending => {
                    this.registered = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::{Pin, pin};
    use std::task::{Context, Poll};

    use super::{Shutdown, Stage};
    use crate::counting_waker::CountingWaker;

    fn waker() -> (std::sync::Arc<CountingWaker>, std::task::Waker) {
        CountingWaker::new()
    }

    #[test]
    fn completes_once_per_step_and_wakes_the_last_registered_task() {
        let shutdown = Shutdown::default();
        let notified = pin!(shutdown.notified());
        let mut changes = shutdown.changes(notified);
        let (first, first_waker) = waker();
        let mut cx = Context::from_waker(&first_waker);
        assert_eq!(Pin::new(&mut changes).poll(&mut cx), Poll::Pending);
        assert_eq!(Pin::new(&mut changes).poll(&mut cx), Poll::Pending);
        // Another task polls it now: that one must be woken.
        let (second, second_waker) = waker();
        let mut cx = Context::from_waker(&second_waker);
        assert_eq!(Pin::new(&mut changes).poll(&mut cx), Poll::Pending);
        shutdown.drain();
        assert_eq!(second.wakes(), 1);
        assert_eq!(first.wakes(), 0);
        assert!(shutdown.is_draining());
        let drained = Pin::new(&mut changes).poll(&mut cx);
        assert_eq!(drained, Poll::Ready(Stage::Draining));
        assert_eq!(Pin::new(&mut changes).poll(&mut cx), Poll::Pending);
        shutdown.force();
        assert_eq!(second.wakes(), 2);
        let forced = Pin::new(&mut changes).poll(&mut cx);
        assert_eq!(forced, Poll::Ready(Stage::Forced));
        assert_eq!(Pin::new(&mut changes).poll(&mut cx), Poll::Pending);
    }

    #[test]
    fn a_wait_begun_after_the_shutdown_completes_at_once() {
        let shutdown = Shutdown::default();
        shutdown.force();
        let notified = pin!(shutdown.notified());
        let mut changes = shutdown.changes(notified);
        let (_, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        let stage = Pin::new(&mut changes).poll(&mut cx);
        assert_eq!(stage, Poll::Ready(Stage::Forced));
        assert!(shutdown.is_draining());
    }
}
