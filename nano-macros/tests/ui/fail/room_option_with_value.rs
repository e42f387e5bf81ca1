use nano_core::prelude::*;

struct Match;

#[component(name = "match", room = true)]
impl Match {
    #[handler]
    fn play(&mut self, _session: &Session) {}
}

struct Duel;

#[component(name = "duel", room(max_members = 2))]
impl Duel {
    #[handler]
    fn play(&mut self, _session: &Session) {}
}

fn main() {}
