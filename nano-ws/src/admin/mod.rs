//! The admin server (feature `admin`): a live page and a JSON API over an app, behind a
//! bearer token, on an address of its own.
//!
//! - [`router`]: the axum router (the page on `/`, the API under `/api/`, `/metrics`), to
//!   serve or nest;
//! - [`listen_admin`]: binds [`AdminConfig::addr`] (`127.0.0.1:9200` by default) and serves
//!   the router until the app starts shutting down.
//!
//! Every path except the page itself needs `Authorization: Bearer <token>`; without it, or
//! with another token, the answer is 401 and nothing is done. The token is compared in
//! constant time. The page holds no data: it asks for the token and keeps it in the tab's
//! `sessionStorage`. The API is described in docs/OPERATIONS.md.

mod api;
mod auth;
mod window;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{StatusCode, header};
use nano_core::App;
use tokio::net::TcpListener;

use window::Window;

/// The admin server's default address: loopback only.
pub const DEFAULT_ADMIN_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9200);
/// Default of [`AdminConfig::max_sessions_listed`].
pub const DEFAULT_MAX_SESSIONS_LISTED: usize = 1_000;
/// Default of [`AdminConfig::max_body_len`].
pub const DEFAULT_ADMIN_MAX_BODY_LEN: usize = 64 * 1024;
/// Default of [`AdminConfig::rate_window`].
pub const DEFAULT_RATE_WINDOW: Duration = Duration::from_secs(10);

/// The admin server's settings.
#[derive(Clone)]
pub struct AdminConfig {
    token: Arc<[u8]>,
    /// Where [`listen_admin`] binds; `127.0.0.1:9200` by default.
    pub addr: SocketAddr,
    /// Most sessions one `GET /api/sessions` lists (a `limit` above it is lowered to it);
    /// 1,000 by default.
    pub max_sessions_listed: usize,
    /// Largest request body accepted (a broadcast's), in bytes; 64 KiB by default.
    pub max_body_len: usize,
    /// The window rates and latency quantiles are computed over; 10 s by default. The
    /// server keeps one sample of the counters a second over it (a sample is taken when
    /// the API is read, not by a task).
    pub rate_window: Duration,
}

impl AdminConfig {
    /// Settings with `token` (compared in constant time; it must not be empty) and the
    /// defaults.
    pub fn new(token: impl Into<String>) -> Self {
        Self {
            token: Arc::from(token.into().into_bytes()),
            addr: DEFAULT_ADMIN_ADDR,
            max_sessions_listed: DEFAULT_MAX_SESSIONS_LISTED,
            max_body_len: DEFAULT_ADMIN_MAX_BODY_LEN,
            rate_window: DEFAULT_RATE_WINDOW,
        }
    }

    /// Binds `addr` instead of `127.0.0.1:9200`.
    #[must_use]
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("token", &"<redacted>")
            .field("addr", &self.addr)
            .field("max_sessions_listed", &self.max_sessions_listed)
            .field("max_body_len", &self.max_body_len)
            .field("rate_window", &self.rate_window)
            .finish()
    }
}

/// What the admin's handlers share.
struct Admin {
    app: App,
    config: AdminConfig,
    window: Mutex<Window>,
}

type Shared = Arc<Admin>;

/// The admin router over `app`: `GET /` (the page, no token needed), the JSON API under
/// `/api/` and `GET /metrics`, both behind the token.
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] when the token is empty.
pub fn router(app: App, config: AdminConfig) -> io::Result<Router> {
    if config.token.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the admin token must not be empty",
        ));
    }
    let admin = Arc::new(Admin {
        app,
        window: Mutex::new(Window::new(config.rate_window)),
        config,
    });
    let protected = Router::new()
        .route("/api/overview", get(api::overview))
        .route("/api/routes", get(api::routes))
        .route("/api/groups", get(api::groups))
        .route("/api/sessions", get(api::sessions))
        .route("/api/sessions/{id}/kick", post(api::kick))
        .route("/api/groups/{name}/broadcast", post(api::broadcast))
        .route("/metrics", get(api::metrics))
        .fallback(api::not_found)
        .route_layer(middleware::from_fn_with_state(admin.clone(), require_token))
        .layer(DefaultBodyLimit::max(admin.config.max_body_len));
    Ok(Router::new()
        .route("/", get(page))
        .merge(protected)
        .with_state(admin))
}

/// Binds `config.addr` and serves [`router`] there until `app` starts shutting down;
/// returns the bound address.
///
/// # Errors
///
/// When the token is empty, or binding fails.
///
/// # Examples
///
/// ```no_run
/// # async fn run(app: nano_core::App) -> std::io::Result<()> {
/// use nano_ws::admin::{AdminConfig, listen_admin};
/// let addr = listen_admin(&app, AdminConfig::new("a long random token")).await?;
/// println!("admin page on http://{addr}/");
/// # Ok(()) }
/// ```
pub async fn listen_admin(app: &App, config: AdminConfig) -> io::Result<SocketAddr> {
    let addr = config.addr;
    let router = router(app.clone(), config)?;
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = app.clone();
    tokio::spawn(async move {
        let stopped = async move { app.accepting_stopped().await };
        if let Err(err) = axum::serve(listener, router)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::warn!(error = %err, "admin server ended with an error");
        }
    });
    tracing::info!(addr = %local, "serving the admin page and API");
    Ok(local)
}

/// Answers 401 (and runs nothing) unless the request carries the token.
async fn require_token(State(admin): State<Shared>, request: Request, next: Next) -> Response {
    if auth::authorized(request.headers(), &admin.config.token) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        api::error_body("missing or wrong bearer token"),
    )
        .into_response()
}

/// The page: one HTML file with its script, compiled in.
async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        include_str!("page.html"),
    )
        .into_response()
}
