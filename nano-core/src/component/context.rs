//! [`Context`]: what a component's hooks and handlers can reach of the running app.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

use crate::actor::{self, ActorHandle};
use crate::config::DEFAULT_ACTOR_MAILBOX_CAPACITY;
use crate::scheduler::Scheduler;

/// What a component's code can reach of the running app: the app's [`Scheduler`] and, for an
/// actor component, the component's own [`ActorHandle`].
///
/// The [`Lifecycle::init`](crate::Lifecycle::init) and
/// [`Lifecycle::after_init`](crate::Lifecycle::after_init) hooks get one, and so does any
/// handler that asks for it with a `ctx: &Context<Self>` parameter, after the session and
/// before or after the payload. A handler that takes no context costs nothing more. Cheap to
/// clone.
///
/// # Examples
///
/// A match that times out 30 seconds after it starts, unless it finishes first: the handler
/// that starts the match starts the timer, on the match's own task.
///
/// ```
/// use std::time::Duration;
/// use nano_core::prelude::*;
/// use nano_core::TimerHandle;
///
/// #[derive(Default)]
/// struct Match {
///     players: Group,
///     timeout: Option<TimerHandle>,
///     timed_out: bool,
/// }
///
/// #[component(name = "match")]
/// impl Match {
///     #[handler]
///     fn start(&mut self, session: &Session, ctx: &Context<Self>) -> Result<(), HandlerError> {
///         self.players.add(session)?;
///         let actor = ctx.actor().expect("`&mut self` handlers make Match an actor");
///         let timer = actor.after(Duration::from_secs(30), |game: &mut Match| game.time_out());
///         self.timeout = Some(timer);
///         Ok(())
///     }
///
///     #[handler]
///     fn finish(&mut self, _session: &Session) {
///         if let Some(timer) = self.timeout.take() {
///             timer.stop();
///         }
///     }
///
///     fn time_out(&mut self) {
///         self.timed_out = true;
///         let _ = self.players.broadcast("onTimeout", &());
///     }
/// }
/// ```
///
/// [`testing::Harness`](crate::testing::Harness) runs such a component in a test, timers
/// included.
pub struct Context<C> {
    /// Set when the context belongs to a running app or harness; started on first use
    /// otherwise (see [`Context::scheduler`]).
    scheduler: OnceLock<Scheduler>,
    actor: Option<ActorHandle<C>>,
    /// The room instance, for a room kind's instance (a `RoomRef<C>`, type-erased because
    /// `Context` does not require `C: Room`; see `Context::room`).
    room: Option<Arc<dyn Any + Send + Sync>>,
}

impl<C> Context<C> {
    /// The context of a component started by an app (or a test harness).
    pub(crate) fn new(scheduler: Scheduler, actor: Option<ActorHandle<C>>) -> Self {
        Self {
            scheduler: OnceLock::from(scheduler),
            actor,
            room: None,
        }
    }

    /// This context, for the room instance `room` (a `RoomRef<C>`).
    pub(crate) fn with_room(mut self, room: Arc<dyn Any + Send + Sync>) -> Self {
        self.room = Some(room);
        self
    }

    /// The room instance set by [`with_room`](Self::with_room), type-erased.
    pub(crate) fn room_any(&self) -> Option<&(dyn Any + Send + Sync)> {
        self.room.as_deref()
    }

    /// A context that belongs to no app (for `testing::call` and `testing::call_actor`): its
    /// scheduler is started only if asked for.
    pub(crate) fn detached(actor: Option<ActorHandle<C>>) -> Self {
        Self {
            scheduler: OnceLock::new(),
            actor,
            room: None,
        }
    }

    /// The app's scheduler: timers and posted closures that run one at a time on the app's
    /// scheduler task.
    ///
    /// Under [`testing::call`](crate::testing::call) and
    /// [`testing::call_actor`](crate::testing::call_actor), which run a handler outside any
    /// app, this is a scheduler of the handler's own, started on the current tokio runtime
    /// the first time it is asked for; its timers run as long as the runtime does.
    ///
    /// # Panics
    ///
    /// Under those two test helpers, outside a tokio runtime.
    pub fn scheduler(&self) -> &Scheduler {
        self.scheduler.get_or_init(start_own_scheduler)
    }

    /// This component's own handle, when it is an actor ([`Execution::Actor`]): timers and
    /// closures that run on its task with `&mut self`.
    ///
    /// `None` for shared components, and under
    /// [`testing::call_actor`](crate::testing::call_actor), which runs the handler on a
    /// borrowed component with no task of its own (use
    /// [`testing::Harness`](crate::testing::Harness) to test timers).
    ///
    /// [`Execution::Actor`]: crate::Execution::Actor
    pub fn actor(&self) -> Option<&ActorHandle<C>> {
        self.actor.as_ref()
    }
}

/// A scheduler task on the current runtime, for a context that belongs to no app. Its task
/// holds a handle itself, so the scheduler (and its timers) live as long as the runtime.
fn start_own_scheduler() -> Scheduler {
    let (handle, mailbox) = actor::channel::<()>("scheduler", DEFAULT_ACTOR_MAILBOX_CAPACITY);
    let keep_open = handle.clone();
    tokio::spawn(async move {
        let _keep_open = keep_open;
        actor::run((), mailbox, CancellationToken::new()).await;
    });
    Scheduler::new(handle)
}

impl<C> Clone for Context<C> {
    fn clone(&self) -> Self {
        Self {
            scheduler: self.scheduler.clone(),
            actor: self.actor.clone(),
            room: self.room.clone(),
        }
    }
}

impl<C> fmt::Debug for Context<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("actor", &self.actor.is_some())
            .finish_non_exhaustive()
    }
}
