use nano_core::prelude::*;

struct Join {
    name: String,
}

struct Room;

#[component]
impl Room {
    #[handler]
    fn join(&self, _session: &Session, join: Join) {
        let _ = join.name;
    }
}

fn main() {}
