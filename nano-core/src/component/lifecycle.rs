//! [`Lifecycle`]: the hooks a component can run at start-up and shutdown, and the table of them
//! the runtime calls.

use super::Context;

/// Hooks a component can run at start-up and shutdown, as in nano. Every hook defaults to
/// doing nothing.
///
/// Implement it for a component's type and nano-rs runs the hooks; `#[component]` finds the
/// implementation on its own, and a component without one runs none.
///
/// Order: `init` of every component (in registration order), then `after_init` of every
/// component, then serving. At shutdown: `before_shutdown` in reverse registration order,
/// clients are kicked and drained, then `shutdown` in reverse registration order.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_core::prelude::*;
///
/// #[derive(Default)]
/// struct Clock { ticks: u64 }
///
/// #[component(name = "clock")]
/// impl Clock {
///     #[handler]
///     fn now(&mut self, _session: &Session) -> u64 { self.ticks }
/// }
///
/// impl Lifecycle for Clock {
///     fn init(&mut self, ctx: &Context<Self>) {
///         let actor = ctx.actor().expect("`&mut self` handlers make Clock an actor");
///         actor.every(Duration::from_secs(1), |clock: &mut Clock| clock.ticks += 1);
///     }
/// }
/// ```
pub trait Lifecycle: Sized + Send + 'static {
    /// Runs before any client is served, in registration order.
    fn init(&mut self, ctx: &Context<Self>) {
        let _ = ctx;
    }

    /// Runs after every component's `init`, in registration order.
    fn after_init(&mut self, ctx: &Context<Self>) {
        let _ = ctx;
    }

    /// Runs when shutdown starts, before clients are kicked, in reverse registration order.
    fn before_shutdown(&self) {}

    /// Runs after clients are gone, in reverse registration order.
    fn shutdown(&self) {}
}

/// A component's lifecycle hooks as the runtime calls them: its [`Lifecycle`] implementation,
/// or hooks that do nothing. The code `#[component]` generates picks one (where the type is
/// concrete, so it can see whether the implementation exists).
pub struct LifecycleHooks<C> {
    pub(crate) init: fn(&mut C, &Context<C>),
    pub(crate) after_init: fn(&mut C, &Context<C>),
    pub(crate) before_shutdown: fn(&C),
    pub(crate) shutdown: fn(&C),
}

impl<C: Lifecycle> LifecycleHooks<C> {
    /// The hooks of `C`'s [`Lifecycle`] implementation.
    pub(crate) fn implemented() -> Self {
        Self {
            init: C::init,
            after_init: C::after_init,
            before_shutdown: C::before_shutdown,
            shutdown: C::shutdown,
        }
    }
}

impl<C> LifecycleHooks<C> {
    /// Hooks that do nothing, for a component without a [`Lifecycle`] implementation.
    pub(crate) fn none() -> Self {
        Self {
            init: |_, _| {},
            after_init: |_, _| {},
            before_shutdown: |_| {},
            shutdown: |_| {},
        }
    }
}

impl<C> Clone for LifecycleHooks<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for LifecycleHooks<C> {}
