use nano_core::prelude::*;

struct Room;

// "room.", "x" and 125 two-byte characters: 256 bytes, one over what the protocol carries by
// name (the limit counts bytes, not characters).
#[component(name = "room")]
impl Room {
    #[handler(name = "xééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé")]
    fn long(&self, _session: &Session) {}
}

fn main() {}
