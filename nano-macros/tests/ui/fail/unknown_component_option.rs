use nano_core::prelude::*;

struct Room;

#[component(name = "room", route_prefix = "x")]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {}
