//! A raw peer over either transport: bytes in as they are (one binary message per send over
//! WebSocket), packets and the close out. For tests where the point is what the server does
//! with input no client library would send.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use nano_core::protocol::{EncodedPacket, Message, Packet, PacketCodec, PacketType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::codec::Decoder;

/// Which transport a peer speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Packets straight on a TCP stream.
    Tcp,
    /// One packet per binary WebSocket message.
    Ws,
}

/// A raw connection to a server over TCP or WebSocket.
pub enum Peer {
    /// Over TCP, with the bytes read but not yet decoded.
    Tcp {
        /// The socket.
        stream: TcpStream,
        /// Read, not yet decoded.
        buf: BytesMut,
    },
    /// Over WebSocket.
    Ws(Box<WebSocketStream<MaybeTlsStream<TcpStream>>>),
}

/// What a peer saw next.
#[derive(Debug)]
pub enum Event {
    /// A packet.
    Packet(Packet),
    /// The server closed the connection (with this WebSocket close code, if any).
    Closed(Option<CloseCode>),
    /// Nothing within the time allowed.
    Silent,
}

/// The largest packet body a peer decodes.
const MAX_BODY: usize = 16 << 20;

impl Peer {
    /// Connects over TCP to `addr`, or over WebSocket to `ws://addr/`.
    pub async fn connect(transport: Transport, addr: SocketAddr) -> Peer {
        match transport {
            Transport::Tcp => Peer::Tcp {
                stream: TcpStream::connect(addr).await.expect("TCP connect"),
                buf: BytesMut::new(),
            },
            Transport::Ws => {
                let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
                    .await
                    .expect("WebSocket connect");
                Peer::Ws(Box::new(ws))
            }
        }
    }

    /// The peer's own address: the server knows the session by it.
    pub fn local_addr(&self) -> SocketAddr {
        let stream = match self {
            Peer::Tcp { stream, .. } => stream,
            Peer::Ws(ws) => match ws.get_ref() {
                MaybeTlsStream::Plain(stream) => stream,
                _ => unreachable!("peers connect to ws:// only"),
            },
        };
        stream
            .local_addr()
            .expect("a connected socket has an address")
    }

    /// Sends bytes as they are. A failed write is not a failure of the peer: the server may
    /// close first, which [`Peer::next`] then reports.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes).await;
    }

    /// Sends bytes as they are; `false` if the connection was already gone.
    pub async fn try_send(&mut self, bytes: &[u8]) -> bool {
        match self {
            Peer::Tcp { stream, .. } => stream.write_all(bytes).await.is_ok(),
            Peer::Ws(ws) => ws
                .send(WsMessage::Binary(Bytes::copy_from_slice(bytes)))
                .await
                .is_ok(),
        }
    }

    /// Sends a WebSocket text message (a TCP peer has none to send).
    pub async fn send_text(&mut self, text: &str) {
        if let Peer::Ws(ws) = self {
            // As in `send`, a closed connection is for `next` to report.
            ws.send(WsMessage::text(text)).await.ok();
        }
    }

    /// Sends one packet.
    pub async fn send_packet(&mut self, packet: Packet) {
        self.try_send_packet(packet).await;
    }

    /// Sends one packet; `false` if the connection was already gone.
    pub async fn try_send_packet(&mut self, packet: Packet) -> bool {
        let packet = EncodedPacket::from_packet(&packet).unwrap();
        self.try_send(packet.as_bytes()).await
    }

    /// Sends a message in a Data packet, routes uncompressed.
    pub async fn send_message(&mut self, message: &Message) {
        let packet = EncodedPacket::from_message(message, None).unwrap();
        self.send(packet.as_bytes()).await;
    }

    /// Sends a handshake and waits (up to `within`) for the server's reply.
    pub async fn handshake(&mut self, within: Duration) {
        let hello = Packet::handshake(&br#"{"sys":{"type":"raw-peer"}}"#[..]);
        assert!(
            self.try_send_packet(hello).await,
            "connection gone before the handshake"
        );
        match self.next(within).await {
            Event::Packet(packet) if packet.kind == PacketType::Handshake => {}
            other => panic!("no handshake reply: {other:?}"),
        }
    }

    /// A handshake and its ack: the session is ready for messages.
    pub async fn handshake_and_ack(&mut self, within: Duration) {
        self.handshake(within).await;
        assert!(
            self.try_send_packet(Packet::handshake_ack()).await,
            "connection gone at the ack"
        );
    }

    /// The next event, or [`Event::Silent`] after `within`.
    pub async fn next(&mut self, within: Duration) -> Event {
        tokio::time::timeout(within, self.next_event())
            .await
            .unwrap_or(Event::Silent)
    }

    async fn next_event(&mut self) -> Event {
        match self {
            Peer::Tcp { stream, buf } => loop {
                if let Ok(Some(packet)) = PacketCodec::new(MAX_BODY).decode(buf) {
                    return Event::Packet(packet);
                }
                match stream.read_buf(buf).await {
                    Ok(0) | Err(_) => return Event::Closed(None),
                    Ok(_) => {}
                }
            },
            Peer::Ws(ws) => loop {
                match ws.next().await {
                    Some(Ok(WsMessage::Binary(bytes))) => {
                        let mut buf = BytesMut::from(&bytes[..]);
                        let packet = PacketCodec::new(MAX_BODY).decode(&mut buf);
                        return Event::Packet(packet.unwrap().expect("one whole packet"));
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        return Event::Closed(frame.map(|f| f.code));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return Event::Closed(None),
                }
            },
        }
    }

    /// Reads until the connection closes or `within` has passed in all; returns the packets
    /// and how it ended ([`Event::Silent`]: still open at the deadline).
    pub async fn observe(&mut self, within: Duration) -> (Vec<Packet>, Event) {
        let deadline = tokio::time::Instant::now() + within;
        let mut packets = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Event::Packet(packet) => packets.push(packet),
                end => return (packets, end),
            }
        }
    }
}
