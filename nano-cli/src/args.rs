//! The command line: options, the target, and `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use nano_client::Serializer;
use serde_json::Value;

use crate::command;

const ABOUT: &str =
    "Talk to a nano/Pomelo server (nano-rs, nano, pomelo, pinus) from a shell or a script";

const LONG_ABOUT: &str = "\
Talk to a nano/Pomelo server (nano-rs, nano, pomelo, pinus) from a shell or a script.

Connects to TARGET at once (unless --no-connect), then reads commands: with line editing and
history on a terminal, or line by line from standard input in script mode (when standard input
is not a terminal, or with --script). Pushes from the server are printed as they arrive.

Script mode prints one JSON object per line:
  {\"kind\":\"connected\",\"target\":..,\"serializer\":..,\"heartbeat\":..}
  {\"kind\":\"response\",\"route\":..,\"id\":..,\"body\":..}
  {\"kind\":\"push\",\"route\":..,\"body\":..}
  {\"kind\":\"error\",\"line\":..,\"command\":..,\"route\":..,\"code\":..,\"message\":..}
  {\"kind\":\"closed\",\"reason\":..}
(a body that the serializer cannot decode is given as \"body_hex\" instead), and stops at the
first failure unless --keep-going.

Exit status: 0 success; 1 an error response, a timeout or a bad command line; 2 bad options;
3 the connection failed or was closed by the server (a kick, for one).";

const EXAMPLES: &str = "\
Examples:
  nano-cli 127.0.0.1:3251
  nano-cli ws://127.0.0.1:3250/nano --handshake '{\"token\":\"secret\"}'
  printf '%s\\n' 'request room.join {\"name\":\"ci\"}' 'wait onMembers' | nano-cli tcp://127.0.0.1:3251";

/// The options of `nano-cli`.
#[derive(Clone, Debug, Parser)]
#[command(name = "nano-cli", version, about = ABOUT, long_about = LONG_ABOUT)]
pub(crate) struct Args {
    /// The server: tcp://HOST:PORT or HOST:PORT (TCP), ws://HOST:PORT/PATH (WebSocket),
    /// wss://HOST:PORT/PATH (WebSocket over TLS, checked against the system's root
    /// certificates).
    pub(crate) target: Option<String>,

    /// Do not connect at start: set the handshake data first, then run `connect`.
    #[arg(long)]
    pub(crate) no_connect: bool,

    /// Payload format: `auto` follows the server's handshake (`sys.serializer`; JSON when it
    /// names none), `json` or `msgpack` force one.
    #[arg(long, value_enum, default_value_t = SerializerArg::Auto)]
    pub(crate) serializer: SerializerArg,

    /// The handshake's user data, as JSON (also the `handshake` command).
    #[arg(long, value_name = "JSON", value_parser = parse_json)]
    pub(crate) handshake: Option<Value>,

    /// Seconds a request (and `wait`) waits for its answer.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub(crate) timeout: Duration,

    /// Seconds allowed to connect and complete the handshake.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds)]
    pub(crate) connect_timeout: Duration,

    /// Script mode even on a terminal: commands from standard input, JSON lines out.
    #[arg(long)]
    pub(crate) script: bool,

    /// Print JSON lines on a terminal too (script mode always does).
    #[arg(long)]
    pub(crate) json: bool,

    /// Script mode: run the remaining commands after a failure (the exit status still tells).
    #[arg(long)]
    pub(crate) keep_going: bool,

    /// History file of the interactive mode (default: nano-cli/history in the user's data
    /// directory, e.g. ~/.local/share).
    #[arg(long, value_name = "PATH")]
    pub(crate) history: Option<PathBuf>,
}

/// The `--serializer` choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SerializerArg {
    /// What the server announces in its handshake (JSON when it names none).
    Auto,
    /// JSON.
    Json,
    /// MessagePack.
    Msgpack,
}

impl SerializerArg {
    /// The serializer to force, or `None` to follow the server.
    pub(crate) fn forced(self) -> Option<Serializer> {
        match self {
            SerializerArg::Auto => None,
            SerializerArg::Json => Some(Serializer::Json),
            SerializerArg::Msgpack => Some(Serializer::MessagePack),
        }
    }
}

/// Parses the process's arguments; prints help or an error and exits on bad ones.
pub(crate) fn parse() -> Args {
    let help = format!("{}\n\n{EXAMPLES}", command::help_text());
    let short = "Commands: connect, handshake, request, notify, subscribe, unsubscribe, wait, sleep, \
                 disconnect, status, help, quit (--help explains them)";
    let matches = Args::command()
        .after_help(short)
        .after_long_help(help)
        .get_matches();
    Args::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    command::duration_in_seconds(text)
}

/// The target as nano-client takes it: `tcp://` dropped, `ws://` and `wss://` kept.
///
/// # Errors
///
/// A message for another scheme, or a target without a port.
pub(crate) fn normalize_target(target: &str) -> Result<String, String> {
    let target = target.trim();
    if target.starts_with("ws://") || target.starts_with("wss://") {
        return Ok(target.to_owned());
    }
    let address = target
        .strip_prefix("tcp://")
        .unwrap_or(target)
        .trim_end_matches('/');
    if address.contains("://") {
        return Err(format!(
            "unsupported target `{target}`: expected tcp://HOST:PORT, HOST:PORT, ws://HOST:PORT/PATH or wss://HOST:PORT/PATH"
        ));
    }
    let has_port = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !has_port {
        return Err(format!(
            "target `{target}` needs a host and a port, e.g. 127.0.0.1:3250"
        ));
    }
    Ok(address.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{Args, normalize_target};
    use clap::{CommandFactory, Parser};

    #[test]
    fn targets() {
        assert_eq!(
            normalize_target("tcp://127.0.0.1:3251"),
            Ok("127.0.0.1:3251".into())
        );
        assert_eq!(
            normalize_target("tcp://localhost:3251/"),
            Ok("localhost:3251".into())
        );
        assert_eq!(normalize_target("[::1]:3251"), Ok("[::1]:3251".into()));
        assert_eq!(
            normalize_target("ws://h:1/nano"),
            Ok("ws://h:1/nano".into())
        );
        assert_eq!(
            normalize_target("wss://h:1/nano"),
            Ok("wss://h:1/nano".into())
        );
        for bad in ["http://h:1", "h", "h:", ":1", "h:port", "h:70000", ""] {
            assert!(normalize_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options() {
        Args::command().debug_assert();
        let args = Args::try_parse_from([
            "nano-cli",
            "--serializer",
            "msgpack",
            "--handshake",
            r#"{"token":"t"}"#,
            "--timeout",
            "0.5",
            "h:1",
        ])
        .expect("valid options");
        assert_eq!(args.target.as_deref(), Some("h:1"));
        assert_eq!(args.handshake, Some(serde_json::json!({ "token": "t" })));
        assert_eq!(args.timeout.as_millis(), 500);
        assert!(Args::try_parse_from(["nano-cli", "--handshake", "{"]).is_err());
        assert!(Args::try_parse_from(["nano-cli", "--timeout", "-1"]).is_err());
        assert!(Args::try_parse_from(["nano-cli", "--serializer", "xml"]).is_err());
    }
}
