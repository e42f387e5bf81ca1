use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler(route = "enter")]
    fn join(&self, _session: &Session) {}
}

fn main() {}
