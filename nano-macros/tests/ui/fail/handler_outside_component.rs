use nano_core::prelude::*;

struct Room;

impl Room {
    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {}
