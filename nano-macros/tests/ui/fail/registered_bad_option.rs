//! A mistake in the component's options is the only error, even where the type is registered.

use nano_core::prelude::*;

struct Game;

#[component(name = "game", rename = "lowercase")]
impl Game {
    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {
    let _ = App::builder().register(Game);
}
