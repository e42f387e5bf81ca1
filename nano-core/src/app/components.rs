//! Starting registered components: their actors, their shutdown hooks, the route table.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actor::{self, ActorHandle};
use crate::component::Component;
use crate::config::Config;
use crate::routes::RouteTable;
use crate::scheduler::Scheduler;
use crate::service::{Hooks, MailboxProbe, Service};
use crate::{Room, Rooms};

/// The app's actors: its scheduler and its actor components, each running on its own task.
pub(crate) struct Actors {
    pub(crate) scheduler: Scheduler,
    tasks: TaskTracker,
    stop: CancellationToken,
}

impl Actors {
    /// Starts the app's scheduler; components start on [`start_components`].
    pub(crate) fn start(mailbox_capacity: usize) -> Self {
        let (tasks, stop) = (TaskTracker::new(), CancellationToken::new());
        let (handle, mailbox) = actor::channel::<()>("scheduler", mailbox_capacity);
        tasks.spawn(actor::run((), mailbox, stop.clone()));
        Self {
            scheduler: Scheduler::new(handle),
            tasks,
            stop,
        }
    }

    /// Stops every actor and waits for their tasks to end.
    pub(crate) async fn stop(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// The started components, as the app keeps them after start.
pub(crate) struct Components {
    /// Shutdown hooks, in registration order.
    pub(crate) hooks: Vec<Arc<dyn Hooks>>,
    /// The handles of actor components, by type (see [`App::actor`](crate::App::actor)).
    actor_handles: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    /// The mailboxes of actor components, by component name, in registration order.
    pub(crate) mailboxes: Vec<(&'static str, MailboxProbe)>,
}

impl Components {
    /// The handle of actor component `C`, if registered.
    pub(crate) fn actor<C: Component>(&self) -> Option<ActorHandle<C>> {
        let handle = self.actor_handles.get(&TypeId::of::<C>())?;
        handle.downcast_ref::<ActorHandle<C>>().cloned()
    }

    /// The room kind `C`, if served.
    pub(crate) fn rooms<C: Room>(&self) -> Option<Rooms<C>> {
        let handle = self.actor_handles.get(&TypeId::of::<C>())?;
        handle.downcast_ref::<Rooms<C>>().cloned()
    }
}

/// Runs every component's `init`, then every `after_init` (in registration order), then
/// starts them (actors on their tasks) and adds their routes to `routes`.
pub(crate) fn start_components(
    mut services: Vec<Service>,
    config: &Config,
    actors: &Actors,
    routes: &mut RouteTable,
) -> Components {
    for service in &mut services {
        service.inner.prepare(config.actor_mailbox_capacity);
    }
    for service in &mut services {
        service.inner.init(&actors.scheduler);
    }
    for service in &mut services {
        service.inner.after_init(&actors.scheduler);
    }
    let mut components = Components {
        hooks: Vec::with_capacity(services.len()),
        actor_handles: HashMap::new(),
        mailboxes: Vec::new(),
    };
    for service in services {
        if let Some(probe) = service.inner.mailbox() {
            components.mailboxes.push((service.meta.name, probe));
        }
        if let Some(handle) = service.inner.actor_handle() {
            components.actor_handles.insert(service.type_id, handle);
        }
        let started = service.inner.start(actors.stop.clone(), &actors.tasks);
        routes.add(service.meta.routes, &started.endpoint);
        components.hooks.push(started.hooks);
    }
    components
}
