//! What the CLI prints: [`Event`]s, as JSON lines (script mode, `--json`) or for people.

use std::io::Write;
use std::time::Duration;

use nano_client::{DecodePayload, Serializer};
use serde_json::{Map, Value, json};

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

    fn insert_into(&self, object: &mut Map<String, Value>) {
        match self {
            Body::Value(value) => object.insert("body".into(), value.clone()),
            Body::Bytes(bytes) => object.insert("body_hex".into(), hex(bytes).into()),
        };
    }

    fn human(&self) -> String {
        match self {
            Body::Value(value) => value.to_string(),
            Body::Bytes(bytes) => format!("<{} bytes, not decodable: {}>", bytes.len(), hex(bytes)),
        }
    }
}

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
    /// The event as one JSON object.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Event::Connected {
                target,
                serializer,
                heartbeat,
            } => json!({
                "kind": "connected",
                "target": target,
                "serializer": serializer,
                "heartbeat": heartbeat.map(|interval| interval.as_secs_f64()),
            }),
            Event::Response { route, id, body } => {
                let mut object = Map::new();
                object.insert("kind".into(), "response".into());
                object.insert("route".into(), route.as_str().into());
                object.insert("id".into(), (*id).into());
                body.insert_into(&mut object);
                Value::Object(object)
            }
            Event::Push { route, body } => {
                let mut object = Map::new();
                object.insert("kind".into(), "push".into());
                object.insert("route".into(), route.as_str().into());
                body.insert_into(&mut object);
                Value::Object(object)
            }
            Event::Error(failure) => failure_json(failure),
            Event::Closed { reason } => json!({ "kind": "closed", "reason": reason }),
            Event::Info(text) => json!({ "kind": "info", "text": text }),
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

fn failure_json(failure: &Failure) -> Value {
    let mut object = Map::new();
    object.insert("kind".into(), "error".into());
    if let Some(line) = failure.line {
        object.insert("line".into(), line.into());
    }
    if let Some(command) = &failure.command {
        object.insert("command".into(), command.as_str().into());
    }
    if let Some(route) = &failure.route {
        object.insert("route".into(), route.as_str().into());
    }
    if let Some(code) = failure.code {
        object.insert("code".into(), code.into());
    }
    object.insert("message".into(), failure.message.as_str().into());
    Value::Object(object)
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
            event.to_json().to_string()
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
