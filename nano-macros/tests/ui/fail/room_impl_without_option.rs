use nano_core::prelude::*;
use nano_core::{Room, RoomRef};

struct Match;

#[component(name = "match")]
impl Match {
    #[handler]
    fn play(&mut self, _session: &Session) {}
}

impl Room for Match {
    type Init = ();
    type Input = ();

    fn create(_init: &(), _room: &RoomRef<Self>) -> Self {
        Match
    }
}

fn main() {}
