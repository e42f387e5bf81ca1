//! [`Link`]: what every side of a node shares: its NATS client, its settings and the subjects
//! they name, which run of the node this is, and its app once started.

use std::sync::OnceLock;

use async_nats::Client;
use bytes::Bytes;
use nano_core::App;

use crate::{ClusterConfig, ClusterError};

/// One node's connection to the others.
pub(crate) struct Link {
    pub(crate) config: ClusterConfig,
    pub(crate) nats: Client,
    /// Which run of this node this is, so that the others tell a restart from a heartbeat.
    pub(crate) instance: u64,
    /// [`answers`](Self::answers), made once.
    answers: String,
    app: OnceLock<App>,
}

impl Link {
    pub(super) fn new(config: ClusterConfig, nats: Client) -> Self {
        let instance = random_u64();
        let answers = format!(
            "{}.node.{}.in.answer.{instance:x}.",
            config.prefix, config.node
        );
        Self {
            config,
            nats,
            instance,
            answers,
            app: OnceLock::new(),
        }
    }

    /// This node's name.
    pub(crate) fn node(&self) -> &str {
        &self.config.node
    }

    /// The app, once the node is started.
    pub(crate) fn app(&self) -> Result<&App, ClusterError> {
        self.app.get().ok_or(ClusterError::NotStarted)
    }

    pub(super) fn set_app(&self, app: &App) {
        let _ = self.app.set(app.clone());
    }

    /// `<prefix>.<rest>`.
    pub(crate) fn subject(&self, rest: &str) -> String {
        self.config.subject(rest)
    }

    /// `<prefix>.node.<node>.<what>`: a subject only `node` listens on. Made on every call
    /// to another node, so it is put together without formatting.
    pub(crate) fn node_subject(&self, node: &str, what: &str) -> String {
        let prefix = &self.config.prefix;
        let mut subject = String::with_capacity(prefix.len() + node.len() + what.len() + 7);
        for part in [prefix.as_str(), ".node.", node, ".", what] {
            subject.push_str(part);
        }
        subject
    }

    /// The subject of `node`'s inbox for `what` (`event`, or `answer.<run>.<call id>`).
    pub(crate) fn inbox(&self, node: &str, what: &str) -> String {
        self.node_subject(node, &format!("in.{what}"))
    }

    /// Where the answers to this run's calls arrive: this prefix and the call's id.
    pub(super) fn answers(&self) -> &str {
        &self.answers
    }

    /// The subject the answer to call `id` arrives on: [`answers`](Self::answers) and `id`.
    pub(super) fn answer_subject(&self, id: u64) -> String {
        let mut subject = String::with_capacity(self.answers.len() + 20);
        subject.push_str(&self.answers);
        push_decimal(&mut subject, id);
        subject
    }

    /// Publishes, logging a failure (what is lost is covered by timeouts and audits).
    pub(crate) async fn publish(&self, subject: String, payload: Bytes) {
        if let Err(err) = self.nats.publish(subject, payload).await {
            tracing::warn!(error = %err, "cluster publish failed");
        }
    }
}

/// Appends `n` in decimal to `text`.
fn push_decimal(text: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `n % 10` is below 10: the cast keeps it whole.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (n % 10) as u8;
        digits[start] = b'0' + digit;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        text.push(char::from(digit));
    }
}

/// A random number (from the standard library's randomly keyed hasher).
pub(super) fn random_u64() -> u64 {
    use std::hash::BuildHasher;
    std::hash::RandomState::new().hash_one(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_as_formatting_writes_them() {
        for n in [0, 7, 10, 99, 1_000_000_007, u64::MAX] {
            let mut text = "id.".to_owned();
            push_decimal(&mut text, n);
            assert_eq!(text, format!("id.{n}"));
        }
    }
}
