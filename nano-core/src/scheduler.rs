//! [`Scheduler`]: the app's own actor, for timers and closures that belong to no component.

use std::time::Duration;

use crate::actor::{ActorHandle, InvokeError};
use crate::timer::TimerHandle;

/// The app's scheduler: timers and posted closures that run one at a time on one task, like
/// nano's logic goroutine — but only for what is put on it; handlers run elsewhere.
///
/// Get it from [`App::scheduler`](crate::App::scheduler) or
/// [`Context::scheduler`](crate::Context::scheduler). Cheap to clone.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_core::{App, Group};
///
/// # async fn run() -> Result<(), nano_core::Error> {
/// let app = App::builder().build()?;
/// let lobby = Group::new("lobby");
/// let clock = app.scheduler().every(Duration::from_secs(1), move || {
///     let _ = lobby.broadcast("onTick", &std::time::SystemTime::now());
/// });
/// app.scheduler().after(Duration::from_secs(60), move || clock.stop());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Scheduler {
    actor: ActorHandle<()>,
}

impl Scheduler {
    pub(crate) fn new(actor: ActorHandle<()>) -> Self {
        Self { actor }
    }

    /// The scheduler's actor, for its mailbox's depth.
    pub(crate) fn actor(&self) -> &ActorHandle<()> {
        &self.actor
    }

    /// Posts `f` to run on the scheduler, waiting for room in its mailbox.
    ///
    /// # Errors
    ///
    /// [`InvokeError::Stopped`] after shutdown.
    pub async fn invoke(&self, f: impl FnOnce() + Send + 'static) -> Result<(), InvokeError> {
        self.actor.invoke(move |()| f()).await
    }

    /// Posts `f` without waiting.
    ///
    /// # Errors
    ///
    /// [`InvokeError::Full`] or [`InvokeError::Stopped`].
    pub fn try_invoke(&self, f: impl FnOnce() + Send + 'static) -> Result<(), InvokeError> {
        self.actor.try_invoke(move |()| f())
    }

    /// Calls `f` every `interval` until stopped.
    pub fn every(&self, interval: Duration, mut f: impl FnMut() + Send + 'static) -> TimerHandle {
        self.actor.every(interval, move |()| f())
    }

    /// Calls `f` every `interval`, `times` times.
    pub fn count(
        &self,
        interval: Duration,
        times: u64,
        mut f: impl FnMut() + Send + 'static,
    ) -> TimerHandle {
        self.actor.count(interval, times, move |()| f())
    }

    /// Calls `f` once after `delay`.
    pub fn after(&self, delay: Duration, f: impl FnOnce() + Send + 'static) -> TimerHandle {
        self.actor.after(delay, move |()| f())
    }

    /// Checks `condition` every `interval` and calls `f` each time it holds.
    pub fn when(
        &self,
        interval: Duration,
        mut condition: impl FnMut() -> bool + Send + 'static,
        mut f: impl FnMut() + Send + 'static,
    ) -> TimerHandle {
        self.actor
            .when(interval, move |()| condition(), move |()| f())
    }
}
