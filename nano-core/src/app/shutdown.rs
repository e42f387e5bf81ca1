//! Graceful shutdown: on a signal, on request, or when the embedder says so.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::FutureExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::App;
use crate::Error;

/// Where an app's shutdown stands.
#[derive(Default)]
pub(crate) struct ShutdownSignals {
    /// Cancelled when listeners must stop accepting: shutdown has started.
    pub(crate) accepting: CancellationToken,
    /// Set by the first [`App::shutdown`].
    started: AtomicBool,
    /// Wakes [`App::run`] and [`App::with_graceful_shutdown`] when a shutdown starts elsewhere.
    requested: Notify,
    /// Cancelled when the shutdown is complete.
    done: CancellationToken,
}

impl App {
    /// Serves until Ctrl-C (or SIGTERM on Unix), then shuts down gracefully.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the signal handlers cannot be installed.
    pub async fn run(&self) -> Result<(), Error> {
        let signals = &self.state.shutdown;
        tokio::select! {
            result = shutdown_signal() => result?,
            () = signals.requested.notified() => {}
            () = signals.done.cancelled() => return Ok(()),
        }
        tracing::info!("shutting down");
        self.shutdown().await;
        Ok(())
    }

    /// Serves until `signal` completes, then shuts down gracefully (for embedders with their
    /// own shutdown logic).
    pub async fn with_graceful_shutdown(&self, signal: impl Future<Output = ()>) {
        let signals = &self.state.shutdown;
        tokio::select! {
            () = signal => {}
            () = signals.requested.notified() => {}
            () = signals.done.cancelled() => return,
        }
        self.shutdown().await;
    }

    /// Shuts down gracefully and returns when done:
    ///
    /// 1. stop accepting connections;
    /// 2. run `before_shutdown` hooks, in reverse registration order;
    /// 3. let every session finish its in-flight request (its response is sent), then kick it
    ///    with the reason `"server shutting down"`;
    /// 4. wait for the sessions to close, at most
    ///    [`Config::shutdown_timeout`](crate::Config::shutdown_timeout), then close the rest;
    /// 5. run `shutdown` hooks, in reverse registration order, and stop the actors.
    ///
    /// Calling it again (or concurrently) waits for the first shutdown to finish.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the shutdown runs on a task of its own once started, so dropping this
    /// future only stops waiting for it.
    pub async fn shutdown(&self) {
        let signals = &self.state.shutdown;
        if !signals.started.swap(true, Ordering::AcqRel) {
            let app = self.clone();
            tokio::spawn(async move { app.shut_down().await });
        }
        signals.done.cancelled().await;
    }

    /// The steps of [`shutdown`](Self::shutdown); `done` is signalled even if a hook panics.
    async fn shut_down(&self) {
        let state = &self.state;
        state.shutdown.requested.notify_waiters();
        state.shutdown.accepting.cancel();
        let steps = AssertUnwindSafe(async {
            for hooks in state.components.hooks.iter().rev() {
                hooks.before_shutdown().await;
            }
            self.drain_connections().await;
            for hooks in state.components.hooks.iter().rev() {
                hooks.shutdown().await;
            }
        });
        if steps.catch_unwind().await.is_err() {
            tracing::error!("a shutdown hook panicked; stopping the app anyway");
            state.host.shutdown.force();
        }
        state.actors.stop().await;
        state.shutdown.done.cancel();
    }

    /// Lets every session finish and leave, at most the shutdown timeout, then closes the rest.
    async fn drain_connections(&self) {
        let (host, connections) = (&self.state.host, &self.state.connections.tasks);
        host.shutdown.drain();
        connections.close();
        let timeout = host.config.shutdown_timeout;
        if tokio::time::timeout(timeout, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!("sessions did not drain in time; closing them");
            host.shutdown.force();
            connections.wait().await;
        }
    }

    /// Whether shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.state.shutdown.accepting.is_cancelled()
    }

    /// Waits until the app stops accepting connections (shutdown has started). Listeners that
    /// live outside nano-core (WebSocket, embedders' own) stop accepting when this returns.
    pub async fn accepting_stopped(&self) {
        self.state.shutdown.accepting.cancelled().await;
    }

    /// Waits until the app has shut down.
    pub async fn closed(&self) {
        self.state.shutdown.done.cancelled().await;
    }

    /// A handle that can start a graceful shutdown from anywhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle { app: self.clone() }
    }
}

/// Starts an app's graceful shutdown from anywhere (a signal handler, an admin endpoint).
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    app: App,
}

impl ShutdownHandle {
    /// Starts the shutdown and waits for it to finish (see [`App::shutdown`]).
    pub async fn shutdown(&self) {
        self.app.shutdown().await;
    }
}

async fn shutdown_signal() -> Result<(), Error> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result?,
            _ = terminate.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}
