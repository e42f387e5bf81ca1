use nano_core::prelude::*;

struct Chat {
    text: String,
}

struct Room;

#[component(name = "room", pushes(onChat = Chat))]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {}
