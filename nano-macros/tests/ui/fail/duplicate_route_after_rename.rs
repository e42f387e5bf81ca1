use nano_core::prelude::*;

struct Room;

#[component(name = "room", rename_all = "lowercase")]
impl Room {
    #[handler]
    fn send_msg(&self, _session: &Session) {}

    #[handler]
    fn sendmsg(&self, _session: &Session) {}
}

fn main() {}
