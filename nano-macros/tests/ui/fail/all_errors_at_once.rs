use nano_core::prelude::*;

struct Room;

#[component(name = "room", colour = "blue")]
impl Room {
    #[handler]
    fn join(self, _session: &Session) {}

    #[handler]
    fn leave(&self, _session: &Session, _a: u32, _b: u32) {}

    #[handler]
    fn look(&self) {}

    // Still emitted: ordinary methods keep working for the rest of the crate.
    fn helper(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = Room.helper();
}
