//! [`ClientBuilder`]: connection settings (connecting is in `connect.rs`).

use std::time::Duration;

use nano_core::Serializer;
use nano_core::protocol::{DEFAULT_MAX_BODY_LEN, HandshakeRequest};
use serde_json::Value;

use crate::Reconnect;
use crate::negotiate::SerializerChoice;

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
    pub(crate) reconnect: Option<Reconnect>,
    pub(crate) resume: bool,
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
            reconnect: None,
            resume: true,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Uses `serializer` for payloads whatever the server announces.
    ///
    /// By default the client follows the server's `sys.serializer` (`"json"` or `"msgpack"`),
    /// uses JSON when the server does not say, and fails to connect with
    /// [`ClientError::UnsupportedSerializer`](crate::ClientError::UnsupportedSerializer) when it names a format the client does not know.
    pub fn serializer(mut self, serializer: Serializer) -> Self {
        self.serializer.forced = Some(serializer);
        self
    }

    /// Accepts a server whose `sys.serializer` is `name`, using `serializer` for it.
    ///
    /// For a format of your own ([`Serializer::Custom`]), or for one whose values are not serde
    /// types (protobuf): accept its name, and exchange the encoded bytes through
    /// [`Client::request_raw`](crate::Client::request_raw), [`Client::notify_raw`](crate::Client::notify_raw) and [`Push::payload`](crate::Push::payload).
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

    /// Reconnects with `policy` when the connection is lost (default: no reconnects; the
    /// client ends with its connection). See [`Reconnect`] for the delays and
    /// [`Client::events`](crate::Client::events) to learn about reconnects; push subscriptions
    /// carry on over the new connection.
    ///
    /// When the server resumes sessions (docs/PROTOCOL-EXTENSIONS.md) and
    /// [`resume`](Self::resume) is on, a reconnect resumes the session: requests in flight wait
    /// and are answered on the new connection, and the pushes sent meanwhile arrive, in order.
    /// Otherwise requests in flight fail with
    /// [`ClientError::Disconnected`](crate::ClientError::Disconnected).
    ///
    /// Works with [`connect`](Self::connect) and its variants and with
    /// [`connect_with`](Self::connect_with); a client from
    /// [`connect_transport`](Self::connect_transport) has no way to dial again.
    pub fn reconnect(mut self, policy: Reconnect) -> Self {
        self.reconnect = Some(policy);
        self
    }

    /// Whether a reconnect resumes the session when the server offers it (default: `true`;
    /// it needs [`reconnect`](Self::reconnect)). [`ConnectionEvent::Reconnected`] says whether
    /// a reconnect resumed.
    ///
    /// [`ConnectionEvent::Reconnected`]: crate::ConnectionEvent::Reconnected
    pub fn resume(mut self, on: bool) -> Self {
        self.resume = on;
        self
    }

    /// The TLS settings of `wss://` connections: which certificates to trust, client
    /// certificates, ... (default: the system's root certificates).
    #[cfg(feature = "tls")]
    pub fn tls_config(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
}
