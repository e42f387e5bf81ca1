//! `&mut self` handlers make the component an actor; `&self` handlers may sit beside them.

use nano_core::prelude::*;
use nano_core::{Component, Execution};

#[derive(Default)]
struct Counter {
    value: u64,
}

#[component(name = "counter")]
impl Counter {
    #[handler]
    fn add(&mut self, _session: &Session, n: u64) -> u64 {
        self.value += n;
        self.value
    }

    #[handler]
    async fn add_later(&mut self, _session: &Session, n: u64) -> u64 {
        tokio::task::yield_now().await;
        self.value += n;
        self.value
    }

    #[handler]
    fn get(&self, _session: &Session) -> u64 {
        self.value
    }

    #[handler]
    async fn peek(&self, _session: Session) -> Result<u64, HandlerError> {
        Ok(self.value)
    }
}

fn main() {
    assert_eq!(<Counter as Component>::META.execution, Execution::Actor);
    assert_eq!(<Counter as Component>::META.routes.len(), 4);
}
