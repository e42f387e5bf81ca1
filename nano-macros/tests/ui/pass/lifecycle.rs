//! A component with a `Lifecycle` implementation and no attribute option: nano-rs finds it.

use std::time::Duration;

use nano_core::prelude::*;

#[derive(Default)]
struct Clock {
    ticks: u64,
}

#[component(name = "clock")]
impl Clock {
    #[handler]
    fn ticks(&mut self, _session: &Session) -> u64 {
        self.ticks
    }
}

impl Lifecycle for Clock {
    fn init(&mut self, ctx: &Context<Self>) {
        if let Some(actor) = ctx.actor() {
            actor.every(Duration::from_secs(1), |clock: &mut Clock| clock.ticks += 1);
        }
    }

    fn shutdown(&self) {}
}

/// No `Lifecycle` implementation: no hooks, and nothing to write.
struct Plain;

#[component(name = "plain")]
impl Plain {
    #[handler]
    fn ping(&self, _session: &Session) {}
}

/// The implementation may come before the block, from a macro, or from anywhere in the crate.
struct Early;

impl Lifecycle for Early {
    fn before_shutdown(&self) {}
}

#[component(name = "early")]
impl Early {
    #[handler]
    fn ping(&self, _session: &Session) {}
}

fn main() {
    let _ = App::builder().register(Clock::default()).register(Plain).register(Early);
}
