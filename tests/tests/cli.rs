//! `nano-cli` in script mode (standard input not a terminal) against the chat example: its
//! JSON lines, and its exit status on success, an error response, a bad line, a refused or
//! kicked connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nano_tests::examples::{self, RunningExample};
use serde_json::{Value, json};

const SUCCESS: fn() -> Value = || json!({ "code": 0, "result": "success" });

fn chat() -> RunningExample {
    examples::start("chat", &["--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"])
}

/// A running `nano-cli`: its JSON lines arrive on `lines`.
struct Cli {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<Value>,
    stderr: thread::JoinHandle<String>,
}

impl Cli {
    fn spawn(args: &[&str]) -> Cli {
        let binary = examples::build_binary("nano-cli", "nano-cli");
        let mut child = Command::new(binary)
            .args(args)
            .env("HOME", std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nano-cli");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line}"));
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let stdin = child.stdin.take();
        Cli {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    fn send(&mut self, script: &str) {
        self.try_send(script).expect("write the script");
    }

    /// Writes to its standard input; fails with a broken pipe if it has exited.
    fn try_send(&mut self, script: &str) -> std::io::Result<()> {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(script.as_bytes())?;
        stdin.flush()
    }

    /// The next JSON line, within 10 s.
    fn next_line(&self) -> Value {
        self.lines
            .recv_timeout(Duration::from_secs(10))
            .expect("a JSON line from nano-cli")
    }

    /// Closes its standard input (if open) and waits for it to exit: its status and lines.
    fn finish(mut self) -> (i32, Vec<Value>) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll nano-cli") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("nano-cli did not exit");
            }
            thread::sleep(Duration::from_millis(20));
        };
        let stderr = self.stderr.join().expect("stderr reader");
        assert!(!stderr.contains("panicked"), "nano-cli panicked:\n{stderr}");
        let lines = self.lines.iter().collect();
        (status.code().expect("an exit status, not a signal"), lines)
    }
}

/// Runs `nano-cli ARGS` with `script` as its standard input.
fn run(args: &[&str], script: &str) -> (i32, Vec<Value>) {
    let mut cli = Cli::spawn(args);
    // It may exit before reading it all (a refused connection, a failure that stops it).
    let _ = cli.try_send(script);
    cli.finish()
}

fn of_kind<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|line| line["kind"] == kind).collect()
}

#[test]
fn script_mode_requests_notifies_and_waits_for_pushes_over_tcp() {
    let chat = chat();
    let target = format!("tcp://{}", chat.addr("tcp"));
    let script = r#"
# join, then talk to the room
request room.join {"name": "ann"}
wait onMembers
notify room.message '{"name": "ann", "content": "hi there"}'
wait onMessage 5
"#;
    let (status, lines) = run(&[&target], script);
    assert_eq!(status, 0, "{lines:#?}");
    assert_eq!(
        lines[0],
        json!({
            "kind": "connected",
            "target": chat.addr("tcp"),
            "serializer": "json",
            "heartbeat": 30.0,
        })
    );
    let responses = of_kind(&lines, "response");
    assert_eq!(
        responses,
        [&json!({ "kind": "response", "route": "room.join", "id": 1, "body": SUCCESS() })]
    );
    let pushes = of_kind(&lines, "push");
    assert!(
        pushes.contains(
            &&json!({ "kind": "push", "route": "onMembers", "body": { "members": ["ann"] } })
        ),
        "{lines:#?}"
    );
    assert!(
        pushes.contains(&&json!({
            "kind": "push",
            "route": "onMessage",
            "body": { "name": "ann", "content": "hi there" },
        })),
        "{lines:#?}"
    );
    assert!(of_kind(&lines, "error").is_empty(), "{lines:#?}");
}

#[test]
fn websocket_target_with_handshake_data_set_before_connecting() {
    let chat = chat();
    let target = format!("ws://{}/nano", chat.addr("http"));
    let script = r#"
handshake {"client": "ci"}
connect
request room.join {"name": "web"}
unsubscribe *
request room.join {"name": "web"}
quit
request never.run
"#;
    let (status, lines) = run(&["--no-connect", &target, "--keep-going"], script);
    assert_eq!(status, 1, "the second join is refused: {lines:#?}");
    let connected = of_kind(&lines, "connected");
    assert_eq!(connected.len(), 1, "{lines:#?}");
    assert_eq!(connected[0]["target"], target.as_str());
    let responses = of_kind(&lines, "response");
    assert_eq!(responses.len(), 1, "{lines:#?}");
    assert_eq!(responses[0]["body"], SUCCESS());
    let errors = of_kind(&lines, "error");
    assert_eq!(
        errors,
        [&json!({
            "kind": "error",
            "line": 6,
            "command": "request",
            "route": "room.join",
            "code": 409,
            "message": "already in the room",
        })],
        "quit stops before `never.run`"
    );
    // `unsubscribe *` came before the second join, but onMembers came with the first.
    assert!(
        of_kind(&lines, "push")
            .iter()
            .all(|push| push["route"] == "onMembers"),
        "{lines:#?}"
    );
}

