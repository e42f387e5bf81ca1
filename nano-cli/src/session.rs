//! The session: the connection, the push filter, and the loop that runs command lines while
//! printing pushes and noticing a closed connection. The commands themselves are in
//! `execute.rs`.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures_util::FutureExt;
use nano_client::{Client, CloseReason, Push, Pushes};
use serde_json::Value;

use crate::input::{Input, Line};
use crate::output::{Body, Event, Failure, Output};

/// How a command ended, in the order of the exit status it gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// It worked.
    Ok,
    /// An error response, a timeout, a bad line (exit status 1).
    Failed,
    /// The connection failed or was closed by the server (exit status 3).
    ConnectionLost,
}

impl Outcome {
    /// The process exit status for this outcome.
    pub(crate) fn exit_status(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Failed => 1,
            Outcome::ConnectionLost => 3,
        }
    }
}

/// Which pushes are printed: every route but some, or only some.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PushFilter {
    /// Every route except these.
    AllExcept(BTreeSet<String>),
    /// Only these routes.
    Only(BTreeSet<String>),
}

impl PushFilter {
    /// Whether a push on `route` is printed.
    pub(crate) fn shows(&self, route: &str) -> bool {
        match self {
            PushFilter::AllExcept(hidden) => !hidden.contains(route),
            PushFilter::Only(shown) => shown.contains(route),
        }
    }
}

/// Settings that apply to every connection of the session.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The command line's target, for a bare `connect`.
    pub(crate) target: Option<String>,
    /// The serializer to force, or `None` to follow the server.
    pub(crate) serializer: Option<nano_client::Serializer>,
    /// The handshake's user data.
    pub(crate) handshake_user: Value,
    /// How long a request and `wait` wait.
    pub(crate) request_timeout: Duration,
    /// How long connecting may take.
    pub(crate) connect_timeout: Duration,
    /// Script mode: errors carry line numbers; a failure stops the script unless `keep_going`.
    pub(crate) script: bool,
    /// Script mode: go on after a failure.
    pub(crate) keep_going: bool,
}

/// Most distinct push routes whose unclaimed pushes `wait` can count.
const MAX_COUNTED_ROUTES: usize = 4096;

/// The state of one run of the CLI.
pub(crate) struct Session {
    pub(crate) settings: Settings,
    pub(crate) out: Output,
    /// The connection, while one is up.
    pub(crate) client: Option<Client>,
    /// Where the client's connection goes (for `status` and the prompt).
    pub(crate) connected_to: Option<String>,
    /// Every push of the connection, while it is up.
    pub(crate) pushes: Option<Pushes>,
    pub(crate) filter: PushFilter,
    /// Pushes per route that no `wait` has taken yet.
    pub(crate) unclaimed: HashMap<String, u64>,
    /// The id of the last request on this connection.
    pub(crate) last_id: u64,
    /// The line being run (script mode error reports).
    pub(crate) line: Option<usize>,
    /// The worst outcome so far.
    pub(crate) worst: Outcome,
}

impl Session {
    /// A session with no connection yet.
    pub(crate) fn new(settings: Settings, out: Output) -> Self {
        Self {
            settings,
            out,
            client: None,
            connected_to: None,
            pushes: None,
            filter: PushFilter::AllExcept(BTreeSet::new()),
            unclaimed: HashMap::new(),
            last_id: 0,
            line: None,
            worst: Outcome::Ok,
        }
    }

    /// Runs `input` to its end or to `quit` (in script mode, to the first failure unless
    /// `keep_going`), then closes the connection. Returns the exit status.
    pub(crate) async fn run(mut self, mut input: Input, connect_first: bool) -> u8 {
        if connect_first {
            let outcome = self.connect(None).await;
            if !self.settle(outcome) {
                return self.finish().await;
            }
        }
        // Interactive mode: whether the editor has been asked for the line it is reading.
        let mut asked = false;
        loop {
            if !asked {
                input.ready(self.prompt());
                asked = true;
            }
            let Some(line) = self.next_line(&mut input).await else {
                break;
            };
            let Some(line) = line else {
                // The connection ended while waiting for a line.
                if self.settings.script && !self.settings.keep_going {
                    break;
                }
                continue;
            };
            asked = false;
            self.line = self.settings.script.then_some(line.number);
            let (outcome, quit) = self.run_line(&line.text).await;
            if !self.settle(outcome) || quit {
                break;
            }
        }
        self.finish().await
    }

    /// The next line (`Some(None)` if the connection ended first, with a failure when the
    /// server ended it), or `None` at the end of the input. Prints pushes meanwhile.
    async fn next_line(&mut self, input: &mut Input) -> Option<Option<Line>> {
        loop {
            let ended = tokio::select! {
                line = input.next() => return line.map(Some),
                push = next_push(&mut self.pushes) => {
                    self.on_push(push);
                    continue;
                }
                reason = closed(self.client.as_ref()) => reason,
            };
            let outcome = self.on_closed(ended);
            if outcome != Outcome::Ok {
                self.worst = self.worst.max(outcome);
                return Some(None);
            }
        }
    }

    /// Records `outcome`; whether to go on.
    fn settle(&mut self, outcome: Outcome) -> bool {
        self.worst = self.worst.max(outcome);
        outcome == Outcome::Ok || !self.settings.script || self.settings.keep_going
    }

