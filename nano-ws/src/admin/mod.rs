//! The admin server (feature `admin`): a live page and a JSON API over an app, behind a
//! bearer token, on an address of its own.
//!
//! - [`AdminConfig::nodes`]: in cluster mode, how `GET /api/nodes` lists the nodes;
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
mod config;
mod serve;
mod window;

pub use config::{
    AdminConfig, AdminNode, DEFAULT_ADMIN_ADDR, DEFAULT_ADMIN_HEADER_READ_TIMEOUT,
    DEFAULT_ADMIN_MAX_BODY_LEN, DEFAULT_ADMIN_MAX_CONNECTIONS, DEFAULT_MAX_SESSIONS_LISTED,
    DEFAULT_RATE_WINDOW, NodesHook,
};

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{StatusCode, header};
use nano_core::App;
use tokio::net::TcpListener;

use window::Window;

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
        .route("/api/nodes", get(api::nodes))
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

/// Binds `config.addr` and serves [`router`] there until `app` starts shutting down (at most
/// [`AdminConfig::max_connections`] connections at a time, each sending its request headers
/// within [`AdminConfig::header_read_timeout`]); returns the bound address.
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
    let (addr, max_connections, timeout) = (
        config.addr,
        config.max_connections,
        config.header_read_timeout,
    );
    let router = router(app.clone(), config)?;
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(serve::serve(
        app.clone(),
        listener,
        router,
        max_connections,
        timeout,
    ));
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

/// What the page may load and where it may be shown.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

/// The page: one HTML file with its script, compiled in.
async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            // Its own script and style only, talking to its own origin, never in a frame
            // (a framed page could be tricked into clicking kick).
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        include_str!("page.html"),
    )
        .into_response()
}
