//! The client code in docs/CLIENTS.md runs as written: the Python client (the block after
//! `<!-- tested: python-client -->`) against the chat example's TCP port, with the system's
//! `python3`.

use std::process::Command;

use nano_tests::{examples, workspace_root};
use serde_json::Value;

/// The fenced code block that follows `marker` in `doc`.
fn block_after<'a>(doc: &'a str, marker: &str) -> &'a str {
    let rest = &doc[doc.find(marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len()..];
    let start = rest.find("```").expect("a code block");
    let body = &rest[start..];
    let body = &body[body.find('\n').expect("a fence line") + 1..];
    &body[..body.find("\n```").expect("the closing fence")]
}

#[test]
fn the_python_client_of_the_docs_joins_the_chat_and_gets_its_message_back() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/CLIENTS.md")).unwrap();
    let script = block_after(&doc, "<!-- tested: python-client -->");
    let server = examples::start("chat", &["--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"]);
    let (host, port) = server.addr("tcp").rsplit_once(':').expect("host:port");
    let output = Command::new("python3")
        .args(["-c", script, host, port])
        .output()
        .expect("python3 runs (Debian's python3 package)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let response = lines
        .iter()
        .find(|line| line["type"] == 2)
        .unwrap_or_else(|| panic!("no response in {lines:?}"));
    assert_eq!(response["id"], 1);
    assert_eq!(response["body"]["code"], 0, "{response}");
    let members = lines
        .iter()
        .find(|line| line["route"] == "onMembers")
        .unwrap_or_else(|| panic!("no onMembers push in {lines:?}"));
    assert!(
        members["body"]["members"]
            .as_array()
            .unwrap()
            .contains(&"py".into())
    );
    let last = lines.last().unwrap();
    assert_eq!(last["route"], "onMessage");
    assert_eq!(last["body"]["content"], "hello from Python");
    assert_eq!(last["body"]["name"], "py");
}
