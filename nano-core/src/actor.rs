//! Actors: state owned by one task, changed only by the closures, handlers and timers that
//! run on that task, one at a time.
//!
//! `&mut self` components and the app's [`Scheduler`](crate::Scheduler) are actors.

use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::timer::{TimerEntry, TimerHandle, TimerKind};

/// A boxed future borrowing the actor's state.
pub(crate) type LocalFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One unit of work for an actor: runs with `&mut S`, optionally returning a future that the
/// actor drives to completion before taking the next job.
pub(crate) type Job<S> = Box<dyn for<'a> FnOnce(&'a mut S) -> Option<LocalFuture<'a>> + Send>;

/// Why a closure could not be posted to an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// The actor has stopped (the app shut down).
    #[error("actor stopped")]
    Stopped,
    /// The actor's mailbox is full ([`try_invoke`](ActorHandle::try_invoke) only).
    #[error("actor mailbox full")]
    Full,
}

struct Shared<S> {
    name: &'static str,
    /// Timers registered but not yet picked up by the actor task.
    new_timers: Mutex<Vec<TimerEntry<S>>>,
    timer_added: Notify,
    next_timer_id: AtomicU64,
}

/// A handle to an actor owning a value of type `S`: post closures to it and schedule timers on
/// it. Everything runs on the actor's task, one at a time, with `&mut S`.
///
/// Get one from [`Context::actor`](crate::Context::actor) (in a component's `init`, or in a
/// handler that takes `ctx: &Context<Self>`), or from [`App::actor`](crate::App::actor). Cheap
/// to clone.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_core::prelude::*;
///
/// #[derive(Default)]
/// struct Counter { value: u64 }
///
/// #[component(name = "counter")]
/// impl Counter {
///     #[handler]
///     fn add(&mut self, _session: &Session, n: u64) -> u64 { self.value += n; self.value }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let app = App::builder().register(Counter::default()).build()?;
/// let counter = app.actor::<Counter>().expect("Counter is an actor");
/// counter.invoke(|c| c.value = 10).await?;
/// assert_eq!(counter.call(|c| c.value).await?, 10);
/// counter.every(Duration::from_secs(1), |c| c.value += 1);
/// # Ok(()) }
/// ```
pub struct ActorHandle<S> {
    mailbox: mpsc::Sender<Job<S>>,
    shared: Arc<Shared<S>>,
}

impl<S> Clone for ActorHandle<S> {
    fn clone(&self) -> Self {
        Self {
            mailbox: self.mailbox.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S> fmt::Debug for ActorHandle<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorHandle")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}

/// The receiving side of an actor, until its task starts.
pub(crate) struct ActorMailbox<S> {
    receiver: mpsc::Receiver<Job<S>>,
    shared: Arc<Shared<S>>,
}

/// Creates an actor's handle and mailbox; [`run`] starts it.
pub(crate) fn channel<S>(name: &'static str, capacity: usize) -> (ActorHandle<S>, ActorMailbox<S>) {
    let (mailbox, receiver) = mpsc::channel(capacity.max(1));
    let shared = Arc::new(Shared {
        name,
        new_timers: Mutex::new(Vec::new()),
        timer_added: Notify::new(),
        next_timer_id: AtomicU64::new(1),
    });
    (
        ActorHandle {
            mailbox,
            shared: shared.clone(),
        },
        ActorMailbox { receiver, shared },
    )
}

impl<S: Send + 'static> ActorHandle<S> {
    /// Posts `f` to run on the actor, waiting for room in its mailbox.
    ///
    /// # Errors
    ///
    /// [`InvokeError::Stopped`] when the actor has stopped.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits for room posts nothing; once it has returned, `f`
    /// runs whatever happens to the caller.
    pub async fn invoke(&self, f: impl FnOnce(&mut S) + Send + 'static) -> Result<(), InvokeError> {
        self.post(Box::new(move |state: &mut S| {
            f(state);
            None
        }))
        .await
    }

    /// Posts `f` without waiting.
    ///
    /// # Errors
    ///
    /// [`InvokeError::Full`] when the mailbox is full, [`InvokeError::Stopped`] when the
    /// actor has stopped.
    pub fn try_invoke(&self, f: impl FnOnce(&mut S) + Send + 'static) -> Result<(), InvokeError> {
        let job: Job<S> = Box::new(move |state: &mut S| {
            f(state);
            None
        });
        self.mailbox.try_send(job).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => InvokeError::Full,
            mpsc::error::TrySendError::Closed(_) => InvokeError::Stopped,
        })
    }

