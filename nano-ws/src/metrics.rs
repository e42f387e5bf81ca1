//! Serving an app's Prometheus metrics over HTTP: a standalone listener
//! ([`listen_metrics`]), a response for any HTTP stack ([`metrics_response`]), and an axum
//! route (`nano_ws::axum::metrics_route`).

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use nano_core::App;
use tokio::net::{TcpListener, ToSocketAddrs};

/// The content type of the text format nano-rs writes (OpenMetrics 1.0, which Prometheus
/// negotiates and reads).
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long a scraper may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The answer to a scrape: `app`'s metrics ([`App::encode_metrics`]) with their content type.
pub fn metrics_response(app: &App) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(app.encode_metrics())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(METRICS_CONTENT_TYPE),
    );
    response
}

/// Binds `addr` and serves `app`'s metrics on `GET /metrics` (404 for other paths, 405 for
/// other methods) until the app starts shutting down; returns the bound address. Scrapes do
/// not count as sessions or against `max_connections`.
///
/// The metrics say how many players are on and where they are; bind it to loopback or a
/// private network, not to the players' side.
///
/// # Errors
///
/// When binding fails.
///
/// # Examples
///
/// ```no_run
/// # async fn run(app: nano_core::App) -> std::io::Result<()> {
/// let addr = nano_ws::listen_metrics(&app, "127.0.0.1:9100").await?;
/// println!("scrape http://{addr}/metrics");
/// # Ok(()) }
/// ```
pub async fn listen_metrics(app: &App, addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = app.clone();
    tokio::spawn(async move {
        let stopped = app.accepting_stopped();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                () = &mut stopped => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(serve_scrapes(app.clone(), stream));
                    }
                    Err(err) => tracing::debug!(error = %err, "metrics listener: accept failed"),
                },
            }
        }
    });
    tracing::info!(addr = %local, "serving metrics on /metrics");
    Ok(local)
}

async fn serve_scrapes(app: App, stream: tokio::net::TcpStream) {
    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
        let response = answer(&app, request.method(), request.uri().path());
        async move { Ok::<_, Infallible>(response) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(err) = connection.await {
        tracing::debug!(error = %err, "metrics connection ended with an error");
    }
}

fn answer(app: &App, method: &Method, path: &str) -> Response<Full<Bytes>> {
    let status = match (method, path) {
        (&Method::GET, "/metrics") => return metrics_response(app),
        (_, "/metrics") => StatusCode::METHOD_NOT_ALLOWED,
        _ => StatusCode::NOT_FOUND,
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}
