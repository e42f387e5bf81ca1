//! A mistake in a handler's signature is the only error, even where the type is registered.

use nano_core::prelude::*;

struct Game;

#[component(name = "game")]
impl Game {
    #[handler]
    fn join(&self) {}
}

fn main() {
    let _ = App::builder().register(Game);
}
