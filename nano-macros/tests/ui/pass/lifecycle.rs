//! `#[component(lifecycle)]`: the component implements `Lifecycle` itself.

use std::time::Duration;

use nano_core::prelude::*;

#[derive(Default)]
struct Clock {
    ticks: u64,
}

#[component(name = "clock", lifecycle)]
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

fn main() {}
