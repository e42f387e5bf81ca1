//! Handlers that start timers through their `ctx: &Context<Self>`, tested with
//! `testing::Harness` (the component started as an app starts it: lifecycle hooks, actor task,
//! timers that fire) and with `testing::call` / `call_actor` (no app). Paused clock throughout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use nano_core::TimerHandle;
use nano_core::prelude::*;
use nano_core::protocol::{Message, Route};
use nano_core::testing::Reply;
use nano_core::testing::{self, Harness, reply_error, reply_payload};

/// A match that times out unless it finishes first.
#[derive(Default)]
struct Match {
    players: Group,
    timeout: Option<TimerHandle>,
    timed_out: bool,
    hooks: Vec<&'static str>,
}

#[component(name = "match")]
impl Match {
    #[handler]
    fn start(
        &mut self,
        session: &Session,
        ctx: &Context<Self>,
        seconds: u64,
    ) -> Result<(), HandlerError> {
        self.players.add(session)?;
        let actor = ctx
            .actor()
            .ok_or_else(|| HandlerError::internal("no actor handle"))?;
        self.timeout = Some(actor.after(Duration::from_secs(seconds), Match::time_out));
        Ok(())
    }

    #[handler]
    async fn start_later(
        &mut self,
        session: Session,
        seconds: u64,
        ctx: &Context<Self>,
    ) -> Result<(), HandlerError> {
        tokio::task::yield_now().await;
        self.players.add(&session)?;
        if let Some(actor) = ctx.actor() {
            self.timeout = Some(actor.after(Duration::from_secs(seconds), Match::time_out));
        }
        Ok(())
    }

    #[handler]
    fn finish(&mut self, _session: &Session) {
        if let Some(timer) = self.timeout.take() {
            timer.stop();
        }
    }

    fn time_out(&mut self) {
        self.timed_out = true;
        let report = self.players.broadcast("onTimeout", &"too slow");
        report.expect("a string always serializes");
    }
}

impl Lifecycle for Match {
    fn init(&mut self, ctx: &Context<Self>) {
        assert!(ctx.actor().is_some(), "an actor's context has its handle");
        self.hooks.push("init");
    }

    fn after_init(&mut self, _ctx: &Context<Self>) {
        self.hooks.push("after_init");
    }
}

/// The routes of the pushes queued for `session`.
fn pushes(session: &Session) -> Vec<String> {
    testing::sent(session)
        .into_iter()
        .filter_map(|message| match message {
            Message::Push {
                route: Route::Name(name),
                ..
            } => Some(name.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

async fn timed_out(game: &Harness<Match>) -> bool {
    let actor = game.actor().expect("Match is an actor");
    actor.call(|game| game.timed_out).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_timer_a_handler_starts_through_its_context_fires_on_the_actor() {
    let game = Harness::start(Match::default());
    let session = testing::session();
    let reply = game.call("match.start", &session, 1, "30").await;
    assert_eq!(reply_payload(&reply), Some(&b"{}"[..]));
    testing::sent(&session); // the response

    tokio::time::sleep(Duration::from_secs(29)).await;
    assert!(!timed_out(&game).await);
    assert!(pushes(&session).is_empty());

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(timed_out(&game).await);
    assert_eq!(pushes(&session), ["onTimeout"]);
    game.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_stopped_timer_never_fires() {
    let game = Harness::start(Match::default());
    let session = testing::session();
    game.call("match.start", &session, 1, "30").await;
    game.call("match.finish", &session, 0, "").await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(!timed_out(&game).await);
    game.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn async_handlers_get_the_context_too() {
    let game = Harness::start(Match::default());
    let session = testing::session();
    let reply = game.call("match.start_later", &session, 0, "5").await;
    assert!(matches!(reply, Reply::None));
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(timed_out(&game).await);
    assert_eq!(pushes(&session), ["onTimeout"]);
    game.shutdown().await;
}

#[tokio::test]
async fn the_harness_runs_init_then_after_init() {
    let game = Harness::start(Match::default());
    let actor = game.actor().expect("Match is an actor");
    assert_eq!(
        actor.call(|game| game.hooks.clone()).await.unwrap(),
        ["init", "after_init"]
    );
    let reply = game.call("match.nope", &testing::session(), 1, "").await;
    assert_eq!(reply_error(&reply).unwrap().code(), 404);
    game.shutdown().await;
}

#[tokio::test]
async fn under_call_actor_the_context_has_no_actor_handle() {
    let mut game = Match::default();
    let session = testing::session();
    let reply = testing::call_actor(&mut game, "match.start", &session, 1, "30").await;
    let error = reply_error(&reply).expect("no handle, no timer");
    assert_eq!(error.message(), "no actor handle");
    assert!(game.timeout.is_none());
    assert!(game.hooks.is_empty(), "call_actor runs no lifecycle hook");
}

type Log = Arc<Mutex<Vec<String>>>;

/// A shared component whose handler starts a timer on the app's scheduler.
struct Lobby {
    log: Log,
}

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    fn remind(&self, session: &Session, ctx: &Context<Self>, body: Bytes) {
        assert!(ctx.actor().is_none(), "a shared component has no actor");
        let session = session.clone();
        ctx.scheduler().after(Duration::from_secs(10), move || {
            let pushed = session.push("onReminder", &body.len());
            pushed.expect("the session is still open when its reminder fires");
        });
    }
}

impl Lifecycle for Lobby {
    fn before_shutdown(&self) {
        self.log.lock().unwrap().push("before_shutdown".into());
    }

    fn shutdown(&self) {
        self.log.lock().unwrap().push("shutdown".into());
    }
}

#[tokio::test(start_paused = true)]
async fn a_shared_component_starts_timers_on_the_scheduler() {
    let log = Log::default();
    let lobby = Harness::start(Lobby { log: log.clone() });
    assert!(lobby.actor().is_none());
    let session = testing::session();
    lobby.call("lobby.remind", &session, 0, "abc").await;
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert!(pushes(&session).is_empty());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(pushes(&session), ["onReminder"]);

    lobby.shutdown().await;
    assert_eq!(*log.lock().unwrap(), ["before_shutdown", "shutdown"]);
}

#[tokio::test(start_paused = true)]
async fn under_call_the_scheduler_is_started_when_a_handler_asks_for_it() {
    let lobby = Arc::new(Lobby {
        log: Log::default(),
    });
    let session = testing::session();
    testing::call(&lobby, "lobby.remind", &session, 0, "abcd").await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(pushes(&session), ["onReminder"]);
}

#[tokio::test]
async fn shutdown_stops_the_actor() {
    let game = Harness::start(Match::default());
    let actor = game.actor().cloned().expect("Match is an actor");
    game.shutdown().await;
    assert!(!actor.is_running());
    assert!(actor.call(|game| game.timed_out).await.is_err());
}