    /// The interactive prompt: where the session is connected.
    fn prompt(&self) -> String {
        match &self.connected_to {
            Some(target) => format!("nano-cli {target}> "),
            None => "nano-cli (not connected)> ".to_owned(),
        }
    }

    /// Prints the pushes already received, closes the connection, returns the exit status.
    async fn finish(&mut self) -> u8 {
        while let Some(Some(push)) = next_push(&mut self.pushes).now_or_never() {
            self.on_push(Some(push));
        }
        if let Some(client) = self.client.take() {
            match client.close_reason() {
                Some(reason) => {
                    let outcome = self.report_closed(reason);
                    self.worst = self.worst.max(outcome);
                }
                None => {
                    let _ = tokio::time::timeout(Duration::from_secs(2), client.close()).await;
                }
            }
        }
        self.worst.exit_status()
    }

    /// Runs `future` to its end, printing pushes as they arrive meanwhile; `None` if Ctrl-C
    /// interrupted it (interactive mode).
    pub(crate) async fn pump_until<F: Future>(&mut self, future: F) -> Option<F::Output> {
        let mut future = pin!(future);
        loop {
            // Pushes first: the client hands over a push before a response that came after
            // it, so they print in the order the server sent them.
            let push = tokio::select! {
                biased;
                push = next_push(&mut self.pushes) => push,
                output = &mut future => return Some(output),
                () = interrupted(!self.settings.script) => return None,
            };
            self.on_push(push);
        }
    }

    /// Reports that Ctrl-C interrupted `command`.
    pub(crate) fn interrupted(&mut self, command: &str) -> Outcome {
        let message = "interrupted (Ctrl-C); a request's late response is ignored".to_owned();
        let failure = Failure {
            command: Some(command.to_owned()),
            message,
            ..Failure::default()
        };
        self.fail(failure, Outcome::Failed)
    }

    /// A push (printed if the filter shows its route, counted for `wait`), or the end of the
    /// push stream (`None`).
    pub(crate) fn on_push(&mut self, push: Option<Push>) {
        let Some(push) = push else {
            self.pushes = None;
            return;
        };
        let route = push.route.to_string();
        if self.unclaimed.len() < MAX_COUNTED_ROUTES || self.unclaimed.contains_key(&route) {
            *self.unclaimed.entry(route.clone()).or_default() += 1;
        }
        if self.filter.shows(&route) {
            let body = match &self.client {
                Some(client) => Body::decode(client.serializer(), &push.payload),
                None => Body::Bytes(push.payload.to_vec()),
            };
            self.out.emit(&Event::Push { route, body });
        }
    }

    /// Takes one unclaimed push of `route`, if there is one.
    pub(crate) fn take_unclaimed(&mut self, route: &str) -> bool {
        match self.unclaimed.get_mut(route) {
            Some(count) if *count > 0 => {
                *count -= 1;
                true
            }
            _ => false,
        }
    }

    /// The connection ended by itself: drops it and reports why.
    fn on_closed(&mut self, reason: CloseReason) -> Outcome {
        while let Some(Some(push)) = next_push(&mut self.pushes).now_or_never() {
            self.on_push(Some(push));
        }
        self.client = None;
        self.report_closed(reason)
    }

    /// Prints why the connection ended; a failure unless the client closed it.
    pub(crate) fn report_closed(&mut self, reason: CloseReason) -> Outcome {
        self.connected_to = None;
        self.pushes = None;
        self.out.emit(&Event::Closed {
            reason: reason.to_string(),
        });
        if reason == CloseReason::ClosedByClient {
            Outcome::Ok
        } else {
            Outcome::ConnectionLost
        }
    }

    /// Prints a failure of the current line.
    pub(crate) fn fail(&mut self, mut failure: Failure, outcome: Outcome) -> Outcome {
        failure.line = self.line;
        self.out.emit(&Event::Error(failure));
        outcome
    }
}

/// The next push, or `None` when the stream ended; never resolves without a stream.
async fn next_push(pushes: &mut Option<Pushes>) -> Option<Push> {
    match pushes {
        Some(pushes) => pushes.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves on Ctrl-C when `interactive` (a running command is interrupted, the CLI goes
/// on); never otherwise, so that Ctrl-C ends a script as usual.
pub(crate) async fn interrupted(interactive: bool) {
    if !interactive || tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Why `client`'s connection ended, once it does; never resolves without a client.
async fn closed(client: Option<&Client>) -> CloseReason {
    match client {
        Some(client) => client.closed().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::{Outcome, PushFilter};
    use std::collections::BTreeSet;

    #[test]
    fn filters() {
        let all = PushFilter::AllExcept(BTreeSet::from(["b".to_owned()]));
        assert!(all.shows("a") && !all.shows("b"));
        let only = PushFilter::Only(BTreeSet::from(["b".to_owned()]));
        assert!(!only.shows("a") && only.shows("b"));
    }

    #[test]
    fn exit_statuses_rank_outcomes() {
        assert!(Outcome::Ok < Outcome::Failed && Outcome::Failed < Outcome::ConnectionLost);
        assert_eq!(Outcome::ConnectionLost.exit_status(), 3);
    }
}
