//! What the CLI prints: [`Event`]s, as JSON lines (script mode, `--json`) or for people.

use std::io::Write;
use std::time::Duration;

use nano_client::{DecodePayload, Serializer};
use serde_json::Value;

/// A payload as printed: its decoded value, or its bytes when the serializer cannot decode
/// them (protobuf, a custom format, garbage).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    /// The decoded value (`null` for an empty payload).
    Value(Value),
    /// Bytes that are not a value of the serializer.
    Bytes(Vec<u8>),
}

impl Body {
    /// Decodes `payload` with `serializer`.
    pub(crate) fn decode(serializer: &Serializer, payload: &[u8]) -> Body {
        if payload.is_empty() {
            return Body::Value(Value::Null);
        }
        match Value::decode_payload(serializer, payload) {
            Ok(value) => Body::Value(value),
            Err(_) => Body::Bytes(payload.to_vec()),
        }
    }

    fn push_into(&self, fields: &mut Fields) {
        match self {
            Body::Value(value) => fields.push(("body", value.clone())),
            Body::Bytes(bytes) => fields.push(("body_hex", hex(bytes).into())),
        }
    }

    fn human(&self) -> String {
        match self {
            Body::Value(value) => value.to_string(),
            Body::Bytes(bytes) => format!("<{} bytes, not decodable: {}>", bytes.len(), hex(bytes)),
        }
    }
}

/// An event's fields: (name, value), in print order.
type Fields = Vec<(&'static str, Value)>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A failure, as printed.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Failure {
    /// The script line it happened on (script mode).
    pub(crate) line: Option<usize>,
    /// The command that failed, if a command did.
    pub(crate) command: Option<String>,
    /// The route of a failed request or notify.
    pub(crate) route: Option<String>,
    /// The server's error code, for an error response.
    pub(crate) code: Option<i32>,
    /// What went wrong.
    pub(crate) message: String,
}

/// Something to print.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Event {
    /// A connection is up.
    Connected {
        /// What it connected to.
        target: String,
        /// The payload format in use.
        serializer: String,
        /// The server's heartbeat interval, if any.
        heartbeat: Option<Duration>,
    },
    /// The response to a request.
    Response {
        /// The request's route.
        route: String,
        /// The request's id on this connection (1, 2, ... as on the wire).
        id: u64,
        /// The response body.
        body: Body,
    },
    /// A push from the server.
    Push {
        /// Its route.
        route: String,
        /// Its body.
        body: Body,
    },
    /// A command or the connection failed.
    Error(Failure),
    /// The connection ended.
    Closed {
        /// Why.
        reason: String,
    },
    /// Anything else for the user: help, status, a notify sent.
    Info(String),
}

impl Event {
    /// The event as one JSON object (what [`to_line`](Self::to_line) prints, for tests).
    #[cfg(test)]
    pub(crate) fn to_json(&self) -> Value {
        Value::Object(
            self.fields()
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect::<serde_json::Map<_, _>>(),
        )
    }

    /// The event as one line of JSON, `kind` first and the other fields in a fixed order.
    pub(crate) fn to_line(&self) -> String {
        let fields: Vec<String> = self
            .fields()
            .iter()
            .map(|(key, value)| format!("{}:{value}", Value::from(*key)))
            .collect();
        format!("{{{}}}", fields.join(","))
    }

    /// The event's fields, in the order they are printed.
    fn fields(&self) -> Fields {
        match self {
            Event::Connected {
                target,
                serializer,
                heartbeat,
            } => vec![
                ("kind", "connected".into()),
                ("target", target.as_str().into()),
                ("serializer", serializer.as_str().into()),
                (
                    "heartbeat",
                    heartbeat.map(|every| every.as_secs_f64()).into(),
                ),
            ],
            Event::Response { route, id, body } => {
                let mut fields = vec![
                    ("kind", "response".into()),
                    ("route", route.as_str().into()),
                    ("id", (*id).into()),
                ];
                body.push_into(&mut fields);
                fields
            }
            Event::Push { route, body } => {
                let mut fields = vec![("kind", "push".into()), ("route", route.as_str().into())];
                body.push_into(&mut fields);
                fields
            }
            Event::Error(failure) => failure_fields(failure),
            Event::Closed { reason } => {
                vec![
                    ("kind", "closed".into()),
                    ("reason", reason.as_str().into()),
                ]
            }
            Event::Info(text) => vec![("kind", "info".into()), ("text", text.as_str().into())],
        }
    }

