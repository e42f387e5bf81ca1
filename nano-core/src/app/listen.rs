//! Serving an app: TCP listeners (one accept loop, used by nano-ws too), streams the embedder
//! accepted, and packet transports.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio_util::task::TaskTracker;

use super::App;
use crate::Error;
use crate::metrics::Counters;
use crate::session::TransportKind;
use crate::transport::{self, PacketTransport, StreamTransport};

/// How long the accept loop waits after a failed accept (out of file descriptors, ...).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The app's connection tasks (and its accept loops), and how many connections are open.
#[derive(Default)]
pub(crate) struct Connections {
    pub(crate) tasks: TaskTracker,
    open: Arc<AtomicUsize>,
}

impl App {
    /// Binds a TCP listener on `addr` and serves it; returns the bound address (useful with
    /// port 0). The listen backlog is [`Config::listen_backlog`](crate::Config::listen_backlog).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when binding fails.
    pub async fn listen_tcp(&self, addr: impl ToSocketAddrs) -> Result<SocketAddr, Error> {
        let listener = self.bind_listener(addr).await?;
        self.serve(listener)
    }

    /// Binds a TCP listener on `addr` (the first address it resolves to that binds) with the
    /// app's listen backlog ([`Config::listen_backlog`](crate::Config::listen_backlog)), for
    /// [`serve`](Self::serve), [`accept_with`](Self::accept_with) or nano-ws.
    ///
    /// # Errors
    ///
    /// When `addr` does not resolve or no address binds.
    pub async fn bind_listener(&self, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        transport::bind_tcp(addr, self.config().listen_backlog).await
    }

    /// Serves clients accepted on `listener`, in a background task, until shutdown.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the listener has no local address.
    pub fn serve(&self, listener: TcpListener) -> Result<SocketAddr, Error> {
        let app = self.clone();
        let addr = self.accept_with(listener, move |stream, remote| {
            let transport = StreamTransport::new(stream, app.config().max_body_len);
            app.serve_transport(transport, Some(remote), TransportKind::Tcp);
        })?;
        tracing::info!(%addr, "serving TCP");
        Ok(addr)
    }

    /// Accepts connections on `listener` in a background task until the app stops accepting
    /// (shutdown has started), and hands each stream, with `TCP_NODELAY` set, to `accept`.
    /// This is the accept loop of [`serve`](Self::serve), for transports built outside
    /// nano-core (nano-ws's WebSocket listener). A failed accept (out of file descriptors,
    /// say) is logged, and accepting goes on after a short pause.
    ///
    /// # Errors
    ///
    /// When the listener has no local address.
    pub fn accept_with(
        &self,
        listener: TcpListener,
        mut accept: impl FnMut(TcpStream, SocketAddr) + Send + 'static,
    ) -> io::Result<SocketAddr> {
        let addr = listener.local_addr()?;
        let stop = self.state.shutdown.accepting.clone();
        self.state.connections.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, remote)) => {
                            if let Err(err) = stream.set_nodelay(true) {
                                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
                            }
                            accept(stream, remote);
                        }
                        Err(err) => {
                            tracing::warn!(%addr, error = %err, "accept failed");
                            tokio::time::sleep(ACCEPT_BACKOFF).await;
                        }
                    }
                }
            }
        });
        Ok(addr)
    }

    /// Serves one already-accepted byte stream (a TCP or TLS stream the embedding application
    /// accepted itself, a Unix socket, an in-memory pipe, ...).
    pub fn serve_stream<S>(&self, stream: S, remote: Option<SocketAddr>)
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let transport = StreamTransport::new(stream, self.config().max_body_len);
        self.serve_transport(transport, remote, TransportKind::Stream);
    }

    /// Whether [`Config::max_connections`](crate::Config::max_connections) connections are
    /// open, so that a new one would be refused. For transports that can refuse more politely
    /// before they hand a connection over (nano-ws answers an upgrade with 503): the limit is
    /// still enforced by [`serve_transport`](Self::serve_transport).
    pub fn is_full(&self) -> bool {
        self.state.connections.open.load(Ordering::Acquire)
            >= self.state.host.config.max_connections
    }

    /// Counts a connection refused because the app is [full](Self::is_full)
    /// ([`Metrics::connections_refused`](crate::Metrics)) and logs it, for transports that
    /// refuse one themselves.
    pub fn refuse_connection(&self, remote: Option<SocketAddr>) {
        let core = &self.state.host.core;
        Counters::add(&core.counters.connections_refused, 1);
        if let Some(telemetry) = &core.telemetry {
            telemetry.connections_refused.inc();
        }
        let max = self.state.host.config.max_connections;
        tracing::warn!(?remote, max, "connection refused: too many connections");
    }

    /// Serves one connection over any packet transport (how `nano-ws` serves WebSockets).
    /// Refused at once when shutdown has started or `max_connections` are open.
    pub fn serve_transport<T: PacketTransport>(
        &self,
        transport: T,
        remote: Option<SocketAddr>,
        kind: TransportKind,
    ) {
        let state = &self.state;
        if state.shutdown.accepting.is_cancelled() {
            return;
        }
        let open = state.connections.open.clone();
        if open.fetch_add(1, Ordering::AcqRel) >= state.host.config.max_connections {
            open.fetch_sub(1, Ordering::AcqRel);
            self.refuse_connection(remote);
            return;
        }
        // Mapped, not awaited in an `async` block: the task's future then holds the
        // connection's state once (an awaited future sits beside the block's copy of it).
        let served = crate::connection::serve(state.host.clone(), transport, remote, kind);
        state.connections.tasks.spawn(served.map(move |()| {
            open.fetch_sub(1, Ordering::AcqRel);
        }));
    }
}
