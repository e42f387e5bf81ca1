//! The longest route the protocol carries by name: 255 bytes ("room." and 125 two-byte
//! characters).

use nano_core::Component;
use nano_core::prelude::*;

struct Room;

#[component(name = "room")]
impl Room {
    #[handler(name = "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé")]
    fn longest(&self, _session: &Session) {}
}

fn main() {
    assert_eq!(<Room as Component>::META.routes[0].route.len(), 255);
}
