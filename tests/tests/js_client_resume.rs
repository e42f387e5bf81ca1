//! nano-rs's JavaScript client (clients/js) resuming its session against a real server, run by
//! Node.js (`tests/interop/js-resume.mjs`, the `ws` package as its WebSocket): cut off behind a
//! proxy, it comes back to the same session and gets the pushes of the gap once, in order.

use std::time::Duration;

use nano_client::Client;
use nano_core::ResumeConfig;
use nano_tests::node::{ensure_installed, interop_dir};
use nano_tests::proxy::CutProxy;
use nano_tests::resume::{events_of, start};
use nano_tests::wait::wait_until;
use nano_ws::WsConfig;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

/// The script's next JSON line.
async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("a line from the script in time")
        .expect("read the script's output")
        .expect("the script ended early");
    serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
}

#[tokio::test]
async fn the_js_client_resumes_and_gets_the_pushes_of_the_gap() {
    ensure_installed();
    let (app, tcp, hooks) = start(ResumeConfig::default()).await;
    let ws = nano_ws::listen(&app, "127.0.0.1:0", WsConfig::new().path("/nano"))
        .await
        .unwrap();
    let proxy = CutProxy::start(ws).await;
    let mut child = Command::new("node")
        .arg("js-resume.mjs")
        .arg(format!("ws://{}/nano", proxy.addr()))
        .current_dir(interop_dir())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let joined = next_line(&mut lines).await;
    let id = joined["joined"]
        .as_u64()
        .unwrap_or_else(|| panic!("{joined}"));

    assert_eq!(proxy.cut_all(), 1);
    assert!(
        wait_until(Duration::from_secs(5), async || {
            events_of(&hooks, id).contains(&("dropped", id))
        })
        .await
    );
    let speaker = Client::connect(&tcp.to_string()).await.unwrap();
    let _: Value = speaker.request("room.join", &99).await.unwrap();
    for text in ["x", "y", "z"] {
        let _: usize = speaker.request("room.say", &text).await.unwrap();
    }

    let mut seen = Vec::new();
    loop {
        let line = next_line(&mut lines).await;
        assert!(line.get("error").is_none(), "{line}");
        let done = line.get("says").is_some();
        seen.push(line);
        if done {
            break;
        }
    }
    assert!(
        seen.contains(&json!({ "resume": { "session": id, "replayed": 3 } })),
        "{seen:?}"
    );
    assert!(
        seen.contains(&json!({ "reconnect": { "resumed": true, "session": id } })),
        "{seen:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!(last["says"], json!(["x", "y", "z"]));
    assert_eq!(
        (last["me"]["session"].as_u64(), last["me"]["uid"].as_i64()),
        (Some(id), Some(11))
    );
    assert!(child.wait().await.unwrap().success());
}
