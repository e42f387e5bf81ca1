use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler]
    const fn join(&self, _session: &Session) {}

    #[handler]
    extern "C" fn leave(&self, _session: &Session) {}
}

fn main() {}
