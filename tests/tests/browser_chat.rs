//! The chat example in a real browser: headless Chromium (Debian's `chromium`, installed by the
//! test command) drives two chat pages through playwright-core. Both join, one sends a message,
//! the other shows it; one closes, the other shows the leave. A screenshot is saved as
//! `target/browser-chat.png`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use nano_tests::node;
use serde_json::{Value, json};

/// Kills the example when the test ends, pass or fail.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn target_dir() -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .to_path_buf()
}

/// Starts the built chat example on free ports; returns it and its HTTP address.
fn start_chat() -> (KillOnDrop, String) {
    let binary = target_dir().join("examples").join("chat");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["build", "--example", "chat"])
            .status()
            .expect("cargo build");
        assert!(status.success(), "building the chat example failed");
    }
    let mut child = Command::new(&binary)
        .args(["--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let child = KillOnDrop(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the example prints its addresses");
    let http = line
        .split_whitespace()
        .find_map(|part| part.strip_prefix("http="))
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();
    (child, http)
}

#[test]
fn two_browser_pages_chat_and_see_each_other_leave() {
    assert!(
        std::path::Path::new(
            &std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
        )
        .exists(),
        "headless Chromium is missing: install Debian's `chromium` (./scripts/test.sh does)"
    );
    let (_chat, http) = start_chat();
    let screenshot = target_dir()
        .parent()
        .expect("target")
        .join("browser-chat.png");
    let _ = std::fs::remove_file(&screenshot);
    let output = node::run_script(
        "browser-chat.js",
        &[
            &format!("http://{http}/"),
            &screenshot.display().to_string(),
        ],
        b"",
    );
    let seen: Value =
        serde_json::from_str(output.trim()).unwrap_or_else(|_| panic!("bad output: {output}"));
    assert_eq!(
        seen["aliceMembers"],
        json!(["alice (you)", "bob"]),
        "{seen}"
    );
    assert_eq!(seen["bobMembers"], json!(["alice", "bob (you)"]), "{seen}");
    let bob_messages = seen["bobMessages"].to_string();
    assert!(
        bob_messages.contains("alicehello bob"),
        "bob sees alice's message: {seen}"
    );
    assert!(
        seen["bobAfterLeave"]
            .to_string()
            .contains("alice left the room"),
        "{seen}"
    );
    assert_eq!(seen["bobMembersAfterLeave"], json!(["bob (you)"]), "{seen}");
    assert!(screenshot.exists(), "screenshot saved");
}
