use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler]
    fn join(self, _session: &Session) {}
}

fn main() {}
