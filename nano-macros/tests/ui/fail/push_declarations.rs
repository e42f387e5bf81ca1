use nano_core::prelude::*;

#[derive(serde::Serialize)]
struct Chat {
    text: String,
}

struct Room;

// A route twice, a route without a type, an empty list, and a value instead of a list.
#[component(name = "room", pushes(onChat = Chat, onChat = Chat))]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) {}
}

struct Lobby;

#[component(name = "lobby", pushes(onChat))]
impl Lobby {
    #[handler]
    fn join(&self, _session: &Session) {}
}

struct Hall;

#[component(name = "hall", pushes())]
impl Hall {
    #[handler]
    fn join(&self, _session: &Session) {}
}

struct Yard;

#[component(name = "yard", pushes = "onChat")]
impl Yard {
    #[handler]
    fn join(&self, _session: &Session) {}
}

struct Porch;

#[component(name = "porch", pushes(7 = Chat, "" = Chat))]
impl Porch {
    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {}
