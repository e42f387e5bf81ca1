//! [`ClientBuilder`]: connection settings, and connecting.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use nano_core::Serializer;
use nano_core::protocol::{
    DEFAULT_MAX_BODY_LEN, EncodedPacket, HandshakeRequest, HandshakeResponse, Kick, Packet,
    PacketType,
};
use nano_core::transport::{PacketTransport, framed};
use nano_ws::WsTransport;
use serde_json::Value;
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::negotiate::SerializerChoice;
use crate::{Client, ClientError, CloseReason};

/// Settings for a connection; `connect*` opens it.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use nano_client::ClientBuilder;
///
/// # async fn run() -> Result<(), nano_client::ClientError> {
/// let client = ClientBuilder::new()
///     .handshake_user(serde_json::json!({ "token": "secret" }))
///     .request_timeout(Duration::from_secs(5))
///     .connect("127.0.0.1:3250")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    pub(crate) serializer: SerializerChoice,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) handshake: HandshakeRequest,
    pub(crate) max_body_len: usize,
    pub(crate) push_buffer: usize,
    pub(crate) send_queue: usize,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientBuilder {
    /// Default settings: serializer as announced by the server (JSON when it says nothing),
    /// 10 s connect timeout, 10 s request timeout, 64 KiB maximum body, 1,024 buffered pushes per
    /// subscription, 1,024 queued outgoing packets.
    pub fn new() -> Self {
        let mut handshake = HandshakeRequest::default();
        handshake.sys.client_type = Some("rust-nano-client".to_owned());
        handshake.sys.version = Some(env!("CARGO_PKG_VERSION").to_owned());
        Self {
            serializer: SerializerChoice::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            handshake,
            max_body_len: DEFAULT_MAX_BODY_LEN,
            push_buffer: 1024,
            send_queue: 1024,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Uses `serializer` for payloads whatever the server announces.
    ///
    /// By default the client follows the server's `sys.serializer` (`"json"` or `"msgpack"`),
    /// uses JSON when the server does not say, and fails to connect with
    /// [`ClientError::UnsupportedSerializer`] when it names a format the client does not know.
    pub fn serializer(mut self, serializer: Serializer) -> Self {
        self.serializer.forced = Some(serializer);
        self
    }

    /// Accepts a server whose `sys.serializer` is `name`, using `serializer` for it.
    ///
    /// For a format of your own ([`Serializer::Custom`]), or for one whose values are not serde
    /// types (protobuf): accept its name, and exchange the encoded bytes through
    /// [`Client::request_raw`], [`Client::notify_raw`] and [`Push::payload`](crate::Push::payload).
    pub fn accept_serializer(mut self, name: impl Into<String>, serializer: Serializer) -> Self {
        self.serializer.accepted.insert(name.into(), serializer);
        self
    }

    /// Time allowed to connect and complete the handshake (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time a request waits for its response (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Application data for the server's handshake validator (the handshake's `user` field).
    pub fn handshake_user(mut self, user: Value) -> Self {
        self.handshake.user = user;
        self
    }

    /// The whole handshake to send, `sys` included (pinus, for one, expects a `sys` object).
    pub fn handshake(mut self, handshake: HandshakeRequest) -> Self {
        self.handshake = handshake;
        self
    }

    /// Largest packet body accepted from the server (default 65,536 bytes).
    pub fn max_body_len(mut self, len: usize) -> Self {
        self.max_body_len = len;
        self
    }

    /// Pushes buffered per subscription before new ones are dropped (default 1,024).
    pub fn push_buffer(mut self, capacity: usize) -> Self {
        self.push_buffer = capacity.max(1);
        self
    }

    /// Outgoing packets queued before `request`/`notify` wait for the socket (default 1,024).
    pub fn send_queue(mut self, capacity: usize) -> Self {
        self.send_queue = capacity.max(1);
        self
    }

    /// The TLS settings of `wss://` connections: which certificates to trust, client
    /// certificates, ... (default: the system's root certificates).
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Connects to `target`: `ws://host:port/path` for WebSocket, `wss://host:port/path` for
    /// WebSocket over TLS (with the `tls` feature), `host:port` for TCP.
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidTarget`] for another URL (or `wss://` without the `tls` feature),
    /// and everything [`connect_tcp`](Self::connect_tcp) and [`connect_ws`](Self::connect_ws)
    /// return.
    pub async fn connect(self, target: &str) -> Result<Client, ClientError> {
        if target.starts_with("ws://") {
            return self.connect_ws(target).await;
        }
        #[cfg(feature = "tls")]
        if target.starts_with("wss://") {
            return self.connect_wss(target).await;
        }
        if target.contains("://") {
            return Err(ClientError::InvalidTarget(target.to_owned()));
        }
        self.connect_tcp(target).await
    }

    /// Connects over TCP (with `TCP_NODELAY`) and performs the handshake.
    ///
    /// # Errors
    ///
    /// [`ClientError::ConnectTimeout`] when connecting and the handshake together take longer
    /// than the connect timeout; [`ClientError::Io`] when the connection fails; the handshake's
    /// errors as in [`connect_transport`](Self::connect_transport).
    pub async fn connect_tcp(self, addr: impl ToSocketAddrs) -> Result<Client, ClientError> {
        let timeout = self.connect_timeout;
        let started = tokio::time::Instant::now();
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ClientError::ConnectTimeout(timeout))??;
        stream.set_nodelay(true)?;
        let transport = framed(stream, self.max_body_len);
        self.handshake_within(transport, timeout.saturating_sub(started.elapsed()))
            .await
    }

    /// Connects over WebSocket (`ws://host:port/path`) and performs the handshake.
    ///
    /// # Errors
    ///
    /// [`ClientError::WebSocket`] when the upgrade fails, and as [`connect_tcp`](Self::connect_tcp).
    pub async fn connect_ws(self, url: &str) -> Result<Client, ClientError> {
        let timeout = self.connect_timeout;
        let started = tokio::time::Instant::now();
        let connect =
            tokio_tungstenite::connect_async_with_config(url, Some(self.ws_config()), true);
        let (ws, _response) = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| ClientError::ConnectTimeout(timeout))?
            .map_err(|err| ClientError::WebSocket(Box::new(err)))?;
        let transport = WsTransport::new(ws, self.max_body_len);
        self.handshake_within(transport, timeout.saturating_sub(started.elapsed()))
            .await
    }

    /// Connects over WebSocket with TLS (`wss://host:port/path`, port 443 by default) and
    /// performs the handshake. The server's certificate is checked against
    /// [`tls_config`](Self::tls_config), or the system's root certificates.
    ///
    /// # Errors
    ///
    /// [`ClientError::Tls`] when the TLS handshake fails (an untrusted certificate, a host name
    /// it does not cover), [`ClientError::InvalidTarget`] for a URL without a host, and as
    /// [`connect_ws`](Self::connect_ws).
    #[cfg(feature = "tls")]
    pub async fn connect_wss(self, url: &str) -> Result<Client, ClientError> {
        let timeout = self.connect_timeout;
        let started = tokio::time::Instant::now();
        let tls = match &self.tls {
            Some(config) => config.clone(),
            None => crate::tls::native_roots_config()?,
        };
        let connect = crate::tls::connect(url, tls, self.ws_config());
        let ws = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| ClientError::ConnectTimeout(timeout))??;
        let transport = WsTransport::new(ws, self.max_body_len);
        self.handshake_within(transport, timeout.saturating_sub(started.elapsed()))
            .await
    }

    /// WebSocket limits matching the packet limit.
    fn ws_config(&self) -> WebSocketConfig {
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(self.max_body_len.saturating_add(4).max(1 << 20));
        config
    }

    /// Performs the handshake over an already-connected transport (an in-memory pipe, a TLS
    /// stream, ...) and starts the connection.
    ///
    /// # Errors
    ///
    /// - [`ClientError::ConnectTimeout`] when the server does not answer within the timeout;
    /// - [`ClientError::HandshakeRejected`] when it answers with a code other than 200;
    /// - [`ClientError::UnsupportedSerializer`] when its `sys.serializer` names a format the
    ///   client does not know (the handshake is then not acknowledged);
    /// - [`ClientError::Closed`] when it kicks or closes instead;
    /// - [`ClientError::UnexpectedPacket`] or [`ClientError::Protocol`] when it sends something
    ///   else.
    pub async fn connect_transport<T: PacketTransport>(
        self,
        transport: T,
    ) -> Result<Client, ClientError> {
        let timeout = self.connect_timeout;
        self.handshake_within(transport, timeout).await
    }

    async fn handshake_within<T: PacketTransport>(
        self,
        mut transport: T,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let body = self.handshake.to_json();
        let reply = tokio::time::timeout(timeout, async {
            transport
                .send(EncodedPacket::from_packet(&Packet::handshake(body))?)
                .await?;
            let reply = read_handshake_reply(&mut transport).await?;
            if reply.code != HandshakeResponse::OK {
                return Err(ClientError::HandshakeRejected {
                    code: reply.code,
                    response: Box::new(reply),
                });
            }
            let announced = reply.sys.as_ref().and_then(|sys| sys.serializer.as_deref());
            let serializer = self.serializer.resolve(announced)?;
            transport.send(EncodedPacket::handshake_ack()).await?;
            Ok((reply, serializer))
        })
        .await
        .map_err(|_| ClientError::ConnectTimeout(self.connect_timeout))??;
        Ok(Client::start(self, transport, reply.0, reply.1))
    }
}

async fn read_handshake_reply<T: PacketTransport>(
    transport: &mut T,
) -> Result<HandshakeResponse, ClientError> {
    loop {
        let Some(packet) = transport.next().await else {
            return Err(ClientError::Closed(CloseReason::ServerClosed));
        };
        let packet = packet?;
        match packet.kind {
            PacketType::Handshake => return Ok(HandshakeResponse::from_json(&packet.body)?),
            PacketType::Heartbeat => {}
            PacketType::Kick => {
                let reason = Kick::from_json(&packet.body)
                    .map(|kick| kick.reason)
                    .unwrap_or_default();
                return Err(ClientError::Closed(CloseReason::Kicked { reason }));
            }
            other => return Err(ClientError::UnexpectedPacket(other)),
        }
    }
}
