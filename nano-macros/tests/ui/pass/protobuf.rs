//! Protobuf payloads, responses and pushes: prost messages in `Proto`, next to serde types.

use nano_core::prelude::*;
use nano_core::Proto;

#[derive(Clone, PartialEq, prost::Message)]
pub struct Join {
    #[prost(string, tag = "1")]
    pub name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Joined {
    #[prost(uint64, tag = "1")]
    pub id: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Chat {
    #[prost(string, tag = "1")]
    pub text: String,
}

struct Room {
    members: Group,
}

#[component(pushes(onChat = Proto<Chat>))]
impl Room {
    #[handler]
    fn join(&self, session: &Session, Proto(join): Proto<Join>) -> Result<Proto<Joined>, HandlerError> {
        session.set("name", join.name);
        self.members.add(session)?;
        Ok(Proto(Joined { id: session.id() }))
    }

    #[handler]
    fn say(&self, _session: &Session, chat: Proto<Chat>) {
        let _ = self.members.broadcast("onChat", &chat);
    }

    #[handler]
    fn leave(&self, session: &Session) -> Proto<Joined> {
        Proto(Joined { id: session.id() })
    }
}

fn main() {}
