//! Route names: defaults, `name`, every `rename_all` rule, and per-handler names.

use nano_core::prelude::*;
use nano_core::Component;

fn routes<C: Component>() -> Vec<&'static str> {
    C::META.routes.iter().map(|route| route.route).collect()
}

struct Defaults;

#[component]
impl Defaults {
    #[handler]
    fn send_message(&self, _session: &Session) {}
}

struct Lower;

#[component(name = "room", rename_all = "lowercase")]
impl Lower {
    #[handler]
    fn send_message(&self, _session: &Session) {}
}

struct Camel;

#[component(name = "room", rename_all = "camelCase")]
impl Camel {
    #[handler]
    fn send_message(&self, _session: &Session) {}
}

struct Pascal;

#[component(name = "Room", rename_all = "PascalCase")]
impl Pascal {
    #[handler]
    fn send_message(&self, _session: &Session) {}
}

struct Snake;

#[component(name = "room", rename_all = "snake_case")]
impl Snake {
    #[handler]
    fn send_message(&self, _session: &Session) {}
}

struct Explicit;

#[component(name = "room", rename_all = "PascalCase")]
impl Explicit {
    #[handler(name = "join")]
    fn enter(&self, _session: &Session) {}

    #[handler]
    fn r#move(&self, _session: &Session) {}
}

/// nano's chat demo: component `room`, methods lower-cased.
struct ChatRoom;

#[component(name = "room", rename_all = "lowercase")]
impl ChatRoom {
    #[handler]
    fn join(&self, _session: &Session) {}

    #[handler]
    fn message(&self, _session: &Session) {}
}

fn main() {
    assert_eq!(routes::<Defaults>(), ["Defaults.send_message"]);
    assert_eq!(routes::<Lower>(), ["room.sendmessage"]);
    assert_eq!(routes::<Camel>(), ["room.sendMessage"]);
    assert_eq!(routes::<Pascal>(), ["Room.SendMessage"]);
    assert_eq!(routes::<Snake>(), ["room.send_message"]);
    assert_eq!(routes::<Explicit>(), ["room.join", "room.Move"]);
    assert_eq!(routes::<ChatRoom>(), ["room.join", "room.message"]);
}
