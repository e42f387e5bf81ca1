//! A room kind as an app starts it ([`Service::rooms`]), and the endpoint of its routes: a
//! call goes to the room its session is in.

use std::any::{Any, TypeId};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::rooms::{Rooms, Runtime};
use super::{Room, RoomError};
use crate::HandlerError;
use crate::call::Call;
use crate::component::Component;
use crate::handler::Reply;
use crate::scheduler::Scheduler;
use crate::service::{
    Dispatch, Endpoint, HookFuture, Hooks, Service, Startable, Started, call_actor,
};

impl Service {
    /// A room kind: its routes, served by the room each caller is in.
    pub(crate) fn rooms<C: Room>(rooms: Rooms<C>) -> Self {
        Self {
            meta: C::META,
            type_id: TypeId::of::<C>(),
            inner: Box::new(KindStart {
                rooms,
                scheduler: None,
            }),
            registered_room: false,
        }
    }

    /// A `#[component(room)]` type given to `AppBuilder::register`, which refuses it at
    /// build (room kinds are registered with `AppBuilder::rooms`). Made by the macro.
    pub fn registered_room<C: Component>() -> Self {
        Self {
            meta: C::META,
            type_id: TypeId::of::<C>(),
            inner: Box::new(Refused),
            registered_room: true,
        }
    }
}

struct KindStart<C: Room> {
    rooms: Rooms<C>,
    scheduler: Option<Scheduler>,
}

impl<C: Room> Startable for KindStart<C> {
    fn prepare(&mut self, _mailbox_capacity: usize) {}

    fn init(&mut self, scheduler: &Scheduler) {
        self.scheduler = Some(scheduler.clone());
    }

    fn after_init(&mut self, _scheduler: &Scheduler) {}

    fn actor_handle(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(Arc::new(self.rooms.clone()))
    }

    fn start(self: Box<Self>, stop: CancellationToken, tracker: &TaskTracker) -> Started {
        let KindStart { rooms, scheduler } = *self;
        if let Some(scheduler) = scheduler {
            let runtime = Runtime {
                scheduler,
                stop,
                tasks: tracker.clone(),
            };
            if !rooms.shared().attach(runtime) {
                tracing::error!(
                    kind = C::META.name,
                    "a `Rooms` serves one app: this one keeps the first"
                );
            }
        }
        let rooms = Arc::new(rooms);
        Started {
            endpoint: Arc::new(KindEndpoint(Arc::clone(&rooms))),
            hooks: Arc::new(KindHooks(rooms)),
        }
    }
}

struct KindEndpoint<C: Room>(Arc<Rooms<C>>);

impl<C: Room> Endpoint for KindEndpoint<C> {
    fn call(&self, index: usize, call: Call) -> Dispatch {
        match self.0.shared().link_of(call.session()) {
            Some(link) => call_actor(link, index, call, || {
                HandlerError::new(RoomError::GONE, "the room was disposed")
            }),
            None => Dispatch::Ready(Reply::Error(RoomError::NotInRoom.into())),
        }
    }
}

struct KindHooks<C: Room>(Arc<Rooms<C>>);

impl<C: Room> Hooks for KindHooks<C> {
    fn before_shutdown(&self) -> HookFuture {
        Box::pin(async {})
    }

    /// After clients are gone: every room stops (the actors stop right after anyway).
    fn shutdown(&self) -> HookFuture {
        self.0.shared().stop_all();
        Box::pin(async {})
    }
}

/// What a refused registration starts as; never started (`build` fails first).
struct Refused;

impl Startable for Refused {
    fn prepare(&mut self, _mailbox_capacity: usize) {}
    fn init(&mut self, _scheduler: &Scheduler) {}
    fn after_init(&mut self, _scheduler: &Scheduler) {}

    fn actor_handle(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        None
    }

    fn start(self: Box<Self>, _stop: CancellationToken, _tracker: &TaskTracker) -> Started {
        Started {
            endpoint: Arc::new(RefusedEndpoint),
            hooks: Arc::new(RefusedEndpoint),
        }
    }
}

struct RefusedEndpoint;

impl Endpoint for RefusedEndpoint {
    fn call(&self, _index: usize, _call: Call) -> Dispatch {
        Dispatch::Ready(Reply::Error(RoomError::NotInRoom.into()))
    }
}

impl Hooks for RefusedEndpoint {
    fn before_shutdown(&self) -> HookFuture {
        Box::pin(async {})
    }

    fn shutdown(&self) -> HookFuture {
        Box::pin(async {})
    }
}
