//! A lean protocol connection for load generation: no channels, no tasks per connection
//! beyond the caller's, so the generator spends its time on the wire, not on bookkeeping.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use nano_core::protocol::{
    EncodedPacket, HandshakeResponse, Message, Packet, PacketType, ProtocolError, Route, RouteDict,
    RouteName,
};
use nano_core::transport::{PacketTransport, framed};
use tokio::net::TcpStream;

/// Where to connect.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// `host:port`
    Tcp(String),
    /// `ws://host:port/path`
    Ws(String),
}

impl Target {
    /// `"tcp"` or `"ws"`, for reports.
    pub(crate) fn transport(&self) -> &'static str {
        match self {
            Target::Tcp(_) => "tcp",
            Target::Ws(_) => "ws",
        }
    }
}

type BoxTransport = Box<dyn Transport>;

/// A packet transport behind a box, so TCP and WebSocket connections share one type.
pub(crate) trait Transport:
    futures_util::Stream<Item = Result<Packet, ProtocolError>>
    + futures_util::Sink<EncodedPacket, Error = ProtocolError>
    + Send
    + Unpin
{
}

impl<T: PacketTransport> Transport for T {}

/// One client connection after the handshake.
pub(crate) struct Conn {
    transport: BoxTransport,
    dict: RouteDict,
    /// The heartbeat interval the server asked for.
    pub(crate) heartbeat: Option<Duration>,
    next_id: u64,
}

/// Something went wrong on a connection.
pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

impl Conn {
    /// Connects and completes the handshake with `handshake_json` as the Handshake body.
    pub(crate) async fn connect(target: &Target, handshake_json: &str) -> Result<Conn, Error> {
        let transport: BoxTransport = match target {
            Target::Tcp(addr) => {
                let stream = TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                Box::new(framed(stream, 16 << 20))
            }
            Target::Ws(url) => Box::new(crate::ws::LeanWs::connect(url).await?),
        };
        let mut conn = Conn {
            transport,
            dict: RouteDict::new(),
            heartbeat: None,
            next_id: 1,
        };
        conn.send(Packet::handshake(Bytes::copy_from_slice(
            handshake_json.as_bytes(),
        )))
        .await?;
        loop {
            let packet = conn.recv_packet().await?;
            if packet.kind != PacketType::Handshake {
                continue;
            }
            let reply = HandshakeResponse::from_json(&packet.body)?;
            if reply.code != HandshakeResponse::OK {
                return Err(format!("handshake refused with code {}", reply.code).into());
            }
            let sys = reply.sys.unwrap_or_default();
            conn.dict = sys.dict.unwrap_or_default();
            conn.heartbeat = sys.heartbeat.filter(|beat| !beat.is_zero());
            break;
        }
        conn.send(Packet::handshake_ack()).await?;
        Ok(conn)
    }

    async fn send(&mut self, packet: Packet) -> Result<(), Error> {
        self.transport
            .send(EncodedPacket::from_packet(&packet)?)
            .await?;
        Ok(())
    }

    /// The route as it travels: its code when the server's dictionary has it.
    pub(crate) fn route(&self, name: &str) -> Route {
        match self.dict.code(name) {
            Some(code) => Route::Code(code),
            None => Route::Name(RouteName::from(name.to_owned())),
        }
    }

    /// Sends a request; returns its id.
    pub(crate) async fn request(&mut self, route: &Route, payload: &Bytes) -> Result<u64, Error> {
        let id = self.next_id;
        self.next_id += 1;
        let message = Message::Request {
            id,
            route: route.clone(),
            payload: payload.clone(),
        };
        self.transport
            .send(EncodedPacket::from_message(&message, None)?)
            .await?;
        Ok(id)
    }

    /// Sends a notify.
    pub(crate) async fn notify(&mut self, route: &Route, payload: &Bytes) -> Result<(), Error> {
        let message = Message::Notify {
            route: route.clone(),
            payload: payload.clone(),
        };
        self.transport
            .send(EncodedPacket::from_message(&message, None)?)
            .await?;
        Ok(())
    }

    /// Sends a heartbeat.
    pub(crate) async fn heartbeat(&mut self) -> Result<(), Error> {
        self.transport.send(EncodedPacket::heartbeat()).await?;
        Ok(())
    }

    async fn recv_packet(&mut self) -> Result<Packet, Error> {
        match self.transport.next().await {
            Some(packet) => Ok(packet?),
            None => Err("connection closed by the server".into()),
        }
    }

    /// The next Data message (heartbeats are skipped; a Kick is an error).
    pub(crate) async fn recv(&mut self) -> Result<Message, Error> {
        loop {
            let packet = self.recv_packet().await?;
            match packet.kind {
                PacketType::Data => return Ok(Message::decode(packet.body)?),
                PacketType::Kick => {
                    return Err(format!("kicked: {}", String::from_utf8_lossy(&packet.body)).into());
                }
                _ => {}
            }
        }
    }

    /// Reads whatever arrives (answering nothing) until the connection closes; used to hold idle
    /// sessions.
    pub(crate) async fn recv_any(&mut self) -> Result<Packet, Error> {
        self.recv_packet().await
    }
}
