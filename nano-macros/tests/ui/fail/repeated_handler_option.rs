use nano_core::prelude::*;

struct Room;

#[component(name = "room")]
impl Room {
    #[handler(name = "enter", name = "join")]
    fn join(&self, _session: &Session) {}
}

fn main() {}
