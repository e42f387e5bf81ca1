use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler]
    unsafe fn join(&self, _session: &Session) {}
}

fn main() {}
