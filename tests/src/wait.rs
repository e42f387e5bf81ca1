//! Waiting for a condition instead of sleeping: the condition is polled until it holds or a
//! deadline passes, so a test takes as long as the system under test needs and no longer, and
//! a slow machine only makes it slower, not red.

use std::time::Duration;

/// How long to wait between two looks at a condition.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Polls `condition` every [`POLL_INTERVAL`] until it holds; `false` when it still does not
/// hold after `within`. Use it as `assert!(wait_until(..).await, "what did not happen")`.
///
/// It runs on tokio's clock, so under a paused clock the polls advance virtual time.
#[must_use = "assert on it: `false` means the condition never held"]
pub async fn wait_until(within: Duration, mut condition: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// [`wait_until`] for code outside a tokio runtime: blocks the calling thread between polls.
#[must_use = "assert on it: `false` means the condition never held"]
pub fn wait_until_blocking(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// [`wait_until`] for a condition that needs no `.await`: the future it returns is `Send`
/// wherever the condition is, so it can run inside spawned tasks (an `async` closure that
/// borrows cannot always).
#[must_use = "assert on it: `false` means the condition never held"]
pub async fn wait_for(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while !condition() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    true
}
