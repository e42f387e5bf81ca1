//! Reconnecting after a lost connection: the policy ([`Reconnect`]), what the application is
//! told ([`ConnectionEvent`], [`Events`]), and the task that does it.
//!
//! What survives a reconnect: the [`Client`](crate::Client) handles, the push subscriptions
//! (their streams stay open), the serializer. Requests and notifies made while reconnecting
//! fail with [`ClientError::Disconnected`] at once.
//!
//! When the server resumes sessions (docs/PROTOCOL-EXTENSIONS.md) the reconnect resumes the
//! session ([`ConnectionEvent::Reconnected`] with `resumed: true`): the server-side session
//! with its user id and rooms is the same, the pushes sent in the gap arrive in order, and the
//! requests in flight are sent again with their ids and answered once. Otherwise the requests
//! in flight fail with [`ClientError::Disconnected`] and are never sent again (the server may
//! have run them), pushes sent in the gap are lost, and the session is a new one: the
//! application logs in and joins again.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use nano_core::transport::PacketTransport;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::resume::Settled;
use crate::shared::Hub;
use crate::{ClientBuilder, ClientError, CloseReason};

/// How to reconnect after the connection is lost, for
/// [`ClientBuilder::reconnect`](crate::ClientBuilder::reconnect).
///
/// Attempt `n` (from 1) waits `base_delay * 2^(n-1)`, at most `max_delay`, minus a random part
/// of up to `jitter` of it (so that many clients dropped at once do not come back at once).
/// A connection that ends with a kick, or because the client closed it, is not reconnected.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use nano_client::Reconnect;
///
/// let policy = Reconnect::new()
///     .base_delay(Duration::from_millis(200))
///     .max_delay(Duration::from_secs(10))
///     .jitter(0.0)
///     .max_attempts(5);
/// assert_eq!(policy.delay(1, 0.5), Duration::from_millis(200));
/// assert_eq!(policy.delay(3, 0.5), Duration::from_millis(800));
/// assert_eq!(policy.delay(20, 0.5), Duration::from_secs(10));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Reconnect {
    base_delay: Duration,
    max_delay: Duration,
    jitter: f64,
    max_attempts: Option<u32>,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self::new()
    }
}

impl Reconnect {
    /// 500 ms first delay, doubling up to 30 s, 20 % jitter, attempts without limit.
    pub fn new() -> Self {
        Self {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            jitter: 0.2,
            max_attempts: None,
        }
    }

    /// The delay before the first attempt (default 500 ms).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest delay between attempts (default 30 s).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The part of each delay, from 0.0 to 1.0, taken off at random (default 0.2).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self
    }

    /// Gives up after `attempts` failed attempts in a row (default: never gives up).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// The delay before attempt `attempt` (from 1), with `random` in `0.0..1.0` drawn for the
    /// jitter.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let full = self
            .base_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        full.mul_f64(1.0 - self.jitter * random.clamp(0.0, 1.0))
    }
}

/// What happened to a client's connection; see [`Client::events`](crate::Client::events).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionEvent {
    /// The connection was lost; reconnecting starts.
    Disconnected {
        /// Why it was lost.
        reason: CloseReason,
    },
    /// Attempt `attempt` (from 1) starts after `delay`.
    Reconnecting {
        /// The attempt's number.
        attempt: u32,
        /// How long it waits first.
        delay: Duration,
    },
    /// An attempt failed; the next one follows, unless the attempts are used up.
    AttemptFailed {
        /// The attempt's number.
        attempt: u32,
        /// What went wrong.
        error: String,
    },
    /// A new connection is up, its handshake done.
    Reconnected {
        /// The attempt that succeeded.
        attempt: u32,
        /// Whether it resumed the session (docs/PROTOCOL-EXTENSIONS.md): the server kept it,
        /// the pushes sent meanwhile were replayed and the requests in flight sent again. When
        /// `false` the session is a new one: log in and join again.
        resumed: bool,
    },
    /// The client has ended for good (closed, kicked, out of attempts, or without reconnects
    /// configured); the last event.
    Closed {
        /// Why, as [`Client::closed`](crate::Client::closed) reports it.
        reason: CloseReason,
    },
}

/// The stream of a client's [`ConnectionEvent`]s.
#[derive(Debug)]
pub struct Events {
    pub(crate) receiver: broadcast::Receiver<ConnectionEvent>,
}

