//! Running one command: connecting, requests, notifies, the push filter, waiting.

use std::collections::BTreeSet;
use std::time::Duration;

use nano_client::{Client, ClientError, EncodePayload};
use serde_json::Value;

use crate::args::normalize_target;
use crate::command::{self, Command};
use crate::output::{Body, Event, Failure};
use crate::session::{Outcome, PushFilter, Session, interrupted};

impl Session {
    /// Parses and runs one line; the outcome, and whether it asked to quit.
    pub(crate) async fn run_line(&mut self, text: &str) -> (Outcome, bool) {
        let command = match command::parse(text) {
            Ok(Some(command)) => command,
            Ok(None) => return (Outcome::Ok, false),
            Err(error) => {
                let failure = Failure {
                    message: error.0,
                    ..Failure::default()
                };
                return (self.fail(failure, Outcome::Failed), false);
            }
        };
        let quit = command == Command::Quit;
        (self.execute(command).await, quit)
    }

    async fn execute(&mut self, command: Command) -> Outcome {
        match command {
            Command::Connect(target) => self.connect(target).await,
            Command::Disconnect => self.disconnect().await,
            Command::Handshake(user) => self.set_handshake(user),
            Command::Request { route, body } => self.request(route, body).await,
            Command::Notify { route, body } => self.notify(route, body).await,
            Command::Subscribe(routes) => self.subscribe(routes),
            Command::Unsubscribe(routes) => self.unsubscribe(routes),
            Command::Wait { route, timeout } => self.wait(route, timeout).await,
            Command::Sleep(duration) => match self.pump_until(tokio::time::sleep(duration)).await {
                Some(()) => Outcome::Ok,
                None => self.interrupted("sleep"),
            },
            Command::Status => self.info(self.status()),
            Command::Help(None) => self.info(command::help_text()),
            Command::Help(Some(name)) => match command::command_help(&name) {
                Some(help) => self.info(help),
                None => self.fail_with("help", format!("no command `{name}`"), Outcome::Failed),
            },
            Command::Quit => Outcome::Ok,
        }
    }

    fn info(&mut self, text: String) -> Outcome {
        self.out.emit(&Event::Info(text));
        Outcome::Ok
    }

    fn fail_with(&mut self, command: &str, message: String, outcome: Outcome) -> Outcome {
        let failure = Failure {
            command: Some(command.to_owned()),
            message,
            ..Failure::default()
        };
        self.fail(failure, outcome)
    }

    /// Connects to `target` (or the command line's), closing a previous connection first.
    pub(crate) async fn connect(&mut self, target: Option<String>) -> Outcome {
        let Some(target) = target.or_else(|| self.settings.target.clone()) else {
            let message = "no target: connect HOST:PORT, or give one on the command line".into();
            return self.fail_with("connect", message, Outcome::Failed);
        };
        let target = match normalize_target(&target) {
            Ok(target) => target,
            Err(message) => return self.fail_with("connect", message, Outcome::Failed),
        };
        if self.client.is_some() {
            self.disconnect().await;
        }
        let settings = &self.settings;
        let mut builder = Client::builder()
            .handshake_user(settings.handshake_user.clone())
            .request_timeout(settings.request_timeout)
            .connect_timeout(settings.connect_timeout);
        if let Some(serializer) = &settings.serializer {
            builder = builder.serializer(serializer.clone());
        }
        let connected = self.pump_until(builder.connect(&target)).await;
        let client = match connected {
            None => return self.interrupted("connect"),
            Some(Ok(client)) => client,
            Some(Err(error)) => {
                let message = format!("cannot connect to {target}: {}", describe(&error));
                return self.fail_with("connect", message, Outcome::ConnectionLost);
            }
        };
        self.pushes = Some(client.pushes());
        self.unclaimed.clear();
        self.last_id = 0;
        self.out.emit(&Event::Connected {
            target: target.clone(),
            serializer: client.serializer().name().to_owned(),
            heartbeat: client.heartbeat_interval(),
        });
        self.client = Some(client);
        self.connected_to = Some(target);
        Outcome::Ok
    }

