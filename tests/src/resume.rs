//! A raw client of the session-resume extension (docs/PROTOCOL-EXTENSIONS.md), for tests
//! where the point is what crosses the wire: it keeps the token of the last reply, counts
//! the pushes it reads, and presents both when it connects again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use nano_core::prelude::*;
use nano_core::protocol::{HandshakeResponse, Message, Packet, ResumeReply};
use nano_core::{App, ResumeConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::raw::RawConn;

/// What a resuming client remembers between its connections.
#[derive(Clone, Debug, Default)]
pub struct Resumable {
    /// The token of the last handshake reply.
    pub token: String,
    /// The session the last reply named.
    pub session: u64,
    /// Pushes read in the session, over all its connections.
    pub received: u64,
}

impl Resumable {
    /// Connects over TCP with a plain handshake (no token) and completes it; panics unless
    /// the reply carries a resume token.
    pub async fn connect(addr: SocketAddr) -> (Self, RawConn<TcpStream>) {
        let mut conn = RawConn::tcp(addr).await;
        let reply = conn.handshake().await;
        let mut resumable = Self::default();
        resumable.take(&reply);
        (resumable, conn)
    }

    /// Connects over TCP presenting the token and the pushes read, and completes the
    /// handshake (code 200 expected); returns the reply's `user.resume`.
    pub async fn resume(&mut self, addr: SocketAddr) -> (ResumeReply, RawConn<TcpStream>) {
        let mut conn = RawConn::tcp(addr).await;
        let reply = self.resume_on(&mut conn).await;
        (reply, conn)
    }

    /// Presents the token and the pushes read on `conn` and completes the handshake.
    pub async fn resume_on<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut RawConn<S>,
    ) -> ResumeReply {
        let reply = conn.handshake_with(&self.hello()).await;
        assert_eq!(reply.code, 200, "handshake refused: {reply:?}");
        conn.send(Packet::handshake_ack()).await;
        self.take(&reply)
    }

    /// The handshake body presenting the token and the count.
    pub fn hello(&self) -> String {
        json!({
            "sys": {"type": "js-websocket", "version": "0.0.1"},
            "user": {"resume": {"token": self.token, "received": self.received}},
        })
        .to_string()
    }

    /// Takes the token and session of `reply` (starting the count again for a fresh
    /// session); returns its `user.resume`.
    pub fn take(&mut self, reply: &HandshakeResponse) -> ResumeReply {
        let resume = ResumeReply::from_user(&reply.user)
            .unwrap_or_else(|| panic!("no user.resume in {reply:?}"));
        if !resume.resumed {
            self.received = 0;
        }
        self.token.clone_from(&resume.token);
        self.session = resume.session;
        resume
    }

    /// The next Data message, counting it if it is a push.
    pub async fn recv<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut RawConn<S>,
    ) -> Message {
        let message = conn.recv_message().await;
        if matches!(message, Message::Push { .. }) {
            self.received += 1;
        }
        message
    }

    /// The body of the next push as JSON, counted.
    pub async fn recv_push<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        conn: &mut RawConn<S>,
    ) -> (String, Value) {
        match self.recv(conn).await {
            Message::Push { route, payload } => (route.to_string(), json_of(&payload)),
            other => panic!("expected a push, got {other:?}"),
        }
    }
}

/// The JSON of a payload.
pub fn json_of(payload: &Bytes) -> Value {
    serde_json::from_slice(payload).expect("a JSON payload")
}

/// The next response to request `id` on `conn`, as (JSON body, error flag); panics on a push
/// or another id.
pub async fn response<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut RawConn<S>, id: u64) -> Value {
    match conn.recv_message().await {
        Message::Response {
            id: got, payload, ..
        } if got == id => json_of(&payload),
        other => panic!("expected the response to {id}, got {other:?}"),
    }
}

/// Whether the server closes `conn` within 5 s (what it sends meanwhile is skipped).
pub async fn is_closed<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut RawConn<S>) -> bool {
    let drained = async { while conn.recv().await.is_some() {} };
    tokio::time::timeout(Duration::from_secs(5), drained)
        .await
        .is_ok()
}

/// A room for resume tests: joining binds a uid and a value, `say` broadcasts, `bump`
/// counts its calls (a request handled twice shows), `slow_bump` does so after a delay.
#[derive(Default)]
pub struct Room {
    members: Group,
    handled: AtomicU64,
}

#[component(name = "room")]
impl Room {
    #[handler]
    fn join(&self, session: &Session, uid: i64) -> Result<Value, HandlerError> {
        session
            .bind(uid)
            .map_err(|err| HandlerError::bad_request(err.to_string()))?;
        session.set("level", 7u32);
        self.members.add(session)?;
        Ok(json!({ "session": session.id() }))
    }

    /// Broadcasts `text` to the room.
    #[handler]
    fn say(&self, _session: &Session, text: String) -> Result<usize, HandlerError> {
        self.members.broadcast("onSay", &text)?;
        Ok(self.members.count())
    }

    #[handler]
    fn whoami(&self, session: &Session) -> Value {
        json!({
            "session": session.id(),
            "uid": session.uid(),
            "level": session.get::<u32>("level"),
            "groups": session.groups().len(),
            "connected": session.is_connected(),
        })
    }

    /// Counts its calls: a request handled twice shows.
    #[handler]
    fn bump(&self, _session: &Session) -> u64 {
        self.handled.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Like `bump`, after `ms` milliseconds.
    #[handler]
    async fn slow_bump(&self, _session: &Session, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.handled.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// The hooks' calls, in order: `("dropped" | "resumed" | "closed", session id)`.
pub type Events = Arc<Mutex<Vec<(&'static str, u64)>>>;

/// An app serving [`Room`] over TCP with `resume`, its hooks recorded.
pub async fn start(resume: ResumeConfig) -> (App, SocketAddr, Events) {
    let events = Events::default();
    let (dropped, resumed, closed) = (events.clone(), events.clone(), events.clone());
    let app = App::builder()
        .register(Room::default())
        .resume(resume)
        .on_session_dropped(move |s| dropped.lock().unwrap().push(("dropped", s.id())))
        .on_session_resumed(move |s| resumed.lock().unwrap().push(("resumed", s.id())))
        .on_session_closed(move |s| closed.lock().unwrap().push(("closed", s.id())))
        .build()
        .expect("build");
    let addr = app.listen_tcp("127.0.0.1:0").await.expect("listen");
    (app, addr, events)
}

/// The hooks' calls for session `id`, in order.
pub fn events_of(events: &Events, id: u64) -> Vec<(&'static str, u64)> {
    let events = events.lock().unwrap();
    events.iter().filter(|(_, of)| *of == id).copied().collect()
}
