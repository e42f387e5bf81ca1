use std::time::Duration;

use serde_json::json;

use super::{COMMANDS, Command, command_help, help_text, parse};

fn ok(line: &str) -> Command {
    match parse(line) {
        Ok(Some(command)) => command,
        other => panic!("`{line}` gave {other:?}"),
    }
}

fn error(line: &str) -> String {
    match parse(line) {
        Err(error) => error.0,
        other => panic!("`{line}` should fail, gave {other:?}"),
    }
}

#[test]
fn request_body_runs_to_the_end_of_the_line() {
    assert_eq!(
        ok(r#"request room.join {"name": "ann smith", "tags": [1, 2]}"#),
        Command::Request {
            route: "room.join".into(),
            body: json!({ "name": "ann smith", "tags": [1, 2] }),
        }
    );
}

#[test]
fn single_quoted_json_is_unwrapped() {
    assert_eq!(
        ok(r#"  notify   room.message  '{"name":"ann","content":"it's"}'  "#),
        Command::Notify {
            route: "room.message".into(),
            body: json!({ "name": "ann", "content": "it's" }),
        }
    );
    assert_eq!(
        ok("handshake '\"token\"'"),
        Command::Handshake(json!("token"))
    );
}

#[test]
fn a_missing_body_is_an_empty_object_and_any_json_value_is_a_body() {
    assert_eq!(
        ok("request status.get"),
        Command::Request {
            route: "status.get".into(),
            body: json!({}),
        }
    );
    assert_eq!(
        ok("notify a.b [1, \"two\", null]"),
        Command::Notify {
            route: "a.b".into(),
            body: json!([1, "two", null]),
        }
    );
}

#[test]
fn bad_json_says_what_and_where() {
    let message = error(r#"request room.join {"name": ann}"#);
    assert!(message.starts_with("bad JSON for `request`"), "{message}");
    assert!(message.contains("line 1 column"), "{message}");
    assert!(message.contains("route room.join"), "{message}");
    let message = error("handshake {");
    assert!(message.starts_with("bad JSON for `handshake`"), "{message}");
    let message = error("notify room.message {\"a\":1} trailing");
    assert!(message.contains("trailing characters"), "{message}");
}

#[test]
fn missing_parts_name_the_usage() {
    assert_eq!(
        error("request"),
        "the route is missing; usage: request ROUTE [JSON]"
    );
    assert!(error("request {\"name\":1}").contains("the route comes before the body"));
    assert_eq!(
        error("handshake"),
        "a JSON value is missing; usage: handshake JSON"
    );
    assert!(error("wait").contains("usage: wait ROUTE [SECONDS]"));
    assert!(error("unsubscribe").contains("usage: unsubscribe"));
    assert!(error("quit now").contains("takes no arguments"));
    assert!(error("connect a b").contains("too many arguments"));
}

#[test]
fn unknown_commands_point_to_help() {
    assert_eq!(
        error("reqest room.join {}"),
        "unknown command `reqest` (type `help` for the list)"
    );
    assert!(error("REQUEST a.b").starts_with("unknown command"));
}

#[test]
fn blank_lines_and_comments_are_no_command() {
    for line in ["", "   ", "# a comment", "  # indented comment", "\t"] {
        assert_eq!(parse(line), Ok(None), "{line:?}");
    }
}

#[test]
fn seconds_are_checked() {
    assert_eq!(
        ok("wait onMessage 2.5"),
        Command::Wait {
            route: "onMessage".into(),
            timeout: Some(Duration::from_millis(2500)),
        }
    );
    assert_eq!(
        ok("wait onMessage"),
        Command::Wait {
            route: "onMessage".into(),
            timeout: None,
        }
    );
    assert_eq!(ok("sleep 0"), Command::Sleep(Duration::ZERO));
    for bad in [
        "sleep -1",
        "sleep NaN",
        "sleep inf",
        "sleep 1e9",
        "sleep x",
        "sleep",
    ] {
        assert!(error(bad).contains("usage: sleep SECONDS"), "{bad}");
    }
}

#[test]
fn the_other_commands() {
    assert_eq!(ok("connect"), Command::Connect(None));
    assert_eq!(
        ok("connect ws://127.0.0.1:3250/nano"),
        Command::Connect(Some("ws://127.0.0.1:3250/nano".into()))
    );
    assert_eq!(ok("disconnect"), Command::Disconnect);
    assert_eq!(ok("subscribe"), Command::Subscribe(vec![]));
    assert_eq!(
        ok("subscribe onMessage *"),
        Command::Subscribe(vec!["onMessage".into(), "*".into()])
    );
    assert_eq!(ok("unsubscribe *"), Command::Unsubscribe(vec!["*".into()]));
    assert_eq!(ok("status"), Command::Status);
    assert_eq!(ok("help"), Command::Help(None));
    assert_eq!(ok("help request"), Command::Help(Some("request".into())));
    assert_eq!(ok("?"), Command::Help(None));
    assert_eq!(ok("quit"), Command::Quit);
    assert_eq!(ok("exit"), Command::Quit);
}

#[test]
fn help_lists_every_command() {
    let text = help_text();
    for command in COMMANDS {
        assert!(text.contains(command.usage), "{}", command.name);
        assert!(command_help(command.name).is_some(), "{}", command.name);
        // Every listed command parses (with placeholder arguments where it needs them).
        let line = match command.name {
            "handshake" => "handshake {}".to_owned(),
            "request" | "notify" | "wait" | "unsubscribe" => format!("{} a.b", command.name),
            "sleep" => "sleep 0".to_owned(),
            name => name.to_owned(),
        };
        assert!(matches!(parse(&line), Ok(Some(_))), "{line}");
    }
    assert!(command_help("exit").is_some());
    assert!(command_help("nope").is_none());
}

#[test]
fn odd_input_never_panics() {
    let long = "x".repeat(100_000);
    let nested = format!("request a.b {}", "[".repeat(10_000));
    for line in [
        "request a.b '",
        "request a.b ''",
        "request a.b '{}",
        "request  \u{0}  {}",
        "notify é.ü {\"ключ\": \"значение\"}",
        "wait r 99999999999999999999999999",
        long.as_str(),
        nested.as_str(),
        "\u{feff}request a.b {}",
    ] {
        let _ = parse(line);
    }
}
