use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler]
    fn join(&self, _session: &Session, _name: String, _level: u32) {}
}

fn main() {}