impl Events {
    /// The next event; `None` once the client is gone. Events a slow reader missed are skipped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv(&mut self) -> Option<ConnectionEvent> {
        loop {
            match self.receiver.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Whether a connection that ended with `reason` is worth reconnecting.
fn reconnectable(reason: &CloseReason) -> bool {
    !matches!(
        reason,
        CloseReason::ClosedByClient | CloseReason::Kicked { .. }
    )
}

/// Whether a failed attempt's error will fail every attempt (retrying cannot help). A
/// handshake refused with 503 is not: the server is shutting down, and another (or it, once
/// restarted) will answer.
fn permanent(error: &ClientError) -> bool {
    matches!(
        error,
        ClientError::HandshakeRejected { code, .. } if *code != 503
    ) || matches!(
        error,
        ClientError::UnsupportedSerializer { .. }
            | ClientError::SerializerChanged { .. }
            | ClientError::InvalidTarget(_)
    )
}

/// A number in `0.0..1.0` for the jitter (std's per-process random hash keys as the source).
fn random_fraction(attempt: u32) -> f64 {
    let bits = RandomState::new().hash_one(attempt);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Watches the client's connection and, when it is lost, reconnects with `dial` as `config`
/// says; ends the client when it will not (or cannot) reconnect.
pub(crate) async fn supervise<T, D, Fut, E>(
    hub: Arc<Hub>,
    config: ClientBuilder,
    mut dial: Option<D>,
    cancel: CancellationToken,
) where
    T: PacketTransport,
    D: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    E: Into<ClientError> + 'static,
{
    loop {
        let reason = hub.current().ended().await;
        let (Some(policy), Some(dial)) = (config.reconnect.clone(), dial.as_mut()) else {
            return hub.finish(reason);
        };
        if !reconnectable(&reason) || cancel.is_cancelled() {
            return hub.finish(reason);
        }
        hub.emit(ConnectionEvent::Disconnected {
            reason: reason.clone(),
        });
        if let Err(last) = reconnect(&hub, &config, &policy, dial, &cancel).await {
            return hub.finish(last);
        }
    }
}

/// Attempts until one connects (`Ok`) or the attempts run out, the error is permanent, or the
/// client is closed (`Err` with the client's final reason).
async fn reconnect<T, D, Fut, E>(
    hub: &Arc<Hub>,
    config: &ClientBuilder,
    policy: &Reconnect,
    dial: &mut D,
    cancel: &CancellationToken,
) -> Result<(), CloseReason>
where
    T: PacketTransport,
    D: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<ClientError>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let delay = policy.delay(attempt, random_fraction(attempt));
        hub.emit(ConnectionEvent::Reconnecting { attempt, delay });
        let resume = hub.resumption.request();
        let outcome = tokio::select! {
            () = cancel.cancelled() => return Err(CloseReason::ClosedByClient),
            outcome = async {
                tokio::time::sleep(delay).await;
                config
                    .dial_and_handshake(&mut *dial, Some(&hub.serializer), resume.as_ref())
                    .await
            } => outcome,
        };
        let error = match outcome {
            Ok(connected) => {
                let settled =
                    hub.install(config, connected, cancel.child_token(), resume.is_some());
                let resumed = settled == Settled::Resumed;
                hub.emit(ConnectionEvent::Reconnected { attempt, resumed });
                return Ok(());
            }
            Err(error) => error,
        };
        hub.emit(ConnectionEvent::AttemptFailed {
            attempt,
            error: error.to_string(),
        });
        if permanent(&error) || policy.max_attempts.is_some_and(|max| attempt >= max) {
            return Err(CloseReason::Error(format!(
                "gave up reconnecting after {attempt} attempts: {error}"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_maximum_and_jitter_only_shortens_them() {
        let policy = Reconnect::new()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_secs(1))
            .jitter(0.5);
        assert_eq!(policy.delay(1, 0.0), Duration::from_millis(100));
        assert_eq!(policy.delay(2, 0.0), Duration::from_millis(200));
        assert_eq!(policy.delay(4, 0.0), Duration::from_millis(800));
        assert_eq!(policy.delay(5, 0.0), Duration::from_secs(1));
        assert_eq!(policy.delay(u32::MAX, 0.0), Duration::from_secs(1));
        assert_eq!(policy.delay(2, 1.0), Duration::from_millis(100));
        assert_eq!(Reconnect::new().jitter(7.0).jitter, 1.0);
        assert_eq!(Reconnect::new().jitter(f64::NAN).jitter, 0.0);
        for attempt in 1..50 {
            let random = random_fraction(attempt);
            assert!((0.0..1.0).contains(&random), "{random}");
        }
    }
}
