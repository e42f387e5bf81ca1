use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler]
    fn join(_session: &Session) {}
}

fn main() {}
