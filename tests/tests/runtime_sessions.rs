//! Sessions as handlers and clients see them: values, uid binding, kick, close callbacks,
//! deferred responses, and cleanup.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nano_client::{Client, ClientError, CloseReason};
use nano_core::SessionError;
use nano_core::prelude::*;
use nano_tests::wait::wait_until;
use serde_json::{Value, json};

#[derive(Default)]
struct Lobby {
    members: Group,
}

#[component(name = "lobby")]
impl Lobby {
    #[handler]
    fn login(&self, session: &Session, uid: i64) -> Result<Value, HandlerError> {
        session
            .bind(uid)
            .map_err(|err| HandlerError::bad_request(err.to_string()))?;
        session.set("visits", 0u32);
        self.members.add(session)?;
        Ok(json!({ "uid": session.uid(), "session": session.id() }))
    }

    #[handler]
    fn visit(&self, session: &Session) -> u32 {
        session
            .with_value("visits", |visits: &mut u32| {
                *visits += 1;
                *visits
            })
            .unwrap_or(0)
    }

    #[handler]
    fn kick_me(&self, session: &Session, reason: String) -> &'static str {
        session.kick(reason);
        "bye"
    }

    /// Answers from another task, after the handler has returned.
    #[handler]
    fn later(&self, session: &Session) -> Deferred {
        let (session, mid) = (session.clone(), session.last_mid());
        tokio::spawn(async move {
            session.respond(mid, &json!({ "late": true })).unwrap();
        });
        Deferred
    }

    #[handler]
    fn count(&self, _session: &Session) -> usize {
        self.members.count()
    }
}

#[tokio::test]
async fn values_uid_and_deferred_responses() {
    let app = App::builder().register(Lobby::default()).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = Client::connect(&addr).await.unwrap();

    let err = client
        .request::<_, Value>("lobby.login", &0)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Server { code: 400, message } if message.contains("uid")),
        "{err}"
    );
    let me: Value = client.request("lobby.login", &7).await.unwrap();
    assert_eq!(me["uid"], 7);
    for expected in 1..=3u32 {
        assert_eq!(
            client.request::<_, u32>("lobby.visit", &()).await.unwrap(),
            expected
        );
    }
    let late: Value = client.request("lobby.later", &()).await.unwrap();
    assert_eq!(late, json!({ "late": true }));
    app.shutdown().await;
}

#[tokio::test]
async fn kick_sends_the_response_first_then_the_reason() {
    let app = App::builder().register(Lobby::default()).build().unwrap();
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();
    let client = Client::connect(&addr).await.unwrap();
    let answer: String = client
        .request("lobby.kick_me", &"duplicate login")
        .await
        .unwrap();
    assert_eq!(answer, "bye");
    assert_eq!(
        client.closed().await,
        CloseReason::Kicked {
            reason: "duplicate login".into()
        }
    );
    assert_eq!(app.metrics().kicks, 1);
    app.shutdown().await;
}

/// What the close callbacks wrote, in order.
type CloseLog = Arc<Mutex<Vec<String>>>;

/// Keeps the sessions that call `keeper.hold`, and logs their close as `session <id>`.
struct Keeper {
    kept: Arc<Mutex<Vec<Session>>>,
    log: CloseLog,
}

#[component(name = "keeper")]
impl Keeper {
    #[handler]
    fn hold(&self, session: &Session) {
        let log = self.log.clone();
        session.on_close(move |session| {
            log.lock()
                .unwrap()
                .push(format!("session {}", session.id()));
        });
        self.kept.lock().unwrap().push(session.clone());
    }
}

/// An app with a [`Lobby`] and a [`Keeper`] (keeping sessions into `kept`) whose closes are
/// logged into `log`: `session <id>` by the keeper's callback, `app <id>` by the app's.
fn app_logging_closes(kept: &Arc<Mutex<Vec<Session>>>, log: &CloseLog) -> App {
    let app_log = log.clone();
    App::builder()
        .register(Lobby::default())
        .register(Keeper {
            kept: kept.clone(),
            log: log.clone(),
        })
        .on_session_closed(move |session| {
            app_log
                .lock()
                .unwrap()
                .push(format!("app {}", session.id()));
        })
        .build()
        .unwrap()
}

/// The number of members of the lobby group, as `client` is told.
async fn lobby_count(client: &Client) -> usize {
    client
        .request::<_, usize>("lobby.count", &())
        .await
        .unwrap()
}

#[tokio::test]
async fn closing_runs_callbacks_leaves_groups_and_resets_counters() {
    let closed = CloseLog::default();
    let sessions: Arc<Mutex<Vec<Session>>> = Arc::default();
    let app = app_logging_closes(&sessions, &closed);
    let addr = app.listen_tcp("127.0.0.1:0").await.unwrap().to_string();

    let first = Client::connect(&addr).await.unwrap();
    let second = Client::connect(&addr).await.unwrap();
    let me: Value = first.request("lobby.login", &1).await.unwrap();
    let other: Value = second.request("lobby.login", &2).await.unwrap();
    assert_eq!(other["uid"], 2);
    assert_ne!(other["session"], me["session"]);
    first.request::<_, Value>("keeper.hold", &()).await.unwrap();
    assert_eq!(lobby_count(&second).await, 2);
    assert_eq!(app.metrics().sessions_open, 2);

    // The session's callback runs, then the app's.
    first.close().await;
    let held = sessions.lock().unwrap()[0].clone();
    tokio::time::timeout(Duration::from_secs(5), held.closed())
        .await
        .expect("session closed");
    let id = me["session"].as_u64().unwrap();
    assert_eq!(
        *closed.lock().unwrap(),
        [format!("session {id}"), format!("app {id}")]
    );
    // It left the lobby group, and a late push to it fails cleanly.
    assert_eq!(lobby_count(&second).await, 1);
    assert!(matches!(held.push("onLate", &1), Err(SessionError::Closed)));
    assert!(held.is_closed());

    second.close().await;
    let all_closed = wait_until(Duration::from_secs(5), async || {
        app.metrics().sessions_open == 0
    })
    .await;
    let metrics = app.metrics();
    assert!(all_closed, "{metrics:?}");
    assert_eq!((metrics.sessions_open, metrics.sessions_total), (0, 2));
    app.shutdown().await;
}
