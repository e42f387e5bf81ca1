//! [`TokenBucket`]: the per-session packet rate limit.

use tokio::time::Instant;

use crate::config::RateLimit;

/// A token bucket: `burst` tokens, refilled at `per_second`; every packet takes one.
pub(super) struct TokenBucket {
    tokens: f64,
    burst: f64,
    per_second: f64,
    refilled: Instant,
}

impl TokenBucket {
    pub(super) fn new(limit: RateLimit) -> Self {
        let burst = f64::from(limit.burst.max(1));
        Self {
            tokens: burst,
            burst,
            per_second: f64::from(limit.per_second),
            refilled: Instant::now(),
        }
    }

    /// Takes a token for a packet read at `now`; `false` when there is none left.
    pub(super) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}
