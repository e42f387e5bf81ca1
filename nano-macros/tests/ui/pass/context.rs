//! A handler may take `ctx: &Context<Self>` after the session, before or after the payload,
//! in sync and async handlers of shared and actor components.

use std::time::Duration;

use bytes::Bytes;
use nano_core::prelude::*;
use nano_core::{Component, PayloadKind};

#[derive(Default)]
struct Match {
    round: u32,
}

#[component(name = "match")]
impl Match {
    #[handler]
    fn start(&mut self, _session: &Session, ctx: &Context<Self>) {
        if let Some(actor) = ctx.actor() {
            actor.after(Duration::from_secs(30), |game: &mut Match| game.round = 0);
        }
    }

    #[handler]
    fn before_payload(&mut self, _session: &Session, ctx: &Context<Self>, round: u32) -> u32 {
        let _ = ctx.scheduler();
        self.round = round;
        self.round
    }

    #[handler]
    fn after_payload(&mut self, _session: &Session, round: u32, ctx: &Context<Match>) -> u32 {
        let _ = ctx.actor();
        round
    }

    #[handler]
    async fn async_actor(&mut self, session: Session, ctx: &nano_core::Context<Self>) -> u64 {
        tokio::task::yield_now().await;
        let _ = ctx.actor();
        session.id()
    }
}

struct Lobby;

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    fn raw(&self, _session: &Session, body: Bytes, ctx: &Context<Self>) -> Bytes {
        let _ = ctx.scheduler();
        body
    }

    #[handler]
    async fn async_shared(&self, _session: &Session, ctx: &Context<Self>, n: u32) -> u32 {
        tokio::task::yield_now().await;
        assert!(ctx.actor().is_none());
        n
    }
}

fn main() {
    let payloads: Vec<_> = <Match as Component>::META.routes.iter().map(|r| r.payload).collect();
    assert_eq!(
        payloads,
        [PayloadKind::None, PayloadKind::Typed, PayloadKind::Typed, PayloadKind::None]
    );
    let payloads: Vec<_> = <Lobby as Component>::META.routes.iter().map(|r| r.payload).collect();
    assert_eq!(payloads, [PayloadKind::Raw, PayloadKind::Typed]);
}
