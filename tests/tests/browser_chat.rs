//! The chat example in a real browser: headless Chromium (Debian's `chromium`, installed by the
//! test command) drives two chat pages through playwright-core. Both join, one sends a message,
//! the other shows it; one closes, the other shows the leave. A screenshot is saved as
//! `target/browser-chat.png`.

use nano_tests::{examples, node};
use serde_json::{Value, json};

#[test]
fn two_browser_pages_chat_and_see_each_other_leave() {
    assert!(
        std::path::Path::new(
            &std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
        )
        .exists(),
        "headless Chromium is missing: install Debian's `chromium` (./scripts/test.sh does)"
    );
    let chat = examples::start("chat", &["--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"]);
    let http = chat.addr("http");
    let screenshot = examples::target_dir()
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
