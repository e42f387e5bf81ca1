//! `crate = "..."` for crates that re-export nano-core under another name.

extern crate nano_core as engine;

use engine::{Component, Session};

struct Room;

#[engine::component(name = "room", crate = "::engine")]
impl Room {
    #[engine::handler]
    fn join(&self, _session: &Session) {}
}

fn main() {
    assert_eq!(<Room as Component>::META.routes[0].route, "room.join");
}
