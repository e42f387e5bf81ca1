//! Pipelines: ordered chains of stages that see every message in or out of a session.

use std::fmt;
use std::sync::Arc;

use crate::protocol::Message;
use crate::{HandlerError, Session};

type Stage = Arc<dyn Fn(&Session, &mut Message) -> Result<(), HandlerError> + Send + Sync>;

/// An ordered chain of stages. Each stage sees the session and the message, may change the
/// message (its payload, its route), and may reject it by returning an error.
///
/// - **Inbound** stages run on every request and notify before routing. A rejected request is
///   answered with the stage's error; a rejected notify is dropped (and logged).
/// - **Outbound** stages run on every response and push before it is queued. A rejected
///   message is not sent. With outbound stages, a group broadcast runs them per member, so
///   the payload is no longer encoded once for all.
///
/// # Examples
///
/// ```
/// use nano_core::{HandlerError, Pipeline};
/// use nano_core::protocol::Message;
///
/// let inbound = Pipeline::new()
///     .push_back(|session, message| {
///         // Only bound players may call anything but `login.*`.
///         let route = message.route().map(|r| r.to_string()).unwrap_or_default();
///         if session.uid().is_none() && !route.starts_with("login.") {
///             return Err(HandlerError::new(401, "log in first"));
///         }
///         Ok(())
///     });
/// assert_eq!(inbound.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct Pipeline {
    stages: Vec<Stage>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stage that runs after the existing ones.
    pub fn push_back<F>(mut self, stage: F) -> Self
    where
        F: Fn(&Session, &mut Message) -> Result<(), HandlerError> + Send + Sync + 'static,
    {
        self.stages.push(Arc::new(stage));
        self
    }

    /// Adds a stage that runs before the existing ones.
    pub fn push_front<F>(mut self, stage: F) -> Self
    where
        F: Fn(&Session, &mut Message) -> Result<(), HandlerError> + Send + Sync + 'static,
    {
        self.stages.insert(0, Arc::new(stage));
        self
    }

    /// Number of stages.
    pub fn len(&self) -> usize {
        self.stages.len()
    }

    /// Whether there are no stages.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs the stages in order; stops at the first error.
    ///
    /// # Errors
    ///
    /// The first stage's error.
    pub fn run(&self, session: &Session, message: &mut Message) -> Result<(), HandlerError> {
        for stage in &self.stages {
            stage(session, message)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("stages", &self.stages.len())
            .finish()
    }
}
