use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler]
    fn join(&self, _session: &Session, _ctx: &Context<Self>, _again: &Context<Self>) {}
}

fn main() {}
