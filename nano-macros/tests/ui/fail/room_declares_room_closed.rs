use nano_core::prelude::*;

struct Match;

#[component(name = "match", room, pushes(onMove = u32, onRoomClosed = String))]
impl Match {
    #[handler]
    fn play(&mut self, _session: &Session) {}
}

fn main() {}
