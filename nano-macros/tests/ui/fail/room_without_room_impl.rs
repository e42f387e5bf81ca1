use nano_core::prelude::*;
use nano_core::{RoomConfig, Rooms};

struct Match;

#[component(name = "match", room)]
impl Match {
    #[handler]
    fn play(&mut self, _session: &Session) {}
}

fn main() {
    let _ = Rooms::<Match>::new(RoomConfig::default());
}
