//! A raw protocol peer for tests where the point is the bytes: packets in, packets out, no
//! client library in between.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use nano_core::protocol::{
    EncodedPacket, HandshakeRequest, HandshakeResponse, Message, Packet, PacketCodec, PacketType,
    Route, RouteDict,
};
use nano_core::transport::framed;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// One raw connection to a server.
pub struct RawConn<S> {
    framed: Framed<S, PacketCodec>,
    /// The dictionary from the handshake reply, used to resolve compressed routes.
    pub dict: RouteDict,
}

impl RawConn<TcpStream> {
    /// Connects over TCP.
    pub async fn tcp(addr: impl tokio::net::ToSocketAddrs) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Self::new(stream)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> RawConn<S> {
    /// Wraps any byte stream (an in-memory pipe for paused-clock tests).
    pub fn new(stream: S) -> Self {
        Self {
            framed: framed(stream, 16 << 20),
            dict: RouteDict::new(),
        }
    }

    /// Sends raw bytes as they are.
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        assert!(
            self.try_send_bytes(bytes).await,
            "write failed: the server closed the connection"
        );
    }

    /// Sends raw bytes; `false` when the connection is gone.
    pub async fn try_send_bytes(&mut self, bytes: &[u8]) -> bool {
        use tokio::io::AsyncWriteExt;
        let stream = self.framed.get_mut();
        stream.write_all(bytes).await.is_ok() && stream.flush().await.is_ok()
    }

    /// Sends one packet.
    pub async fn send(&mut self, packet: Packet) {
        self.framed
            .send(EncodedPacket::from_packet(&packet).unwrap())
            .await
            .expect("send");
    }

    /// Sends a message in a Data packet (routes in `self.dict` compressed).
    pub async fn send_message(&mut self, message: &Message) {
        let packet = EncodedPacket::from_message(message, Some(&self.dict)).unwrap();
        self.framed.send(packet).await.expect("send");
    }

    /// Sends a request with a JSON body.
    pub async fn request(&mut self, id: u64, route: &str, body: &str) {
        let message = Message::Request {
            id,
            route: Route::Name(route.to_owned().into()),
            payload: Bytes::copy_from_slice(body.as_bytes()),
        };
        self.send_message(&message).await;
    }

    /// Sends a notify with a JSON body.
    pub async fn notify(&mut self, route: &str, body: &str) {
        let message = Message::Notify {
            route: Route::Name(route.to_owned().into()),
            payload: Bytes::copy_from_slice(body.as_bytes()),
        };
        self.send_message(&message).await;
    }

    /// The next packet; `None` when the server closed the connection (or broke the protocol).
    pub async fn recv(&mut self) -> Option<Packet> {
        self.framed.next().await.and_then(Result::ok)
    }

    /// The next packet within `timeout`, `None` on close or timeout.
    pub async fn recv_within(&mut self, timeout: Duration) -> Option<Packet> {
        tokio::time::timeout(timeout, self.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next Data message, skipping heartbeats; panics on anything else.
    pub async fn recv_message(&mut self) -> Message {
        loop {
            let packet = self
                .recv()
                .await
                .expect("connection closed while waiting for a message");
            match packet.kind {
                PacketType::Heartbeat => {}
                PacketType::Data => {
                    return Message::decode_with(packet.body, &self.dict).expect("valid message");
                }
                other => panic!("expected a message, got {other:?}: {:?}", packet.body),
            }
        }
    }

    /// Sends a handshake with `body` and returns the server's reply.
    pub async fn handshake_with(&mut self, body: &str) -> HandshakeResponse {
        self.send(Packet::handshake(Bytes::copy_from_slice(body.as_bytes())))
            .await;
        let reply = self.recv().await.expect("handshake reply");
        assert_eq!(reply.kind, PacketType::Handshake);
        let reply = HandshakeResponse::from_json(&reply.body).expect("handshake JSON");
        if let Some(dict) = reply.sys.as_ref().and_then(|sys| sys.dict.clone()) {
            self.dict = dict;
        }
        reply
    }

    /// A complete handshake as a pomelo JS client does it (handshake, reply, ack).
    pub async fn handshake(&mut self) -> HandshakeResponse {
        let hello = HandshakeRequest::from_json(
            br#"{"sys":{"type":"js-websocket","version":"0.0.1","rsa":{}},"user":{}}"#,
        )
        .unwrap();
        let reply = self
            .handshake_with(std::str::from_utf8(&hello.to_json()).unwrap())
            .await;
        assert_eq!(reply.code, 200, "handshake refused: {reply:?}");
        self.send(Packet::handshake_ack()).await;
        reply
    }

    /// Waits for the server to close the connection (skipping what it still sends); returns
    /// the packets received meanwhile.
    pub async fn until_closed(&mut self) -> Vec<Packet> {
        let mut seen = Vec::new();
        while let Some(packet) = self.recv().await {
            seen.push(packet);
        }
        seen
    }
}