#[test]
fn an_error_response_stops_the_script_with_status_1() {
    let chat = chat();
    let script = "request room.join {\"name\": \"\"}\nrequest room.join {\"name\": \"bob\"}\n";
    let (status, lines) = run(&[chat.addr("tcp")], script);
    assert_eq!(status, 1, "{lines:#?}");
    let errors = of_kind(&lines, "error");
    assert_eq!(errors.len(), 1, "{lines:#?}");
    assert_eq!(errors[0]["line"], 1);
    assert_eq!(errors[0]["code"], 400);
    assert_eq!(errors[0]["route"], "room.join");
    assert!(
        of_kind(&lines, "response").is_empty(),
        "stopped: {lines:#?}"
    );

    let (status, lines) = run(&[chat.addr("tcp"), "--keep-going"], script);
    assert_eq!(status, 1, "{lines:#?}");
    assert_eq!(of_kind(&lines, "response").len(), 1, "went on: {lines:#?}");
}

#[test]
fn bad_lines_are_reported_without_a_panic() {
    let chat = chat();
    let script = [
        "reqest room.join {}",
        "request room.join {\"name\": ann}",
        "request",
        "sleep forever",
        "wait onNothing 0.1",
        "request room.join '{\"name\": \"cat\"}'",
    ]
    .join("\n");
    let (status, lines) = run(&[chat.addr("tcp"), "--keep-going"], &script);
    assert_eq!(status, 1, "{lines:#?}");
    let errors: Vec<(i64, &str)> = of_kind(&lines, "error")
        .iter()
        .map(|error| {
            let message = error["message"].as_str().expect("a message");
            (error["line"].as_i64().expect("a line number"), message)
        })
        .collect();
    assert_eq!(errors.len(), 5, "{lines:#?}");
    assert!(
        errors[0].1.starts_with("unknown command `reqest`"),
        "{errors:?}"
    );
    assert!(
        errors[1].1.starts_with("bad JSON for `request`"),
        "{errors:?}"
    );
    assert!(
        errors[2].1.contains("usage: request ROUTE [JSON]"),
        "{errors:?}"
    );
    assert!(
        errors[3].1.contains("not a number of seconds"),
        "{errors:?}"
    );
    assert!(
        errors[4].1.starts_with("no push on onNothing"),
        "{errors:?}"
    );
    assert_eq!(
        errors.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(of_kind(&lines, "response")[0]["body"], SUCCESS());
}

#[test]
fn a_refused_connection_exits_with_status_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let target = format!("127.0.0.1:{port}");
    let (status, lines) = run(&[&target], "request room.join {}\n");
    assert_eq!(status, 3, "{lines:#?}");
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["kind"], "error");
    assert_eq!(lines[0]["command"], "connect");

    let (status, lines) = run(&["http://example.com"], "");
    assert_eq!(status, 1, "a target that is no target: {lines:#?}");
}

#[test]
fn a_kick_ends_the_script_with_status_3() {
    let chat = chat();
    let mut first = Cli::spawn(&[chat.addr("tcp")]);
    first.send("request room.join {\"name\": \"ann\"}\n");
    // Its standard input stays open: it waits for more, until the server kicks it.
    let mut joined = false;
    while !joined {
        let line = first.next_line();
        joined = line["kind"] == "response";
    }
    let (status, _) = run(
        &[chat.addr("tcp")],
        "request room.join {\"name\": \"ann\"}\n",
    );
    assert_eq!(status, 0);
    let mut closed = first.next_line();
    while closed["kind"] == "push" {
        closed = first.next_line();
    }
    assert_eq!(
        closed,
        json!({ "kind": "closed", "reason": "kicked by the server: logged in elsewhere" })
    );
    let (status, _) = first.finish();
    assert_eq!(status, 3);
}
