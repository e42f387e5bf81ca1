use nano_core::prelude::*;

struct Match;

#[component(name = "match", room, room)]
impl Match {
    #[handler]
    fn play(&mut self, _session: &Session) {}
}

fn main() {}
