//! [`WsConfig`]: the settings of a WebSocket endpoint.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Default largest WebSocket message accepted: 256 KiB (a message may hold several packets).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 256 * 1024;
/// Default time a client of the standalone listener has to send its HTTP request headers: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Decides whether a browser's `Origin` header (absent for non-browser clients) is allowed.
pub type OriginCheck = Arc<dyn Fn(Option<&str>) -> bool + Send + Sync>;

/// The settings of a WebSocket endpoint.
///
/// # Examples
///
/// ```
/// use nano_ws::WsConfig;
///
/// let config = WsConfig::new()
///     .path("/nano")
///     .allow_origin(|origin| matches!(origin, None | Some("https://game.example.com")))
///     .max_message_size(64 * 1024);
/// assert_eq!(config.endpoint_path(), Some("/nano"));
/// ```
#[derive(Clone)]
pub struct WsConfig {
    pub(crate) path: Option<String>,
    pub(crate) origin: Option<OriginCheck>,
    pub(crate) max_message_size: usize,
    pub(crate) header_read_timeout: Duration,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl WsConfig {
    /// Defaults: path `/`, every Origin allowed, messages up to
    /// [`DEFAULT_MAX_MESSAGE_SIZE`] (256 KiB), HTTP headers within
    /// [`DEFAULT_HEADER_READ_TIMEOUT`] (10 s), plain `ws://`.
    pub fn new() -> Self {
        Self {
            path: Some("/".to_owned()),
            origin: None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// The path clients upgrade on (default `/`); other paths get 404.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Accepts upgrades on any path (when a router in front already chose the route).
    pub fn any_path(mut self) -> Self {
        self.path = None;
        self
    }

    /// The path clients upgrade on, or `None` for any.
    pub fn endpoint_path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// Checks the `Origin` header of every upgrade (default: allow all); a refused Origin is
    /// answered with 403 and no upgrade.
    pub fn allow_origin(
        mut self,
        check: impl Fn(Option<&str>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.origin = Some(Arc::new(check));
        self
    }

    /// The largest WebSocket message accepted (default 256 KiB); a larger one closes the
    /// connection with code 1009.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes.max(1);
        self
    }

    /// How long a client of the standalone listener ([`listen`](crate::listen),
    /// [`serve`](crate::serve)) has to send its HTTP request headers (default 10 s), counted
    /// from the accept, and again from each response while the connection is kept alive; with
    /// TLS, the TLS handshake gets the same time before it. A client that takes longer has its
    /// connection closed. Zero counts as 1 ms. Servers you run yourself (axum, hyper) set their
    /// own.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Serves `wss://` with this rustls configuration.
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    pub(crate) fn origin_allowed(&self, origin: Option<&str>) -> bool {
        self.origin.as_ref().is_none_or(|check| check(origin))
    }

    /// tungstenite's settings: small buffers (an idle connection costs little), the size limit.
    pub(crate) fn websocket_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(8 * 1024)
            .max_write_buffer_size(1024 * 1024)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_message_size))
    }
}

impl fmt::Debug for WsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConfig")
            .field("path", &self.path)
            .field("origin_check", &self.origin.is_some())
            .field("max_message_size", &self.max_message_size)
            .field("header_read_timeout", &self.header_read_timeout)
            .finish_non_exhaustive()
    }
}