    /// The event for people.
    pub(crate) fn human(&self) -> String {
        match self {
            Event::Connected {
                target,
                serializer,
                heartbeat,
            } => {
                let heartbeat = heartbeat.map_or_else(
                    || "no heartbeat".to_owned(),
                    |every| format!("heartbeat {every:?}"),
                );
                format!("connected to {target} (serializer {serializer}, {heartbeat})")
            }
            Event::Response { route, id, body } => {
                format!("<- {route} #{id}: {}", body.human())
            }
            Event::Push { route, body } => format!("push {route}: {}", body.human()),
            Event::Error(failure) => failure_human(failure),
            Event::Closed { reason } => format!("connection closed: {reason}"),
            Event::Info(text) => text.clone(),
        }
    }
}

fn failure_fields(failure: &Failure) -> Fields {
    let mut fields = vec![("kind", "error".into())];
    if let Some(line) = failure.line {
        fields.push(("line", line.into()));
    }
    if let Some(command) = &failure.command {
        fields.push(("command", command.as_str().into()));
    }
    if let Some(route) = &failure.route {
        fields.push(("route", route.as_str().into()));
    }
    if let Some(code) = failure.code {
        fields.push(("code", code.into()));
    }
    fields.push(("message", failure.message.as_str().into()));
    fields
}

fn failure_human(failure: &Failure) -> String {
    let mut text = String::from("error");
    if let Some(line) = failure.line {
        text.push_str(&format!(" (line {line})"));
    }
    if let Some(code) = failure.code {
        text.push_str(&format!(" {code}"));
    }
    if let Some(route) = &failure.route {
        text.push_str(&format!(" from {route}"));
    }
    format!("{text}: {}", failure.message)
}

/// Where printed lines go: standard output, or rustyline's printer, which keeps the prompt
/// and the line being typed intact.
pub(crate) enum Sink {
    /// Standard output.
    Stdout,
    /// Above the interactive prompt.
    Printer(Box<dyn rustyline::ExternalPrinter + Send>),
}

/// Prints events, one line each (help and status may span several).
pub(crate) struct Output {
    json: bool,
    sink: Sink,
}

impl Output {
    /// JSON lines when `json`, else text for people; into `sink`.
    pub(crate) fn new(json: bool, sink: Sink) -> Self {
        Self { json, sink }
    }

    /// Prints `event`. Output errors (a closed pipe) are ignored: nobody is reading.
    pub(crate) fn emit(&mut self, event: &Event) {
        let mut text = if self.json {
            event.to_line()
        } else {
            event.human()
        };
        text.push('\n');
        match &mut self.sink {
            Sink::Stdout => {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
            }
            Sink::Printer(printer) => {
                if printer.print(text.clone()).is_err() {
                    let _ = std::io::stdout().lock().write_all(text.as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Body, Event, Failure};
    use nano_client::Serializer;
    use serde_json::json;

    #[test]
    fn json_lines() {
        let response = Event::Response {
            route: "room.join".into(),
            id: 1,
            body: Body::decode(&Serializer::Json, br#"{"code":0}"#),
        };
        assert_eq!(
            response.to_json(),
            json!({ "kind": "response", "route": "room.join", "id": 1, "body": { "code": 0 } })
        );
        let push = Event::Push {
            route: "p".into(),
            body: Body::decode(&Serializer::Json, b"\xff\x00"),
        };
        assert_eq!(
            push.to_json(),
            json!({ "kind": "push", "route": "p", "body_hex": "ff00" })
        );
        let error = Event::Error(Failure {
            line: Some(3),
            code: Some(400),
            message: "no".into(),
            ..Failure::default()
        });
        assert_eq!(
            error.to_json(),
            json!({ "kind": "error", "line": 3, "code": 400, "message": "no" })
        );
        assert_eq!(error.human(), "error (line 3) 400: no");
        assert_eq!(
            response.to_line(),
            r#"{"kind":"response","route":"room.join","id":1,"body":{"code":0}}"#
        );
    }

    #[test]
    fn bodies() {
        assert_eq!(
            Body::decode(&Serializer::Json, b""),
            Body::Value(serde_json::Value::Null)
        );
        let packed = rmp_like_map();
        assert_eq!(
            Body::decode(&Serializer::MessagePack, &packed),
            Body::Value(json!({ "a": 1 }))
        );
    }

    /// `{"a": 1}` in MessagePack.
    fn rmp_like_map() -> Vec<u8> {
        vec![0x81, 0xa1, b'a', 0x01]
    }
}
