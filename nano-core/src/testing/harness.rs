//! [`Harness`]: one component started as an app starts it, for tests.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::{self, ActorHandle};
use crate::config::DEFAULT_ACTOR_MAILBOX_CAPACITY;
use crate::handler::Reply;
use crate::scheduler::Scheduler;
use crate::service::{Dispatch, Endpoint, Hooks};
use crate::{Component, Session};

/// One component, started as an app starts it but without a network: its
/// [`Lifecycle`](crate::Lifecycle) `init` and `after_init` hooks run with a real
/// [`Context`](crate::Context), an actor component gets its own task on the current tokio
/// runtime, and the harness has a scheduler of its own. Calls go through the same path as a
/// client's, so timers that handlers or hooks start really fire.
///
/// Dropping the harness stops the component's task and the scheduler;
/// [`shutdown`](Self::shutdown) runs the shutdown hooks first.
///
/// # Examples
///
/// A handler that starts a timer through its context, with tokio's paused clock:
///
/// ```
/// use std::time::Duration;
/// use nano_core::prelude::*;
/// use nano_core::testing::{self, Harness};
///
/// #[derive(Default)]
/// struct Match { timed_out: bool }
///
/// #[component(name = "match")]
/// impl Match {
///     #[handler]
///     fn start(&mut self, _session: &Session, ctx: &Context<Self>) {
///         let actor = ctx.actor().expect("`&mut self` handlers make Match an actor");
///         actor.after(Duration::from_secs(30), |game: &mut Match| game.timed_out = true);
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let game = Harness::start(Match::default());
/// let session = testing::session();
/// game.call("match.start", &session, 1, "").await;
///
/// tokio::time::sleep(Duration::from_secs(31)).await;
/// let actor = game.actor().expect("Match is an actor");
/// assert!(actor.call(|game| game.timed_out).await.unwrap());
/// game.shutdown().await;
/// # }
/// ```
pub struct Harness<C> {
    endpoint: Arc<dyn Endpoint>,
    hooks: Arc<dyn Hooks>,
    actor: Option<ActorHandle<C>>,
    scheduler: Scheduler,
    stop: CancellationToken,
    tasks: TaskTracker,
    component: PhantomData<fn() -> C>,
}

impl<C: Component> Harness<C> {
    /// Starts `component`: runs its `init` then its `after_init` hook, then starts it (an
    /// actor component on its own task).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn start(component: C) -> Self {
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let (scheduler, mailbox) =
            actor::channel::<()>("scheduler", DEFAULT_ACTOR_MAILBOX_CAPACITY);
        tasks.spawn(actor::run((), mailbox, stop.clone()));
        let scheduler = Scheduler::new(scheduler);

        let mut service = component.__into_service();
        service.inner.prepare(DEFAULT_ACTOR_MAILBOX_CAPACITY);
        service.inner.init(&scheduler);
        service.inner.after_init(&scheduler);
        let actor = service
            .inner
            .actor_handle()
            .and_then(|handle| handle.downcast_ref::<ActorHandle<C>>().cloned());
        let started = service.inner.start(stop.clone(), &tasks);
        Self {
            endpoint: started.endpoint,
            hooks: started.hooks,
            actor,
            scheduler,
            stop,
            tasks,
            component: PhantomData,
        }
    }

    /// Calls `route` as a request (`mid` ≥ 1) or notify (`mid` 0) from `session`, with a
    /// serialized `payload`, the way a client's message reaches it, and returns the reply.
    pub async fn call(
        &self,
        route: &str,
        session: &Session,
        mid: u64,
        payload: impl Into<Bytes>,
    ) -> Reply {
        match super::prepare::<C>(route, session, mid, payload.into()) {
            Err(reply) => reply,
            Ok((index, call)) => match self.endpoint.call(index, call) {
                Dispatch::Ready(reply) => reply,
                Dispatch::Pending(future) => future.await,
            },
        }
    }

    /// The component's handle when it is an actor: inspect or change its state with
    /// [`ActorHandle::call`] and [`ActorHandle::invoke`]. `None` for a shared component.
    pub fn actor(&self) -> Option<&ActorHandle<C>> {
        self.actor.as_ref()
    }

    /// The scheduler the component's context hands out.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// Runs the component's `before_shutdown` and `shutdown` hooks, then stops its task and
    /// the scheduler and waits for them.
    pub async fn shutdown(self) {
        self.hooks.before_shutdown().await;
        self.hooks.shutdown().await;
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl<C> Drop for Harness<C> {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl<C: Component> fmt::Debug for Harness<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("component", &C::META.name)
            .field("actor", &self.actor.is_some())
            .finish_non_exhaustive()
    }
}
