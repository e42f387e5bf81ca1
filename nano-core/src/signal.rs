//! [`Signal`]: a fire-once signal that every connection waits for (shutdown's drain and its
//! forced close), checked with one atomic load per poll.
//!
//! A connection's loop polls its waits for both shutdown signals on every packet. A
//! `CancellationToken`'s future takes a lock and re-registers with the token each time it is
//! polled; [`Fired`] polls it once, to register the task, and again only when the signal has
//! fired (the registration woke the task) or the task's waker changed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// A signal that fires once; cheap to check, and to wait for in a loop.
#[derive(Clone, Debug, Default)]
pub(crate) struct Signal {
    fired: Arc<AtomicBool>,
    token: CancellationToken,
}

impl Signal {
    /// Fires the signal: every waiter wakes, and every later check sees it.
    pub(crate) fn fire(&self) {
        // Before the token: a waiter woken by it finds the flag set.
        self.fired.store(true, Ordering::Release);
        self.token.cancel();
    }

    /// Whether the signal has fired.
    pub(crate) fn is_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// The token's own wait, to pin (with `tokio::pin!`) and give to [`watch`](Self::watch).
    pub(crate) fn cancelled(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }

    /// A wait for the signal, to poll as often as a loop likes.
    pub(crate) fn watch<'a, 'b>(
        &'a self,
        wait: Pin<&'b mut WaitForCancellationFuture<'a>>,
    ) -> Fired<'a, 'b> {
        Fired {
            signal: self,
            wait,
            registered: None,
        }
    }
}

/// Completes once its [`Signal`] fires. Polled again after it completed, it completes again.
pub(crate) struct Fired<'a, 'b> {
    signal: &'a Signal,
    wait: Pin<&'b mut WaitForCancellationFuture<'a>>,
    /// The waker the token's wait was last polled with.
    registered: Option<Waker>,
}

impl Future for Fired<'_, '_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let same_waker = this
            .registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()));
        if same_waker && !this.signal.is_fired() {
            // Registered with this task already: the token wakes it when the signal fires.
            return Poll::Pending;
        }
        match this.wait.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => {
                if !same_waker {
                    this.registered = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::{Pin, pin};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use super::Signal;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    #[test]
    fn wakes_the_last_registered_waker_and_completes_after_firing() {
        let signal = Signal::default();
        let wait = pin!(signal.cancelled());
        let mut fired = signal.watch(wait);
        let (first, first_waker) = waker();
        let mut cx = Context::from_waker(&first_waker);
        assert_eq!(Pin::new(&mut fired).poll(&mut cx), Poll::Pending);
        assert_eq!(Pin::new(&mut fired).poll(&mut cx), Poll::Pending);
        // Another task polls it now: that one must be woken.
        let (second, second_waker) = waker();
        let mut cx = Context::from_waker(&second_waker);
        assert_eq!(Pin::new(&mut fired).poll(&mut cx), Poll::Pending);
        signal.fire();
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert!(signal.is_fired());
        assert_eq!(Pin::new(&mut fired).poll(&mut cx), Poll::Ready(()));
    }

    #[test]
    fn a_signal_fired_before_the_first_poll_completes_at_once() {
        let signal = Signal::default();
        // Fired through a clone: clones share the signal.
        let clone = signal.clone();
        clone.fire();
        let wait = pin!(signal.cancelled());
        let mut fired = signal.watch(wait);
        let (_, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        assert_eq!(Pin::new(&mut fired).poll(&mut cx), Poll::Ready(()));
    }
}
