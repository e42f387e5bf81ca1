use nano_core::prelude::*;

struct Room;

#[component(name = "room")]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) {}

    #[handler(name = "join")]
    fn enter(&self, _session: &Session) {}
}

fn main() {}
