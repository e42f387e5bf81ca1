use nano_core::prelude::*;

struct Joined {
    code: i32,
}

struct Room;

#[component]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) -> Result<Joined, HandlerError> {
        Ok(Joined { code: 0 })
    }
}

fn main() {}
