//! A duplicate route is the only error, even where the type is registered.

use nano_core::prelude::*;

struct Game;

#[component(name = "game")]
impl Game {
    #[handler]
    fn join(&mut self, _session: &Session) {}

    #[handler(name = "join")]
    fn enter(&mut self, _session: &Session) {}
}

fn main() {
    let _ = App::builder().register(Game);
}
