//! The command language: one command per line, parsed into a [`Command`].
//!
//! A line is a command name, its words, and for `request`, `notify` and `handshake` a JSON
//! value that runs to the end of the line (spaces and all), optionally wrapped in single quotes
//! as a shell user would write it. Blank lines and lines starting with `#` are no command.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// One parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Command {
    /// `connect [TARGET]`: connect to TARGET, or to the command line's target.
    Connect(Option<String>),
    /// `disconnect`: close the connection.
    Disconnect,
    /// `handshake JSON`: the handshake's user data for the next `connect`.
    Handshake(Value),
    /// `request ROUTE [JSON]`: send a request and print its response.
    Request {
        /// The route, e.g. `room.join`.
        route: String,
        /// The body (`{}` when the line has none).
        body: Value,
    },
    /// `notify ROUTE [JSON]`: send a notify (no response).
    Notify {
        /// The route, e.g. `room.message`.
        route: String,
        /// The body (`{}` when the line has none).
        body: Value,
    },
    /// `subscribe [ROUTE|*]...`: print pushes on these routes (`*`: every route); no route
    /// lists what is printed.
    Subscribe(Vec<String>),
    /// `unsubscribe ROUTE|*...`: stop printing pushes on these routes (`*`: every route).
    Unsubscribe(Vec<String>),
    /// `wait ROUTE [SECONDS]`: wait for a push on ROUTE that no earlier `wait` took.
    Wait {
        /// The push route.
        route: String,
        /// How long to wait (the request timeout when not given).
        timeout: Option<Duration>,
    },
    /// `sleep SECONDS`: pause, printing pushes as they arrive.
    Sleep(Duration),
    /// `status`: the connection, serializer, handshake data and push filter.
    Status,
    /// `help [COMMAND]`.
    Help(Option<String>),
    /// `quit` or `exit`.
    Quit,
}

/// Why a line is not a command; its message says what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// One command of the language: its usage line and what it does.
pub(crate) struct CommandHelp {
    /// The command's name.
    pub(crate) name: &'static str,
    /// Its usage, e.g. `request ROUTE [JSON]`.
    pub(crate) usage: &'static str,
    /// What it does.
    pub(crate) summary: &'static str,
}

/// Every command, in the order `help` lists them.
pub(crate) const COMMANDS: &[CommandHelp] = &[
    CommandHelp {
        name: "connect",
        usage: "connect [TARGET]",
        summary: "connect (again) to TARGET, or to the command line's target; closes a previous connection",
    },
    CommandHelp {
        name: "handshake",
        usage: "handshake JSON",
        summary: "the handshake's user data (e.g. {\"token\":\"...\"}) for the next connect",
    },
    CommandHelp {
        name: "request",
        usage: "request ROUTE [JSON]",
        summary: "send a request (body {} when none) and print its response",
    },
    CommandHelp {
        name: "notify",
        usage: "notify ROUTE [JSON]",
        summary: "send a notify (one-way, no response)",
    },
    CommandHelp {
        name: "subscribe",
        usage: "subscribe [ROUTE|*]...",
        summary: "print pushes on these routes (* every route, the default); alone: list them",
    },
    CommandHelp {
        name: "unsubscribe",
        usage: "unsubscribe ROUTE|*...",
        summary: "stop printing pushes on these routes (* every route)",
    },
    CommandHelp {
        name: "wait",
        usage: "wait ROUTE [SECONDS]",
        summary: "wait for a push on ROUTE that no earlier wait took (default: the request timeout); fails on timeout",
    },
    CommandHelp {
        name: "sleep",
        usage: "sleep SECONDS",
        summary: "pause, printing pushes as they arrive",
    },
    CommandHelp {
        name: "disconnect",
        usage: "disconnect",
        summary: "close the connection",
    },
    CommandHelp {
        name: "status",
        usage: "status",
        summary: "the connection, its serializer and heartbeat, the handshake data, the push filter",
    },
    CommandHelp {
        name: "help",
        usage: "help [COMMAND]",
        summary: "this list, or one command's",
    },
    CommandHelp {
        name: "quit",
        usage: "quit | exit",
        summary: "close the connection and leave (also Ctrl-D, or the end of a script)",
    },
];

/// The help of every command, one per line, with notes on bodies and comments.
pub(crate) fn help_text() -> String {
    let mut text = String::from("Commands:\n");
    for command in COMMANDS {
        text.push_str(&format!("  {:<24} {}\n", command.usage, command.summary));
    }
    text.push_str(concat!(
        "\nA JSON body runs to the end of the line and may be wrapped in single quotes:\n",
        "  request room.join {\"name\": \"ann\"}\n",
        "  notify room.message '{\"name\":\"ann\",\"content\":\"hi\"}'\n",
        "Blank lines and lines starting with # are ignored."
    ));
    text
}

/// The help of the command `name`, if there is one.
pub(crate) fn command_help(name: &str) -> Option<String> {
    let name = if name == "exit" { "quit" } else { name };
    COMMANDS
        .iter()
        .find(|command| command.name == name)
        .map(|command| format!("{}\n  {}", command.usage, command.summary))
}