    /// Runs `f` on the actor and returns its result.
    ///
    /// # Errors
    ///
    /// [`InvokeError::Stopped`] when the actor has stopped (or `f` panicked).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe in the sense that matters for state: dropping the future while it
    /// waits for room posts nothing, but dropping it after `f` was posted does not take `f`
    /// back — it still runs on the actor, and only its result is lost.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut S) -> R + Send + 'static,
    ) -> Result<R, InvokeError> {
        let (reply, result) = oneshot::channel();
        self.post(Box::new(move |state: &mut S| {
            let _ = reply.send(f(state));
            None
        }))
        .await?;
        result.await.map_err(|_| InvokeError::Stopped)
    }

    pub(crate) async fn post(&self, job: Job<S>) -> Result<(), InvokeError> {
        self.mailbox
            .send(job)
            .await
            .map_err(|_| InvokeError::Stopped)
    }

    /// Calls `f` every `interval`, starting one interval from now, until stopped.
    pub fn every(&self, interval: Duration, f: impl FnMut(&mut S) + Send + 'static) -> TimerHandle {
        self.add_timer(interval, None, TimerKind::Every(Box::new(f)))
    }

    /// Calls `f` every `interval`, `times` times.
    pub fn count(
        &self,
        interval: Duration,
        times: u64,
        f: impl FnMut(&mut S) + Send + 'static,
    ) -> TimerHandle {
        self.add_timer(interval, Some(times), TimerKind::Every(Box::new(f)))
    }

    /// Calls `f` once, after `delay`.
    pub fn after(&self, delay: Duration, f: impl FnOnce(&mut S) + Send + 'static) -> TimerHandle {
        let mut f = Some(f);
        self.add_timer(
            delay,
            Some(1),
            TimerKind::Every(Box::new(move |state: &mut S| {
                if let Some(f) = f.take() {
                    f(state);
                }
            })),
        )
    }

    /// Checks `condition` every `interval` and calls `f` each time it holds, until stopped.
    pub fn when(
        &self,
        interval: Duration,
        condition: impl FnMut(&mut S) -> bool + Send + 'static,
        f: impl FnMut(&mut S) + Send + 'static,
    ) -> TimerHandle {
        self.add_timer(
            interval,
            None,
            TimerKind::When(Box::new(condition), Box::new(f)),
        )
    }

    fn add_timer(&self, interval: Duration, times: Option<u64>, kind: TimerKind<S>) -> TimerHandle {
        let id = self.shared.next_timer_id.fetch_add(1, Ordering::Relaxed);
        let handle = TimerHandle::new(id);
        let entry = TimerEntry::new(handle.clone(), Instant::now(), interval, times, kind);
        crate::sync::lock(&self.shared.new_timers).push(entry);
        self.shared.timer_added.notify_one();
        handle
    }

    /// How many calls and closures wait in the actor's mailbox (not counting the one
    /// running).
    pub fn queued(&self) -> usize {
        self.mailbox.max_capacity() - self.mailbox.capacity()
    }

    /// How many calls and closures the actor's mailbox holds at most
    /// (`Config::actor_mailbox_capacity`).
    pub fn capacity(&self) -> usize {
        self.mailbox.max_capacity()
    }

    /// Whether the actor is still running.
    pub fn is_running(&self) -> bool {
        !self.mailbox.is_closed()
    }
}

/// What an actor does after one of its handlers, closures or timers panicked.
pub(crate) enum AfterPanic<S> {
    /// Carry on with the state as the panic left it.
    Continue,
    /// Drop every timer, then run the closure (which replaces the state and may start new
    /// timers).
    Reset(Box<dyn FnOnce(&mut S) + Send>),
    /// Stop the actor.
    Stop,
}

/// Decides what an actor does after a panic (see [`run_supervised`]).
pub(crate) type PanicHook<S> = Box<dyn FnMut(&mut S) -> AfterPanic<S> + Send>;

/// Runs an actor until `stop` is cancelled or every handle is dropped; returns the state.
/// A panic is logged and the actor carries on.
pub(crate) async fn run<S: Send + 'static>(
    state: S,
    mailbox: ActorMailbox<S>,
    stop: CancellationToken,
) -> S {
    run_supervised(state, mailbox, stop, Box::new(|_| AfterPanic::Continue)).await
}

/// [`run`], with `on_panic` deciding what happens after each panic (a room's panic policy).
pub(crate) async fn run_supervised<S: Send + 'static>(
    mut state: S,
    mailbox: ActorMailbox<S>,
    stop: CancellationToken,
    mut on_panic: PanicHook<S>,
) -> S {
    let ActorMailbox {
        mut receiver,
        shared,
    } = mailbox;
    let mut timers: BinaryHeap<TimerEntry<S>> = BinaryHeap::new();
    loop {
        timers.extend(std::mem::take(&mut *crate::sync::lock(&shared.new_timers)));
        let next_deadline = timers.peek().map(TimerEntry::deadline);
        let panicked = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            () = shared.timer_added.notified() => false,
            job = receiver.recv() => match job {
                Some(job) => run_job(shared.name, &mut state, job).await,
                None => break,
            },
            () = sleep_until(next_deadline), if next_deadline.is_some() => {
                fire_due(shared.name, &mut state, &mut timers)
            }
        };
        if !panicked {
            continue;
        }
        match on_panic(&mut state) {
            AfterPanic::Continue => {}
            AfterPanic::Reset(reset) => {
                timers.clear();
                crate::sync::lock(&shared.new_timers).clear();
                reset(&mut state);
            }
            AfterPanic::Stop => break,
        }
    }
    state
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

/// Runs one job; returns whether it panicked (logged here).
async fn run_job<S>(name: &'static str, state: &mut S, job: Job<S>) -> bool {
    let panicked = match std::panic::catch_unwind(AssertUnwindSafe(|| job(state))) {
        Ok(None) => false,
        Ok(Some(future)) => AssertUnwindSafe(future).catch_unwind().await.is_err(),
        Err(_) => true,
    };
    if panicked {
        tracing::error!(actor = name, "a handler or closure on this actor panicked");
    }
    panicked
}

/// Fires the timers that are due; returns whether one panicked (the rest then wait for the
/// next turn, after the panic hook has run).
fn fire_due<S>(name: &'static str, state: &mut S, timers: &mut BinaryHeap<TimerEntry<S>>) -> bool {
    let now = Instant::now();
    while timers.peek().is_some_and(|timer| timer.deadline() <= now) {
        let Some(mut timer) = timers.pop() else { break };
        if timer.is_stopped() {
            continue;
        }
        let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| timer.fire(state))).is_err();
        if panicked {
            tracing::error!(
                actor = name,
                timer = timer.id(),
                "a timer callback panicked"
            );
        }
        if timer.reschedule() {
            timers.push(timer);
        }
        if panicked {
            return true;
        }
    }
    false
}
