//! The session and message spans over TCP, seen by an in-process subscriber: what a handler
//! logs after an `.await` carries its route, message id, session id and uid, on a shared
//! component, on an actor and in a room; the closed message span holds the response code and duration;
//! the spans' level is `Config::span_level`, and a subscriber that does not enable it gets
//! none.

use std::time::Duration;

use nano_client::Client;
use nano_core::prelude::*;
use nano_core::{Room, RoomConfig, RoomRef, Rooms};
use nano_tests::spans::{Captured, CapturedEvent};
use nano_tests::wait::wait_until;
use tracing::Level;

/// How long a condition of these tests may take to come true.
const WITHIN: Duration = Duration::from_secs(10);

/// A shared component whose handlers log.
struct Probe;

#[component(name = "probe")]
impl Probe {
    /// Binds the session to `uid`; answers the session's id.
    #[handler]
    fn login(&self, session: &Session, uid: i64) -> Result<u64, HandlerError> {
        session.bind(uid)?;
        Ok(session.id())
    }

    /// Logs after an await.
    #[handler]
    async fn wait(&self, _session: &Session) -> u64 {
        tokio::task::yield_now().await;
        tracing::info!("after await");
        1
    }

    /// Refuses with 409, after an await.
    #[handler]
    async fn refuse(&self, _session: &Session) -> Result<u64, HandlerError> {
        tokio::task::yield_now().await;
        Err(HandlerError::new(409, "taken"))
    }

    /// Logs a warning.
    #[handler]
    fn warn(&self, _session: &Session) -> u64 {
        tracing::warn!("warned");
        1
    }
}

/// An actor component: its handlers run on the actor's task.
#[derive(Default)]
struct Tally {
    count: u64,
}

#[component(name = "tally")]
impl Tally {
    /// Counts, after an await, and logs.
    #[handler]
    async fn bump(&mut self, _session: &Session) -> u64 {
        tokio::task::yield_now().await;
        self.count += 1;
        tracing::info!("bumped");
        self.count
    }
}

/// A room kind: its handlers run on the room's task.
struct Arena;

#[component(name = "arena", room)]
impl Arena {
    /// Logs after an await.
    #[handler]
    async fn shout(&mut self, _session: &Session) -> u64 {
        tokio::task::yield_now().await;
        tracing::info!("shouted");
        1
    }
}

impl Room for Arena {
    type Init = ();
    type Input = ();

    fn create(_init: &(), _room: &RoomRef<Self>) -> Self {
        Arena
    }
}

/// Joins the caller to a new arena.
struct Lobby {
    arenas: Rooms<Arena>,
}

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    async fn enter(&self, session: &Session) -> Result<(), HandlerError> {
        let room = self.arenas.create(())?;
        self.arenas.join(room.id(), session).await?;
        Ok(())
    }
}

/// A client of an app serving these components, with spans at `level`, logged in as uid 42;
/// the session's id.
async fn logged_in(level: Level) -> (App, Client, u64) {
    let arenas = Rooms::<Arena>::new(RoomConfig::default()).unwrap();
    let app = App::builder()
        .register(Probe)
        .register(Tally::default())
        .register(Lobby {
            arenas: arenas.clone(),
        })
        .rooms(arenas)
        .span_level(level)
        .build()
        .unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap();
    let client = Client::connect(&addr.to_string()).await.unwrap();
    let id: u64 = client.request("probe.login", &42).await.unwrap();
    (app, client, id)
}

/// The one event logged with `message`.
fn only(captured: &Captured, message: &str) -> CapturedEvent {
    let events = captured.events(message);
    assert_eq!(events.len(), 1, "events `{message}`: {events:?}");
    events.into_iter().next().unwrap()
}

fn field<'a>(event: &'a CapturedEvent, name: &str) -> Option<&'a str> {
    event.fields.get(name).map(String::as_str)
}

