use nano_core::prelude::*;

struct Room;

#[component(name = "room", rename_all = "lowercase", name = "lobby")]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {}
