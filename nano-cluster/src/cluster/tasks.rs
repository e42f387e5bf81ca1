//! [`Tasks`]: background tasks a node waits for when it shuts down.

use std::future::Future;

use tokio_util::task::TaskTracker;

/// A set of tasks that can be closed (no task starts in it any more) and waited for.
#[derive(Default)]
pub(super) struct Tasks {
    tracker: TaskTracker,
}

impl Tasks {
    /// Runs `task` in the set, unless the set is closed; returns whether it runs.
    pub(super) fn spawn<F>(&self, task: F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // The token counts as a task: `wait` cannot return between the check and the spawn,
        // so no task starts after it returned.
        let _token = self.tracker.token();
        if self.tracker.is_closed() {
            return false;
        }
        self.tracker.spawn(task);
        true
    }

    /// No task starts in the set any more.
    pub(super) fn close(&self) {
        self.tracker.close();
    }

    /// Waits until the set is closed and its tasks have ended.
    pub(super) async fn wait(&self) {
        self.tracker.wait().await;
    }

    /// How many tasks run.
    pub(super) fn len(&self) -> usize {
        self.tracker.len()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[tokio::test]
    async fn a_closed_set_starts_nothing_and_is_waited_for() {
        let tasks = Tasks::default();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        assert!(tasks.spawn(async move {
            let _ = released.await;
        }));
        assert_eq!(tasks.len(), 1);
        tasks.close();
        assert!(!tasks.spawn(async {}), "closed: nothing starts");
        let mut wait = std::pin::pin!(tasks.wait());
        assert!(wait.as_mut().now_or_never().is_none(), "a task still runs");
        release.send(()).unwrap();
        wait.await;
        assert_eq!(tasks.len(), 0);
    }
}