    async fn disconnect(&mut self) -> Outcome {
        let Some(client) = self.client.take() else {
            return self.fail_with("disconnect", "not connected".into(), Outcome::Failed);
        };
        let reason = match client.close_reason() {
            Some(reason) => reason,
            None => {
                let _ = tokio::time::timeout(Duration::from_secs(2), client.close()).await;
                nano_client::CloseReason::ClosedByClient
            }
        };
        // Closing by request is no failure, even in a script.
        self.report_closed(reason);
        Outcome::Ok
    }

    fn set_handshake(&mut self, user: Value) -> Outcome {
        self.settings.handshake_user = user;
        let text = if self.client.is_some() {
            "handshake data set; it is sent by the next `connect` (this connection keeps its own)"
        } else {
            "handshake data set; it is sent by the next `connect`"
        };
        self.info(text.to_owned())
    }

    /// The client, or a failure of `command` if there is no connection.
    fn connected(&mut self, command: &str) -> Result<Client, Outcome> {
        match &self.client {
            Some(client) => Ok(client.clone()),
            None => {
                let message = "not connected (use `connect`)".to_owned();
                Err(self.fail_with(command, message, Outcome::Failed))
            }
        }
    }

    async fn request(&mut self, route: String, body: Value) -> Outcome {
        let client = match self.connected("request") {
            Ok(client) => client,
            Err(outcome) => return outcome,
        };
        let payload = match body.encode_payload(client.serializer()) {
            Ok(payload) => payload,
            Err(error) => return self.client_failure("request", &route, error.into()),
        };
        self.last_id += 1;
        let id = self.last_id;
        let answer = self
            .pump_until(async { client.request_raw(&route, payload).await })
            .await;
        let Some(answer) = answer else {
            return self.interrupted("request");
        };
        match answer {
            Ok(answer) => {
                let body = Body::decode(client.serializer(), &answer);
                self.out.emit(&Event::Response { route, id, body });
                Outcome::Ok
            }
            Err(error) => self.client_failure("request", &route, error),
        }
    }

    async fn notify(&mut self, route: String, body: Value) -> Outcome {
        let client = match self.connected("notify") {
            Ok(client) => client,
            Err(outcome) => return outcome,
        };
        let sent = match body.encode_payload(client.serializer()) {
            Ok(payload) => {
                let sent = self
                    .pump_until(async { client.notify_raw(&route, payload).await })
                    .await;
                match sent {
                    Some(sent) => sent,
                    None => return self.interrupted("notify"),
                }
            }
            Err(error) => Err(error.into()),
        };
        match sent {
            // Script mode prints responses and pushes only; people like to see it went.
            Ok(()) if self.settings.script => Outcome::Ok,
            Ok(()) => self.info(format!("-> {route} (notify sent)")),
            Err(error) => self.client_failure("notify", &route, error),
        }
    }

    /// Prints a failed request or notify; a lost connection is reported too.
    fn client_failure(&mut self, command: &str, route: &str, error: ClientError) -> Outcome {
        let (code, outcome) = match &error {
            ClientError::Server { code, .. } => (Some(*code), Outcome::Failed),
            ClientError::Closed(_) | ClientError::Disconnected(_) => {
                (None, Outcome::ConnectionLost)
            }
            _ => (None, Outcome::Failed),
        };
        let message = match &error {
            ClientError::Server { message, .. } => message.clone(),
            error => describe(error),
        };
        let failure = Failure {
            command: Some(command.to_owned()),
            route: Some(route.to_owned()),
            code,
            message,
            ..Failure::default()
        };
        self.fail(failure, outcome)
    }

