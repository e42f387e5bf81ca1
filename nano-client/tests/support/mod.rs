//! A minimal server for the client's tests, written with the codec alone: each test scripts
//! what its server does, packet by packet.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use nano_core::protocol::{
    DEFAULT_MAX_BODY_LEN, EncodedPacket, HandshakeRequest, HandshakeResponse, Kick, Message,
    Packet, PacketType, RouteDict, ServerSys,
};
use nano_core::transport::{PacketTransport, framed};
use tokio::io::DuplexStream;
use tokio::net::TcpListener;
use tokio_util::codec::Framed;

/// The server side of one connection.
pub struct ServerConn<T> {
    pub transport: T,
}

impl<T: PacketTransport> ServerConn<T> {
    pub fn new(transport: T) -> Self {
        Self { transport }
    }

    /// The next packet, panicking if the connection ends.
    pub async fn recv_packet(&mut self) -> Packet {
        self.transport
            .next()
            .await
            .expect("client closed")
            .expect("valid packet")
    }

    /// The next packet, or `None` if the client closed.
    pub async fn try_recv_packet(&mut self) -> Option<Packet> {
        self.transport.next().await.and_then(Result::ok)
    }

    pub async fn send_packet(&mut self, packet: Packet) {
        self.transport
            .send(EncodedPacket::from_packet(&packet).unwrap())
            .await
            .unwrap();
    }

    /// Reads the client's handshake, answers it with `reply`, and (for code 200) reads the ack.
    pub async fn handshake(&mut self, reply: HandshakeResponse) -> HandshakeRequest {
        let hello = self.recv_packet().await;
        assert_eq!(hello.kind, PacketType::Handshake);
        let request = HandshakeRequest::from_json(&hello.body).unwrap();
        let ok = reply.code == HandshakeResponse::OK;
        self.send_packet(Packet::handshake(reply.to_json())).await;
        if ok {
            let ack = self.recv_packet().await;
            assert_eq!(ack.kind, PacketType::HandshakeAck);
        }
        request
    }

    /// The next Data message, skipping heartbeats; resolved through `dict` when given.
    pub async fn recv_message(&mut self, dict: Option<&RouteDict>) -> Message {
        loop {
            let packet = self.recv_packet().await;
            match packet.kind {
                PacketType::Heartbeat => continue,
                PacketType::Data => {
                    return match dict {
                        Some(dict) => Message::decode_with(packet.body, dict).unwrap(),
                        None => Message::decode(packet.body).unwrap(),
                    };
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    pub async fn send_message(&mut self, message: &Message, dict: Option<&RouteDict>) {
        self.transport
            .send(EncodedPacket::from_message(message, dict).unwrap())
            .await
            .unwrap();
    }

    pub async fn respond(&mut self, id: u64, payload: &'static [u8]) {
        let response = Message::Response {
            id,
            payload: Bytes::from_static(payload),
            error: false,
        };
        self.send_message(&response, None).await;
    }

    pub async fn kick(&mut self, reason: &str) {
        self.send_packet(Packet::kick(Kick::new(reason).to_json()))
            .await;
    }
}

/// A successful handshake reply with the given heartbeat interval and dictionary.
pub fn ok_reply(heartbeat: Option<Duration>, dict: Option<RouteDict>) -> HandshakeResponse {
    HandshakeResponse::ok(ServerSys {
        heartbeat,
        dict,
        servertime: Some(1_700_000_000),
        ..ServerSys::default()
    })
}

/// A TCP listener on 127.0.0.1:0 and its address.
pub async fn tcp_listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (listener, addr)
}

/// Accepts one TCP connection as a [`ServerConn`].
pub async fn accept_tcp(
    listener: &TcpListener,
) -> ServerConn<Framed<tokio::net::TcpStream, nano_core::protocol::PacketCodec>> {
    let (stream, _) = listener.accept().await.unwrap();
    ServerConn::new(framed(stream, DEFAULT_MAX_BODY_LEN))
}

/// An in-memory connection: the client's transport and the server's side. Used with tokio's
/// paused clock, where real sockets would let time jump while I/O is pending.
pub fn duplex_pair() -> (
    Framed<DuplexStream, nano_core::protocol::PacketCodec>,
    ServerConn<Framed<DuplexStream, nano_core::protocol::PacketCodec>>,
) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    (
        framed(client, DEFAULT_MAX_BODY_LEN),
        ServerConn::new(framed(server, DEFAULT_MAX_BODY_LEN)),
    )
}
