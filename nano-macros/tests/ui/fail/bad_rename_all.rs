use nano_core::prelude::*;

struct Room;

#[component(rename_all = "kebab-case")]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {}
