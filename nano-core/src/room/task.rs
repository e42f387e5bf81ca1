//! Starting a room's task: its state from the init data, its panic policy, its tick loop,
//! and its disposal once empty.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use super::config::{PanicPolicy, RoomConfig};
use super::registry::Entry;
use super::rooms::{RoomsShared, Runtime};
use super::{CloseReason, Room, RoomError, RoomId, RoomRef};
use crate::actor::{self, AfterPanic, PanicHook};
use crate::component::Context;
use crate::service::ActorLink;

/// The timers a room (re)arms when it starts and after a reset.
#[derive(Clone, Copy)]
struct Timing {
    tick: Option<Duration>,
    empty: Option<Duration>,
}

impl Timing {
    fn of(config: &RoomConfig) -> Self {
        Self {
            tick: config.tick_period(),
            empty: config.dispose_when_empty,
        }
    }
}

/// Creates room `id` from its init data (and filter) and starts its task; [`arm_new`] then starts its timers,
/// once the room is in the registry (which its empty timer looks in).
pub(crate) fn start<C: Room>(
    rooms: &Arc<RoomsShared<C>>,
    runtime: &Runtime,
    id: RoomId,
    made: (C::Init, Option<Arc<str>>),
) -> Result<Entry<C>, RoomError> {
    let config = &rooms.config;
    let (handle, mailbox) = actor::channel(C::META.type_name, config.mailbox_capacity);
    let stop = runtime.stop.child_token();
    let weak = Arc::downgrade(rooms);
    let room = RoomRef::new(id, made, handle.clone(), stop.clone(), weak, config);
    let state = create_state(&room)?;
    let ctx = Context::new(runtime.scheduler.clone(), Some(handle.clone()))
        .with_room(Arc::new(room.clone()));
    let link = Arc::new(ActorLink { handle, ctx });
    let timing = Timing::of(config);
    let hook = panic_hook(room.clone(), config.on_panic, timing);
    runtime
        .tasks
        .spawn(actor::run_supervised(state, mailbox, stop, hook));
    Ok(Entry { room, link })
}

/// Starts a new room's tick loop and empty timer.
pub(crate) fn arm_new<C: Room>(room: &RoomRef<C>, config: &RoomConfig) {
    arm(room, Timing::of(config));
}

/// The state of a new (or reset) room; a panic in [`Room::create`] is an error.
fn create_state<C: Room>(room: &RoomRef<C>) -> Result<C, RoomError> {
    catch_unwind(AssertUnwindSafe(|| C::create(room.init(), room))).map_err(|_| {
        tracing::error!(kind = C::META.name, room = %room.id(), "creating a room panicked");
        RoomError::Panicked
    })
}

/// Starts the tick loop, and the empty timer if nobody is in the room.
fn arm<C: Room>(room: &RoomRef<C>, timing: Timing) {
    if let Some(period) = timing.tick {
        arm_tick(room, period);
    }
    if room.members().count() == 0 {
        arm_empty(room, timing.empty);
    }
}

/// Calls [`Room::tick`] every `period` on the room's task, with the inputs queued since the
/// last tick. The timer runs at a fixed rate (from the previous deadline, no drift).
fn arm_tick<C: Room>(room: &RoomRef<C>, period: Duration) {
    let ticking = room.clone();
    let mut tick = 0_u64;
    room.actor().every(period, move |state: &mut C| {
        tick += 1;
        let inputs = ticking.take_inputs();
        state.tick(&ticking, tick, inputs);
    });
}

/// Disposes of the room `delay` from now, unless someone joined meanwhile (or it emptied
/// again, which starts a timer of its own). `None`: empty rooms stay.
pub(crate) fn arm_empty<C: Room>(room: &RoomRef<C>, delay: Option<Duration>) {
    let Some(delay) = delay else { return };
    let mark = room.mark_emptied();
    let target = room.clone();
    room.actor().after(delay, move |_: &mut C| {
        if target.still_empty_since(mark) {
            target.close(CloseReason::Empty);
        }
    });
}

/// What the room's task does after a panic, by the kind's [`PanicPolicy`].
fn panic_hook<C: Room>(room: RoomRef<C>, policy: PanicPolicy, timing: Timing) -> PanicHook<C> {
    Box::new(move |_: &mut C| match policy {
        PanicPolicy::KeepGoing => AfterPanic::Continue,
        PanicPolicy::Reset => {
            tracing::warn!(kind = C::META.name, room = %room.id(), "room panicked: resetting it");
            let room = room.clone();
            AfterPanic::Reset(Box::new(move |state: &mut C| reset(state, &room, timing)))
        }
        PanicPolicy::Dispose => {
            tracing::warn!(kind = C::META.name, room = %room.id(), "room panicked: disposing of it");
            room.close(CloseReason::Panicked);
            AfterPanic::Stop
        }
    })
}

/// [`PanicPolicy::Reset`]: a fresh state from the init data, which every member joins again;
/// the inputs queued are dropped, the timers were (by the actor). A second panic disposes.
fn reset<C: Room>(state: &mut C, room: &RoomRef<C>, timing: Timing) {
    drop(room.take_inputs());
    let Ok(fresh) = create_state(room) else {
        room.close(CloseReason::Panicked);
        return;
    };
    *state = fresh;
    for member in room.members().members() {
        if catch_unwind(AssertUnwindSafe(|| state.joined(&member, room))).is_err() {
            room.close(CloseReason::Panicked);
            return;
        }
    }
    arm(room, timing);
}
