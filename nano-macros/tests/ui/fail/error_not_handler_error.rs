use nano_core::prelude::*;

struct NotAnError;

struct Room;

#[component]
impl Room {
    #[handler]
    fn join(&self, _session: &Session) -> Result<u32, NotAnError> {
        Err(NotAnError)
    }
}

fn main() {}
