use nano_core::prelude::*;

#[derive(Clone, PartialEq, prost::Message)]
pub struct Join {
    #[prost(string, tag = "1")]
    pub name: String,
}

struct Room;

#[component]
impl Room {
    #[handler]
    fn join(&self, _session: &Session, join: Join) -> Join {
        join
    }
}

fn main() {}
