use nano_core::prelude::*;
use nano_core::Proto;

#[derive(serde::Deserialize, serde::Serialize)]
struct Join {
    name: String,
}

struct Room;

#[component(pushes(onJoin = Proto<Join>))]
impl Room {
    #[handler]
    fn join(&self, _session: &Session, join: Proto<Join>) {
        let _ = join;
    }

    #[handler]
    fn info(&self, _session: &Session) -> Proto<Join> {
        Proto(Join { name: String::new() })
    }
}

fn main() {}
