use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler]
    const LIMIT: usize = 10;

    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {}