/// Parses one line: `Ok(None)` for a blank line or a comment.
///
/// # Errors
///
/// A [`ParseError`] naming what is wrong: an unknown command, a missing route, bad JSON, a
/// bad number of seconds, a word too many.
pub(crate) fn parse(line: &str) -> Result<Option<Command>, ParseError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (name, rest) = split_word(line);
    let command = match name {
        "connect" => Command::Connect(optional_word(name, rest)?),
        "disconnect" => no_arguments(name, rest, Command::Disconnect)?,
        "handshake" => Command::Handshake(json_value(name, rest)?),
        "request" => {
            let (route, body) = route_and_body(name, rest)?;
            Command::Request { route, body }
        }
        "notify" => {
            let (route, body) = route_and_body(name, rest)?;
            Command::Notify { route, body }
        }
        "subscribe" => Command::Subscribe(words(rest)),
        "unsubscribe" => Command::Unsubscribe(at_least_one_word(name, rest)?),
        "wait" => wait(rest)?,
        "sleep" => Command::Sleep(seconds(name, rest)?),
        "status" => no_arguments(name, rest, Command::Status)?,
        "help" | "?" => Command::Help(optional_word(name, rest)?),
        "quit" | "exit" => no_arguments(name, rest, Command::Quit)?,
        unknown => {
            return Err(ParseError(format!(
                "unknown command `{unknown}` (type `help` for the list)"
            )));
        }
    };
    Ok(Some(command))
}

/// The first word of `text` and the rest, trimmed.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim()),
        None => (text, ""),
    }
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

fn usage_error(name: &str, problem: &str) -> ParseError {
    let usage = COMMANDS
        .iter()
        .find(|command| command.name == name)
        .map_or(name, |command| command.usage);
    ParseError(format!("{problem}; usage: {usage}"))
}

fn no_arguments(name: &str, rest: &str, command: Command) -> Result<Command, ParseError> {
    if rest.is_empty() {
        Ok(command)
    } else {
        Err(usage_error(name, &format!("`{name}` takes no arguments")))
    }
}

fn optional_word(name: &str, rest: &str) -> Result<Option<String>, ParseError> {
    match words(rest).as_slice() {
        [] => Ok(None),
        [word] => Ok(Some(word.clone())),
        _ => Err(usage_error(name, "too many arguments")),
    }
}

fn at_least_one_word(name: &str, rest: &str) -> Result<Vec<String>, ParseError> {
    let words = words(rest);
    if words.is_empty() {
        Err(usage_error(name, "a route (or *) is missing"))
    } else {
        Ok(words)
    }
}

/// `ROUTE [JSON]` of `request` and `notify`.
fn route_and_body(name: &str, rest: &str) -> Result<(String, Value), ParseError> {
    let (route, body) = split_word(rest);
    if route.is_empty() {
        return Err(usage_error(name, "the route is missing"));
    }
    if route.starts_with(['{', '[', '\'', '"']) {
        return Err(usage_error(
            name,
            &format!("the route comes before the body, found `{route}`"),
        ));
    }
    let body = if body.is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        json_value(name, body).map_err(|error| ParseError(format!("{error} (route {route})")))?
    };
    Ok((route.to_owned(), body))
}

/// The JSON value that is the rest of the line, without one pair of enclosing single quotes.
fn json_value(name: &str, text: &str) -> Result<Value, ParseError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(usage_error(name, "a JSON value is missing"));
    }
    let unquoted = text
        .strip_prefix('\'')
        .and_then(|inner| inner.strip_suffix('\''))
        .unwrap_or(text);
    serde_json::from_str(unquoted).map_err(|error| {
        ParseError(format!(
            "bad JSON for `{name}`: {error}; the body is the rest of the line, e.g. {}",
            r#"request room.join {"name": "ann"}"#
        ))
    })
}

fn wait(rest: &str) -> Result<Command, ParseError> {
    let (route, timeout) = split_word(rest);
    if route.is_empty() {
        return Err(usage_error("wait", "the push route is missing"));
    }
    let timeout = match timeout {
        "" => None,
        text => Some(seconds("wait", text)?),
    };
    Ok(Command::Wait {
        route: route.to_owned(),
        timeout,
    })
}

/// The seconds argument of command `name`.
fn seconds(name: &str, text: &str) -> Result<Duration, ParseError> {
    duration_in_seconds(text).map_err(|problem| usage_error(name, &problem))
}

/// A duration in seconds (`1`, `0.25`), from 0 to a day.
///
/// # Errors
///
/// What is wrong with `text`.
pub(crate) fn duration_in_seconds(text: &str) -> Result<Duration, String> {
    const MAX: f64 = 86_400.0;
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(0.0..=MAX).contains(&value) {
        return Err(format!("seconds must be between 0 and {MAX}, not {text}"));
    }
    Ok(Duration::from_secs_f64(value))
}

#[cfg(test)]
mod tests;