#[tokio::test]
async fn an_async_handler_logs_after_an_await_inside_its_message_and_session_spans() {
    let (captured, _guard) = Captured::install(Level::INFO);
    let (_app, client, id) = logged_in(Level::INFO).await;
    let _: u64 = client.request("probe.wait", &()).await.unwrap();

    let event = only(&captured, "after await");
    assert_eq!(field(&event, "message.route"), Some("probe.wait"));
    assert_eq!(field(&event, "message.mid"), Some("2"));
    assert_eq!(field(&event, "message.kind"), Some("request"));
    assert_eq!(field(&event, "session.id"), Some(id.to_string().as_str()));
    assert_eq!(field(&event, "session.uid"), Some("42"));
    assert_eq!(field(&event, "session.transport"), Some("tcp"));
    let remote = field(&event, "session.remote").unwrap_or_default();
    assert!(remote.starts_with("Some(127.0.0.1:"), "{remote}");
}

#[tokio::test]
async fn an_actor_polls_its_handler_inside_the_message_span_of_the_call() {
    let (captured, _guard) = Captured::install(Level::INFO);
    let (_app, client, id) = logged_in(Level::INFO).await;
    let _: u64 = client.request("tally.bump", &()).await.unwrap();

    let event = only(&captured, "bumped");
    assert_eq!(field(&event, "message.route"), Some("tally.bump"));
    assert_eq!(field(&event, "message.mid"), Some("2"));
    assert_eq!(field(&event, "session.id"), Some(id.to_string().as_str()));
    assert_eq!(field(&event, "session.uid"), Some("42"));
}

#[tokio::test]
async fn a_room_polls_its_handler_inside_the_message_span_of_the_call() {
    let (captured, _guard) = Captured::install(Level::INFO);
    let (_app, client, id) = logged_in(Level::INFO).await;
    let _: serde_json::Value = client.request("lobby.enter", &()).await.unwrap();
    let _: u64 = client.request("arena.shout", &()).await.unwrap();

    let event = only(&captured, "shouted");
    assert_eq!(field(&event, "message.route"), Some("arena.shout"));
    assert_eq!(field(&event, "message.mid"), Some("3"));
    assert_eq!(field(&event, "session.id"), Some(id.to_string().as_str()));
    assert_eq!(field(&event, "session.uid"), Some("42"));
}

#[tokio::test]
async fn the_closed_message_span_holds_the_response_code_and_the_duration() {
    let (captured, _guard) = Captured::install(Level::INFO);
    let (_app, client, _id) = logged_in(Level::INFO).await;
    let refused = client.request::<_, u64>("probe.refuse", &()).await;
    assert!(refused.is_err(), "{refused:?}");

    let closed = |route: &str| {
        let spans = captured.closed("message");
        spans.into_iter().find(|span| span.fields["route"] == route)
    };
    assert!(wait_until(WITHIN, async || closed("probe.refuse").is_some()).await);
    let refuse = closed("probe.refuse").unwrap();
    assert_eq!(refuse.fields["code"], "409");
    assert!(
        refuse.fields["duration_us"].parse::<u64>().is_ok(),
        "{refuse:?}"
    );
    assert_eq!(refuse.parent.as_deref(), Some("session"));
    let login = closed("probe.login").unwrap();
    assert_eq!(login.fields["code"], "200");
}

#[tokio::test]
async fn a_subscriber_at_warn_gets_no_spans_at_the_default_level() {
    let (captured, _guard) = Captured::install(Level::WARN);
    let (_app, client, _id) = logged_in(nano_core::DEFAULT_SPAN_LEVEL).await;
    let _: u64 = client.request("probe.warn", &()).await.unwrap();

    let event = only(&captured, "warned");
    assert_eq!(field(&event, "message.route"), None, "{event:?}");
    assert_eq!(captured.opened("session") + captured.opened("message"), 0);
}

#[tokio::test]
async fn the_span_level_is_the_configured_one() {
    let (captured, _guard) = Captured::install(Level::INFO);
    // At DEBUG, an INFO subscriber gets no span.
    let (_app, client, _id) = logged_in(Level::DEBUG).await;
    let _: u64 = client.request("probe.wait", &()).await.unwrap();
    let event = only(&captured, "after await");
    assert_eq!(field(&event, "message.route"), None, "{event:?}");
    assert_eq!(captured.opened("session") + captured.opened("message"), 0);

    // At WARN, it gets both.
    let (_app, client, _id) = logged_in(Level::WARN).await;
    let _: u64 = client.request("probe.warn", &()).await.unwrap();
    let event = only(&captured, "warned");
    assert_eq!(field(&event, "message.route"), Some("probe.warn"));
    assert_eq!(field(&event, "session.uid"), Some("42"));
}
