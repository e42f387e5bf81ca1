//! Connecting: dialing TCP, WebSocket or `wss://`, the handshake, and starting the client.

use std::future::Future;

use futures_util::{SinkExt, StreamExt};
use nano_core::Serializer;
use nano_core::protocol::{
    EncodedPacket, HandshakeResponse, Kick, Packet, PacketType, ResumeRequest,
};
use nano_core::transport::{PacketTransport, framed};
use nano_ws::WsTransport;
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use crate::shared::Hub;
use crate::{Client, ClientBuilder, ClientError, CloseReason, reconnect};

/// The dialer of a client that cannot dial again (given one transport).
type NoDial<T> = fn() -> std::future::Pending<Result<T, ClientError>>;

/// A transport whose handshake is done, with what it settled.
pub(crate) struct Connected<T> {
    pub(crate) transport: T,
    pub(crate) reply: HandshakeResponse,
    pub(crate) serializer: Serializer,
}

impl ClientBuilder {
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

    /// Connects over TCP (with `TCP_NODELAY`) and performs the handshake. The address is
    /// resolved once; reconnects dial the addresses found then.
    ///
    /// # Errors
    ///
    /// [`ClientError::ConnectTimeout`] when connecting and the handshake together take longer
    /// than the connect timeout; [`ClientError::Io`] when the connection fails; the handshake's
    /// errors as in [`connect_transport`](Self::connect_transport).
    pub async fn connect_tcp(self, addr: impl ToSocketAddrs) -> Result<Client, ClientError> {
        let timeout = self.connect_timeout;
        let addrs: Vec<_> = tokio::time::timeout(timeout, tokio::net::lookup_host(addr))
            .await
            .map_err(|_| ClientError::ConnectTimeout(timeout))??
            .collect();
        let max_body_len = self.max_body_len;
        self.connect_with(move || {
            let addrs = addrs.clone();
            async move {
                let stream = TcpStream::connect(&addrs[..]).await?;
                stream.set_nodelay(true)?;
                Ok::<_, ClientError>(framed(stream, max_body_len))
            }
        })
        .await
    }

    /// Connects over WebSocket (`ws://host:port/path`) and performs the handshake.
    ///
    /// # Errors
    ///
    /// [`ClientError::WebSocket`] when the upgrade fails, and as [`connect_tcp`](Self::connect_tcp).
    pub async fn connect_ws(self, url: &str) -> Result<Client, ClientError> {
        let (url, config, max_body_len) = (url.to_owned(), self.ws_config(), self.max_body_len);
        self.connect_with(move || {
            let connect =
                tokio_tungstenite::connect_async_with_config(url.clone(), Some(config), true);
            async move {
                let (ws, _response) = connect
                    .await
                    .map_err(|err| ClientError::WebSocket(Box::new(err)))?;
                Ok::<_, ClientError>(WsTransport::new(ws, max_body_len))
            }
        })
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
        let tls = match &self.tls {
            Some(config) => config.clone(),
            None => crate::tls::native_roots_config()?,
        };
        let (url, config, max_body_len) = (url.to_owned(), self.ws_config(), self.max_body_len);
        self.connect_with(move || {
            let connect = crate::tls::connect(url.clone(), tls.clone(), config);
            async move { Ok::<_, ClientError>(WsTransport::new(connect.await?, max_body_len)) }
        })
        .await
    }

    /// Connects through `dial`, which opens a new transport each time it is called: once now,
    /// and again for each reconnect attempt (see [`reconnect`](Self::reconnect)).
    ///
    /// # Errors
    ///
    /// `dial`'s error, and as [`connect_transport`](Self::connect_transport).
    pub async fn connect_with<T, D, Fut, E>(self, mut dial: D) -> Result<Client, ClientError>
    where
        T: PacketTransport,
        D: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<ClientError> + 'static,
    {
        let connected = self.dial_and_handshake(&mut dial, None, None).await?;
        Ok(self.start(connected, Some(dial)))
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
        let connected = tokio::time::timeout(timeout, self.shake_hands(transport, None, None))
            .await
            .map_err(|_| ClientError::ConnectTimeout(timeout))??;
        Ok(self.start(connected, None::<NoDial<T>>))
    }

    /// Starts the client on `connected`, with a supervisor that reconnects through `dial`.
    fn start<T, D, Fut, E>(self, connected: Connected<T>, dial: Option<D>) -> Client
    where
        T: PacketTransport,
        D: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        E: Into<ClientError> + 'static,
    {
        let cancel = CancellationToken::new();
        let hub = Hub::start(&self, connected, cancel.child_token());
        tokio::spawn(reconnect::supervise(
            hub.clone(),
            self,
            dial,
            cancel.clone(),
        ));
        Client::new(hub, cancel)
    }

    /// Dials and performs the handshake, within the connect timeout together; with `expected`,
    /// the server must settle on that serializer; with `resume`, the handshake asks to resume
    /// the session.
    pub(crate) async fn dial_and_handshake<T, D, Fut, E>(
        &self,
        dial: &mut D,
        expected: Option<&Serializer>,
        resume: Option<&ResumeRequest>,
    ) -> Result<Connected<T>, ClientError>
    where
        T: PacketTransport,
        D: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<ClientError>,
    {
        let timeout = self.connect_timeout;
        tokio::time::timeout(timeout, async {
            let transport = dial().await.map_err(Into::into)?;
            self.shake_hands(transport, expected, resume).await
        })
        .await
        .map_err(|_| ClientError::ConnectTimeout(timeout))?
    }

    /// WebSocket limits matching the packet limit.
    fn ws_config(&self) -> WebSocketConfig {
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(self.max_body_len.saturating_add(4).max(1 << 20));
        config
    }

    async fn shake_hands<T: PacketTransport>(
        &self,
        mut transport: T,
        expected: Option<&Serializer>,
        resume: Option<&ResumeRequest>,
    ) -> Result<Connected<T>, ClientError> {
        let body = match resume {
            Some(resume) => {
                let mut handshake = self.handshake.clone();
                resume.insert_into(&mut handshake.user);
                handshake.to_json()
            }
            None => self.handshake.to_json(),
        };
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
        if let Some(expected) = expected.filter(|expected| **expected != serializer) {
            return Err(ClientError::SerializerChanged {
                before: expected.name().to_owned(),
                now: serializer.name().to_owned(),
            });
        }
        transport.send(EncodedPacket::handshake_ack()).await?;
        Ok(Connected {
            transport,
            reply,
            serializer,
        })
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
