use nano_core::prelude::*;

struct Room;

trait Joinable {
    fn join(&self, session: &Session);
}

#[component]
impl Joinable for Room {
    fn join(&self, _session: &Session) {}
}

fn main() {}
