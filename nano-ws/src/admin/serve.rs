//! Serving the admin router on a listener: at most `max_connections` at a time, each with a
//! header-read timeout, until the app starts shutting down.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use nano_core::App;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Accepts connections on `listener` and serves `router` on each, until `app` stops
/// accepting. Beyond `max_connections` open ones, accepting waits (the kernel's backlog holds
/// the next), so a flood of connections cannot grow the server's memory.
pub(super) async fn serve(
    app: App,
    listener: TcpListener,
    router: Router,
    max_connections: usize,
    header_read_timeout: Duration,
) {
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
    let stopped = app.accepting_stopped();
    tokio::pin!(stopped);
    loop {
        let permit = tokio::select! {
            () = &mut stopped => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::debug!(error = %err, "admin listener: accept failed");
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "admin connection ended with an error");
            }
            drop(permit);
        });
    }
}
