use nano_core::prelude::*;

struct Clock;

#[component(name = "clock", lifecycle)]
impl Clock {
    #[handler]
    fn now(&self, _session: &Session) {}
}

impl Lifecycle for Clock {
    fn shutdown(&self) {}
}

fn main() {
    let _ = App::builder().register(Clock);
}
