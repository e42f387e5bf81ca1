//! A raw client of the session-resume extension (docs/PROTOCOL-EXTENSIONS.md), for tests
//! where the point is what crosses the wire: it keeps the token of the last reply, counts
//! the pushes it reads, and presents both when it connects again.

use bytes::Bytes;
use nano_core::protocol::{HandshakeResponse, Message, Packet, ResumeReply};
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
    pub async fn connect(addr: std::net::SocketAddr) -> (Self, RawConn<TcpStream>) {
        let mut conn = RawConn::tcp(addr).await;
        let reply = conn.handshake().await;
        let mut resumable = Self::default();
        resumable.take(&reply);
        (resumable, conn)
    }

    /// Connects over TCP presenting the token and the pushes read, and completes the
    /// handshake (code 200 expected); returns the reply's `user.resume`.
    pub async fn resume(
        &mut self,
        addr: std::net::SocketAddr,
    ) -> (ResumeReply, RawConn<TcpStream>) {
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
    tokio::time::timeout(std::time::Duration::from_secs(5), drained)
        .await
        .is_ok()
}
