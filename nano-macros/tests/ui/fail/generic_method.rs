use nano_core::prelude::*;

struct Room;

#[component]
impl Room {
    #[handler]
    fn join<T: serde::de::DeserializeOwned>(&self, _session: &Session, _payload: T) {}
}

fn main() {}