    fn subscribe(&mut self, routes: Vec<String>) -> Outcome {
        if routes.is_empty() {
            let text = describe_filter(&self.filter);
            return self.info(text);
        }
        for route in routes {
            match (&mut self.filter, route.as_str()) {
                (filter, "*") => *filter = PushFilter::AllExcept(BTreeSet::new()),
                (PushFilter::AllExcept(hidden), _) => {
                    hidden.remove(&route);
                }
                (PushFilter::Only(shown), _) => {
                    shown.insert(route);
                }
            }
        }
        let text = describe_filter(&self.filter);
        self.info(text)
    }

    fn unsubscribe(&mut self, routes: Vec<String>) -> Outcome {
        for route in routes {
            match (&mut self.filter, route.as_str()) {
                (filter, "*") => *filter = PushFilter::Only(BTreeSet::new()),
                (PushFilter::AllExcept(hidden), _) => {
                    hidden.insert(route);
                }
                (PushFilter::Only(shown), _) => {
                    shown.remove(&route);
                }
            }
        }
        let text = describe_filter(&self.filter);
        self.info(text)
    }

    async fn wait(&mut self, route: String, timeout: Option<Duration>) -> Outcome {
        if self.take_unclaimed(&route) {
            return Outcome::Ok;
        }
        if self.pushes.is_none() {
            let message = format!("not connected: no push on {route} can arrive");
            return self.fail_with("wait", message, Outcome::Failed);
        }
        let timeout = timeout.unwrap_or(self.settings.request_timeout);
        let deadline = tokio::time::Instant::now() + timeout;
        let interactive = !self.settings.script;
        loop {
            let push = tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    let message = format!("no push on {route} within {timeout:?}");
                    return self.fail_with("wait", message, Outcome::Failed);
                }
                push = next_push_of(self) => push,
                () = interrupted(interactive) => return self.interrupted("wait"),
            };
            let ended = push.is_none();
            self.on_push(push);
            if self.take_unclaimed(&route) {
                return Outcome::Ok;
            }
            if ended {
                let message = format!("the connection ended before a push on {route}");
                return self.fail_with("wait", message, Outcome::ConnectionLost);
            }
        }
    }

    /// What `status` prints.
    fn status(&self) -> String {
        let connection = match (&self.client, &self.connected_to) {
            (Some(client), Some(target)) => {
                let heartbeat = client
                    .heartbeat_interval()
                    .map_or_else(|| "none".to_owned(), |every| format!("{every:?}"));
                format!(
                    "connected to {target}, serializer {}, heartbeat {heartbeat}, {} requests sent",
                    client.serializer().name(),
                    self.last_id
                )
            }
            _ => "not connected".to_owned(),
        };
        let target = self.settings.target.as_deref().unwrap_or("none");
        format!(
            "{connection}\ncommand-line target: {target}\nhandshake user data: {}\npushes printed: {}",
            self.settings.handshake_user,
            describe_filter(&self.filter)
        )
    }
}

/// The next push of the session's stream (`None` when it ended).
async fn next_push_of(session: &mut Session) -> Option<nano_client::Push> {
    match &mut session.pushes {
        Some(pushes) => pushes.recv().await,
        None => std::future::pending().await,
    }
}

fn describe_filter(filter: &PushFilter) -> String {
    let list = |routes: &BTreeSet<String>| routes.iter().cloned().collect::<Vec<_>>().join(", ");
    match filter {
        PushFilter::AllExcept(hidden) if hidden.is_empty() => "every push".to_owned(),
        PushFilter::AllExcept(hidden) => format!("every push except {}", list(hidden)),
        PushFilter::Only(shown) if shown.is_empty() => "no push".to_owned(),
        PushFilter::Only(shown) => format!("pushes on {}", list(shown)),
    }
}

/// A client error for people: the error, and why the connection ended when that is the cause.
fn describe(error: &ClientError) -> String {
    match error {
        ClientError::HandshakeRejected { code, response } => format!(
            "the server refused the handshake with code {code} (user data {})",
            response.user
        ),
        error => error.to_string(),
    }
}
