use nano_core::prelude::*;
use nano_core::Component;

#[derive(serde::Serialize)]
struct Chat {
    text: String,
}

struct Room;

#[component(
    name = "room",
    pushes(onChat = Chat, "room.members" = Vec<String>, onScore = std::collections::BTreeMap<String, u32>,)
)]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) {}
}

fn main() {
    let pushes: Vec<(&str, &str)> = Room::META
        .pushes
        .iter()
        .map(|push| (push.route, push.payload_type.name))
        .collect();
    assert_eq!(
        pushes,
        [
            ("onChat", "Chat"),
            ("room.members", "Vec<String>"),
            ("onScore", "std::collections::BTreeMap<String, u32>"),
        ]
    );
    let join = Room::META.route("room.join").unwrap();
    assert!(join.payload_type.is_none() && join.response_type.is_none());
}
