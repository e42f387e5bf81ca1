//! The chat example in a real browser: headless Chromium (Debian's `chromium`, installed by the
//! test command) drives two chat pages through playwright-core. Both join, one sends a message,
//! the other shows it; one closes, the other shows the leave. A screenshot is saved as
//! `target/browser-chat.png`. The same with the cluster example, each page from another gate.

use std::time::Duration;

use nano_tests::wait::wait_until;
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
    let url = format!("http://{}/", chat.addr("http"));
    let seen = chat_in_two_pages(&url, &url, "browser-chat.png");
    assert_eq!(seen["bobMembersAfterLeave"], json!(["bob (you)"]), "{seen}");
}

/// The cluster example's chat in a real browser: alice's page comes from one gate, bob's from
/// another; the room is a cluster group held by room backends behind them.
#[test]
fn browser_pages_on_two_gates_of_a_cluster_chat() {
    let nats = nano_tests::nats::Nats::start();
    let url = nats.url();
    let cluster = |role: &str, name: &str| {
        let mut args = vec!["--role", role, "--node", name, "--nats", url.as_str()];
        if role == "gate" {
            args.extend(["--tcp", "127.0.0.1:0", "--ws", "127.0.0.1:0"]);
        }
        examples::start("cluster", &args)
    };
    let _backends = [cluster("room", "room-a"), cluster("room", "room-b")];
    let gates = [cluster("gate", "gate-1"), cluster("gate", "gate-2")];
    // Wait until both gates know both backends.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for gate in &gates {
        runtime.block_on(async {
            let probe = nano_client::Client::connect(gate.addr("tcp"))
                .await
                .unwrap();
            let mut nodes: Vec<String> = Vec::new();
            let both_seen = wait_until(Duration::from_secs(10), async || {
                nodes = probe.request("gate.nodes", &()).await.unwrap();
                nodes
                    .iter()
                    .filter(|node| node.starts_with("room-"))
                    .count()
                    == 2
            })
            .await;
            assert!(both_seen, "the gate sees {nodes:?}");
        });
    }
    chat_in_two_pages(
        &format!("http://{}/", gates[0].addr("ws")),
        &format!("http://{}/", gates[1].addr("ws")),
        "browser-cluster-chat.png",
    );
}

/// Alice (on `alice_url`'s page) and bob (on `bob_url`'s) join; each sees the other in the
/// member list; alice talks, bob sees it; alice leaves, bob sees that. Saves a screenshot of
/// bob's page as `target/<screenshot>` and returns what the pages showed.
fn chat_in_two_pages(alice_url: &str, bob_url: &str, screenshot: &str) -> Value {
    let screenshot = examples::target_dir()
        .parent()
        .expect("target")
        .join(screenshot);
    let _ = std::fs::remove_file(&screenshot);
    let output = node::run_script(
        "browser-chat.js",
        &[alice_url, &screenshot.display().to_string(), bob_url],
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
    assert!(
        seen["bobMessages"].to_string().contains("alicehello bob"),
        "bob sees alice's message: {seen}"
    );
    assert!(
        seen["bobAfterLeave"]
            .to_string()
            .contains("alice left the room"),
        "{seen}"
    );
    assert!(screenshot.exists(), "screenshot saved");
    seen
}
